// Internal: the backends open_store() dispatches to.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "joulebench/store.h"

namespace joulebench::store {

// "postgresql://..." or "postgres://..." (libpq connection URIs).
bool is_postgres_url(std::string_view s);
// Connects, migrates under an advisory lock. Throws Error when it cannot
// connect (the message never holds the password). Built into the network
// plugin (libpq loads only then); the binary reaches it through
// net::open_postgres_store.
std::unique_ptr<Store> connect_postgres_store(const std::string& url);

}  // namespace joulebench::store
