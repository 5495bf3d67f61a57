// The results store: runs (who, when, machine, software, location, intensity,
// PUE, settings), their measurement windows (task, model, dataset, inference
// counts, tokens, latency) and the energy of each component with provenance in
// three scopes. SQLite by default (`joulebench.db`); the schema lives in one
// place (src/store/schema.cpp) behind the small Store interface so another
// backend (PostgreSQL) can implement it. Contract: docs/store.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/carbon.h"
#include "joulebench/energy.h"
#include "joulebench/error.h"

namespace joulebench {

// The store cannot be reached (database server down, connection lost): the
// operation did not happen or, for a commit cut short, may have. Trying again
// later can succeed (the PostgreSQL backend connects again on the next call).
class StoreUnavailable : public Error {
 public:
  using Error::Error;
};

enum class RunKind { measure, bench, import };
enum class RunStatus {
  running,      // begun, not finished: a crash leaves this (the windows written so far are kept)
  complete,
  failed,
  interrupted,  // stopped by the user (SIGINT) or a partial failure; the kept windows are valid
};
std::string_view to_string(RunKind k);
std::string_view to_string(RunStatus s);
std::optional<RunKind> run_kind_from_string(std::string_view s);
std::optional<RunStatus> run_status_from_string(std::string_view s);

struct MachineInfo {
  std::string hostname;
  std::string os;         // "Linux-6.1.0-13-amd64-x86_64"
  std::string cpu_model;
  int cpu_count = 0;      // logical CPUs
  std::string gpu_model;  // "8 x NVIDIA A100-SXM4-80GB" (empty when none / unknown)
  int gpu_count = 0;
  std::optional<double> ram_total_gb;  // GiB (bytes / 2^30), as CodeCarbon's ram_total_size
};

// Hostname, kernel, /proc/cpuinfo and /proc/meminfo. GPU fields stay empty:
// the caller fills them from its GPU sensors. Never throws (unknowns stay empty).
MachineInfo detect_machine(const std::string& procfs_root = "/proc");
// The login name (USER, LOGNAME, or the passwd entry), "" when unknown.
std::string current_user();

// One measurement window of a run: the study's unit is one model on one
// dataset for N inferences (one repetition).
struct WindowRecord {
  int seq = 0;  // position in the run, assigned by the store (1, 2, ...)
  Measurement measurement;  // name, start, duration, components (with provenance, 3 scopes), warnings
  std::string task;     // kebab-case task ("text-classification"), may be empty
  std::string model;    // "distilbert-base-uncased", may be empty
  std::string dataset;  // "imdb", may be empty
  std::string phase = "inference";  // "inference", "load", "warmup", "idle", "whole"
  std::optional<int> repetition;
  std::optional<std::int64_t> inferences;
  std::optional<std::int64_t> input_tokens;
  std::optional<std::int64_t> output_tokens;
  std::optional<double> latency_p50_s;
  std::optional<double> latency_p95_s;
  std::optional<double> g_co2e;  // as computed (or logged) for this window
  std::string external_id;       // e.g. the CodeCarbon run_id (+ task_name) of an imported row; unique per store
  // The configuration measured (bench); unknown (nullopt, "") for imports
  // and measure. Reports keep windows of different configurations apart.
  std::optional<int> batch_size;  // inputs per infer() call
  std::optional<int> threads;     // intra-op threads, 0 = the library's default
  std::string dtype;              // "fp32", "bf16", "fp16"
  std::string device;             // "cpu", "cuda", "cuda:1"
  // A multi-purpose model run on another task's data (the study's zero-shot
  // runs): reports by task leave it out unless asked (docs/study.md).
  bool zero_shot = false;
  // An inference window whose energy also covers loading the model (a
  // CodeCarbon log's whole-run row whose query phase is not known), with the
  // loading's share of it when known. Every report flags it.
  bool includes_loading = false;
  std::optional<double> loading_share;  // 0..1
};

struct RunRecord {
  std::string id;  // empty: the store assigns a UUID
  RunKind kind = RunKind::measure;
  RunStatus status = RunStatus::complete;
  std::chrono::system_clock::time_point started_at{};
  std::optional<std::chrono::system_clock::time_point> ended_at;
  std::string user;
  MachineInfo machine;
  std::map<std::string, std::string> software;  // "joulebench" -> "0.1.0", "codecarbon" -> "2.3.1", ...
  GridIntensity intensity;                       // the intensity used for g_co2e
  double pue = kDefaultPue;
  std::string pue_source;
  std::string config_json;  // the run's settings as a JSON object text ("{}" when none)
  std::string source;       // command line, or the imported file
  std::string project;      // CodeCarbon project_name, bench suite name, ...
  std::string note;         // what was kept when interrupted, etc.
  std::vector<WindowRecord> windows;
};

// A window measured by `joulebench measure` or a Python Tracker, as one run
// of kind `measure`: phase `inference` when the inferences are known (reports
// then give energy per 1,000), else `whole`.
struct MeasuredRunInfo {
  std::string project;
  std::string task, model;  // may be empty
  std::optional<std::int64_t> inferences;
  std::string source;              // "joulebench measure -- CMD", "python: script.py"
  std::string config_json = "{}";  // what ran it: the command, the tags
  std::string note;                // "the command exited with status 3"
  std::string procfs_root = "/proc";
};
RunRecord measured_run_record(const Measurement& m, const CarbonSettings& settings, std::optional<double> g_co2e,
                              const MeasuredRunInfo& info);

struct RunSummary {
  std::string id;
  RunKind kind = RunKind::measure;
  RunStatus status = RunStatus::complete;
  std::chrono::system_clock::time_point started_at{};
  std::optional<std::chrono::system_clock::time_point> ended_at;
  std::string hostname;
  std::string source;
  std::string project;
  std::string note;  // e.g. what an interrupted run kept
  int windows = 0;
  double energy_j = 0.0;  // machine scope, sum over windows
  double g_co2e = 0.0;
  // What its windows measured: the task, model and batch size when they all
  // agree, "(several)" / nullopt when they differ, "" / nullopt when unknown.
  std::string task;
  std::string model;
  std::optional<int> batch_size;
};

// Filters for query_windows; empty fields match everything.
struct WindowQuery {
  std::string run_id;
  std::string task;
  std::string model;
  std::string dataset;
  std::string phase = "inference";  // "" = every phase
  bool include_unfinished = false;  // runs still 'running' or 'failed' (interrupted ones are always included)
};

// A window with the carbon context of its run.
struct StoredWindow {
  std::string run_id;
  RunKind kind = RunKind::measure;
  RunStatus status = RunStatus::complete;
  double intensity_g_per_kwh = kWorldAverageIntensityGPerKwh;
  double pue = kDefaultPue;
  WindowRecord window;
};

class Store {
 public:
  virtual ~Store() = default;

