// The agent: a collector thread sampling at the interval and an HTTP server
// (the network plugin's: cpp-httplib, TLS through OpenSSL) serving /metrics.
// The configuration never reaches a shell, and the token is never logged or
// echoed.
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/exporter.h"
#include "net/http.h"

namespace joulebench {
namespace {

// Compares without an early exit, so the time taken does not tell how much of
// a guessed token was right.
bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace

std::string read_token_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError("--token-file " + path + ": is a folder; give the file that holds the token");
  std::ifstream in(path);
  if (!in) throw InputError("--token-file " + path + ": cannot read the file (check the path and its permissions)");
  std::string token;
  std::getline(in, token);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) throw InputError("--token-file " + path + ": the first line is empty; put the bearer token there");
  return token;
}

void parse_listen_address(std::string_view text, std::string& host, int& port) {
  const std::string what = "--listen " + std::string(text);
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw InputError(what + ": expected [IPv6]:PORT, e.g. [::1]:9464");
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) throw InputError(what + ": expected HOST:PORT, e.g. 127.0.0.1:9464");
    host = colon == 0 ? "127.0.0.1" : std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) throw InputError(what + ": write an IPv6 address in brackets: [::1]:9464");
  }
  int value = -1;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || value < 0 || value > 65535 || port_text.empty())
    throw InputError(what + ": the port must be a number from 0 to 65535");
  if (host.empty()) throw InputError(what + ": the host is empty");
  port = value;
}

struct Exporter::Impl {
  ExporterOptions options;
  EnergyCollector collector;
  std::unique_ptr<net::HttpServer> server;
  bool tls = false;
  int port = 0;
  std::thread http_thread, sample_thread;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool started = false;

  Impl(SensorList sensors, ExporterOptions o) : options(std::move(o)), collector(std::move(sensors), options.collector) {}

  net::HttpResponse handle_metrics(const net::HttpRequest& req) {
    net::HttpResponse res;
    if (!options.token.empty()) {
      const std::string auth = net::header_value(req.headers, "Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0 ||
          !constant_time_equal(std::string_view(auth).substr(kBearer.size()), options.token)) {
        res.status = 401;
        res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"joulebench\"");
        // Asks the client to close; one that does not is dropped at the idle timeout (5 s) like any other.
        res.headers.emplace_back("Connection", "close");
        res.body = "unauthorized\n";
        return res;
      }
    }
    collector.count_scrape();
    const MetricsFormat format = negotiate_metrics_format(net::header_value(req.headers, "Accept"));
    res.body = render_metrics(collector.snapshot(), format);
    res.content_type = std::string(metrics_content_type(format));
    return res;
  }
};

Exporter::Exporter(SensorList sensors, ExporterOptions options)
    : impl_(std::make_unique<Impl>(std::move(sensors), std::move(options))) {
  auto& d = *impl_;
  const auto& o = d.options;
  d.server = net::make_http_server(net::HttpServerOptions{o.tls_cert_file, o.tls_key_file});
  d.tls = !o.tls_cert_file.empty();
  d.server->get("/metrics", [&d](const net::HttpRequest& req) { return d.handle_metrics(req); });
  d.server->get("/", [](const net::HttpRequest&) {
    return net::HttpResponse{200, "joulebench exporter: metrics at /metrics\n", "text/plain; charset=utf-8", {}};
  });
  const std::string where = o.host + ":" + std::to_string(o.port);
  d.port = d.server->bind(o.host, o.port);
  if (d.port <= 0)
    throw Error("exporter: cannot listen on " + where + " (address in use, or not an address of this machine)");
}

Exporter::~Exporter() { stop(); }

int Exporter::port() const { return impl_->port; }
bool Exporter::tls() const { return impl_->tls; }
EnergyCollector& Exporter::collector() { return impl_->collector; }

void Exporter::start() {
  auto& d = *impl_;
  std::lock_guard lock(d.mutex);
  if (d.started) return;
  d.started = true;
  d.collector.sample();  // counters exist before the first scrape
  d.sample_thread = std::thread([&d] {
    const auto interval = std::chrono::duration<double>(d.collector.interval_s());
    auto next = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    std::unique_lock lk(d.mutex);
    while (!d.stopping) {
      if (d.wake.wait_until(lk, next, [&d] { return d.stopping; })) break;
      lk.unlock();
      d.collector.sample();
      lk.lock();
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;  // fell behind: do not burst
    }
  });
  d.http_thread = std::thread([&d] { d.server->serve(); });
}

void Exporter::stop() {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.mutex);
    if (!d.started || d.stopping) return;
    d.stopping = true;
  }
  d.wake.notify_all();
  d.server->stop();
  if (d.http_thread.joinable()) d.http_thread.join();
  if (d.sample_thread.joinable()) d.sample_thread.join();
}

}  // namespace joulebench
