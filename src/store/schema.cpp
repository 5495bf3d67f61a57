#include "schema.h"

#include <fmt/format.h>

#include "joulebench/store.h"

namespace joulebench::store {

const char* const kListRunsSql = R"sql(
SELECT r.id, r.kind, r.status, r.started_at, r.ended_at, r.hostname, r.source, r.project,
       COUNT(w.seq), COALESCE(SUM(CASE WHEN w.phase = 'whole' AND p.parts > 0 THEN 0 ELSE w.energy_j END), 0),
       COALESCE(SUM(CASE WHEN w.phase = 'whole' AND p.parts > 0 THEN 0 ELSE w.g_co2e END), 0), r.note,
       MIN(w.task), MAX(w.task), MIN(w.model), MAX(w.model), MIN(w.batch_size), MAX(w.batch_size)
FROM runs r LEFT JOIN windows w ON w.run_id = r.id
  -- A whole-run window beside its parts (an imported study run) is the same energy again: counted once.
  LEFT JOIN (SELECT run_id, COUNT(*) AS parts FROM windows WHERE phase <> 'whole' GROUP BY run_id) p
    ON p.run_id = r.id
GROUP BY r.id, r.kind, r.status, r.started_at, r.ended_at, r.hostname, r.source, r.project, r.note
ORDER BY r.started_at, r.id)sql";

namespace {

// Version 1: the tables as first released.
constexpr const char* kCreateSchemaVersion = R"sql(CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY,
  applied_at TEXT NOT NULL,
  description TEXT NOT NULL))sql";
constexpr const char* kCreateRuns = R"sql(CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('measure', 'bench', 'import')),
  status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed', 'interrupted')),
  started_at TEXT NOT NULL,
  ended_at TEXT,
  user_name TEXT NOT NULL DEFAULT '',
  hostname TEXT NOT NULL DEFAULT '',
  os TEXT NOT NULL DEFAULT '',
  cpu_model TEXT NOT NULL DEFAULT '',
  cpu_count INTEGER NOT NULL DEFAULT 0,
  gpu_model TEXT NOT NULL DEFAULT '',
  gpu_count INTEGER NOT NULL DEFAULT 0,
  ram_total_gb DOUBLE PRECISION,
  software_json TEXT NOT NULL DEFAULT '{}',
  country_iso3 TEXT NOT NULL DEFAULT '',
  country_name TEXT NOT NULL DEFAULT '',
  cloud_provider TEXT NOT NULL DEFAULT '',
  cloud_region TEXT NOT NULL DEFAULT '',
  city TEXT NOT NULL DEFAULT '',
  intensity_g_per_kwh DOUBLE PRECISION NOT NULL CHECK (intensity_g_per_kwh >= 0),
  intensity_origin TEXT NOT NULL,
  intensity_source TEXT NOT NULL DEFAULT '',
  intensity_zone TEXT NOT NULL DEFAULT '',
  intensity_year INTEGER,
  pue DOUBLE PRECISION NOT NULL CHECK (pue >= 1.0),
  pue_source TEXT NOT NULL DEFAULT '',
  config_json TEXT NOT NULL DEFAULT '{}',
  source TEXT NOT NULL DEFAULT '',
  project TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT ''))sql";
constexpr const char* kCreateWindows = R"sql(CREATE TABLE windows (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL CHECK (seq > 0),
  name TEXT NOT NULL DEFAULT '',
  task TEXT REFERENCES tasks (name),
  model TEXT REFERENCES models (name),
  dataset TEXT REFERENCES datasets (name),
  phase TEXT NOT NULL DEFAULT 'inference',
  repetition INTEGER,
  started_at TEXT NOT NULL,
  duration_s DOUBLE PRECISION NOT NULL CHECK (duration_s >= 0),
  inferences BIGINT CHECK (inferences IS NULL OR inferences > 0),
  input_tokens BIGINT CHECK (input_tokens IS NULL OR input_tokens >= 0),
  output_tokens BIGINT CHECK (output_tokens IS NULL OR output_tokens >= 0),
  latency_p50_s DOUBLE PRECISION,
  latency_p95_s DOUBLE PRECISION,
  energy_j DOUBLE PRECISION NOT NULL CHECK (energy_j >= 0),
  attributed_energy_j DOUBLE PRECISION,
  dynamic_energy_j DOUBLE PRECISION,
  g_co2e DOUBLE PRECISION CHECK (g_co2e IS NULL OR g_co2e >= 0),
  weakest_provenance TEXT NOT NULL,
  external_id TEXT,
  warnings_json TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_id, seq)))sql";
