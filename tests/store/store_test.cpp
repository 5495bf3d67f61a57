#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "joulebench/error.h"
#include "joulebench/store.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("jb-store-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "test.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static WindowRecord window(const std::string& model, double cpu_j, double gpu_j) {
    WindowRecord w;
    w.task = "text-classification";
    w.model = model;
    w.dataset = "imdb";
    w.inferences = 1000;
    w.input_tokens = 58700;
    w.output_tokens = 0;
    w.latency_p50_s = 0.008;
    w.latency_p95_s = 0.012;
    w.repetition = 1;
    w.g_co2e = 1.5;
    w.measurement.name = model + "/imdb";
    w.measurement.start_time = std::chrono::system_clock::now();
    w.measurement.duration_s = 8.5;
    w.measurement.warnings = {"cpu energy is estimated"};
    ComponentEnergy cpu;
    cpu.component = Component::cpu;
    cpu.energy_j = cpu_j;
    cpu.attributed_energy_j = cpu_j / 2;
    cpu.dynamic_energy_j = cpu_j / 4;
    cpu.provenance = {ProvenanceKind::measured, "rapl-powercap"};
    cpu.sources = {"rapl-powercap:package-0"};
    ComponentEnergy gpu;
    gpu.component = Component::gpu;
    gpu.energy_j = gpu_j;
    gpu.provenance = {ProvenanceKind::sampled, "nvml-power"};
    w.measurement.components = {cpu, gpu};
    return w;
  }

  static RunRecord run(int windows) {
    RunRecord r;
    r.kind = RunKind::bench;
    r.started_at = std::chrono::system_clock::now();
    r.ended_at = r.started_at + std::chrono::seconds(60);
    r.user = "tester";
    r.machine = {"host-a", "Linux-6.1", "Xeon", 16, "1 x H100", 1, 125.5};
    r.software = {{"joulebench", "0.1.0"}, {"libtorch", "1.13.1"}};
    r.intensity = intensity_for_country("FRA");
    r.pue = 1.1;
    r.pue_source = "preset hyperscale";
    r.config_json = R"({"preset":"small"})";
    r.source = "joulebench bench";
    for (int i = 0; i < windows; ++i) r.windows.push_back(window("model-" + std::to_string(i), 100.0 + i, 200.0));
    return r;
  }

  int count(const char* table) {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, (std::string("SELECT COUNT(*) FROM ") + table).c_str(), -1, &s, nullptr);
    sqlite3_step(s);
    const int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }

  fs::path dir_, path_;
};

}  // namespace

TEST_F(StoreTest, CreatesTheSchemaWithAVersionAndWal) {
  auto store = open_store(path_);
  EXPECT_EQ(store->schema_version(), 4);  // docs/store.md: 2 added the windows' configuration, 3 zero_shot / loading, 4 band_factor
  sqlite3* db = nullptr;
  sqlite3_open(path_.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  sqlite3_step(s);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
  // Reopening does not re-apply migrations.
  store.reset();
  EXPECT_EQ(open_store(path_)->schema_version(), 4);
  EXPECT_EQ(count("schema_version"), 4);
}

TEST_F(StoreTest, RefusesAStoreFromANewerJoulebench) {
  open_store(path_).reset();
  sqlite3* db = nullptr;
  sqlite3_open(path_.c_str(), &db);
  sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 'x', 'future')", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  try {
    open_store(path_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos);
  }
}

// Messages show a database URL without its password (removed, not masked, so
// that a printed `joulebench merge` can be pasted; libpq reads PGPASSWORD).
TEST(StoreLocation, DisplayedUrlsHaveNoPassword) {
  EXPECT_EQ(display_store_location("postgresql://bench:s3cret@db.example:5432/jb"), "postgresql://bench@db.example:5432/jb");
  EXPECT_EQ(display_store_location("postgres://db/jb?password=s3cret&sslmode=require"), "postgres://db/jb?sslmode=require");
  EXPECT_EQ(display_store_location("postgres://db/jb?sslmode=require&password=s3cret"), "postgres://db/jb?sslmode=require");
  EXPECT_EQ(display_store_location("postgres://db/jb?password=s3cret"), "postgres://db/jb");
  EXPECT_EQ(display_store_location("postgres://u@db/jb?application_name=xpassword=1"),
            "postgres://u@db/jb?application_name=xpassword=1")
      << "only a parameter named password";
  EXPECT_EQ(display_store_location("results/my:store.db"), "results/my:store.db");
}