  // Where the data is ("joulebench.db").
  virtual std::string location() const = 0;
  virtual int schema_version() = 0;

  // A whole run and its windows in one transaction: all or nothing. Returns its id.
  virtual std::string save_run(RunRecord run) = 0;

  // Incremental writing (bench, measure): begin_run writes the run (status
  // running, windows ignored); each add_window commits one window atomically;
  // finish_run sets the final status, ended_at and note. A crash in between
  // leaves a consistent 'running' run with the windows committed so far.
  virtual std::string begin_run(RunRecord run) = 0;
  virtual int add_window(const std::string& run_id, WindowRecord window) = 0;
  virtual void finish_run(const std::string& run_id, RunStatus status, std::string note = {}) = 0;

  // By id or unique id prefix; nullopt when none. Throws InputError when a prefix is ambiguous.
  virtual std::optional<RunRecord> load_run(const std::string& id_or_prefix) = 0;
  virtual std::vector<RunSummary> list_runs() = 0;
  virtual std::vector<StoredWindow> query_windows(const WindowQuery& query) = 0;
  // True when a window with this external id is stored (imports skip it).
  virtual bool has_external_id(const std::string& external_id) = 0;
  // Writes `run` in place of the stored run with the same id, windows and
  // all, in one transaction (saves it when none is stored). Imports use it to
  // complete a run whose other log files arrive later.
  virtual std::string replace_run(RunRecord run) = 0;
  // Deletes a run and its windows (one transaction). False when not found.
  virtual bool delete_run(const std::string& id) = 0;
};

inline constexpr const char* kDefaultStorePath = "joulebench.db";

enum class StoreAccess {
  read_write,  // creates and migrates as needed
  read,        // report, compare, study: never creates; a file we may not write opens read-only
};

// Opens a SQLite store (or connects to a PostgreSQL URL). A file written by a
// newer joulebench (higher schema version) throws Error saying so; `read` on
// a missing file or a folder, or on a read-only file of an older schema,
// throws InputError.
std::unique_ptr<Store> open_store(const std::filesystem::path& path = kDefaultStorePath,
                                  StoreAccess access = StoreAccess::read_write);

// A PostgreSQL connection URI ("postgresql://...", "postgres://...") rather
// than a SQLite file: open_store() connects to it (docs/store.md).
bool is_store_url(std::string_view location);
// True when open_store(location) has data to read: an existing file, or any
// URL (its existence is checked on connect).
bool store_exists(const std::filesystem::path& location);
// The location as messages may show it: a URL without its password (removed,
// not masked, so that a printed command can be pasted; libpq then takes the
// password from PGPASSWORD or ~/.pgpass).
std::string display_store_location(std::string_view location);

// Copies `run` (as loaded from another store) into `into` under its own id,
// so that copying it twice writes it once: a run already there is kept,
// unless that copy is still 'running' and `run` is further along (finished,
// or more windows), when it is replaced (a write cut off part-way). Windows
// whose external id `into` already holds are left out. True when it wrote.
bool copy_run(RunRecord run, Store& into);

// ---- Spool: a local SQLite file for runs the store could not take ------------

inline constexpr const char* kDefaultSpoolPath = "joulebench-spool.db";

struct SpoolOptions {
  std::filesystem::path path = kDefaultSpoolPath;  // created on the first spooled run
  double retry_initial_s = 1.0;  // after a failure the store is left alone this long, doubled per
  double retry_max_s = 60.0;     // failure up to this; a success resets it
  // Told when the store goes away (runs now go to the spool) and when
  // spooled runs reach it again; nullptr: silent.
  std::function<void(const std::string& message)> notify;
};

// A store in front of another (a PostgreSQL database) that never loses a
// write: when the other is unavailable (StoreUnavailable), the run being
// written goes whole to the spool file (a SQLite store: same schema, same run
// id) and later writes go there too until the backoff has passed; each
// begin_run first tries to flush the spool. Flushing uses copy_run and then
// removes the run from the spool, so a run reaches the store once even when a
// flush is cut short. Reads see both: the spool's runs count as stored (bench
// resume skips their cells); while the store is unreachable reads return the
// spool's runs alone. A spool left by an earlier process is read and flushed
// too. Contract: docs/store.md.
class SpooledStore : public Store {
 public:
  // Finished runs in the spool, not yet in the store.
  virtual std::size_t pending() = 0;
  // Runs this process wrote to the spool / moved from the spool to the store.
  virtual std::size_t spooled_count() const = 0;
  virtual std::size_t flushed_count() const = 0;
  virtual const std::filesystem::path& spool_path() const = 0;
  // Why the store was last unavailable ("" when it never was).
  virtual std::string last_error() const = 0;
  // Tries to move the spool to the store now: up to `attempts` times, waiting
  // wait_s, 2 x wait_s, ... in between. Returns the runs still pending; an
  // emptied spool file is removed.
  virtual std::size_t flush(int attempts = 1, double wait_s = 0.0) = 0;
};

// `primary` in front of the spool at options.path (opened now if it exists).
std::unique_ptr<SpooledStore> open_spooled_store(std::unique_ptr<Store> primary, SpoolOptions options = {});

// RFC 4122 version-4 UUID text.
std::string make_uuid();
// ISO 8601 UTC with seconds ("2023-09-08T12:50:22Z"), and back (nullopt if malformed;
// a missing zone is read as UTC, as CodeCarbon writes it).
std::string format_utc(std::chrono::system_clock::time_point t);
std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text);

}  // namespace joulebench
