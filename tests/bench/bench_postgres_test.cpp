// A campaign writing to a real PostgreSQL server (tests/support/postgres_server.h)
// through the spool, with the server stopped mid-campaign by the fake model
// (fault injection at a chosen inference): no measured run is lost, and each
// reaches the database exactly once, whether the spool is flushed by the
// campaign itself, at its end, or later by merge. Label: bench, postgres.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "../support/postgres_server.h"
#ifdef JOULEBENCH_BINARY
#include "../support/cli_fixture.h"
#endif
#include "bench_fakes.h"
#include "joulebench/bench.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;
using namespace joulebench::testing;

jbtest::PostgresServer* g_server = nullptr;

constexpr int kN = 4, kReps = 3, kWarmup = 1;
constexpr int kCallsPerCell = kWarmup + kN * kReps;  // batch 1: one infer() per inference

class BenchPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!g_server->started()) GTEST_SKIP() << g_server->why_not();
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::temp_directory_path() / ("jb-bench-pg-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string db = "b_" + name;
    for (auto& c : db) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    url_ = g_server->fresh_database(db);
    SensorList sensors;
    sensors.push_back(std::make_unique<RampCounter>());
    tracker_ = std::make_unique<Tracker>(std::move(sensors), TrackerOptions{});
    carbon_.intensity = intensity_from_user(100.0);
    settings_.n = kN;
    settings_.reps = kReps;
    settings_.warmup = kWarmup;
  }
  void TearDown() override {
    if (g_server->started() && !g_server->running()) g_server->start();  // for the next test
    fs::remove_all(dir_);
  }

  fs::path spool_path() const { return dir_ / "spool.db"; }
  std::unique_ptr<SpooledStore> open_spooled() {
    SpoolOptions o;
    o.path = spool_path();
    o.retry_initial_s = 0.0;  // every run tries the database again: the test decides when it is back
    return open_spooled_store(open_store(url_), o);
  }
  std::vector<BenchCell> cells() const {
    std::vector<BenchCell> out;
    for (const char* m : {"a", "b", "c", "d", "e", "f"})
      out.push_back(BenchCell{Task::text_classification, m, inputs(), 1});
    return out;
  }
  CampaignResult campaign(Store& store) {
    BenchContext ctx{*tracker_, store, carbon_,
                     [this](const std::string& name, const LoadOptions&) -> std::unique_ptr<Model> {
                       ++state_.loads;
                       if (on_load_) on_load_(name);
                       return std::make_unique<FakeModel>(name, state_);
                     },
                     detect_machine(), 0.0, {}};
    return run_campaign(cells(), settings_, ctx);
  }

  // What the database holds, read with a plain store: run id -> windows, every run complete.
  std::map<std::string, int> database_runs() {
    auto db = open_store(url_);
    std::map<std::string, int> out;
    for (const auto& r : db->list_runs()) {
      EXPECT_EQ(r.status, RunStatus::complete) << r.id;
      EXPECT_TRUE(out.emplace(r.id, r.windows).second) << "run " << r.id << " twice";
    }
    return out;
  }
  // Each repetition the campaign measured is in the database once, with its energy.
  void expect_every_measured_run_once(const CampaignResult& result) {
    const auto runs = database_runs();
    std::set<std::string> ids;
    for (const auto& r : result.runs) ids.insert(r.run_id);
    EXPECT_EQ(runs.size(), ids.size());
    for (const auto& id : ids) {
      ASSERT_TRUE(runs.count(id)) << "run " << id << " is not in the database";
      EXPECT_EQ(runs.at(id), kReps) << "run " << id;
    }
    auto db = open_store(url_);
    const auto windows = db->query_windows({});
    ASSERT_EQ(windows.size(), result.runs.size());
    std::map<std::pair<std::string, int>, double> energy;
    for (const auto& w : windows)
      EXPECT_TRUE(energy.emplace(std::pair{w.run_id, *w.window.repetition}, w.window.measurement.total_energy_j())
                      .second);
    for (const auto& r : result.runs) {
      const auto it = energy.find({r.run_id, r.repetition});
      ASSERT_NE(it, energy.end()) << r.cell.model << " rep " << r.repetition;
      EXPECT_DOUBLE_EQ(it->second, r.energy_j()) << r.cell.model << " rep " << r.repetition;
    }
    EXPECT_EQ(completed_cell_keys(*db).size(), cells().size());
  }

  fs::path dir_;
  std::string url_;
  std::unique_ptr<Tracker> tracker_;
  CarbonSettings carbon_;
  BenchSettings settings_;
  FakeState state_;
  std::function<void(const std::string&)> on_load_;
};

