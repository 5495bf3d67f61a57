// Live intensity against a local HTTP server on 127.0.0.1 serving a recorded
// Electricity Maps answer, a server that is too slow, and a dead port.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "joulebench/carbon.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

std::string recorded() {
  std::ifstream in(std::string(JOULEBENCH_TEST_SOURCE_DIR) + "/data/electricitymaps-latest-FR.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LiveServer : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = fs::temp_directory_path() / ("jb-live-cache-" + std::to_string(::getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(cache_);
    server_.Get("/v3/carbon-intensity/latest", [this](const httplib::Request& req, httplib::Response& res) {
      ++hits_;
      last_zone_ = req.get_param_value("zone");
      last_token_ = req.get_header_value("auth-token");
      if (last_token_ != "secret") {
        res.status = 401;
        res.set_content(R"({"message":"unauthorized"})", "application/json");
        return;
      }
      res.set_content(recorded(), "application/json");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content(R"({"carbonIntensity": 1})", "application/json");
    });
    server_.Get("/absurd", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"zone":"FR","carbonIntensity":1e300})", "application/json");
    });
    server_.Get("/garbage", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<html>maintenance</html>", "text/html");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
    fs::remove_all(cache_);
  }
  LiveIntensityOptions options(const std::string& path) {
    LiveIntensityOptions o;
    o.enabled = true;
    o.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    o.token = "secret";
    o.timeout_s = 0.3;
    o.cache_dir = cache_;
    return o;
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  fs::path cache_;
  std::atomic<int> hits_{0};
  std::string last_zone_, last_token_;
};

}  // namespace

TEST_F(LiveServer, ReadsTheRecordedAnswerWithZoneAndToken) {
  std::string why;
  auto g = fetch_live_intensity(options("/v3/carbon-intensity/latest"), "FR", &why);
  ASSERT_TRUE(g) << why;
  EXPECT_DOUBLE_EQ(g->g_per_kwh, 32);
  EXPECT_EQ(g->origin, IntensityOrigin::live);
  EXPECT_EQ(g->year, 2024);
  EXPECT_EQ(last_zone_, "FR");
  EXPECT_EQ(last_token_, "secret");
}

TEST_F(LiveServer, SecondCallIsServedFromTheCache) {
  auto o = options("/v3/carbon-intensity/latest");
  ASSERT_TRUE(fetch_live_intensity(o, "FR", nullptr));
  auto again = fetch_live_intensity(o, "FR", nullptr);
  ASSERT_TRUE(again);
  EXPECT_EQ(hits_.load(), 1);
  EXPECT_NE(again->source.find("cached"), std::string::npos);
  o.cache_ttl_s = 0;  // cache off: asks again
  ASSERT_TRUE(fetch_live_intensity(o, "FR", nullptr));
  EXPECT_EQ(hits_.load(), 2);
}

TEST_F(LiveServer, WrongTokenIsReported) {
  auto o = options("/v3/carbon-intensity/latest");
  o.token = "wrong";
  std::string why;
  EXPECT_FALSE(fetch_live_intensity(o, "FR", &why));
  EXPECT_NE(why.find("401"), std::string::npos) << why;
}

TEST_F(LiveServer, SlowServerTimesOut) {
  std::string why;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(fetch_live_intensity(options("/slow"), "FR", &why));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1400));
  EXPECT_FALSE(why.empty());
}

TEST_F(LiveServer, NonJsonAnswerIsRefused) {
  std::string why;
  EXPECT_FALSE(fetch_live_intensity(options("/garbage"), "FR", &why));
  EXPECT_NE(why.find("JSON"), std::string::npos) << why;
}

// The same bounds as --intensity (limits.h): 1e300 g/kWh is no grid's.
TEST_F(LiveServer, AnAbsurdIntensityIsRefused) {
  std::string why;
  EXPECT_FALSE(fetch_live_intensity(options("/absurd"), "FR", &why));
  EXPECT_NE(why.find("1e+300 is out of range: carbon intensity must be a number from 0 to 5000"), std::string::npos)
      << why;
}

TEST_F(LiveServer, ResolutionUsesLiveFigureForTheCountryZone) {
  CarbonEnvironment env;
  const std::string url = options("/v3/carbon-intensity/latest").url;
  env.getenv = [&](const std::string& k) -> std::optional<std::string> {
    if (k == "JOULEBENCH_LIVE_URL") return url;
    if (k == "ELECTRICITYMAPS_TOKEN") return std::string("secret");
    if (k == "XDG_CACHE_HOME") return cache_.string();
    return std::nullopt;
  };
  env.use_time_zone = false;
  CarbonRequest r;
  r.country = "FRA";
  r.live = true;
  // The cache dir comes from the environment only through LiveIntensityOptions: use a config.
  const fs::path cfg = cache_.parent_path() / ("jb-live-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(cfg) << "[carbon.live]\ncache_dir = \"" << cache_.string() << "\"\ntimeout_s = 1\n";
  r.config_file = cfg;
  auto s = resolve_carbon_settings(r, env);
  fs::remove(cfg);
  EXPECT_EQ(s.intensity.origin, IntensityOrigin::live);
  EXPECT_DOUBLE_EQ(s.intensity.g_per_kwh, 32);
  EXPECT_EQ(s.intensity.country_iso3, "FRA");
  EXPECT_EQ(last_zone_, "FR");  // ISO3 -> ISO2 zone
}

TEST(LiveDead, DeadPortFallsBackToTheTableWithAWarning) {
  // A port that was bound and released: nothing listens there now.
  int port = 0;
  {
    httplib::Server probe;
    port = probe.bind_to_any_port("127.0.0.1");
  }
  ASSERT_GT(port, 0);
  CarbonEnvironment env;
  env.getenv = [&](const std::string& k) -> std::optional<std::string> {
    if (k == "JOULEBENCH_LIVE_URL") return "http://127.0.0.1:" + std::to_string(port) + "/latest";
    if (k == "JOULEBENCH_LIVE_INTENSITY") return std::string("1");
    return std::nullopt;
  };
  env.use_time_zone = false;
  CarbonRequest r;
  r.country = "FRA";
  const fs::path cfg = fs::temp_directory_path() / ("jb-dead-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(cfg) << "[carbon.live]\ncache_dir = \"" << (fs::temp_directory_path() / "jb-dead-cache").string()
                     << "\"\ntimeout_s = 0.5\n";
  r.config_file = cfg;
  auto s = resolve_carbon_settings(r, env);
  fs::remove(cfg);
  EXPECT_EQ(s.intensity.origin, IntensityOrigin::country_table);
  EXPECT_DOUBLE_EQ(s.intensity.g_per_kwh, intensity_for_country("FRA").g_per_kwh);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("live carbon intensity unavailable"), std::string::npos) << s.warnings[0];
}