// A store opened for reading never creates a file, and a folder or a
// damaged file is named.
TEST_F(StoreTest, ReadingNeverCreatesAndNamesWhatIsWrong) {
  EXPECT_THROW(open_store(path_, StoreAccess::read), InputError);
  EXPECT_FALSE(fs::exists(path_));
  std::ofstream(path_) << "not a database at all, just some text that is long enough\n";
  try {
    open_store(path_, StoreAccess::read);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path_.filename().string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("damaged or not a joulebench store"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, SaveAndLoadRoundTripsEveryField) {
  auto store = open_store(path_);
  RunRecord in = run(2);
  in.windows[1].measurement.components[1].band_factor = 2.5;  // as an estimate's
  const std::string id = store->save_run(in);
  ASSERT_EQ(id.size(), 36u);
  auto out = store->load_run(id);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, RunKind::bench);
  EXPECT_EQ(out->status, RunStatus::complete);
  EXPECT_EQ(out->user, "tester");
  EXPECT_EQ(out->machine.gpu_model, "1 x H100");
  EXPECT_EQ(out->machine.cpu_count, 16);
  EXPECT_DOUBLE_EQ(*out->machine.ram_total_gb, 125.5);
  EXPECT_EQ(out->software.at("libtorch"), "1.13.1");
  EXPECT_EQ(out->intensity.country_iso3, "FRA");
  EXPECT_EQ(out->intensity.origin, IntensityOrigin::country_table);
  EXPECT_EQ(out->intensity.year, in.intensity.year);
  EXPECT_DOUBLE_EQ(out->intensity.g_per_kwh, in.intensity.g_per_kwh);
  EXPECT_DOUBLE_EQ(out->pue, 1.1);
  EXPECT_EQ(out->config_json, in.config_json);
  ASSERT_EQ(out->windows.size(), 2u);
  const auto& w = out->windows[1];
  EXPECT_EQ(w.seq, 2);
  EXPECT_EQ(w.model, "model-1");
  EXPECT_EQ(w.inferences, 1000);
  EXPECT_EQ(w.input_tokens, 58700);
  EXPECT_DOUBLE_EQ(*w.latency_p95_s, 0.012);
  EXPECT_EQ(w.measurement.warnings, in.windows[1].measurement.warnings);
  ASSERT_EQ(w.measurement.components.size(), 2u);
  EXPECT_DOUBLE_EQ(w.measurement.components[0].energy_j, 101.0);
  EXPECT_EQ(w.measurement.components[0].band_factor, 1.0);
  EXPECT_EQ(w.measurement.components[1].band_factor, 2.5) << "a band is kept";
  EXPECT_DOUBLE_EQ(*w.measurement.components[0].attributed_energy_j, 50.5);
  EXPECT_EQ(w.measurement.components[0].provenance.to_string(), "measured:rapl-powercap");
  EXPECT_EQ(w.measurement.components[0].sources, in.windows[1].measurement.components[0].sources);
  EXPECT_FALSE(w.measurement.components[1].attributed_energy_j);
  EXPECT_DOUBLE_EQ(w.measurement.total_energy_j(), 301.0);
  // Start time kept to the millisecond.
  auto diff = w.measurement.start_time - in.windows[1].measurement.start_time;
  EXPECT_LT(std::abs(std::chrono::duration<double>(diff).count()), 0.002);
}

TEST_F(StoreTest, AFailureMidWriteLeavesNothingPartial) {
  auto store = open_store(path_);
  RunRecord bad = run(3);
  bad.windows[2].measurement.components[1].energy_j = std::nan("");  // refused by the schema at window 3
  EXPECT_THROW(store->save_run(bad), Error);
  EXPECT_EQ(count("runs"), 0);
  EXPECT_EQ(count("windows"), 0);
  EXPECT_EQ(count("component_energy"), 0);
  EXPECT_EQ(count("models"), 0);
  // The store still works after the rollback.
  store->save_run(run(1));
  EXPECT_EQ(count("runs"), 1);
}

TEST_F(StoreTest, DuplicateExternalIdRollsTheWholeRunBack) {
  auto store = open_store(path_);
  RunRecord r = run(2);
  r.windows[0].external_id = "cc-run-1";
  r.windows[1].external_id = "cc-run-1";
  EXPECT_THROW(store->save_run(r), InputError);
  EXPECT_EQ(count("runs"), 0);
  r.windows[1].external_id = "cc-run-2";
  store->save_run(r);
  EXPECT_TRUE(store->has_external_id("cc-run-2"));
  EXPECT_FALSE(store->has_external_id("cc-run-3"));
}

TEST_F(StoreTest, AnInterruptedRunKeepsItsCommittedWindows) {
  std::string id;
  {
    auto store = open_store(path_);
    id = store->begin_run(run(0));
    store->add_window(id, window("a", 1, 2));
    store->add_window(id, window("b", 1, 2));
    // The process dies here: no finish_run.
  }
  auto store = open_store(path_);
  auto r = store->load_run(id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, RunStatus::running);
  EXPECT_EQ(r->windows.size(), 2u);
  // Reports leave unfinished runs out unless asked.
  EXPECT_TRUE(store->query_windows({}).empty());
  WindowQuery all;
  all.include_unfinished = true;
  EXPECT_EQ(store->query_windows(all).size(), 2u);
  store->finish_run(id, RunStatus::interrupted, "kept 2 of 10 windows");
  EXPECT_EQ(store->query_windows({}).size(), 2u);
  EXPECT_EQ(store->load_run(id)->note, "kept 2 of 10 windows");
  EXPECT_EQ(store->list_runs().at(0).note, "kept 2 of 10 windows");
  EXPECT_TRUE(store->load_run(id)->ended_at);
  EXPECT_THROW(store->add_window(id, window("c", 1, 2)), InputError);
}

TEST_F(StoreTest, ValuesNeverBecomeSql) {
  auto store = open_store(path_);
  RunRecord r = run(1);
  r.windows[0].model = "x'); DROP TABLE runs; --";
  r.source = "\"; DELETE FROM windows; --";
  const auto id = store->save_run(r);
  auto out = store->load_run(id);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->windows.at(0).model, r.windows[0].model);
  EXPECT_EQ(out->source, r.source);
  WindowQuery q;
  q.model = r.windows[0].model;
  EXPECT_EQ(store->query_windows(q).size(), 1u);
}

