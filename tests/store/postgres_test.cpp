// The PostgreSQL store against a real server that this test starts itself
// (Debian package postgresql, tests/support/postgres_server.h): one fresh
// database per test; one test stops and restarts the server. Label: postgres.
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <atomic>
#include <set>
#include <thread>

#include "../support/postgres_server.h"
#include "joulebench/error.h"
#include "joulebench/store.h"
#include "store/schema.h"

using namespace joulebench;
using jbtest::free_loopback_port;
using jbtest::PostgresServer;

namespace {

PostgresServer* g_server = nullptr;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!g_server->started()) GTEST_SKIP() << g_server->why_not();
    db_ = "t_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    for (auto& c : db_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    g_server->fresh_database(db_);
  }
  std::string url() const { return g_server->url(db_); }
  int count(const std::string& table) {
    pqxx::connection c(url());
    pqxx::work t(c);
    return t.exec("SELECT COUNT(*) FROM " + table)[0][0].as<int>();
  }

  static WindowRecord window(const std::string& model, double cpu_j) {
    WindowRecord w;
    w.task = "text-classification";
    w.model = model;
    w.dataset = "imdb";
    w.inferences = 1000;
    w.input_tokens = 58700;
    w.latency_p50_s = 0.008;
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
    cpu.provenance = {ProvenanceKind::measured, "rapl-powercap"};
    cpu.sources = {"rapl-powercap:package-0"};
    w.measurement.components = {cpu};
    return w;
  }
  static RunRecord run_record(int windows) {
    RunRecord r;
    r.kind = RunKind::bench;
    r.started_at = std::chrono::system_clock::now();
    r.ended_at = r.started_at + std::chrono::seconds(60);
    r.user = "tester";
    r.machine = {"host-a", "Linux-6.1", "Xeon", 16, "1 x H100", 1, 125.5};
    r.software = {{"joulebench", "0.1.0"}};
    r.intensity = intensity_for_country("FRA");
    r.pue = 1.1;
    r.pue_source = "preset hyperscale";
    r.config_json = R"({"preset":"small"})";
    r.source = "joulebench bench";
    for (int i = 0; i < windows; ++i) r.windows.push_back(window("model-" + std::to_string(i), 100.0 + i));
    return r;
  }

  std::string db_;
};

TEST_F(PostgresStoreTest, SameSchemaVersionAndMigratesOnce) {
  auto a = open_store(url());
  auto b = open_store(url());  // a second opener finds the schema in place
  EXPECT_EQ(a->schema_version(), b->schema_version());
  EXPECT_GE(a->schema_version(), 1);
  EXPECT_EQ(count("schema_version"), a->schema_version());
  EXPECT_EQ(a->location().find("postgresql://joulebench@"), 0u) << a->location();
}

TEST_F(PostgresStoreTest, SaveAndLoadRoundTripsEveryField) {
  auto store = open_store(url());
  RunRecord in = run_record(2);
  in.intensity.year = 2022;
  in.windows[1].phase = "warmup";
  in.windows[1].external_id = "cc-run-1";
  in.windows[0].measurement.components[0].band_factor = 2.5;  // as an estimate's
  const std::string id = store->save_run(in);
  const auto out = store->load_run(id.substr(0, 8));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->id, id);
  EXPECT_EQ(out->kind, RunKind::bench);
  EXPECT_EQ(out->user, "tester");
  EXPECT_EQ(out->machine.cpu_count, 16);
  EXPECT_EQ(out->machine.ram_total_gb, 125.5);
  EXPECT_EQ(out->software.at("joulebench"), "0.1.0");
  EXPECT_EQ(out->intensity.country_iso3, "FRA");
  EXPECT_EQ(out->intensity.g_per_kwh, in.intensity.g_per_kwh);
  EXPECT_EQ(out->intensity.year, 2022);
  EXPECT_EQ(out->pue, 1.1);
  EXPECT_EQ(out->config_json, R"({"preset":"small"})");
  ASSERT_EQ(out->windows.size(), 2u);
  const auto& w = out->windows[0];
  EXPECT_EQ(w.seq, 1);
  EXPECT_EQ(w.model, "model-0");
  EXPECT_EQ(w.inferences, 1000);
  EXPECT_EQ(w.latency_p50_s, 0.008);
  EXPECT_FALSE(w.latency_p95_s.has_value());
  EXPECT_FALSE(w.output_tokens.has_value());
  EXPECT_EQ(w.measurement.duration_s, 8.5);
  ASSERT_EQ(w.measurement.components.size(), 1u);
  EXPECT_EQ(w.measurement.components[0].energy_j, 100.0);
  EXPECT_EQ(w.measurement.components[0].attributed_energy_j, 50.0);
  EXPECT_FALSE(w.measurement.components[0].dynamic_energy_j.has_value());
  EXPECT_EQ(w.measurement.components[0].provenance.to_string(), "measured:rapl-powercap");
  EXPECT_EQ(w.measurement.components[0].band_factor, 2.5) << "a band is kept";
  EXPECT_EQ(w.measurement.warnings, std::vector<std::string>{"cpu energy is estimated"});
  EXPECT_EQ(out->windows[1].phase, "warmup");
  EXPECT_TRUE(store->has_external_id("cc-run-1"));
  EXPECT_FALSE(store->has_external_id("cc-run-2"));
  // Phase filter: inference only by default.
  EXPECT_EQ(store->query_windows({}).size(), 1u);
}

