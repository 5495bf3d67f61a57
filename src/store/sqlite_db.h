// Thin RAII over the SQLite C API: a connection, prepared statements with
// bound parameters only (values never go into SQL text), and transactions
// that roll back unless committed.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "joulebench/error.h"

namespace joulebench::store {

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, double v);
  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind_null(int i);
  template <typename T>
  Statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }
  // Empty text binds NULL (optional foreign keys such as task, model).
  Statement& bind_text_or_null(int i, std::string_view v) { return v.empty() ? bind_null(i) : bind(i, v); }

  // True when a row is available; false when done. Throws Error on failure.
  bool step();
  // Runs to completion (INSERT/UPDATE/DELETE).
  void run();
  void reset();

  bool is_null(int col) const;
  std::string text(int col) const;
  double real(int col) const;
  std::int64_t integer(int col) const;
  std::optional<double> opt_real(int col) const;
  std::optional<std::int64_t> opt_integer(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// SQLITE_BUSY that the busy timeout did not absorb: switching a new file to
// WAL and reading a WAL index being rebuilt return it at once, without
// waiting. The caller may retry.
class Busy : public Error {
 public:
  using Error::Error;
};

class Database {
 public:
  // read_only: never creates or writes the file (report, compare, study).
  explicit Database(const std::string& path, bool read_only = false);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  // For fixed SQL without values only (PRAGMA, BEGIN, schema).
  void exec(const char* sql);

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE now; ROLLBACK in the destructor unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace joulebench::store
