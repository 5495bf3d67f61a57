// The store's schema, in one place, as numbered migrations. Portable SQL (the
// subset SQLite and PostgreSQL share): TEXT, BIGINT, DOUBLE PRECISION, CHECK,
// composite keys, no autoincrement (runs have UUIDs, windows a sequence number
// within their run), ON CONFLICT DO NOTHING.
#pragma once

#include <vector>

namespace joulebench::store {

struct Migration {
  int version;
  const char* description;
  std::vector<const char*> statements;
};

// In order; the last one's version is the current schema version.
const std::vector<Migration>& migrations();
int current_schema_version();

}  // namespace joulebench::store