// Schema 3's window fields, and replace_run: a run completed in place (an
// import whose other log files came later), all or nothing.
TEST_F(PostgresStoreTest, ZeroShotLoadingFieldsAndReplaceRun) {
  auto store = open_store(url());
  RunRecord in = run_record(1);
  in.windows[0].zero_shot = true;
  in.windows[0].includes_loading = true;
  in.windows[0].loading_share = 0.25;
  in.windows[0].external_id = "cc-a";
  const std::string id = store->save_run(in);
  auto out = store->load_run(id);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->windows[0].zero_shot);
  EXPECT_TRUE(out->windows[0].includes_loading);
  EXPECT_EQ(out->windows[0].loading_share, 0.25);
  // Completed: the whole-run window is now phase "whole", a query window joins it.
  RunRecord more = *out;
  more.windows[0].phase = "whole";
  more.windows[0].inferences.reset();
  more.windows[0].includes_loading = false;
  more.windows[0].loading_share.reset();
  more.windows.push_back(window("model-0", 80.0));
  more.windows.back().external_id = "cc-a/query model";
  EXPECT_EQ(store->replace_run(more), id);
  out = store->load_run(id);
  ASSERT_EQ(out->windows.size(), 2u);
  EXPECT_EQ(out->windows[0].phase, "whole");
  EXPECT_FALSE(out->windows[0].loading_share.has_value());
  EXPECT_EQ(count("runs"), 1);
  EXPECT_EQ(store->query_windows({}).size(), 1u);  // the query window only
  // A replacement that cannot be written leaves the run as it was.
  RunRecord bad = more;
  bad.windows.push_back(window("model-0", 1.0));
  bad.windows.back().external_id = "cc-a";  // twice in one run: the unique index refuses it
  EXPECT_ANY_THROW(store->replace_run(bad));
  EXPECT_EQ(store->load_run(id)->windows.size(), 2u);
}

TEST_F(PostgresStoreTest, DuplicateExternalIdRollsTheWholeRunBack) {
  auto store = open_store(url());
  RunRecord r = run_record(1);
  r.windows[0].external_id = "x";
  store->save_run(r);
  RunRecord again = run_record(3);
  again.windows[2].external_id = "x";
  EXPECT_ANY_THROW(store->save_run(again));
  EXPECT_EQ(store->list_runs().size(), 1u);
  EXPECT_EQ(count("windows"), 1);
}

TEST_F(PostgresStoreTest, IncrementalRunKeepsCommittedWindows) {
  auto store = open_store(url());
  const std::string id = store->begin_run(run_record(0));
  EXPECT_EQ(store->add_window(id, window("a", 1.0)), 1);
  EXPECT_EQ(store->add_window(id, window("b", 2.0)), 2);
  store->finish_run(id, RunStatus::interrupted, "stopped after 2 windows");
  EXPECT_THROW(store->add_window(id, window("c", 3.0)), InputError);
  EXPECT_THROW(store->add_window("no-such-run", window("c", 3.0)), InputError);
  const auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::interrupted);
  EXPECT_EQ(runs[0].windows, 2);
  EXPECT_DOUBLE_EQ(runs[0].energy_j, 3.0);
  EXPECT_EQ(runs[0].note, "stopped after 2 windows");
}

// Several machines: each writer has its own connection; some add windows to
// one shared run at the same time.
TEST_F(PostgresStoreTest, ConcurrentWriters) {
  const std::string shared = open_store(url())->begin_run(run_record(0));
  constexpr int kWriters = 4, kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto store = open_store(url());
        for (int k = 0; k < kEach; ++k) {
          store->add_window(shared, window("w" + std::to_string(i), 1.0));
          if (k % 5 == 0) store->save_run(run_record(2));
        }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto store = open_store(url());
  const auto run = store->load_run(shared);
  ASSERT_TRUE(run.has_value());
  ASSERT_EQ(run->windows.size(), static_cast<std::size_t>(kWriters * kEach));
  std::set<int> seqs;
  for (const auto& w : run->windows) seqs.insert(w.seq);
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kWriters * kEach));
  EXPECT_EQ(*seqs.rbegin(), kWriters * kEach);
  EXPECT_EQ(store->list_runs().size(), static_cast<std::size_t>(1 + kWriters * 2));
}

TEST_F(PostgresStoreTest, ValuesNeverBecomeSqlAndDeleteCascades) {
  auto store = open_store(url());
  RunRecord r = run_record(1);
  r.note = "'); DROP TABLE runs; --";
  r.windows[0].model = "Robert'); DROP TABLE windows;--";
  const std::string id = store->save_run(r);
  const auto back = store->load_run(id);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->note, r.note);
  EXPECT_EQ(back->windows[0].model, r.windows[0].model);
  EXPECT_TRUE(store->delete_run(id));
  EXPECT_FALSE(store->delete_run(id));
  EXPECT_EQ(count("windows"), 0);
  EXPECT_EQ(count("component_energy"), 0);
}

