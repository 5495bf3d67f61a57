// The spool in front of a store that goes away: a SQLite store behind a
// switch that makes every call throw StoreUnavailable, as the PostgreSQL
// backend does when its server is gone. (The same with a real server that is
// stopped mid-campaign: tests/bench/bench_postgres_test.cpp.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/store.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

struct Switch {
  bool down = false;
  int calls = 0;     // every call the spooled store made
  int refused = 0;   // of which refused
};

class FlakyStore final : public Store {
 public:
  FlakyStore(const fs::path& path, Switch& sw) : inner_(open_store(path)), sw_(sw) {}
  std::string location() const override { return inner_->location(); }
  int schema_version() override { return call([&] { return inner_->schema_version(); }); }
  std::string save_run(RunRecord run) override { return call([&] { return inner_->save_run(run); }); }
  std::string replace_run(RunRecord run) override { return call([&] { return inner_->replace_run(run); }); }
  std::string begin_run(RunRecord run) override { return call([&] { return inner_->begin_run(run); }); }
  int add_window(const std::string& id, WindowRecord w) override {
    return call([&] { return inner_->add_window(id, w); });
  }
  void finish_run(const std::string& id, RunStatus s, std::string note) override {
    call([&] {
      inner_->finish_run(id, s, note);
      return 0;
    });
  }
  std::optional<RunRecord> load_run(const std::string& id) override {
    return call([&] { return inner_->load_run(id); });
  }
  std::vector<RunSummary> list_runs() override { return call([&] { return inner_->list_runs(); }); }
  std::vector<StoredWindow> query_windows(const WindowQuery& q) override {
    return call([&] { return inner_->query_windows(q); });
  }
  bool has_external_id(const std::string& id) override { return call([&] { return inner_->has_external_id(id); }); }
  bool delete_run(const std::string& id) override { return call([&] { return inner_->delete_run(id); }); }

 private:
  template <typename F>
  auto call(F&& f) -> decltype(f()) {
    ++sw_.calls;
    if (sw_.down) {
      ++sw_.refused;
      throw StoreUnavailable("store fake: connection lost");
    }
    return f();
  }
  std::unique_ptr<Store> inner_;
  Switch& sw_;
};

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("jb-spool-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path primary_path() const { return dir_ / "primary.db"; }
  fs::path spool_path() const { return dir_ / "spool.db"; }

  std::unique_ptr<SpooledStore> open(double retry_s = 0.0) {
    SpoolOptions o;
    o.path = spool_path();
    o.retry_initial_s = retry_s;
    o.notify = [this](const std::string& m) { messages_.push_back(m); };
    return open_spooled_store(std::make_unique<FlakyStore>(primary_path(), sw_), o);
  }
  // The primary as a later reader sees it, behind no switch.
  std::unique_ptr<Store> primary() const { return open_store(primary_path()); }

  static WindowRecord window(int rep, double cpu_j) {
    WindowRecord w;
    w.task = "text-classification";
    w.model = "m";
    w.dataset = "toy";
    w.repetition = rep;
    w.inferences = 10;
    w.measurement.start_time = std::chrono::system_clock::now();
    w.measurement.duration_s = 1.0;
    ComponentEnergy cpu;
    cpu.component = Component::cpu;
    cpu.energy_j = cpu_j;
    cpu.provenance = {ProvenanceKind::measured, "fake"};
    w.measurement.components = {cpu};
    return w;
  }
  static RunRecord record(const std::string& cell) {
    RunRecord r;
    r.kind = RunKind::bench;
    r.started_at = std::chrono::system_clock::now();
    r.config_json = R"({"cell_key":")" + cell + R"("})";
    return r;
  }
  // One bench-like run: begin, `reps` windows, finish complete; the switch
  // goes down before window `down_before` (0: never).
  std::string campaign_run(Store& store, const std::string& cell, int reps, int down_before = 0) {
    const std::string id = store.begin_run(record(cell));
    for (int rep = 1; rep <= reps; ++rep) {
      if (rep == down_before) sw_.down = true;
      store.add_window(id, window(rep, 10.0 * rep));
    }
    store.finish_run(id, RunStatus::complete);
    return id;
  }

  fs::path dir_;
  Switch sw_;
  std::vector<std::string> messages_;
};

