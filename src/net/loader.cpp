// The binary's side of the network plugin: loads libjoulebench_net.so on the
// first HTTP or PostgreSQL use and forwards to it.
#include "core/plugin.h"
#include "joulebench/error.h"
#include "net/net_api.h"
#include "net/postgres.h"

namespace joulebench::net {
namespace {

const NetApi& net() {
  static const core::PluginSpec spec{"libjoulebench_net.so", "JOULEBENCH_NET_LIBRARY", "joulebench_net_api",
                                     "the network plugin (HTTP, TLS, PostgreSQL)"};
  return core::plugin_table<NetApi>(spec, kNetAbiVersion);
}

}  // namespace

std::unique_ptr<HttpClient> connect_http(const std::string& origin, double timeout_s) {
  return net().connect_http(origin, timeout_s);
}

std::unique_ptr<HttpServer> make_http_server(const HttpServerOptions& options) {
  return net().make_http_server(options);
}

std::unique_ptr<Store> open_postgres_store(const std::string& url) {
  const NetApi& api = net();
  if (!api.open_postgres_store) throw Error("this joulebench was built without the PostgreSQL store");
  return api.open_postgres_store(url);
}

}  // namespace joulebench::net