TEST_F(BenchPostgres, ServerBackMidCampaignGetsEverySpooledRunOnce) {
  // Stopped in the middle of cell b's second repetition (b's first window is
  // already in the database), back when cell e loads; f's begin flushes.
  state_.on_call = [](int call) {
    if (call == kCallsPerCell + kWarmup + kN + 2) g_server->stop();
  };
  on_load_ = [](const std::string& model) {
    if (model == "e") {
      ASSERT_TRUE(g_server->start());
    }
  };
  auto store = open_spooled();
  const auto result = campaign(*store);
  ASSERT_EQ(result.runs.size(), 6u * kReps);
  EXPECT_EQ(result.failed_cells, 0u) << "the database going away is not the model's failure";
  EXPECT_GE(store->spooled_count(), 4u) << "b (cut off), c, d and e went to the spool";
  EXPECT_EQ(store->pending(), 0u) << "f's begin flushed them";
  EXPECT_EQ(store->flush(3, 0.1), 0u);
  EXPECT_FALSE(fs::exists(spool_path()));
  expect_every_measured_run_once(result);
}

TEST_F(BenchPostgres, ServerGoneToTheEndThenMergeAndResume) {
  state_.on_call = [](int call) {
    if (call == 2 * kCallsPerCell + kWarmup + 1) g_server->stop();  // in cell c's first repetition
  };
  CampaignResult result;
  {
    auto store = open_spooled();
    result = campaign(*store);
    ASSERT_EQ(result.runs.size(), 6u * kReps);
    EXPECT_EQ(store->pending(), 4u);  // c to f
    EXPECT_EQ(store->flush(2, 0.05), 4u) << "still down: kept, and said so";
    EXPECT_FALSE(store->last_error().empty());
    EXPECT_TRUE(fs::exists(spool_path()));
  }
  ASSERT_TRUE(g_server->start());
  // Pushed later by hand: `joulebench merge SPOOL -o postgresql://...`.
  {
    auto spool = open_store(spool_path());
    auto db = open_store(url_);
    EXPECT_EQ(merge_stores(*spool, *db), 4u);
    EXPECT_EQ(merge_stores(*spool, *db), 0u) << "a second merge writes nothing";
  }
  expect_every_measured_run_once(result);

  // The same campaign again, the spool still there: every cell is done.
  state_.on_call = nullptr;
  auto store = open_spooled();
  const auto again = campaign(*store);
  EXPECT_EQ(again.skipped.size(), 6u);
  EXPECT_TRUE(again.runs.empty());
  EXPECT_EQ(store->flush(1, 0.0), 0u) << "runs the database already holds leave the spool";
  EXPECT_FALSE(fs::exists(spool_path()));
  expect_every_measured_run_once(result);
}

TEST_F(BenchPostgres, ResumeCountsSpooledCellsAsDone) {
  state_.on_call = [](int call) {
    if (call == 3 * kCallsPerCell) g_server->stop();  // the last inference of cell c
  };
  CampaignResult first;
  {
    auto store = open_spooled();
    first = campaign(*store);
  }
  ASSERT_TRUE(g_server->start());
  // A rerun (the user's, or a retried job): a and b from the database, c to f
  // from the spool; nothing is measured twice, and the spool reaches the
  // database when the store is flushed.
  state_.on_call = nullptr;
  state_.loads = 0;
  auto store = open_spooled();
  const auto again = campaign(*store);
  EXPECT_EQ(again.skipped.size(), 6u);
  EXPECT_EQ(state_.loads, 0) << "no model loaded: nothing measured twice";
  EXPECT_EQ(store->flush(1, 0.0), 0u);
  expect_every_measured_run_once(first);
}

