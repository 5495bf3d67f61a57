// deploy/slurm/campaign.sbatch, as shipped, on a real single-node Slurm
// cluster that this test starts (slurm_cluster.sh: munged, MariaDB,
// slurmdbd, slurmctld, slurmd) and stops: job arrays of tiny zoo presets
// into SQLite shards and into a PostgreSQL store the test takes away midway,
// a cancelled task resubmitted, and exactly one result per cell at the end.
// Only environment variables are set; sacct says how each task ended.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/cli_fixture.h"
#include "../support/postgres_server.h"
#include "joulebench/store.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// 6 cells (one tiny preset per text task), 2 per shard of 3. The cooldown
// makes a cell last ~2 s, long enough to cancel a task or stop the database
// between or inside its cells.
constexpr const char* kModels[] = {"tiny-distilbert-sst2", "tiny-bert-ner", "tiny-roberta-squad",
                                   "tiny-bert-mlm",        "tiny-gpt2",     "tiny-t5"};
std::string bench_args(double cooldown_s) {
  std::string args = "--n 3 --reps 2 --warmup 1 --idle-baseline 0 --no-report --cooldown " + std::to_string(cooldown_s);
  for (const char* m : kModels) args += std::string(" --model ") + m;
  return args;
}

struct Output {
  int code = -1;
  std::string text;  // stdout and stderr
};

// Runs a shell command line, stdout and stderr together.
Output shell(const std::string& cmd) {
  Output o;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return o;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.text.append(buf, n);
  const int status = ::pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class SlurmCluster : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = fs::path("/tmp") / ("jb-slurm-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    const Output o = shell("bash " + quoted(std::string(JOULEBENCH_TEST_SOURCE_DIR) + "/slurm_cluster.sh") +
                           " start " + quoted(dir_.string()));
    if (o.code == 77) {
      why_not_ = o.text;
      return;
    }
    if (o.code != 0) {
      failed_ = "the test cluster did not start: " + o.text;
      return;
    }
    ::setenv("SLURM_CONF", (dir_ / "slurm.conf").c_str(), 1);
    up_ = true;
  }
  void TearDown() override {
    if (!dir_.empty()) shell("bash " + quoted(std::string(JOULEBENCH_TEST_SOURCE_DIR) + "/slurm_cluster.sh") +
                             " stop " + quoted(dir_.string()));
    if (up_ && !::testing::Test::HasFailure()) fs::remove_all(dir_);
  }
  bool up() const { return up_; }
  const std::string& why_not() const { return why_not_; }
  const std::string& failed() const { return failed_; }

 private:
  fs::path dir_;
  bool up_ = false;
  std::string why_not_, failed_;
};

SlurmCluster* g_cluster = nullptr;
jbtest::PostgresServer* g_postgres = nullptr;

