// `joulebench exporter` as a user runs it (the built binary, through
// tests/support/cli_fixture.h): exit codes of a bad --listen (2, naming the
// flag), of a port already taken (1, saying so), and a good run that serves
// /metrics and ends with 0 on SIGTERM. Sensors come from a fake powercap tree.
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "../support/cli_fixture.h"
#include "../support/counter_ticker.h"

namespace {

class ExporterCli : public jbtest::CliFixture {
 protected:
  void SetUp() override {
    CliFixture::SetUp();
    write("sys/class/powercap/intel-rapl:0/name", "package-0\n");
    write("sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");
    write("sys/class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
    write("proc/stat", "cpu  1000 0 500 90000 0 0 0 0 0 0\ncpu0 1000 0 500 90000 0 0 0 0 0 0\n");
    write("proc/meminfo", "MemTotal:       16384000 kB\nMemAvailable:    8192000 kB\n");
    std::filesystem::create_directories(dir_ / "dev");
  }
  void TearDown() override {
    if (pid_ > 0) {  // a failed assertion left it running
      ::kill(pid_, SIGKILL);
      finish(pid_);
    }
    CliFixture::TearDown();
  }

  void write(const std::string& rel, const std::string& text) {
    const auto p = dir_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  // The fake tree; no estimation backend, no country guess.
  std::string exporter(const std::string& listen) const {
    const std::string d = dir_.string();
    return "exporter --listen '" + listen + "' --sysfs-root " + d + "/sys --procfs-root " + d + "/proc --dev-root " +
           d + "/dev --nvml-library " + d + "/no-libnvidia-ml.so.1 --disable-sensor estimate --interval 0.1";
  }

  pid_t pid_ = -1;
};

TEST_F(ExporterCli, BadListenAddressIs2AndNamesTheFlag) {
  for (const std::string bad : {"nonsense", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", ":"}) {
    const auto r = run(exporter(bad), "JOULEBENCH_COUNTRY=FRA");
    EXPECT_EQ(r.code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--listen"), std::string::npos) << bad << ": " << r.err;
    EXPECT_NE(r.err.find(bad), std::string::npos) << "the message should repeat the value: " << r.err;
  }
}

TEST_F(ExporterCli, PortInUseIs1WithAClearMessage) {
  // Hold a listening socket on a loopback port for the whole test.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));

  const auto r = run(exporter("127.0.0.1:" + port), "JOULEBENCH_COUNTRY=FRA");
  ::close(fd);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot listen"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:" + port), std::string::npos) << "the message should name the address: " << r.err;
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
}

TEST_F(ExporterCli, ServesMetricsAndStopsCleanlyOnSigterm) {
  // A live counter (about 1 W): the exporter's start-up probe sees it advance.
  jbtest::CounterTicker ticker(dir_ / "sys/class/powercap/intel-rapl:0/energy_uj", 1'000'000, 1'000);
  // Port 0: the kernel picks a free one; the start-up line says which.
  pid_ = start(exporter("127.0.0.1:0"), "JOULEBENCH_COUNTRY=FRA");
  ASSERT_GT(pid_, 0);
  const std::regex serving(R"(serving http://127\.0\.0\.1:(\d+)/metrics)");
  std::smatch m;
  std::string err;
  for (int i = 0; i < 500; ++i) {  // up to 10 s
    err = err_so_far();
    if (std::regex_search(err, m, serving)) break;
    ASSERT_EQ(::waitpid(pid_, nullptr, WNOHANG), 0) << "the exporter ended early: " << err;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(std::regex_search(err, m, serving)) << "no start-up line: " << err;
  const int port = std::stoi(m[1].str());

  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  const auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << "no answer on port " << port;
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("joulebench_energy_joules_total{"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("component=\"cpu\""), std::string::npos) << res->body;

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  // A clean stop is quick: give it 10 s before calling it hung.
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 500 && (done = ::waitpid(pid_, &status, WNOHANG)) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(done, pid_) << "the exporter did not stop within 10 s of SIGTERM";
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status) << " instead of exiting";
  EXPECT_EQ(WEXITSTATUS(status), 0) << err_so_far();
  // Nothing listens any more.
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(1);
  EXPECT_FALSE(after.Get("/metrics")) << "the port still answers after the exporter ended";
}

}  // namespace
