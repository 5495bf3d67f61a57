// Internal: the backends open_store() dispatches to.
#pragma once

#include <filesystem>
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
// Opens (creating and migrating unless read_only) a SQLite store file.
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& path, bool read_only);

}  // namespace joulebench::store
