// The network plugin's one exported symbol. The PostgreSQL store is added to
// the plugin by src/store/CMakeLists.txt (JOULEBENCH_NET_WITH_POSTGRES).
#include "net/httplib_backend.h"
#include "net/net_api.h"

#ifdef JOULEBENCH_NET_WITH_POSTGRES
#include "store/store_backends.h"
#endif

extern "C" __attribute__((visibility("default"))) const joulebench::net::NetApi* joulebench_net_api() {
  using namespace joulebench;
  static const net::NetApi api{
      net::kNetAbiVersion, &net::httplib_connect, &net::httplib_server,
#ifdef JOULEBENCH_NET_WITH_POSTGRES
      &store::connect_postgres_store,
#else
      nullptr,
#endif
  };
  return &api;
}