class SlurmCampaign : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!g_cluster->failed().empty()) FAIL() << g_cluster->failed();
    if (!g_cluster->up()) GTEST_SKIP() << g_cluster->why_not();
    dir_ = fs::temp_directory_path() /
           ("jb-campaign-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // sbatch the shipped script from dir_ with `env` (NAME=value words) set; the job id.
  std::string submit(const std::string& array, const std::string& env) {
    const Output o = shell("cd " + quoted(dir_.string()) + " && env JOULEBENCH=" + quoted(JOULEBENCH_BINARY) +
                           " JOULEBENCH_RESULTS=" + quoted((dir_ / "results").string()) + " " + env +
                           " sbatch --parsable --array=" + array + " " + quoted(script()));
    EXPECT_EQ(o.code, 0) << o.text;
    std::string id = o.text.substr(0, o.text.find_first_of(";\n"));
    return id;
  }

  // Polls sacct until every task of `job` has ended (bounded); task id -> "STATE EXIT".
  std::map<std::string, std::string> wait_for(const std::string& job, std::size_t tasks, int seconds = 90) {
    std::map<std::string, std::string> ended;
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
      ended.clear();
      const Output o = shell("sacct -X -n -P -j " + job + " -o JobID,State,ExitCode");
      std::istringstream lines(o.text);
      std::string line;
      while (std::getline(lines, line)) {
        const auto a = line.find('|'), b = line.rfind('|');
        if (a == std::string::npos || a == b) continue;
        const std::string id = line.substr(0, a), state = line.substr(a + 1, b - a - 1);
        // "1_[2-3]" is the still-pending rest of an array; states of tasks that run on.
        if (id.find('[') != std::string::npos || state == "PENDING" || state == "RUNNING" ||
            state == "REQUEUED")
          continue;
        const std::string task = id.substr(id.find('_') + 1);
        ended[task] = state.substr(0, state.find(' ')) + " " + line.substr(b + 1);
      }
      if (ended.size() >= tasks && shell("squeue -h -j " + job).text.empty()) return ended;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ADD_FAILURE() << "job " << job << " did not end within " << seconds << " s; squeue:\n"
                  << shell("squeue").text;
    return ended;
  }

  // Waits (bounded) until `ready` holds.
  template <typename F>
  bool eventually(F&& ready, int seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
      if (ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  std::string log_of(const std::string& job, const std::string& task) const {
    return jbtest::slurp(dir_ / ("joulebench-" + job + "_" + task + ".out"));
  }
  std::string results(const std::string& name) const { return (dir_ / "results" / name).string(); }
  Output joulebench(const std::string& args) const {
    return shell("cd " + quoted(dir_.string()) + " && " + quoted(JOULEBENCH_BINARY) + " " + args);
  }

  // Every cell of the campaign exactly once in `store`: one complete run per
  // (task, model), with its 2 repetitions, and no other run.
  void expect_each_cell_once(const std::string& store) {
    auto s = joulebench::open_store(store);
    std::map<std::string, std::set<std::string>> runs_of_model;
    std::map<std::string, int> windows_of_model;
    for (const auto& w : s->query_windows({})) {
      runs_of_model[w.window.model].insert(w.run_id);
      ++windows_of_model[w.window.model];
    }
    EXPECT_EQ(runs_of_model.size(), std::size(kModels));
    for (const char* m : kModels) {
      EXPECT_EQ(runs_of_model[m].size(), 1u) << m;
      EXPECT_EQ(windows_of_model[m], 2) << m;
    }
    const auto runs = s->list_runs();
    EXPECT_EQ(runs.size(), std::size(kModels));
    for (const auto& r : runs) EXPECT_EQ(r.status, joulebench::RunStatus::complete) << r.id;
  }

  static std::string script() { return std::string(JOULEBENCH_SOURCE_DIR) + "/deploy/slurm/campaign.sbatch"; }

  fs::path dir_;
};

// A 3-task array into SQLite shards; task 2 is cancelled after its first
// cell and submitted again alone: it skips that cell and runs the other.
// merge joins the shards with each cell once; report covers every cell.
TEST_F(SlurmCampaign, ArrayIntoSqliteShardsWithACancelledTaskResumed) {
  const std::string job = submit("1-3", "JOULEBENCH_BENCH_ARGS=" + quoted(bench_args(1.0)));
  // Cancel task 2 once its first cell is complete in its shard (SIGTERM: bench
  // discards the cell in progress and exits 143).
  const std::string shard2 = results("shard-2-of-3.db");
  ASSERT_TRUE(eventually([&] {
    if (!fs::exists(shard2)) return false;
    try {
      for (const auto& r : joulebench::open_store(shard2)->list_runs())
        if (r.status == joulebench::RunStatus::complete) return true;
    } catch (const std::exception&) {  // being created
    }
    return false;
  })) << log_of(job, "2");
  ASSERT_EQ(shell("scancel " + job + "_2").code, 0);
  auto ended = wait_for(job, 3);
  EXPECT_EQ(ended["1"], "COMPLETED 0:0") << log_of(job, "1");
  EXPECT_EQ(ended["2"].rfind("CANCELLED", 0), 0u) << ended["2"];
  EXPECT_EQ(ended["3"], "COMPLETED 0:0") << log_of(job, "3");
  EXPECT_NE(log_of(job, "2").find("interrupted (SIGTERM)"), std::string::npos) << log_of(job, "2");
  EXPECT_EQ(joulebench::open_store(shard2)->list_runs().size(), 1u);  // the cut cell was discarded

  // Task 2 again, alone: a one-task array names the campaign's size and base.
  const std::string again = submit("2", "JOULEBENCH_SHARDS=3 JOULEBENCH_ARRAY_BASE=1 JOULEBENCH_BENCH_ARGS=" +
                                             quoted(bench_args(1.0)));
  ended = wait_for(again, 1);
  EXPECT_EQ(ended["2"], "COMPLETED 0:0") << log_of(again, "2");
  EXPECT_NE(log_of(again, "2").find("1 cells already complete"), std::string::npos) << log_of(again, "2");

  const Output merged = joulebench("merge " + results("shard-1-of-3.db") + " " + shard2 + " " +
                                   results("shard-3-of-3.db") + " -o " + results("campaign.db"));
  ASSERT_EQ(merged.code, 0) << merged.text;
  expect_each_cell_once(results("campaign.db"));
  const Output report = joulebench("report --by model --json --store " + results("campaign.db"));
  ASSERT_EQ(report.code, 0) << report.text;
  const auto rows = nlohmann::json::parse(report.text.substr(report.text.find('[')));
  std::set<std::string> reported;
  for (const auto& row : rows) reported.insert(row.value("model", ""));
  for (const char* m : kModels) EXPECT_TRUE(reported.count(m)) << m << " missing from the report";
}

// An array starting at 0 into one PostgreSQL store; the database stops while
// task 1 measures. That task keeps its runs in its spool and ends with exit
// status 3 in sacct; the next task cannot start its shard (it cannot know
// which cells are done) and ends with 1. With the database back, the merge
// command the job printed pushes the spool, the failed task is submitted
// again, and each cell is in the database once.
TEST_F(SlurmCampaign, ArrayIntoPostgresStoppedMidway) {
  if (!g_postgres->started()) GTEST_SKIP() << g_postgres->why_not();
  if (!g_postgres->running()) {
    ASSERT_TRUE(g_postgres->start());
  }
  const std::string url = g_postgres->fresh_database("slurm_campaign");
  const std::string env = "JOULEBENCH_STORE=" + quoted(url) + " JOULEBENCH_BENCH_ARGS=" + quoted(bench_args(1.0));
  const std::string job = submit("0-2", env);
  // Task 0 completes against the database; stop it once task 1 measures.
  ASSERT_TRUE(eventually([&] { return log_of(job, "1").find("measure rep") != std::string::npos; }))
      << log_of(job, "0") << log_of(job, "1");
  g_postgres->stop();
  auto ended = wait_for(job, 3);
  EXPECT_EQ(ended["0"], "COMPLETED 0:0") << log_of(job, "0");
  EXPECT_EQ(ended["1"], "FAILED 3:0") << log_of(job, "1");
  EXPECT_EQ(ended["2"], "FAILED 1:0") << log_of(job, "2");
  EXPECT_NE(log_of(job, "2").find("cannot connect to PostgreSQL"), std::string::npos) << log_of(job, "2");

  // The spool of shard 2 (task 1) holds what the database could not take.
  const std::string spool = results("spool-shard-2-of-3.db");
  ASSERT_TRUE(fs::exists(spool)) << log_of(job, "1");
  EXPECT_GE(joulebench::open_store(spool)->list_runs().size(), 1u);
  const std::string log1 = log_of(job, "1");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log1, m, std::regex("\n  (joulebench merge [^\n]+)\n"))) << log1;
  const std::string printed = m[1];

  ASSERT_TRUE(g_postgres->start());
  // The printed command, as a user would paste it (the binary's path for "joulebench").
  const Output pushed = shell("cd " + quoted(dir_.string()) + " && " + quoted(JOULEBENCH_BINARY) +
                              printed.substr(std::string("joulebench").size()));
  ASSERT_EQ(pushed.code, 0) << printed << "\n" << pushed.text;
  const std::string again = submit("2", "JOULEBENCH_SHARDS=3 JOULEBENCH_ARRAY_BASE=0 " + env);
  ended = wait_for(again, 1);
  EXPECT_EQ(ended["2"], "COMPLETED 0:0") << log_of(again, "2");
  expect_each_cell_once(url);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  g_postgres = new jbtest::PostgresServer;
  g_cluster = new SlurmCluster;
  ::testing::AddGlobalTestEnvironment(g_postgres);  // owned by gtest from here
  ::testing::AddGlobalTestEnvironment(g_cluster);
  return RUN_ALL_TESTS();
}
