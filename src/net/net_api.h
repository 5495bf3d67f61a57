// Internal: the table of entry points the network plugin
// (libjoulebench_net.so) exports to the binary's loader (loader.cpp).
#pragma once

#include <memory>
#include <string>

#include "joulebench/store.h"
#include "net/http.h"

namespace joulebench::net {

// Bumped when NetApi or the types it passes change layout.
inline constexpr int kNetAbiVersion = 1;

struct NetApi {
  int abi_version;
  std::unique_ptr<HttpClient> (*connect_http)(const std::string& origin, double timeout_s);
  std::unique_ptr<HttpServer> (*make_http_server)(const HttpServerOptions& options);
  // Null when the plugin was built without the PostgreSQL store.
  std::unique_ptr<Store> (*open_postgres_store)(const std::string& url);
};

}  // namespace joulebench::net

// The one symbol the plugin exports: returns a static table.
extern "C" const joulebench::net::NetApi* joulebench_net_api();
