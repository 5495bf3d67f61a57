// A store written before schema version 2 (no configuration columns on
// windows) opens, upgrades in place, and its bench windows get their batch
// size, threads, dtype and device from the run's settings. The old file is
// made here with the real version-1 statements (src/store/schema.cpp).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "joulebench/store.h"
#include "store/schema.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "") << "\n" << sql;
}

// Version 1 exactly as a joulebench of that version left it: a bench run
// (settings in config_json) and an imported run, one window each.
void write_version_1(const fs::path& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const auto& v1 = store::migrations().at(0);
  ASSERT_EQ(v1.version, 1);
  for (const char* sql : v1.statements) exec(db, sql);
  exec(db, "INSERT INTO schema_version VALUES (1, '2026-01-01T00:00:00.000Z', 'v1')");
  exec(db, R"sql(INSERT INTO runs (id, kind, status, started_at, intensity_g_per_kwh, intensity_origin, pue, config_json)
VALUES ('bench-run', 'bench', 'complete', '2026-01-01T00:00:00.000Z', 56, 'user', 1.0,
        '{"cell_key":"k","batch":8,"threads":2,"dtype":"bf16","device":"cpu","n":10}'),
       ('import-run', 'import', 'complete', '2026-01-01T00:00:00.000Z', 56, 'user', 1.0, '{}'))sql");
  exec(db, R"sql(INSERT INTO windows (run_id, seq, task, model, phase, started_at, duration_s, inferences, energy_j,
                     weakest_provenance)
VALUES ('bench-run', 1, NULL, NULL, 'inference', '2026-01-01T00:00:00.000Z', 2.5, 10, 7.5, 'measured'),
       ('import-run', 1, NULL, NULL, 'inference', '2026-01-01T00:00:00.000Z', 1.0, 10, 3.0, 'measured'))sql");
  sqlite3_close(db);
}

}  // namespace

TEST(StoreMigration, VersionOneFileUpgradesInPlace) {
  const fs::path dir = fs::temp_directory_path() / ("jb-migration-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path path = dir / "old.db";
  write_version_1(path);
  {
    auto store = open_store(path);
    EXPECT_EQ(store->schema_version(), store::current_schema_version());
    EXPECT_GE(store->schema_version(), 2);
    const auto windows = store->query_windows({});
    ASSERT_EQ(windows.size(), 2u);
    for (const auto& sw : windows) {
      const WindowRecord& w = sw.window;
      if (sw.run_id == "bench-run") {
        EXPECT_EQ(w.batch_size, 8);
        EXPECT_EQ(w.threads, 2);
        EXPECT_EQ(w.dtype, "bf16");
        EXPECT_EQ(w.device, "cpu");
        EXPECT_DOUBLE_EQ(w.measurement.duration_s, 2.5);  // the old data is kept
      } else {
        EXPECT_FALSE(w.batch_size.has_value()) << "an import recorded no batch size";
        EXPECT_FALSE(w.threads.has_value());
        EXPECT_EQ(w.dtype, "");
        EXPECT_EQ(w.device, "");
      }
    }
    // New windows carry their configuration.
    RunRecord run;
    run.kind = RunKind::bench;
    WindowRecord w;
    w.inferences = 4;
    w.batch_size = 4;
    w.threads = 0;
    w.dtype = "fp32";
    w.device = "cuda:1";
    run.windows = {w};
    const auto id = store->save_run(run);
    const auto back = store->load_run(id);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->windows.at(0).batch_size, 4);
    EXPECT_EQ(back->windows.at(0).threads, 0);
    EXPECT_EQ(back->windows.at(0).dtype, "fp32");
    EXPECT_EQ(back->windows.at(0).device, "cuda:1");
  }
  // Opened again: nothing left to migrate (one row per version).
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM schema_version", -1, &s, nullptr);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(s, 0), store::current_schema_version());
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  EXPECT_EQ(open_store(path)->schema_version(), store::current_schema_version());
  fs::remove_all(dir);
}