TEST_F(SpoolTest, RunCutOffMidWayGoesWholeToTheSpoolAndReachesTheStoreOnce) {
  auto store = open();
  const std::string id = campaign_run(*store, "a", 3, /*down_before=*/2);
  // The store holds the cut-off part; the spool holds the whole run.
  {
    const auto part = primary()->load_run(id);
    ASSERT_TRUE(part.has_value());
    EXPECT_EQ(part->status, RunStatus::running);
    EXPECT_EQ(part->windows.size(), 1u);
  }
  ASSERT_TRUE(fs::exists(spool_path()));
  {
    const auto whole = open_store(spool_path())->load_run(id);
    ASSERT_TRUE(whole.has_value());
    EXPECT_EQ(whole->status, RunStatus::complete);
    ASSERT_EQ(whole->windows.size(), 3u);
    EXPECT_DOUBLE_EQ(whole->windows[2].measurement.total_energy_j(), 30.0);
  }
  EXPECT_EQ(store->pending(), 1u);
  EXPECT_EQ(store->spooled_count(), 1u);
  ASSERT_FALSE(messages_.empty());
  EXPECT_NE(messages_.front().find(spool_path().string()), std::string::npos) << messages_.front();
  // Reads through the spooled store see the run once, as it finished.
  const auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::complete);

  // Still down: the final flush gives up, the run stays in the spool.
  EXPECT_EQ(store->flush(2, 0.01), 1u);
  EXPECT_TRUE(fs::exists(spool_path()));

  sw_.down = false;
  EXPECT_EQ(store->flush(1, 0.0), 0u);
  EXPECT_EQ(store->flushed_count(), 1u);
  EXPECT_FALSE(fs::exists(spool_path())) << "an emptied spool is removed";
  const auto all = primary()->list_runs();
  ASSERT_EQ(all.size(), 1u) << "the run is in the store once";
  EXPECT_EQ(all[0].id, id);
  EXPECT_EQ(all[0].status, RunStatus::complete);
  EXPECT_EQ(all[0].windows, 3);
  EXPECT_DOUBLE_EQ(all[0].energy_j, 60.0);
}

TEST_F(SpoolTest, BackoffLeavesTheStoreAloneThenTheNextRunFlushesFirst) {
  auto store = open(/*retry_s=*/0.3);
  sw_.down = true;
  const std::string first = campaign_run(*store, "a", 2);
  // One refused call took the store down; the rest of the run went straight
  // to the spool without asking it again (no busy retry).
  EXPECT_EQ(sw_.refused, 1);
  EXPECT_EQ(store->pending(), 1u);

  sw_.down = false;
  const int calls_before = sw_.calls;
  const std::string second = campaign_run(*store, "b", 2);  // within the backoff: spooled, store untouched
  EXPECT_EQ(sw_.calls, calls_before);
  EXPECT_EQ(store->pending(), 2u);

  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  const std::string third = campaign_run(*store, "c", 2);  // flushes both, then writes to the store
  EXPECT_EQ(store->pending(), 0u);
  EXPECT_EQ(store->flushed_count(), 2u);
  const auto runs = primary()->list_runs();
  ASSERT_EQ(runs.size(), 3u);
  for (const auto& r : runs) {
    EXPECT_EQ(r.status, RunStatus::complete) << r.id;
    EXPECT_EQ(r.windows, 2) << r.id;
  }
  EXPECT_EQ(store->flush(1, 0.0), 0u);
  EXPECT_FALSE(fs::exists(spool_path()));
}