TEST_F(PostgresStoreTest, RefusesAStoreFromANewerJoulebench) {
  const int version = open_store(url())->schema_version();
  {
    pqxx::connection c(url());
    pqxx::work t(c);
    t.exec("INSERT INTO schema_version (version, applied_at, description) VALUES (" + std::to_string(version + 1) +
           ", 'now', 'future')");
    t.commit();
  }
  try {
    open_store(url());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(PostgresStoreTest, VersionOneDatabaseUpgradesInPlace) {
  // The database as a joulebench of schema version 1 left it (its real statements).
  {
    pqxx::connection c(url());
    pqxx::work t(c);
    const auto& v1 = store::migrations().at(0);
    ASSERT_EQ(v1.version, 1);
    for (const char* sql : v1.statements) t.exec(sql);
    t.exec("INSERT INTO schema_version VALUES (1, '2026-01-01T00:00:00.000Z', 'v1')");
    t.exec(R"sql(INSERT INTO runs (id, kind, status, started_at, intensity_g_per_kwh, intensity_origin, pue, config_json)
VALUES ('bench-run', 'bench', 'complete', '2026-01-01T00:00:00.000Z', 56, 'user', 1.0,
        '{"cell_key":"k","batch":8,"threads":2,"dtype":"bf16","device":"cpu","n":10}'),
       ('import-run', 'import', 'complete', '2026-01-01T00:00:00.000Z', 56, 'user', 1.0, '{}'))sql");
    t.exec(R"sql(INSERT INTO windows (run_id, seq, phase, started_at, duration_s, inferences, energy_j, weakest_provenance)
VALUES ('bench-run', 1, 'inference', '2026-01-01T00:00:00.000Z', 2.5, 10, 7.5, 'measured'),
       ('import-run', 1, 'inference', '2026-01-01T00:00:00.000Z', 1.0, 10, 3.0, 'measured'))sql");
    t.commit();
  }
  auto store = open_store(url());
  EXPECT_EQ(store->schema_version(), store::current_schema_version());
  EXPECT_EQ(count("schema_version"), store::current_schema_version());
  const auto windows = store->query_windows({});
  ASSERT_EQ(windows.size(), 2u);
  for (const auto& sw : windows) {
    if (sw.run_id == "bench-run") {
      EXPECT_EQ(sw.window.batch_size, 8);
      EXPECT_EQ(sw.window.threads, 2);
      EXPECT_EQ(sw.window.dtype, "bf16");
      EXPECT_EQ(sw.window.device, "cpu");
      EXPECT_DOUBLE_EQ(sw.window.measurement.duration_s, 2.5);
    } else {
      EXPECT_FALSE(sw.window.batch_size.has_value());
      EXPECT_EQ(sw.window.dtype, "");
    }
  }
  // And new windows carry theirs.
  RunRecord r = run_record(1);
  r.windows[0].batch_size = 32;
  r.windows[0].threads = 0;
  r.windows[0].dtype = "fp16";
  r.windows[0].device = "cuda:0";
  const auto back = store->load_run(store->save_run(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->windows.at(0).batch_size, 32);
  EXPECT_EQ(back->windows.at(0).threads, 0);
  EXPECT_EQ(back->windows.at(0).dtype, "fp16");
  EXPECT_EQ(back->windows.at(0).device, "cuda:0");
}

TEST_F(PostgresStoreTest, LostServerIsUnavailableAndTheSameStoreConnectsAgain) {
  auto store = open_store(url());
  const std::string id = store->begin_run(run_record(0));
  EXPECT_EQ(store->add_window(id, window("a", 1.0)), 1);
  g_server->stop();
  struct Restart {  // whatever happens below, the next tests get their server
    ~Restart() {
      if (!g_server->running()) g_server->start();
    }
  } restart;
  EXPECT_THROW(store->add_window(id, window("b", 2.0)), StoreUnavailable);
  EXPECT_THROW(store->list_runs(), StoreUnavailable) << "connecting again while it is down";
  ASSERT_TRUE(g_server->start());
  // The same object, no reopening: the next call connects again.
  EXPECT_EQ(store->add_window(id, window("c", 3.0)), 2) << "the lost window never reached the server";
  store->finish_run(id, RunStatus::complete);
  const auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].windows, 2);
}

TEST_F(PostgresStoreTest, UnreachableServerErrorNeverShowsThePassword) {
  const std::string url = "postgresql://joulebench:hunter2secret@127.0.0.1:" + std::to_string(free_loopback_port()) +
                          "/none?connect_timeout=2";
  try {
    open_store(url);
    FAIL() << "expected an error";
  } catch (const StoreUnavailable& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot connect to PostgreSQL"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2secret"), std::string::npos) << what;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  g_server = new PostgresServer;
  ::testing::AddGlobalTestEnvironment(g_server);  // owned by gtest
  return RUN_ALL_TESTS();
}
