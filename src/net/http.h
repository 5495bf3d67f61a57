// Internal: the HTTP client and server joulebench uses (live grid intensity,
// OpenAI-compatible endpoints, the exporter). The implementation (cpp-httplib
// with OpenSSL) lives in the network plugin, libjoulebench_net.so, loaded on
// first use: linking OpenSSL and libpq into the binary cost every command
// ~7 ms at start, more than `measure`'s whole budget (docs/benchmarks.md).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace joulebench::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (case-insensitive), or "".
std::string header_value(const HttpHeaders& headers, std::string_view name);

// "https://host:port/path?q" as the origin a client connects to
// ("https://host:port") and the path it asks for ("/path?q"; "" when the URL
// has none). nullopt unless the scheme is http or https.
struct HttpUrl {
  std::string origin;
  std::string path;
};
std::optional<HttpUrl> split_http_url(std::string_view url);

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type;  // server side: sent as Content-Type when set
  HttpHeaders headers;       // server side: extra headers to send
};

// A client for one origin ("http://host:port", "https://host"); the
// connection is kept alive between requests.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // The response (any status), or nullopt with `error` saying why there was
  // none (connection refused, timeout, TLS failure).
  virtual std::optional<HttpResponse> get(const std::string& path, const HttpHeaders& headers,
                                          std::string& error) = 0;
  virtual std::optional<HttpResponse> post(const std::string& path, const HttpHeaders& headers,
                                           const std::string& body, const std::string& content_type,
                                           std::string& error) = 0;
};

// `timeout_s` bounds connecting, each read and each write.
std::unique_ptr<HttpClient> connect_http(const std::string& origin, double timeout_s);

struct HttpRequest {
  std::string path;
  HttpHeaders headers;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  virtual ~HttpServer() = default;
  // Registers a GET route (before serve()).
  virtual void get(const std::string& path, Handler handler) = 0;
  // Binds the socket; port 0 picks a free one. Returns the bound port, or -1.
  virtual int bind(const std::string& host, int port) = 0;
  // Serves until stop() (blocks; run it on its own thread).
  virtual void serve() = 0;
  virtual void stop() = 0;
};

struct HttpServerOptions {
  // TLS when both are set (PEM files).
  std::string tls_cert_file;
  std::string tls_key_file;
};

// Throws InputError when the TLS files cannot be loaded.
std::unique_ptr<HttpServer> make_http_server(const HttpServerOptions& options);

}  // namespace joulebench::net
