// Internal: the one row mapping both backends share. Each backend wraps its
// row (a SQLite statement, a libpqxx row) in a Row; the column lists below
// and the mappers read them in the same order, so the two stores cannot
// drift apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "joulebench/store.h"

namespace joulebench::store {

class Row {
 public:
  virtual ~Row() = default;
  virtual bool is_null(int col) const = 0;
  virtual std::string text(int col) const = 0;  // "" for NULL
  virtual double real(int col) const = 0;
  virtual std::int64_t integer(int col) const = 0;
  std::optional<double> opt_real(int col) const {
    return is_null(col) ? std::nullopt : std::optional<double>(real(col));
  }
  std::optional<std::int64_t> opt_integer(int col) const {
    return is_null(col) ? std::nullopt : std::optional<std::int64_t>(integer(col));
  }
};

// A run's columns (append " WHERE ..."): read with run_from_row.
extern const char* const kSelectRunSql;
// A window with its run's kind, status, intensity and PUE (append the
// filters and the order): read with window_from_row.
extern const char* const kSelectWindowSql;
// A window's components (append "WHERE run_id = .. AND seq = .. ORDER BY
// idx"): read with component_from_row.
extern const char* const kSelectComponentSql;

// Writing: one INSERT per record, its placeholders numbered in the
// dialect's style ('?' gives SQLite's ?1, ?2; '$' PostgreSQL's $1, $2), and
// its values in their order. An empty optional or name is NULL.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;
struct SqlInsert {
  std::string sql;
  std::vector<SqlValue> values;
};
// Run ids that begin with a prefix: the query (placeholder as for the
// INSERTs; at most 3 rows, by id) and the choice among its rows: the exact id,
// else the only one; several are an InputError; none is nullopt.
std::string run_ids_by_prefix_sql(char placeholder);
std::optional<std::string> pick_run_id(const std::string& id_or_prefix, const std::vector<std::string>& ids);

// The run as every store's begin_run writes it (Store's contract): an id (a
// new UUID when it has none), status running, no end time.
RunRecord started_run(RunRecord run);
SqlInsert insert_run(const RunRecord& run, char placeholder);
SqlInsert insert_window(const std::string& run_id, const WindowRecord& window, char placeholder);
SqlInsert insert_component(const std::string& run_id, int seq, int idx, const ComponentEnergy& c, char placeholder);

RunRecord run_from_row(const Row& row);
RunSummary run_summary_from_row(const Row& row);  // a row of kListRunsSql
StoredWindow window_from_row(const Row& row);     // components come apart
ComponentEnergy component_from_row(const Row& row);

}  // namespace joulebench::store