#ifdef JOULEBENCH_BINARY
// The command a user runs: the database stopped after the first cell, the
// campaign goes on into the spool, ends with exit status 3 and the command
// that pushes the spool; that command, run as printed, completes the database.
class BenchPostgresCli : public jbtest::CliFixture {
 protected:
  void SetUp() override {
    if (!g_server->started()) GTEST_SKIP() << g_server->why_not();
    CliFixture::SetUp();
    url_ = g_server->fresh_database("b_cli");
  }
  void TearDown() override {
    if (g_server->started() && !g_server->running()) g_server->start();
    CliFixture::TearDown();
  }
  int complete_runs() {
    try {
      pqxx::connection c(url_);
      pqxx::work t(c);
      return t.exec("SELECT COUNT(*) FROM runs WHERE status = 'complete'")[0][0].as<int>();
    } catch (const std::exception&) {
      return 0;  // not migrated yet
    }
  }
  std::string url_;
};

TEST_F(BenchPostgresCli, DatabaseGoneMidCampaignExits3AndThePrintedMergeCompletesIt) {
  // Four cells (a batch sweep); cool-downs leave time to stop the server between cells.
  const pid_t pid = start("bench --task text-classification --model tiny-distilbert-sst2 --batch 1,2,3,4 --n 4 "
                          "--reps 2 --cooldown 0.4 --idle-baseline 0 --intensity 200 --no-report --store '" +
                          url_ + "' --spool spool.db");
  ASSERT_GT(pid, 0);
  bool first_done = false;
  for (int i = 0; i < 2400 && !first_done; ++i) {  // up to 120 s
    first_done = complete_runs() >= 1;
    if (!first_done) {
      ASSERT_EQ(::waitpid(pid, nullptr, WNOHANG), 0) << "bench ended before its first cell: " << err_so_far();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_TRUE(first_done) << err_so_far();
  g_server->stop();
  const auto r = finish(pid);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "spool.db"));
  EXPECT_NE(r.err.find("kept in spool.db"), std::string::npos) << r.err;
  const auto at = r.err.find("joulebench merge ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string merge = r.err.substr(at + 11, r.err.find('\n', at) - at - 11);  // after "joulebench "
  EXPECT_NE(merge.find(url_), std::string::npos) << merge;

  ASSERT_TRUE(g_server->start());
  const auto m = run(merge);
  ASSERT_EQ(m.code, 0) << merge << ": " << m.err;
  auto db = open_store(url_);
  const auto runs = db->list_runs();
  ASSERT_EQ(runs.size(), 4u);
  std::set<int> batches;
  for (const auto& run : runs) {
    EXPECT_EQ(run.status, RunStatus::complete) << run.id;
    EXPECT_EQ(run.windows, 2) << run.id;
    const auto rec = db->load_run(run.id);
    batches.insert(nlohmann::json::parse(rec->config_json).at("batch").get<int>());
  }
  EXPECT_EQ(batches, (std::set<int>{1, 2, 3, 4})) << "each cell once";
  // The same command again: every cell is done, the spool leaves, exit 0.
  const auto again = run("bench --task text-classification --model tiny-distilbert-sst2 --batch 1,2,3,4 --n 4 "
                         "--reps 2 --cooldown 0.4 --idle-baseline 0 --intensity 200 --no-report --store '" +
                         url_ + "' --spool spool.db");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_FALSE(fs::exists(dir_ / "spool.db"));
  EXPECT_EQ(open_store(url_)->list_runs().size(), 4u);
}
#endif

}  // namespace
}  // namespace joulebench

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  joulebench::g_server = new jbtest::PostgresServer;
  ::testing::AddGlobalTestEnvironment(joulebench::g_server);  // owned by gtest
  return RUN_ALL_TESTS();
}
