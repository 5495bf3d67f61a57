// The store's schema, in one place, as numbered migrations. Portable SQL (the
// subset SQLite and PostgreSQL share): TEXT, BIGINT, DOUBLE PRECISION, CHECK,
// composite keys, no autoincrement (runs have UUIDs, windows a sequence number
// within their run), ON CONFLICT DO NOTHING, ALTER TABLE ... ADD COLUMN. Only
// a backfill that must read JSON has a statement per dialect.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace joulebench::store {

struct Migration {
  int version;
  const char* description;
  std::vector<const char*> statements;  // portable, run first
  std::vector<const char*> sqlite;      // then these on SQLite
  std::vector<const char*> postgres;    // or these on PostgreSQL
};

// list_runs' query, the same in both dialects: per run its columns, window
// count, energy and g CO2e (a whole-run window beside its parts counted
// once), then the lowest and highest task, model and batch size of its
// windows (one value when they agree).
extern const char* const kListRunsSql;

// In order; the last one's version is the current schema version.
const std::vector<Migration>& migrations();
int current_schema_version();

// How both backends store a time: ISO 8601 UTC with milliseconds (windows are
// often shorter than a second), "2026-11-23T12:00:00.250Z"; and back (an
// unreadable text gives the epoch).
std::string time_text(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point time_of(const std::string& text);

}  // namespace joulebench::store
