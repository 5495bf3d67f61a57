// Internal to the network plugin: the cpp-httplib implementations.
#pragma once

#include "net/http.h"

namespace joulebench::net {

std::unique_ptr<HttpClient> httplib_connect(const std::string& origin, double timeout_s);
std::unique_ptr<HttpServer> httplib_server(const HttpServerOptions& options);

}  // namespace joulebench::net
