// The network plugin's HTTP: cpp-httplib, built by Debian with OpenSSL (the
// pkg-config flags carry CPPHTTPLIB_OPENSSL_SUPPORT).
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "joulebench/error.h"
#include "net/httplib_backend.h"

namespace joulebench::net {
namespace {

HttpHeaders to_headers(const httplib::Headers& in) { return HttpHeaders(in.begin(), in.end()); }

httplib::Headers to_httplib(const HttpHeaders& in) { return httplib::Headers(in.begin(), in.end()); }

std::optional<HttpResponse> to_response(const httplib::Result& res, std::string& error) {
  if (!res) {
    error = httplib::to_string(res.error());
    return std::nullopt;
  }
  HttpResponse out;
  out.status = res->status;
  out.body = res->body;
  out.content_type = res->get_header_value("Content-Type");
  out.headers = to_headers(res->headers);
  return out;
}

class HttplibClient final : public HttpClient {
 public:
  HttplibClient(const std::string& origin, double timeout_s) : client_(origin) {
    if (!client_.is_valid()) throw InputError("'" + origin + "' is not an http:// or https:// origin");
    const auto us = static_cast<long long>(timeout_s * 1e6);
    client_.set_connection_timeout(us / 1000000, us % 1000000);
    client_.set_read_timeout(us / 1000000, us % 1000000);
    client_.set_write_timeout(us / 1000000, us % 1000000);
    client_.set_keep_alive(true);  // one connection for a whole campaign, as real clients do
    // On a kept-alive connection a request goes out in two writes, and Nagle's
    // algorithm with the server's delayed ACK would hold the second ~40 ms.
    client_.set_tcp_nodelay(true);
  }

  std::optional<HttpResponse> get(const std::string& path, const HttpHeaders& headers, std::string& error) override {
    return to_response(client_.Get(path, to_httplib(headers)), error);
  }

  std::optional<HttpResponse> post(const std::string& path, const HttpHeaders& headers, const std::string& body,
                                   const std::string& content_type, std::string& error) override {
    return to_response(client_.Post(path, to_httplib(headers), body, content_type), error);
  }

 private:
  httplib::Client client_;
};

class HttplibServer final : public HttpServer {
 public:
  explicit HttplibServer(const HttpServerOptions& o) {
    if (o.tls_cert_file.empty() != o.tls_key_file.empty())
      throw InputError("--tls-cert and --tls-key go together: give both PEM files, or neither");
    if (!o.tls_cert_file.empty()) {
      for (const auto& [flag, path] :
           {std::pair{"--tls-cert", o.tls_cert_file}, std::pair{"--tls-key", o.tls_key_file}}) {
        struct stat st{};
        if (::stat(path.c_str(), &st) != 0) throw InputError(std::string(flag) + " " + path + ": no such file");
      }
      auto ssl = std::make_unique<httplib::SSLServer>(o.tls_cert_file.c_str(), o.tls_key_file.c_str());
      if (!ssl->is_valid())
        throw InputError("--tls-cert " + o.tls_cert_file + " / --tls-key " + o.tls_key_file +
                         ": OpenSSL could not load them (PEM certificate and matching private key expected)");
      server_ = std::move(ssl);
    } else {
      server_ = std::make_unique<httplib::Server>();
    }
    // TCP_NODELAY (inherited by accepted sockets on Linux): a response goes
    // out in two writes, and Nagle's algorithm with the client's delayed ACK
    // would hold the second one ~40 ms.
    server_->set_socket_options([](int sock) {
      httplib::default_socket_options(sock);
      int yes = 1;
      ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    });
  }

  void get(const std::string& path, Handler handler) override {
    server_->Get(path, [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
      HttpResponse out = handler(HttpRequest{req.path, to_headers(req.headers)});
      res.status = out.status;
      for (auto& [key, value] : out.headers) res.set_header(key, value);
      res.set_content(std::move(out.body), out.content_type.empty() ? "text/plain; charset=utf-8" : out.content_type);
    });
  }

  int bind(const std::string& host, int port) override {
    if (port == 0) return server_->bind_to_any_port(host);
    return server_->bind_to_port(host, port) ? port : -1;
  }

  void serve() override { server_->listen_after_bind(); }
  void stop() override { server_->stop(); }

 private:
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace

std::unique_ptr<HttpClient> httplib_connect(const std::string& origin, double timeout_s) {
  return std::make_unique<HttplibClient>(origin, timeout_s);
}

std::unique_ptr<HttpServer> httplib_server(const HttpServerOptions& options) {
  return std::make_unique<HttplibServer>(options);
}

}  // namespace joulebench::net
