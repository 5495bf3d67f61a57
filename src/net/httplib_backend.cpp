// The network plugin's HTTP: cpp-httplib, built by Debian with OpenSSL (the
// pkg-config flags carry CPPHTTPLIB_OPENSSL_SUPPORT).
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "joulebench/error.h"
#include "net/httplib_backend.h"

namespace joulebench::net {
namespace {

HttpHeaders to_headers(const httplib::Headers& in) { return HttpHeaders(in.begin(), in.end()); }

httplib::Headers to_httplib(const HttpHeaders& in) { return httplib::Headers(in.begin(), in.end()); }

// What went wrong, in words a user can act on (httplib says "Connection").
std::string describe(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect: nothing listens at that host and port, or a firewall drops the connection";
    case httplib::Error::ConnectionTimeout: return "the connection timed out: the host does not answer";
    case httplib::Error::Read: return "the connection broke or timed out while reading the answer";
    case httplib::Error::Write: return "the connection broke while sending the request";
    case httplib::Error::BindIPAddress: return "cannot bind the local address";
    case httplib::Error::SSLConnection: return "the TLS handshake failed (is it an https:// server?)";
    case httplib::Error::SSLLoadingCerts: return "cannot load the system's CA certificates";
    case httplib::Error::SSLServerVerification: return "the server's TLS certificate is not trusted";
    case httplib::Error::ExceedRedirectCount: return "too many redirects";
    case httplib::Error::Canceled: return "canceled";
    default: return "HTTP error " + httplib::to_string(e);
  }
}

std::optional<HttpResponse> to_response(const httplib::Result& res, std::string& error) {
  if (!res) {
    error = describe(res.error());
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

// cpp-httplib's ThreadPool has a fixed number of workers (8 here), and a
// connection that sends nothing holds one until its read timeout: 8 idle
// sockets would stall every scrape. This queue starts a worker whenever no
// idle one is waiting, up to max_workers, and lets the extra ones exit after a
// quiet minute, so idle connections cost a sleeping thread each, not a scrape.
class ElasticQueue final : public httplib::TaskQueue {
 public:
  ElasticQueue(std::size_t min_workers, std::size_t max_workers) : min_(min_workers), max_(max_workers) {}
  ~ElasticQueue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::lock_guard lk(mutex_);
    jobs_.push_back(std::move(fn));
    if (jobs_.size() > idle_ && workers_ < max_) {
      ++workers_;
      std::thread([this] { work(); }).detach();  // shutdown() waits for every worker
    } else {
      wake_.notify_one();
    }
  }

  void shutdown() override {
    std::unique_lock lk(mutex_);
    stopping_ = true;
    wake_.notify_all();
    gone_.wait(lk, [this] { return workers_ == 0; });
  }

 private:
  void work() {
    std::unique_lock lk(mutex_);
    for (;;) {
      ++idle_;
      const bool woken = wake_.wait_for(lk, std::chrono::minutes(1), [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (!jobs_.empty()) {
        auto fn = std::move(jobs_.front());
        jobs_.pop_front();
        lk.unlock();
        fn();
        lk.lock();
        continue;
      }
      if (stopping_ || (!woken && workers_ > min_)) break;
    }
    --workers_;
    gone_.notify_all();
  }

  const std::size_t min_, max_;
  std::mutex mutex_;
  std::condition_variable wake_, gone_;
  std::deque<std::function<void()>> jobs_;
  std::size_t workers_ = 0, idle_ = 0;
  bool stopping_ = false;
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
    // Idle or slow clients are dropped after a few seconds; every connection
    // gets its own worker (ElasticQueue), up to kMaxWorkers at once.
    server_->new_task_queue = [] { return new ElasticQueue(kMinWorkers, kMaxWorkers); };
    server_->set_read_timeout(kReadTimeoutS, 0);
    server_->set_write_timeout(kReadTimeoutS, 0);
    server_->set_keep_alive_timeout(kKeepAliveS);
    // TCP_NODELAY (inherited by accepted sockets on Linux): a response goes
    // out in two writes, and Nagle's algorithm with the client's delayed ACK
    // would hold the second one ~40 ms.
    server_->set_socket_options([](int sock) {
      httplib::default_socket_options(sock);
      int yes = 1;
      ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    });
  }

  static constexpr std::size_t kMinWorkers = 4, kMaxWorkers = 512;
  static constexpr time_t kReadTimeoutS = 5, kKeepAliveS = 5;

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
