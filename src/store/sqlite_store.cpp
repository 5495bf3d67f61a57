// The SQLite backend of Store: WAL journal, foreign keys on, every write in a
// transaction, values only through bound parameters.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/store.h"
#include "schema.h"
#include "sqlite_db.h"
#include "net/postgres.h"
#include "store_backends.h"

namespace joulebench {
namespace {

using store::Database;
using store::Statement;
using store::Transaction;
using Clock = std::chrono::system_clock;

using store::time_of;
using store::time_text;

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::filesystem::path& path, bool read_only) : db_(path.string(), read_only) {
    if (read_only) {
      const int have = stored_schema_version();
      check_not_newer(have, store::current_schema_version());
      if (have < store::current_schema_version())
        throw InputError(fmt::format("store {} has schema version {}, older than this joulebench's ({}), and is "
                                     "read-only to us: upgrade it once with a command that writes (e.g. "
                                     "`joulebench import` or `joulebench merge {} -o COPY.db`)",
                                     db_.path(), have, store::current_schema_version(), db_.path()));
      return;
    }
    // Processes opening a new store together: the switch to WAL and the
    // first reads of its index may return SQLITE_BUSY at once (no busy
    // wait); they are retried for up to about 10 s.
    for (int attempt = 1;; ++attempt) {
      try {
        prepare();
        return;
      } catch (const store::Busy&) {
        if (attempt >= 200) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 * attempt, 100)));
      }
    }
  }

  void prepare() {
    // WAL: readers never block the writer, and a crash mid-transaction leaves
    // the last committed state. Not available on some network filesystems:
    // SQLite then keeps its rollback journal, which is as safe, only slower.
    {
      Statement wal(db_.handle(), "PRAGMA journal_mode=WAL");
      wal.step();
    }
    db_.exec("PRAGMA foreign_keys=ON");
    db_.exec("PRAGMA synchronous=NORMAL");
    migrate();
  }

  std::string location() const override { return db_.path(); }

  int schema_version() override {
    Statement s(db_.handle(), "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    s.step();
    return static_cast<int>(s.integer(0));
  }

  std::string save_run(RunRecord run) override { return write_run(std::move(run), false); }
  std::string replace_run(RunRecord run) override { return write_run(std::move(run), true); }

  std::string write_run(RunRecord run, bool replace) {
    if (run.id.empty()) run.id = make_uuid();
    Transaction txn(db_);
    if (replace) {
      Statement del(db_.handle(), "DELETE FROM runs WHERE id = ?1");
      del.bind(1, run.id);
      del.run();
    }
    insert_run(run);
    int seq = 0;
    for (auto& w : run.windows) {
      w.seq = ++seq;
      insert_window(run.id, w);
    }
    txn.commit();
    return run.id;
  }

  std::string begin_run(RunRecord run) override {
    if (run.id.empty()) run.id = make_uuid();
    run.status = RunStatus::running;
    run.ended_at.reset();
    Transaction txn(db_);
    insert_run(run);
    txn.commit();
    return run.id;
  }

  int add_window(const std::string& run_id, WindowRecord window) override {
    Transaction txn(db_);
    {
      Statement status(db_.handle(), "SELECT status FROM runs WHERE id = ?1");
      status.bind(1, run_id);
      if (!status.step()) throw InputError(fmt::format("store: no run {} to add a window to", run_id));
      if (status.text(0) != "running")
        throw InputError(fmt::format("store: run {} is {}; windows can only be added while it runs", run_id,
                                     status.text(0)));
    }
    {
      Statement next(db_.handle(), "SELECT COALESCE(MAX(seq), 0) + 1 FROM windows WHERE run_id = ?1");
      next.bind(1, run_id);
      next.step();
      window.seq = static_cast<int>(next.integer(0));
    }
    insert_window(run_id, window);
    txn.commit();
    return window.seq;
  }

  void finish_run(const std::string& run_id, RunStatus status, std::string note) override {
    Transaction txn(db_);
    Statement s(db_.handle(), "UPDATE runs SET status = ?1, ended_at = ?2, note = ?3 WHERE id = ?4");
    s.bind(1, to_string(status)).bind(2, time_text(Clock::now())).bind(3, note).bind(4, run_id);
    s.run();
    if (sqlite3_changes(db_.handle()) == 0) throw InputError(fmt::format("store: no run {}", run_id));
    txn.commit();
  }

  std::optional<RunRecord> load_run(const std::string& id_or_prefix) override {
    const auto id = resolve_id(id_or_prefix);
    if (!id) return std::nullopt;
    Statement s(db_.handle(), kSelectRun + std::string(" WHERE id = ?1"));
    s.bind(1, *id);
    if (!s.step()) return std::nullopt;
    RunRecord run = read_run(s);
    WindowQuery q;
    q.run_id = run.id;
    q.phase.clear();
    q.include_unfinished = true;
    for (auto& w : query_windows(q)) run.windows.push_back(std::move(w.window));
    return run;
  }

  std::vector<RunSummary> list_runs() override {
    Statement s(db_.handle(), store::kListRunsSql);
    std::vector<RunSummary> out;
    while (s.step()) {
      RunSummary r;
      r.id = s.text(0);
      r.kind = run_kind_from_string(s.text(1)).value_or(RunKind::measure);
      r.status = run_status_from_string(s.text(2)).value_or(RunStatus::failed);
      r.started_at = time_of(s.text(3));
      if (!s.is_null(4)) r.ended_at = time_of(s.text(4));
      r.hostname = s.text(5);
      r.source = s.text(6);
      r.project = s.text(7);
      r.windows = static_cast<int>(s.integer(8));
      r.energy_j = s.real(9);
      r.g_co2e = s.real(10);
      r.note = s.text(11);
      r.task = s.text(12) == s.text(13) ? s.text(12) : "(several)";
      r.model = s.text(14) == s.text(15) ? s.text(14) : "(several)";
      if (!s.is_null(16) && s.integer(16) == s.integer(17)) r.batch_size = static_cast<int>(s.integer(16));
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<StoredWindow> query_windows(const WindowQuery& q) override {
    // Only the filters given, so that SQLite uses the (run_id, seq) key and the
    // task index: "(?1 = '' OR w.run_id = ?1)" scanned every window per call.
    std::string sql = R"sql(
SELECT w.run_id, r.kind, r.status, r.intensity_g_per_kwh, r.pue,
       w.seq, w.name, COALESCE(w.task, ''), COALESCE(w.model, ''), COALESCE(w.dataset, ''), w.phase,
       w.repetition, w.started_at, w.duration_s, w.inferences, w.input_tokens, w.output_tokens,
       w.latency_p50_s, w.latency_p95_s, w.g_co2e, COALESCE(w.external_id, ''), w.warnings_json,
       w.batch_size, w.threads, COALESCE(w.dtype, ''), COALESCE(w.device, ''), w.zero_shot, w.includes_loading,
       w.loading_share
FROM windows w JOIN runs r ON r.id = w.run_id
WHERE 1 = 1)sql";
    const std::pair<const char*, const std::string*> filters[] = {
        {"w.run_id", &q.run_id}, {"w.task", &q.task},   {"w.model", &q.model},
        {"w.dataset", &q.dataset}, {"w.phase", &q.phase}};
    int n = 0;
    for (const auto& [column, value] : filters)
      if (!value->empty()) sql += fmt::format(" AND {} = ?{}", column, ++n);
    if (!q.include_unfinished) sql += " AND r.status IN ('complete', 'interrupted')";
    sql += " ORDER BY r.started_at, w.run_id, w.seq";
    Statement s(db_.handle(), sql);
    n = 0;
    for (const auto& [column, value] : filters)
      if (!value->empty()) s.bind(++n, *value);
    Statement comps(db_.handle(), R"sql(
SELECT component, energy_j, attributed_energy_j, dynamic_energy_j, provenance, sources_json, band_factor
FROM component_energy WHERE run_id = ?1 AND seq = ?2 ORDER BY idx)sql");
    std::vector<StoredWindow> out;
    while (s.step()) {
      StoredWindow sw;
      sw.run_id = s.text(0);
      sw.kind = run_kind_from_string(s.text(1)).value_or(RunKind::measure);
      sw.status = run_status_from_string(s.text(2)).value_or(RunStatus::failed);
      sw.intensity_g_per_kwh = s.real(3);
      sw.pue = s.real(4);
      WindowRecord& w = sw.window;
      w.seq = static_cast<int>(s.integer(5));
      w.measurement.name = s.text(6);
      w.task = s.text(7);
      w.model = s.text(8);
      w.dataset = s.text(9);
      w.phase = s.text(10);
      if (auto r = s.opt_integer(11)) w.repetition = static_cast<int>(*r);
      w.measurement.start_time = time_of(s.text(12));
      w.measurement.duration_s = s.real(13);
      w.inferences = s.opt_integer(14);
      w.input_tokens = s.opt_integer(15);
      w.output_tokens = s.opt_integer(16);
      w.latency_p50_s = s.opt_real(17);
      w.latency_p95_s = s.opt_real(18);
      w.g_co2e = s.opt_real(19);
      w.external_id = s.text(20);
      auto warnings = nlohmann::json::parse(s.text(21), nullptr, false);
      if (warnings.is_array())
        for (const auto& x : warnings)
          if (x.is_string()) w.measurement.warnings.push_back(x.get<std::string>());
      if (auto b = s.opt_integer(22)) w.batch_size = static_cast<int>(*b);
      if (auto t = s.opt_integer(23)) w.threads = static_cast<int>(*t);
      w.dtype = s.text(24);
      w.device = s.text(25);
      w.zero_shot = s.integer(26) != 0;
      w.includes_loading = s.integer(27) != 0;
      w.loading_share = s.opt_real(28);
      comps.bind(1, sw.run_id).bind(2, w.seq);
      while (comps.step()) {
        ComponentEnergy c;
        c.component = component_from_string(comps.text(0)).value_or(Component::other);
        c.energy_j = comps.real(1);
        c.attributed_energy_j = comps.opt_real(2);
        c.dynamic_energy_j = comps.opt_real(3);
        c.provenance = Provenance::parse(comps.text(4)).value_or(Provenance{});
        auto sources = nlohmann::json::parse(comps.text(5), nullptr, false);
        if (sources.is_array())
          for (const auto& x : sources)
            if (x.is_string()) c.sources.push_back(x.get<std::string>());
        c.band_factor = comps.opt_real(6).value_or(1.0);
        w.measurement.components.push_back(std::move(c));
      }
      comps.reset();
      out.push_back(std::move(sw));
    }
    return out;
  }

  bool has_external_id(const std::string& external_id) override {
    Statement s(db_.handle(), "SELECT 1 FROM windows WHERE external_id = ?1");
    s.bind(1, external_id);
    return s.step();
  }

  bool delete_run(const std::string& id) override {
    Transaction txn(db_);
    Statement s(db_.handle(), "DELETE FROM runs WHERE id = ?1");
    s.bind(1, id);
    s.run();
    const bool deleted = sqlite3_changes(db_.handle()) > 0;
    txn.commit();
    return deleted;
  }

 private:
  static constexpr const char* kSelectRun = R"sql(
SELECT id, kind, status, started_at, ended_at, user_name, hostname, os, cpu_model, cpu_count, gpu_model,
       gpu_count, ram_total_gb, software_json, country_iso3, country_name, cloud_provider, cloud_region, city,
       intensity_g_per_kwh, intensity_origin, intensity_source, intensity_zone, intensity_year, pue, pue_source,
       config_json, source, project, note
FROM runs)sql";

  // The version is read again inside BEGIN IMMEDIATE (the write lock), so that
  // processes opening a new store together migrate it once: the others wait,
  // then find it current.
  int stored_schema_version() {
    Statement exists(db_.handle(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    return exists.step() ? schema_version() : 0;
  }

  void check_not_newer(int have, int latest) {
    if (have > latest)
      throw Error(fmt::format("store {} has schema version {}, newer than this joulebench understands ({}): "
                              "use a newer joulebench or another --store",
                              db_.path(), have, latest));
  }

  void migrate() {
    const int latest = store::current_schema_version();
    int have = stored_schema_version();  // without the lock: the usual, current store is not locked
    check_not_newer(have, latest);
    if (have == latest) return;
    Transaction txn(db_);
    have = stored_schema_version();
    check_not_newer(have, latest);
    for (const auto& m : store::migrations()) {
      if (m.version <= have) continue;
      for (const char* sql : m.statements) db_.exec(sql);
      for (const char* sql : m.sqlite) db_.exec(sql);
      Statement rec(db_.handle(), "INSERT INTO schema_version (version, applied_at, description) VALUES (?1, ?2, ?3)");
      rec.bind(1, m.version).bind(2, time_text(Clock::now())).bind(3, m.description);
      rec.run();
    }
    txn.commit();
  }

  std::optional<std::string> resolve_id(const std::string& id_or_prefix) {
    if (id_or_prefix.empty()) return std::nullopt;
    {  // A whole id: the primary key (the prefix search below reads every run).
      Statement exact(db_.handle(), "SELECT id FROM runs WHERE id = ?1");
      exact.bind(1, id_or_prefix);
      if (exact.step()) return exact.text(0);
    }
    Statement s(db_.handle(), "SELECT id FROM runs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 3");
    s.bind(1, id_or_prefix);
    std::vector<std::string> ids;
    while (s.step()) ids.push_back(s.text(0));
    if (ids.empty()) return std::nullopt;
    for (const auto& id : ids)
      if (id == id_or_prefix) return id;
    if (ids.size() > 1)
      throw InputError(fmt::format("run id prefix '{}' is ambiguous ({}, {}, ...): give more characters",
                                   id_or_prefix, ids[0], ids[1]));
    return ids.front();
  }

  RunRecord read_run(Statement& s) {
    RunRecord r;
    r.id = s.text(0);
    r.kind = run_kind_from_string(s.text(1)).value_or(RunKind::measure);
    r.status = run_status_from_string(s.text(2)).value_or(RunStatus::failed);
    r.started_at = time_of(s.text(3));
    if (!s.is_null(4)) r.ended_at = time_of(s.text(4));
    r.user = s.text(5);
    r.machine.hostname = s.text(6);
    r.machine.os = s.text(7);
    r.machine.cpu_model = s.text(8);
    r.machine.cpu_count = static_cast<int>(s.integer(9));
    r.machine.gpu_model = s.text(10);
    r.machine.gpu_count = static_cast<int>(s.integer(11));
    r.machine.ram_total_gb = s.opt_real(12);
    auto software = nlohmann::json::parse(s.text(13), nullptr, false);
    if (software.is_object())
      for (auto& [k, v] : software.items())
        if (v.is_string()) r.software[k] = v.get<std::string>();
    r.intensity.country_iso3 = s.text(14);
    r.intensity.country_name = s.text(15);
    r.intensity.cloud_provider = s.text(16);
    r.intensity.cloud_region = s.text(17);
    r.intensity.city = s.text(18);
    r.intensity.g_per_kwh = s.real(19);
    const std::string origin = s.text(20);
    for (auto o : {IntensityOrigin::user, IntensityOrigin::country_table, IntensityOrigin::cloud_table,
                   IntensityOrigin::live, IntensityOrigin::logged, IntensityOrigin::world_average})
      if (to_string(o) == origin) r.intensity.origin = o;
    r.intensity.source = s.text(21);
    r.intensity.zone = s.text(22);
    if (auto y = s.opt_integer(23)) r.intensity.year = static_cast<int>(*y);
    r.pue = s.real(24);
    r.pue_source = s.text(25);
    r.config_json = s.text(26);
    r.source = s.text(27);
    r.project = s.text(28);
    r.note = s.text(29);
    return r;
  }

  void insert_run(const RunRecord& r) {
    Statement s(db_.handle(), R"sql(
INSERT INTO runs (id, kind, status, started_at, ended_at, user_name, hostname, os, cpu_model, cpu_count,
  gpu_model, gpu_count, ram_total_gb, software_json, country_iso3, country_name, cloud_provider, cloud_region,
  city, intensity_g_per_kwh, intensity_origin, intensity_source, intensity_zone, intensity_year, pue, pue_source,
  config_json, source, project, note)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
  ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30))sql");
    nlohmann::json software = r.software;
    s.bind(1, r.id).bind(2, to_string(r.kind)).bind(3, to_string(r.status)).bind(4, time_text(r.started_at));
    if (r.ended_at) s.bind(5, time_text(*r.ended_at));
    else s.bind_null(5);
    s.bind(6, r.user).bind(7, r.machine.hostname).bind(8, r.machine.os).bind(9, r.machine.cpu_model);
    s.bind(10, r.machine.cpu_count).bind(11, r.machine.gpu_model).bind(12, r.machine.gpu_count);
    s.bind(13, r.machine.ram_total_gb).bind(14, software.dump());
    s.bind(15, r.intensity.country_iso3).bind(16, r.intensity.country_name).bind(17, r.intensity.cloud_provider);
    s.bind(18, r.intensity.cloud_region).bind(19, r.intensity.city).bind(20, r.intensity.g_per_kwh);
    s.bind(21, to_string(r.intensity.origin)).bind(22, r.intensity.source).bind(23, r.intensity.zone);
    if (r.intensity.year) s.bind(24, *r.intensity.year);
    else s.bind_null(24);
    s.bind(25, r.pue).bind(26, r.pue_source).bind(27, r.config_json.empty() ? "{}" : r.config_json);
    s.bind(28, r.source).bind(29, r.project).bind(30, r.note);
    s.run();
  }

  void insert_name(const char* table_sql, const std::string& name) {
    if (name.empty()) return;
    Statement s(db_.handle(), table_sql);
    s.bind(1, name);
    s.run();
  }

  void insert_window(const std::string& run_id, const WindowRecord& w) {
    insert_name("INSERT INTO tasks (name) VALUES (?1) ON CONFLICT DO NOTHING", w.task);
    insert_name("INSERT INTO models (name) VALUES (?1) ON CONFLICT DO NOTHING", w.model);
    insert_name("INSERT INTO datasets (name) VALUES (?1) ON CONFLICT DO NOTHING", w.dataset);
    const Measurement& m = w.measurement;
    std::optional<double> attributed, dynamic;
    for (const auto& c : m.components) {
      if (!is_additive(c.component)) continue;
      if (c.attributed_energy_j) attributed = attributed.value_or(0.0) + *c.attributed_energy_j;
      if (c.dynamic_energy_j) dynamic = dynamic.value_or(0.0) + *c.dynamic_energy_j;
    }
    Statement s(db_.handle(), R"sql(
INSERT INTO windows (run_id, seq, name, task, model, dataset, phase, repetition, started_at, duration_s,
  inferences, input_tokens, output_tokens, latency_p50_s, latency_p95_s, energy_j, attributed_energy_j,
  dynamic_energy_j, g_co2e, weakest_provenance, external_id, warnings_json, batch_size, threads, dtype, device,
  zero_shot, includes_loading, loading_share)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24,
  ?25, ?26, ?27, ?28, ?29))sql");
    s.bind(1, run_id).bind(2, w.seq).bind(3, m.name).bind_text_or_null(4, w.task).bind_text_or_null(5, w.model);
    s.bind_text_or_null(6, w.dataset).bind(7, w.phase);
    if (w.repetition) s.bind(8, *w.repetition);
    else s.bind_null(8);
    s.bind(9, time_text(m.start_time)).bind(10, m.duration_s);
    s.bind(11, w.inferences).bind(12, w.input_tokens).bind(13, w.output_tokens);
    s.bind(14, w.latency_p50_s).bind(15, w.latency_p95_s).bind(16, m.total_energy_j());
    s.bind(17, attributed).bind(18, dynamic).bind(19, w.g_co2e);
    s.bind(20, to_string(m.weakest_provenance())).bind_text_or_null(21, w.external_id);
    s.bind(22, nlohmann::json(m.warnings).dump());
    s.bind(23, w.batch_size).bind(24, w.threads).bind_text_or_null(25, w.dtype).bind_text_or_null(26, w.device);
    s.bind(27, w.zero_shot ? 1 : 0).bind(28, w.includes_loading ? 1 : 0).bind(29, w.loading_share);
    s.run();
    Statement c(db_.handle(), R"sql(
INSERT INTO component_energy (run_id, seq, idx, component, energy_j, attributed_energy_j, dynamic_energy_j,
  provenance, sources_json, band_factor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10))sql");
    int idx = 0;
    for (const auto& comp : m.components) {
      c.bind(1, run_id).bind(2, w.seq).bind(3, idx++).bind(4, to_string(comp.component)).bind(5, comp.energy_j);
      c.bind(6, comp.attributed_energy_j).bind(7, comp.dynamic_energy_j).bind(8, comp.provenance.to_string());
      c.bind(9, nlohmann::json(comp.sources).dump()).bind(10, comp.band_factor);
      c.run();
    }
  }

  Database db_;
};

}  // namespace

std::unique_ptr<Store> open_store(const std::filesystem::path& path, StoreAccess access) {
  if (store::is_postgres_url(path.string())) return net::open_postgres_store(path.string());
  if (access == StoreAccess::read && path != ":memory:") {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      throw InputError(fmt::format("no store at {}: run `joulebench import codecarbon` or `joulebench bench` first, "
                                   "or give --store PATH",
                                   path.string()));
    if (std::filesystem::is_directory(path, ec))
      throw InputError(fmt::format("--store {} is a folder; give the store's file", path.string()));
    // Writable: opened as usual, so that an older store is migrated and WAL kept.
    const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    if (::access(path.c_str(), W_OK) == 0 && ::access(folder.c_str(), W_OK) == 0)
      return std::make_unique<SqliteStore>(path, false);
    return std::make_unique<SqliteStore>(path, true);
  }
  return std::make_unique<SqliteStore>(path, false);
}

}  // namespace joulebench