TEST_F(SpoolTest, BackoffDoublesBetweenFailures) {
  auto store = open(/*retry_s=*/0.2);
  sw_.down = true;
  campaign_run(*store, "a", 1);  // refused once: next try after 0.2 s
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  campaign_run(*store, "b", 1);  // tried (flush + begin), refused: next after 0.4 s
  const int refused = sw_.refused;
  EXPECT_GE(refused, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  campaign_run(*store, "c", 1);  // 0.25 s < 0.4 s: not tried
  EXPECT_EQ(sw_.refused, refused);
  EXPECT_EQ(store->pending(), 3u);
}

TEST_F(SpoolTest, FinalFlushIsBounded) {
  auto store = open();
  sw_.down = true;
  campaign_run(*store, "a", 1);
  const int before = sw_.refused;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(store->flush(3, 0.05), 1u);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(sw_.refused - before, 3) << "one try per attempt";
  EXPECT_GE(waited, 0.05 + 0.1 - 0.01);  // waits 0.05 then 0.1
  EXPECT_LT(waited, 5.0);
  EXPECT_FALSE(store->last_error().empty());
}

TEST_F(SpoolTest, FlushCutShortBeforeTheSpoolForgotItWritesOnce) {
  auto store = open();
  sw_.down = true;
  const std::string id = campaign_run(*store, "a", 2);
  sw_.down = false;
  // As if an earlier flush had written the run and died before removing it from the spool.
  const auto run = open_store(spool_path())->load_run(id);
  ASSERT_TRUE(run.has_value());
  {
    auto p = primary();
    EXPECT_TRUE(copy_run(*run, *p));
    EXPECT_FALSE(copy_run(*run, *p)) << "a second copy writes nothing";
  }
  EXPECT_EQ(store->flush(1, 0.0), 0u);
  const auto runs = primary()->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].windows, 2);
}

TEST_F(SpoolTest, CopyReplacesOnlyAnUnfinishedPart) {
  auto p = primary();
  RunRecord whole = record("a");
  whole.id = make_uuid();
  whole.status = RunStatus::complete;
  whole.windows = {window(1, 1.0), window(2, 2.0)};
  // A finished run there is kept as it is, whatever the copy says.
  RunRecord finished = whole;
  finished.windows = {window(1, 5.0)};
  p->save_run(finished);
  EXPECT_FALSE(copy_run(whole, *p));
  EXPECT_EQ(p->load_run(whole.id)->windows.size(), 1u);
  // A 'running' part is replaced by the whole run.
  p->delete_run(whole.id);
  const std::string id = p->begin_run(whole);
  p->add_window(id, window(1, 1.0));
  EXPECT_TRUE(copy_run(whole, *p));
  const auto back = p->load_run(id);
  EXPECT_EQ(back->status, RunStatus::complete);
  EXPECT_EQ(back->windows.size(), 2u);
  EXPECT_EQ(p->list_runs().size(), 1u);
}

TEST_F(SpoolTest, SpoolLeftByAnEarlierProcessCountsAsStoredAndIsFlushed) {
  std::string id;
  {
    auto earlier = open();
    sw_.down = true;
    id = campaign_run(*earlier, "a", 2);
  }  // that process ended with the store still down
  sw_.down = true;
  auto store = open();
  // The store is unreachable, and yet the spooled run is there to readers
  // (bench resume counts its cell as done).
  const auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id, id);
  EXPECT_EQ(runs[0].status, RunStatus::complete);
  ASSERT_TRUE(store->load_run(id).has_value());
  EXPECT_EQ(store->query_windows({}).size(), 2u);
  EXPECT_EQ(store->pending(), 1u);

  sw_.down = false;
  campaign_run(*store, "b", 1);  // the next run flushes the old one first
  EXPECT_EQ(store->pending(), 0u);
  EXPECT_EQ(primary()->list_runs().size(), 2u);
  EXPECT_EQ(store->query_windows({}).size(), 3u) << "each window once, spool and store together";
}

TEST_F(SpoolTest, OtherErrorsAreNotSpooled) {
  auto store = open();
  // Bad input is the caller's, not the connection's: it reaches the caller.
  EXPECT_THROW(store->add_window("no-such-run", window(1, 1.0)), InputError);
  EXPECT_FALSE(fs::exists(spool_path()));
}

}  // namespace
