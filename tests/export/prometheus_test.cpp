// End to end with a real Prometheus server (Debian package prometheus): the
// test advances a fake powercap counter at a known power, serves it with the
// exporter on a free loopback port, lets Prometheus scrape it every second,
// and checks rate(joulebench_energy_joules_total[...]) through Prometheus's
// HTTP API. Then Prometheus is killed and the exporter must keep serving.
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "joulebench/exporter.h"
#include "../support/free_port.h"
#include "../support/idle_connections.h"
#include "../support/fake_tree.h"

extern char** environ;

namespace joulebench {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr double kPowerW = 25.0;

// The Prometheus child: killed and reaped however the test ends.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() { kill(); }
  bool started() const { return pid_ > 0; }
  bool alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// The counter of the fake package, advanced at kPowerW by a thread.
class PowerDriver {
 public:
  static constexpr double kStartUj = 1e12;
  explicit PowerDriver(const testing::FakeTree& tree)
      : fd_(::open(tree.path("sys/class/powercap/intel-rapl:0/energy_uj").c_str(), O_WRONLY)) {
    thread_ = std::thread([this] {
      const auto t0 = std::chrono::steady_clock::now();
      while (!stop_) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        // Always 13 digits, written in place with one pwrite: a concurrent
        // read never sees an empty or shorter file (as sysfs guarantees).
        const auto uj = static_cast<long long>(kStartUj + kPowerW * 1e6 * elapsed);
        const std::string text = std::to_string(uj) + "\n";
        if (fd_ >= 0) (void)::pwrite(fd_, text.data(), text.size(), 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~PowerDriver() {
    stop_ = true;
    thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::optional<double> query_scalar(httplib::Client& prom, const std::string& query) {
  auto res = prom.Get("/api/v1/query", httplib::Params{{"query", query}}, httplib::Headers{});
  if (!res || res->status != 200) return std::nullopt;
  const auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.empty()) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

// The fake package's files, its counter driven at kPowerW.
void write_package(testing::FakeTree& tree) {
  tree.write("sys/class/powercap/intel-rapl:0/name", "package-0\n");
  tree.write("sys/class/powercap/intel-rapl:0/energy_uj", "1000000000000\n");
  tree.write("sys/class/powercap/intel-rapl:0/max_energy_range_uj", "9000000000000000\n");
}

// An exporter of the fake package alone (sampling every 0.2 s), on a free port.
std::unique_ptr<Exporter> start_exporter(const testing::FakeTree& tree, const std::string& token = "") {
  SensorOptions sensors = tree.options();
  sensors.disabled_backends = {"rapl-perf", "rapl-msr", "nvml", "hwmon", "estimate"};
  ExporterOptions options;
  options.port = 0;
  options.token = token;
  options.collector.interval_s = 0.2;
  options.collector.procfs_root = tree.path("proc");  // absent: no attribution
  auto exporter = std::make_unique<Exporter>(discover_sensors(sensors), options);
  exporter->start();
  return exporter;
}

// Prometheus scraping `exporter_port` every second; `job_extra` is YAML for
// the job (e.g. its authorization).
std::unique_ptr<Child> start_prometheus(testing::FakeTree& tree, int prom_port, int exporter_port,
                                        const std::string& job_extra = "") {
  tree.write("prometheus.yml",
             "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
             "scrape_configs:\n  - job_name: joulebench\n" +
                 job_extra + "    static_configs:\n      - targets: ['127.0.0.1:" + std::to_string(exporter_port) +
                 "']\n");
  tree.mkdir("tsdb");
  return std::make_unique<Child>(
      std::vector<std::string>{kPrometheus, "--config.file=" + tree.path("prometheus.yml"),
                               "--storage.tsdb.path=" + tree.path("tsdb"),
                               "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
      tree.path("prometheus.log"));
}

TEST(Prometheus, ScrapesTheExporterAndSeesTheKnownPower) {
  if (!std::filesystem::exists(kPrometheus))
    GTEST_SKIP() << kPrometheus << " not installed (scripts/setup.sh installs the Debian package prometheus)";
  testing::FakeTree tree;
  write_package(tree);
  PowerDriver driver(tree);
  auto exporter_ptr = start_exporter(tree);
  Exporter& exporter = *exporter_ptr;
  const int prom_port = jbtest::free_loopback_port();
  ASSERT_GT(prom_port, 0);
  auto prometheus_ptr = start_prometheus(tree, prom_port, exporter.port());
  Child& prometheus = *prometheus_ptr;
  ASSERT_TRUE(prometheus.started());

  httplib::Client prom("127.0.0.1", prom_port);
  prom.set_connection_timeout(1);
  prom.set_read_timeout(2);
  // rate() over a window the series fully covers (Prometheus extrapolates
  // only half an interval at the edges of a series younger than the window).
  const std::string rate_query = "rate(joulebench_energy_joules_total{component=\"cpu\"}[4s])";
  std::optional<double> rate, up;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // Wait until the series is older than the rate window.
  while (std::chrono::steady_clock::now() < deadline && prometheus.alive()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto n = query_scalar(prom, "count_over_time(joulebench_energy_joules_total{component=\"cpu\"}[10s])");
    if (n && *n >= 7) {
      rate = query_scalar(prom, rate_query);
      up = query_scalar(prom, "joulebench_sensor_up{sensor=\"rapl-powercap:package-0\"}");
      break;
    }
  }
  ASSERT_TRUE(prometheus.alive()) << "prometheus exited; log: " << tree.path("prometheus.log");
  ASSERT_TRUE(rate.has_value()) << "no rate from Prometheus within 30 s";
  EXPECT_NEAR(*rate, kPowerW, kPowerW * 0.1);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(*up, 1.0);

  // Fault: Prometheus gone, the exporter keeps serving.
  prometheus.kill();
  httplib::Client client("127.0.0.1", exporter.port());
  for (int i = 0; i < 3; ++i) {
    auto res = client.Get("/metrics");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_NE(res->body.find("joulebench_energy_joules_total{component=\"cpu\"}"), std::string::npos);
  }
  exporter.stop();
}

// Issue 16: 40 idle sockets used to make a valid scrape time out. With 100
// idle connections held open the whole time (reopened as the exporter drops
// them), a real Prometheus with a bearer token must scrape at its interval
// and every scrape succeed.
TEST(Prometheus, KeepsScrapingWhileAHundredIdleConnectionsAreHeld) {
  if (!std::filesystem::exists(kPrometheus))
    GTEST_SKIP() << kPrometheus << " not installed (scripts/setup.sh installs the Debian package prometheus)";
  testing::FakeTree tree;
  write_package(tree);
  PowerDriver driver(tree);
  auto exporter_ptr = start_exporter(tree, "scrape-token");
  Exporter& exporter = *exporter_ptr;
  jbtest::IdleConnections idle(exporter.port(), 100);
  ASSERT_EQ(idle.held(), 100);
  const int prom_port = jbtest::free_loopback_port();
  ASSERT_GT(prom_port, 0);
  auto prometheus_ptr =
      start_prometheus(tree, prom_port, exporter.port(), "    authorization:\n      credentials: scrape-token\n");
  Child& prometheus = *prometheus_ptr;
  ASSERT_TRUE(prometheus.started());

  httplib::Client prom("127.0.0.1", prom_port);
  prom.set_connection_timeout(1);
  prom.set_read_timeout(2);
  // 12 s of scrapes at 1 s, which spans two idle timeouts of the exporter (5 s).
  std::optional<double> scrapes, ups;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (std::chrono::steady_clock::now() < deadline && prometheus.alive()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    scrapes = query_scalar(prom, "count_over_time(up{job=\"joulebench\"}[12s])");
    if (scrapes && *scrapes >= 11) {
      ups = query_scalar(prom, "sum_over_time(up{job=\"joulebench\"}[12s])");
      break;
    }
  }
  ASSERT_TRUE(prometheus.alive()) << "prometheus exited; log: " << tree.path("prometheus.log");
  ASSERT_TRUE(scrapes.has_value() && *scrapes >= 11) << "Prometheus did not keep its 1 s interval";
  ASSERT_TRUE(ups.has_value());
  EXPECT_EQ(*ups, *scrapes) << "a scrape failed (timed out) while idle connections were held";
  EXPECT_EQ(idle.held(), 100) << "the idle connections were not held the whole time";
  EXPECT_GT(idle.reopened(), 0) << "the exporter never dropped an idle connection (no idle timeout?)";
  exporter.stop();
}

}  // namespace
}  // namespace joulebench
