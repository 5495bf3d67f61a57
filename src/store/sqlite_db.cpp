#include "sqlite_db.h"

#include <fmt/format.h>

#include "joulebench/error.h"

namespace joulebench::store {

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
  if (sqlite3_prepare_v2(db_, sql_.c_str(), static_cast<int>(sql_.size()), &stmt_, nullptr) != SQLITE_OK)
    throw Error(fmt::format("store: cannot prepare SQL ({}): {}", sqlite3_errmsg(db_), sql_.substr(0, 80)));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

namespace {
void check_bind(sqlite3* db, int rc, int i) {
  if (rc != SQLITE_OK) throw Error(fmt::format("store: cannot bind parameter {}: {}", i, sqlite3_errmsg(db)));
}
}  // namespace

Statement& Statement::bind(int i, std::string_view v) {
  check_bind(db_, sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT), i);
  return *this;
}
Statement& Statement::bind(int i, double v) {
  check_bind(db_, sqlite3_bind_double(stmt_, i, v), i);
  return *this;
}
Statement& Statement::bind(int i, std::int64_t v) {
  check_bind(db_, sqlite3_bind_int64(stmt_, i, v), i);
  return *this;
}
Statement& Statement::bind_null(int i) {
  check_bind(db_, sqlite3_bind_null(stmt_, i), i);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string msg = sqlite3_errmsg(db_);
  sqlite3_reset(stmt_);
  if (rc == SQLITE_CONSTRAINT)
    throw InputError(fmt::format("store: value refused by the schema ({})", msg));
  throw Error(fmt::format("store: {} (SQLite error {})", msg, rc));
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::string Statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}
double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::int64_t Statement::integer(int col) const { return sqlite3_column_int64(stmt_, col); }
std::optional<double> Statement::opt_real(int col) const {
  return is_null(col) ? std::nullopt : std::optional<double>(real(col));
}
std::optional<std::int64_t> Statement::opt_integer(int col) const {
  return is_null(col) ? std::nullopt : std::optional<std::int64_t>(integer(col));
}

Database::Database(const std::string& path) : path_(path) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(fmt::format("cannot open the store {}: {} (check the folder exists and is writable, or give "
                            "--store PATH)",
                            path, msg));
  }
  sqlite3_busy_timeout(db_, 10000);  // another joulebench writing: wait rather than fail
  sqlite3_extended_result_codes(db_, 0);
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(fmt::format("store {}: {} ({})", path_, msg, std::string_view(sql).substr(0, 60)));
  }
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace joulebench::store
