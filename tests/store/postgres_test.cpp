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
#include "store_contract.h"
#include "../support/expect_throw.h"

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
    return joulebench::testing::contract_window(model, cpu_j);
  }
  static RunRecord run_record(int windows) { return joulebench::testing::contract_run(windows); }

  std::string db_;
};

// The Store contract (store_contract.h) on a fresh database of the server.
struct PostgresBackend {
  std::string db;
  void SetUp() {
    if (!g_server->started()) GTEST_SKIP() << g_server->why_not();
    db = "c_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    for (auto& c : db) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    g_server->fresh_database(db);
  }
  void TearDown() {}
  std::unique_ptr<Store> open() { return open_store(g_server->url(db)); }
  int count(const std::string& table) {
    pqxx::connection c(g_server->url(db));
    pqxx::work t(c);
    return t.exec("SELECT COUNT(*) FROM " + table)[0][0].as<int>();
  }
};

}  // namespace

namespace joulebench::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreContract, PostgresBackend);
}

namespace {

TEST_F(PostgresStoreTest, SameSchemaVersionAndMigratesOnce) {
  auto a = open_store(url());
  auto b = open_store(url());  // a second opener finds the schema in place
  EXPECT_EQ(a->schema_version(), b->schema_version());
  EXPECT_GE(a->schema_version(), 1);
  EXPECT_EQ(count("schema_version"), a->schema_version());
  EXPECT_EQ(a->location().find("postgresql://joulebench@"), 0u) << a->location();
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

TEST_F(PostgresStoreTest, RefusesAStoreFromANewerJoulebench) {
  const int version = open_store(url())->schema_version();
  {
    pqxx::connection c(url());
    pqxx::work t(c);
    t.exec("INSERT INTO schema_version (version, applied_at, description) VALUES (" + std::to_string(version + 1) +
           ", 'now', 'future')");
    t.commit();
  }
  EXPECT_THROW_MSG(open_store(url()), Error, "newer");
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