constexpr const char* kCreateComponentEnergy = R"sql(CREATE TABLE component_energy (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  component TEXT NOT NULL CHECK (component IN ('cpu', 'dram', 'gpu', 'core', 'uncore', 'psys', 'other')),
  energy_j DOUBLE PRECISION NOT NULL CHECK (energy_j >= 0),
  attributed_energy_j DOUBLE PRECISION,
  dynamic_energy_j DOUBLE PRECISION,
  provenance TEXT NOT NULL,
  sources_json TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_id, seq, idx),
  FOREIGN KEY (run_id, seq) REFERENCES windows (run_id, seq) ON DELETE CASCADE))sql";

Migration first_schema() {
  return {1,
          "runs, windows, component energy, tasks, models, datasets",
          {
              kCreateSchemaVersion,
              kCreateRuns,
              "CREATE TABLE tasks (name TEXT PRIMARY KEY)",
              "CREATE TABLE models (name TEXT PRIMARY KEY)",
              "CREATE TABLE datasets (name TEXT PRIMARY KEY)",
              kCreateWindows,
              "CREATE UNIQUE INDEX windows_external_id ON windows (external_id) WHERE external_id IS NOT NULL",
              "CREATE INDEX windows_task_model ON windows (task, model, dataset)",
              kCreateComponentEnergy,
          },
          {},   // nothing only for SQLite
          {}};  // nothing only for PostgreSQL
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all{
      first_schema(),
      {2,
       "windows: batch_size, threads, dtype, device (the configuration a window measured)",
       {
           "ALTER TABLE windows ADD COLUMN batch_size INTEGER CHECK (batch_size IS NULL OR batch_size > 0)",
           "ALTER TABLE windows ADD COLUMN threads INTEGER CHECK (threads IS NULL OR threads >= 0)",
           "ALTER TABLE windows ADD COLUMN dtype TEXT",
           "ALTER TABLE windows ADD COLUMN device TEXT",
       },
       // Bench runs written before: their settings are in the run's config_json.
       {R"sql(UPDATE windows SET
  batch_size = (SELECT json_extract(r.config_json, '$.batch') FROM runs r WHERE r.id = windows.run_id),
  threads = (SELECT json_extract(r.config_json, '$.threads') FROM runs r WHERE r.id = windows.run_id),
  dtype = (SELECT json_extract(r.config_json, '$.dtype') FROM runs r WHERE r.id = windows.run_id),
  device = (SELECT json_extract(r.config_json, '$.device') FROM runs r WHERE r.id = windows.run_id)
WHERE run_id IN (SELECT id FROM runs WHERE kind = 'bench' AND json_valid(config_json)))sql"},
       {R"sql(UPDATE windows w SET
  batch_size = (r.config_json::jsonb ->> 'batch')::integer,
  threads = (r.config_json::jsonb ->> 'threads')::integer,
  dtype = r.config_json::jsonb ->> 'dtype',
  device = r.config_json::jsonb ->> 'device'
FROM runs r WHERE r.id = w.run_id AND r.kind = 'bench' AND r.config_json LIKE '{%')sql"}},
      {3,
       "windows: zero_shot, includes_loading, loading_share (the study's zero-shot runs; whole-run log rows)",
       {
           "ALTER TABLE windows ADD COLUMN zero_shot INTEGER NOT NULL DEFAULT 0 CHECK (zero_shot IN (0, 1))",
           "ALTER TABLE windows ADD COLUMN includes_loading INTEGER NOT NULL DEFAULT 0 "
           "CHECK (includes_loading IN (0, 1))",
           "ALTER TABLE windows ADD COLUMN loading_share DOUBLE PRECISION "
           "CHECK (loading_share IS NULL OR (loading_share >= 0 AND loading_share <= 1))",
       },
       {},
       {}},
      {4,
       "component_energy: band_factor (an estimate lies within [x / f, x * f]; NULL: not recorded)",
       {
           "ALTER TABLE component_energy ADD COLUMN band_factor DOUBLE PRECISION "
           "CHECK (band_factor IS NULL OR band_factor >= 1)",
       },
       {},
       {}},
  };
  return all;
}

int current_schema_version() { return migrations().back().version; }

std::string time_text(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::string s = format_utc(t);
  s.insert(s.size() - 1, fmt::format(".{:03}", ms < 0 ? ms + 1000 : ms));
  return s;
}

std::chrono::system_clock::time_point time_of(const std::string& text) {
  return parse_utc(text).value_or(std::chrono::system_clock::time_point{});
}

}  // namespace joulebench::store
