#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "joulebench/error.h"
#include "joulebench/store.h"
#include "store_contract.h"
#include "../support/expect_throw.h"

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

  static RunRecord run(int windows) { return joulebench::testing::contract_run(windows); }

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

// The Store contract (store_contract.h) on a SQLite file.
struct SqliteBackend {
  fs::path dir, path;
  void SetUp() {
    dir = fs::temp_directory_path() / ("jb-store-contract-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    path = dir / "test.db";
  }
  void TearDown() { fs::remove_all(dir); }
  std::unique_ptr<Store> open() { return open_store(path); }
  int count(const std::string& table) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, ("SELECT COUNT(*) FROM " + table).c_str(), -1, &s, nullptr);
    sqlite3_step(s);
    const int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }
};

}  // namespace

namespace joulebench::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreContract, SqliteBackend);
}

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
  EXPECT_THROW_MSG(open_store(path_), Error, "99");
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
  {
    const std::string message = jbtest::thrown_message<InputError>([&] { open_store(path_, StoreAccess::read); });
    EXPECT_NE(message.find(path_.filename().string()), std::string::npos) << message;
    EXPECT_NE(message.find("damaged or not a joulebench store"), std::string::npos) << message;
  }
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

TEST_F(StoreTest, UnwritableLocationSaysWhat) {
  EXPECT_THROW_MSG(open_store(dir_ / "no-such-dir" / "x.db"), Error, "no-such-dir");
}