TEST_F(StoreTest, PrefixLookupListAndDelete) {
  auto store = open_store(path_);
  RunRecord a = run(1), b = run(2);
  a.id = "aaaa1111-0000-4000-8000-000000000000";
  b.id = "aaaa2222-0000-4000-8000-000000000000";
  store->save_run(a);
  store->save_run(b);
  EXPECT_EQ(store->load_run("aaaa2")->id, b.id);
  EXPECT_THROW(store->load_run("aaaa"), InputError);
  EXPECT_FALSE(store->load_run("zzz"));
  auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].windows + runs[0].windows, 3);
  EXPECT_TRUE(store->delete_run(a.id));
  EXPECT_FALSE(store->delete_run(a.id));
  EXPECT_EQ(count("windows"), 2);
  EXPECT_EQ(count("component_energy"), 4);
}

TEST_F(StoreTest, QueryFiltersByTaskModelAndPhase) {
  auto store = open_store(path_);
  RunRecord r = run(3);
  r.windows[2].phase = "load";
  r.windows[1].task = "fill-mask";
  store->save_run(r);
  WindowQuery q;
  q.task = "text-classification";
  auto ws = store->query_windows(q);
  ASSERT_EQ(ws.size(), 1u);  // window 3 is a load phase, window 2 another task
  EXPECT_EQ(ws[0].window.model, "model-0");
  EXPECT_DOUBLE_EQ(ws[0].pue, 1.1);
  q.phase.clear();
  EXPECT_EQ(store->query_windows(q).size(), 2u);
}

TEST_F(StoreTest, UnwritableLocationSaysWhat) {
  try {
    open_store(dir_ / "no-such-dir" / "x.db");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-dir"), std::string::npos);
  }
}
