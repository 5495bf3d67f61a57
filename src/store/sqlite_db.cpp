#include "sqlite_db.h"

#include <fmt/format.h>

#include <filesystem>

#include "joulebench/error.h"

namespace joulebench::store {
namespace {
// A path as the path part of a file: URI ('?', '#' and '%' escaped).
std::string uri_path(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '?' || c == '#' || c == '%') out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    else out += c;
  }
  return out;
}
}  // namespace

namespace {
// Every message names the store's file: a user may have several.
std::string file_of(sqlite3* db) {
  const char* f = sqlite3_db_filename(db, "main");
  return f && *f ? f : ":memory:";
}

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  const std::string file = file_of(db);
  const std::string msg = sqlite3_errmsg(db);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      throw InputError(fmt::format("store {} is damaged or not a joulebench store (SQLite: {}): give another "
                                   "--store, or restore it from a copy",
                                   file, msg));
    case SQLITE_READONLY:
      throw Error(fmt::format("store {} cannot be written ({}): check its permissions, or give another --store",
                              file, msg));
    case SQLITE_FULL:
      throw Error(fmt::format("store {}: the disk is full ({}); nothing of this write was kept: free space and "
                              "run again",
                              file, msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw Busy(fmt::format("store {}: {}: another process holds it too long; run again when it is done", file,
                             msg));
    case SQLITE_CONSTRAINT:
      throw InputError(fmt::format("store {}: value refused by the schema ({})", file, msg));
    default:
      throw Error(fmt::format("store {}: {}{} (SQLite error {})", file, what, msg, rc));
  }
}
}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
  const int rc = sqlite3_prepare_v2(db_, sql_.c_str(), static_cast<int>(sql_.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db_, rc, fmt::format("cannot prepare {}: ", sql_.substr(0, 60)));
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
  sqlite3_reset(stmt_);
  fail(db_, rc, "");
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

Database::Database(const std::string& path, bool read_only) : path_(path) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  std::string name = path;
  if (read_only) {
    // A store we may not write (shared read-only): nothing changes it while
    // we read, and SQLite could not create its -shm file beside it.
    // immutable skips the WAL, so it is used only when no WAL holds data.
    std::error_code ec;
    const bool wal_has_data = std::filesystem::file_size(path + "-wal", ec) > 0 && !ec;
    name = "file:" + uri_path(path) + (wal_has_data ? "?mode=ro" : "?mode=ro&immutable=1");
    flags |= SQLITE_OPEN_READONLY;
  } else {
    name = "file:" + uri_path(path);
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  }
  if (path == ":memory:") name = path;
  const int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    // A path the user gave that cannot be opened (no such folder, no permission): bad input.
    throw InputError(fmt::format("cannot open the store {}: {} (check that the folder exists and is {}, or give "
                                 "--store PATH)",
                                 path, msg, read_only ? "readable" : "writable"));
  }
  sqlite3_busy_timeout(db_, 10000);  // another joulebench writing: wait rather than fail
  sqlite3_extended_result_codes(db_, 0);
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) fail(db_, rc, fmt::format("{}: ", std::string_view(sql).substr(0, 60)));
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
