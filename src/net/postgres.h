// Internal: the PostgreSQL results store, reached through the network plugin
// (libpq and its Kerberos/LDAP/TLS libraries load only when a
// postgresql:// store is opened).
#pragma once

#include <memory>
#include <string>

#include "joulebench/store.h"

namespace joulebench::net {

// Connects and migrates (the store's contract: docs/store.md). Throws Error
// when it cannot connect (the message never holds the password).
std::unique_ptr<Store> open_postgres_store(const std::string& url);

}  // namespace joulebench::net
