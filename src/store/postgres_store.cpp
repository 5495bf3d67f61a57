// The PostgreSQL backend of Store (libpqxx), for campaigns whose machines
// write to one database: the same schema and migrations as SQLite
// (schema.cpp), values only through bound parameters, every write in a
// transaction. Concurrent writers: migrations run under an advisory lock;
// add_window locks its run's row, so two writers never take the same seq.
// A lost connection (server restarted, network cut) throws StoreUnavailable
// and the next call connects again, so a caller can keep the run elsewhere
// and retry later (bench's spool, docs/store.md).
// Credentials come from libpq (the URL, PGPASSWORD, ~/.pgpass, a service
// file via PGSERVICE or ?service=): location() and errors never show a
// password.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "joulebench/error.h"
#include "joulebench/store.h"
#include "schema.h"
#include "store_backends.h"

namespace joulebench {
namespace {

using Clock = std::chrono::system_clock;

using store::time_of;
using store::time_text;

// Parameters as text (the server casts them to the column types); NULL for
// an empty optional.
class Params {
 public:
  Params& add(std::string_view v) { return push(std::string(v)); }
  Params& add(const char* v) { return push(std::string(v)); }
  Params& add(const std::string& v) { return push(v); }
  Params& add(double v) { return push(fmt::format("{}", v)); }
  Params& add(std::int64_t v) { return push(std::to_string(v)); }
  Params& add(int v) { return push(std::to_string(v)); }
  template <typename T>
  Params& add(const std::optional<T>& v) {
    return v ? add(*v) : null();
  }
  Params& text_or_null(const std::string& v) { return v.empty() ? null() : add(v); }
  Params& null() {
    values_.emplace_back();
    return *this;
  }

  pqxx::result exec(pqxx::transaction_base& t, const std::string& sql) const {
    std::vector<const char*> ptrs;
    ptrs.reserve(values_.size());
    for (const auto& v : values_) ptrs.push_back(v ? v->c_str() : nullptr);
    return t.exec_params(sql, pqxx::prepare::make_dynamic_params(ptrs));
  }

 private:
  Params& push(std::string v) {
    values_.emplace_back(std::move(v));
    return *this;
  }
  std::vector<std::optional<std::string>> values_;
};

std::string text(const pqxx::field& f) { return f.is_null() ? std::string() : std::string(f.c_str()); }
std::optional<double> opt_real(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<double>(f.as<double>());
}
std::optional<std::int64_t> opt_integer(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::int64_t>(f.as<std::int64_t>());
}

// Arbitrary constant: the key of the advisory lock taken while migrating.
constexpr std::int64_t kMigrationLock = 0x6a6f756c65;  // "joule"

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const std::string& url) : url_(url), conn_(connect(url)) {
    location_ = fmt::format("postgresql://{}@{}:{}/{}", conn_->username() ? conn_->username() : "",
                            conn_->hostname() ? conn_->hostname() : "", conn_->port() ? conn_->port() : "",
                            conn_->dbname() ? conn_->dbname() : "");
    guarded([&] { migrate(); });
  }

  std::string location() const override { return location_; }

  int schema_version() override {
    return guarded([&] {
      pqxx::work t(conn());
      return read_schema_version(t);
    });
  }

  std::string save_run(RunRecord run) override { return write_run(std::move(run), false); }
  std::string replace_run(RunRecord run) override { return write_run(std::move(run), true); }

  std::string write_run(RunRecord run, bool replace) {
    if (run.id.empty()) run.id = make_uuid();
    return guarded([&] {
      pqxx::work t(conn());
      if (replace) Params().add(run.id).exec(t, "DELETE FROM runs WHERE id = $1");
      insert_run(t, run);
      int seq = 0;
      for (auto& w : run.windows) {
        w.seq = ++seq;
        insert_window(t, run.id, w);
      }
      t.commit();
      return run.id;
    });
  }

  std::string begin_run(RunRecord run) override {
    if (run.id.empty()) run.id = make_uuid();
    run.status = RunStatus::running;
    run.ended_at.reset();
    return guarded([&] {
      pqxx::work t(conn());
      insert_run(t, run);
      t.commit();
      return run.id;
    });
  }

  int add_window(const std::string& run_id, WindowRecord window) override {
    return guarded([&] {
      pqxx::work t(conn());
      // FOR UPDATE: writers adding to the same run take turns, so seq is unique.
      const auto status = Params().add(run_id).exec(t, "SELECT status FROM runs WHERE id = $1 FOR UPDATE");
      if (status.empty()) throw InputError(fmt::format("store: no run {} to add a window to", run_id));
      const std::string st = text(status[0][0]);
      if (st != "running")
        throw InputError(
            fmt::format("store: run {} is {}; windows can only be added while it runs", run_id, st));
      const auto next = Params().add(run_id).exec(t, "SELECT COALESCE(MAX(seq), 0) + 1 FROM windows WHERE run_id = $1");
      window.seq = next[0][0].as<int>();
      insert_window(t, run_id, window);
      t.commit();
      return window.seq;
    });
  }

  void finish_run(const std::string& run_id, RunStatus status, std::string note) override {
    guarded([&] {
      pqxx::work t(conn());
      const auto r = Params().add(to_string(status)).add(time_text(Clock::now())).add(note).add(run_id).exec(
          t, "UPDATE runs SET status = $1, ended_at = $2, note = $3 WHERE id = $4");
      if (r.affected_rows() == 0) throw InputError(fmt::format("store: no run {}", run_id));
      t.commit();
    });
  }

  std::optional<RunRecord> load_run(const std::string& id_or_prefix) override {
    std::optional<RunRecord> run = guarded([&]() -> std::optional<RunRecord> {
      pqxx::work t(conn());
      const auto id = resolve_id(t, id_or_prefix);
      if (!id) return std::nullopt;
      const auto r = Params().add(*id).exec(t, kSelectRun + std::string(" WHERE id = $1"));
      if (r.empty()) return std::nullopt;
      return read_run(r[0]);
    });
    if (!run) return std::nullopt;
    WindowQuery q;
    q.run_id = run->id;
    q.phase.clear();
    q.include_unfinished = true;
    for (auto& w : query_windows(q)) run->windows.push_back(std::move(w.window));
    return run;
  }

  std::vector<RunSummary> list_runs() override {
    return guarded([&] { return read_list_runs(); });
  }

  std::vector<StoredWindow> query_windows(const WindowQuery& q) override {
    return guarded([&] { return read_windows(q); });
  }

  bool has_external_id(const std::string& external_id) override {
    return guarded([&] {
      pqxx::work t(conn());
      return !Params().add(external_id).exec(t, "SELECT 1 FROM windows WHERE external_id = $1").empty();
    });
  }

  bool delete_run(const std::string& id) override {
    return guarded([&] {
      pqxx::work t(conn());
      const auto r = Params().add(id).exec(t, "DELETE FROM runs WHERE id = $1");
      t.commit();
      return r.affected_rows() > 0;
    });
  }

 private:
  std::vector<RunSummary> read_list_runs() {
    pqxx::work t(conn());
    const auto rows = t.exec(store::kListRunsSql);
    std::vector<RunSummary> out;
    for (const auto& row : rows) {
      RunSummary r;
      r.id = text(row[0]);
      r.kind = run_kind_from_string(text(row[1])).value_or(RunKind::measure);
      r.status = run_status_from_string(text(row[2])).value_or(RunStatus::failed);
      r.started_at = time_of(text(row[3]));
      if (!row[4].is_null()) r.ended_at = time_of(text(row[4]));
      r.hostname = text(row[5]);
      r.source = text(row[6]);
      r.project = text(row[7]);
      r.windows = row[8].as<int>();
      r.energy_j = row[9].as<double>();
      r.g_co2e = row[10].as<double>();
      r.note = text(row[11]);
      r.task = text(row[12]) == text(row[13]) ? text(row[12]) : "(several)";
      r.model = text(row[14]) == text(row[15]) ? text(row[14]) : "(several)";
      if (!row[16].is_null() && row[16].as<long long>() == row[17].as<long long>()) r.batch_size = row[16].as<int>();
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<StoredWindow> read_windows(const WindowQuery& q) {
    pqxx::work t(conn());
    const auto rows = Params()
                          .add(q.run_id)
                          .add(q.task)
                          .add(q.model)
                          .add(q.dataset)
                          .add(q.phase)
                          .add(q.include_unfinished ? 1 : 0)
                          .exec(t, R"sql(
SELECT w.run_id, r.kind, r.status, r.intensity_g_per_kwh, r.pue,
       w.seq, w.name, COALESCE(w.task, ''), COALESCE(w.model, ''), COALESCE(w.dataset, ''), w.phase,
       w.repetition, w.started_at, w.duration_s, w.inferences, w.input_tokens, w.output_tokens,
       w.latency_p50_s, w.latency_p95_s, w.g_co2e, COALESCE(w.external_id, ''), w.warnings_json,
       w.batch_size, w.threads, COALESCE(w.dtype, ''), COALESCE(w.device, ''), w.zero_shot, w.includes_loading,
       w.loading_share
FROM windows w JOIN runs r ON r.id = w.run_id
WHERE ($1 = '' OR w.run_id = $1) AND ($2 = '' OR w.task = $2) AND ($3 = '' OR w.model = $3)
  AND ($4 = '' OR w.dataset = $4) AND ($5 = '' OR w.phase = $5)
  AND ($6::integer = 1 OR r.status IN ('complete', 'interrupted'))
ORDER BY r.started_at, w.run_id, w.seq)sql");
    std::vector<StoredWindow> out;
    for (const auto& row : rows) {
      StoredWindow sw;
      sw.run_id = text(row[0]);
      sw.kind = run_kind_from_string(text(row[1])).value_or(RunKind::measure);
      sw.status = run_status_from_string(text(row[2])).value_or(RunStatus::failed);
      sw.intensity_g_per_kwh = row[3].as<double>();
      sw.pue = row[4].as<double>();
      WindowRecord& w = sw.window;
      w.seq = row[5].as<int>();
      w.measurement.name = text(row[6]);
      w.task = text(row[7]);
      w.model = text(row[8]);
      w.dataset = text(row[9]);
      w.phase = text(row[10]);
      if (auto r = opt_integer(row[11])) w.repetition = static_cast<int>(*r);
      w.measurement.start_time = time_of(text(row[12]));
      w.measurement.duration_s = row[13].as<double>();
      w.inferences = opt_integer(row[14]);
      w.input_tokens = opt_integer(row[15]);
      w.output_tokens = opt_integer(row[16]);
      w.latency_p50_s = opt_real(row[17]);
      w.latency_p95_s = opt_real(row[18]);
      w.g_co2e = opt_real(row[19]);
      w.external_id = text(row[20]);
      auto warnings = nlohmann::json::parse(text(row[21]), nullptr, false);
      if (warnings.is_array())
        for (const auto& x : warnings)
          if (x.is_string()) w.measurement.warnings.push_back(x.get<std::string>());
      if (auto b = opt_integer(row[22])) w.batch_size = static_cast<int>(*b);
      if (auto th = opt_integer(row[23])) w.threads = static_cast<int>(*th);
      w.dtype = text(row[24]);
      w.device = text(row[25]);
      w.zero_shot = row[26].as<int>() != 0;
      w.includes_loading = row[27].as<int>() != 0;
      w.loading_share = opt_real(row[28]);
      const auto comps = Params().add(sw.run_id).add(w.seq).exec(t, R"sql(
SELECT component, energy_j, attributed_energy_j, dynamic_energy_j, provenance, sources_json, band_factor
FROM component_energy WHERE run_id = $1 AND seq = $2 ORDER BY idx)sql");
      for (const auto& cr : comps) {
        ComponentEnergy c;
        c.component = component_from_string(text(cr[0])).value_or(Component::other);
        c.energy_j = cr[1].as<double>();
        c.attributed_energy_j = opt_real(cr[2]);
        c.dynamic_energy_j = opt_real(cr[3]);
        c.provenance = Provenance::parse(text(cr[4])).value_or(Provenance{});
        auto sources = nlohmann::json::parse(text(cr[5]), nullptr, false);
        if (sources.is_array())
          for (const auto& x : sources)
            if (x.is_string()) c.sources.push_back(x.get<std::string>());
        c.band_factor = opt_real(cr[6]).value_or(1.0);
        w.measurement.components.push_back(std::move(c));
      }
      out.push_back(std::move(sw));
    }
    return out;
  }

  static constexpr const char* kSelectRun = R"sql(
SELECT id, kind, status, started_at, ended_at, user_name, hostname, os, cpu_model, cpu_count, gpu_model,
       gpu_count, ram_total_gb, software_json, country_iso3, country_name, cloud_provider, cloud_region, city,
       intensity_g_per_kwh, intensity_origin, intensity_source, intensity_zone, intensity_year, pue, pue_source,
       config_json, source, project, note
FROM runs)sql";

  static std::string trimmed(std::string why) {
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return why;
  }

  static std::unique_ptr<pqxx::connection> connect(const std::string& url) {
    try {
      return std::make_unique<pqxx::connection>(url);
    } catch (const std::exception& e) {
      // libpq's message names host and user, never the password; the URL
      // itself is not repeated (it may hold one).
      throw StoreUnavailable("store: cannot connect to PostgreSQL: " + trimmed(e.what()) +
                             " (check the URL's host, port and database, and the credentials in PGPASSWORD, "
                             "~/.pgpass or the service file)");
    }
  }

  // The connection, made again after one was lost.
  pqxx::connection& conn() {
    if (!conn_) conn_ = connect(url_);
    return *conn_;
  }

  // Connection class 08 and operator intervention 57P (server shutting down).
  static bool connection_state(const pqxx::sql_error& e) {
    const std::string& s = e.sqlstate();
    return s.rfind("08", 0) == 0 || s.rfind("57P", 0) == 0;
  }

  [[noreturn]] void lost(const std::exception& e) {
    conn_.reset();  // the next call connects again
    throw StoreUnavailable(fmt::format("store {}: connection lost: {}", location_, trimmed(e.what())));
  }

  // Every operation: a serialization failure or deadlock between concurrent
  // writers is tried again; a lost connection becomes StoreUnavailable (a
  // commit cut short, in_doubt_error, too: the caller keeps its copy and a
  // later copy_run replaces whatever part reached the server).
  template <typename F>
  auto guarded(F&& f) -> decltype(f()) {
    for (int attempt = 1;; ++attempt) {
      try {
        return f();
      } catch (const pqxx::transaction_rollback&) {
        if (attempt >= 5) throw;
      } catch (const pqxx::broken_connection& e) {
        lost(e);
      } catch (const pqxx::in_doubt_error& e) {
        lost(e);
      } catch (const pqxx::sql_error& e) {
        if (connection_state(e) || (conn_ && !conn_->is_open())) lost(e);
        throw;
      }
    }
  }

  static int read_schema_version(pqxx::transaction_base& t) {
    if (t.exec("SELECT to_regclass('schema_version')")[0][0].is_null()) return 0;
    return t.exec("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0].as<int>();
  }

  void migrate() {
    // DDL is transactional in PostgreSQL: all migrations in one transaction,
    // under a lock so that machines starting together migrate once.
    pqxx::work t(conn());
    t.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
    const int latest = store::current_schema_version();
    const int have = read_schema_version(t);
    if (have > latest)
      throw Error(fmt::format("store {} has schema version {}, newer than this joulebench understands ({}): "
                              "use a newer joulebench or another --store",
                              location_, have, latest));
    for (const auto& m : store::migrations()) {
      if (m.version <= have) continue;
      for (const char* sql : m.statements) t.exec(sql);
      for (const char* sql : m.postgres) t.exec(sql);
      Params().add(m.version).add(time_text(Clock::now())).add(m.description).exec(
          t, "INSERT INTO schema_version (version, applied_at, description) VALUES ($1, $2, $3)");
    }
    t.commit();
  }

  std::optional<std::string> resolve_id(pqxx::transaction_base& t, const std::string& id_or_prefix) {
    if (id_or_prefix.empty()) return std::nullopt;
    const auto rows = Params().add(id_or_prefix).exec(
        t, "SELECT id FROM runs WHERE substr(id, 1, length($1)) = $1 ORDER BY id LIMIT 3");
    std::vector<std::string> ids;
    for (const auto& row : rows) ids.push_back(text(row[0]));
    if (ids.empty()) return std::nullopt;
    for (const auto& id : ids)
      if (id == id_or_prefix) return id;
    if (ids.size() > 1)
      throw InputError(fmt::format("run id prefix '{}' is ambiguous ({}, {}, ...): give more characters",
                                   id_or_prefix, ids[0], ids[1]));
    return ids.front();
  }

  static RunRecord read_run(const pqxx::row& s) {
    RunRecord r;
    r.id = text(s[0]);
    r.kind = run_kind_from_string(text(s[1])).value_or(RunKind::measure);
    r.status = run_status_from_string(text(s[2])).value_or(RunStatus::failed);
    r.started_at = time_of(text(s[3]));
    if (!s[4].is_null()) r.ended_at = time_of(text(s[4]));
    r.user = text(s[5]);
    r.machine.hostname = text(s[6]);
    r.machine.os = text(s[7]);
    r.machine.cpu_model = text(s[8]);
    r.machine.cpu_count = s[9].as<int>();
    r.machine.gpu_model = text(s[10]);
    r.machine.gpu_count = s[11].as<int>();
    r.machine.ram_total_gb = opt_real(s[12]);
    auto software = nlohmann::json::parse(text(s[13]), nullptr, false);
    if (software.is_object())
      for (auto& [k, v] : software.items())
        if (v.is_string()) r.software[k] = v.get<std::string>();
    r.intensity.country_iso3 = text(s[14]);
    r.intensity.country_name = text(s[15]);
    r.intensity.cloud_provider = text(s[16]);
    r.intensity.cloud_region = text(s[17]);
    r.intensity.city = text(s[18]);
    r.intensity.g_per_kwh = s[19].as<double>();
    const std::string origin = text(s[20]);
    for (auto o : {IntensityOrigin::user, IntensityOrigin::country_table, IntensityOrigin::cloud_table,
                   IntensityOrigin::live, IntensityOrigin::logged, IntensityOrigin::world_average})
      if (to_string(o) == origin) r.intensity.origin = o;
    r.intensity.source = text(s[21]);
    r.intensity.zone = text(s[22]);
    if (auto y = opt_integer(s[23])) r.intensity.year = static_cast<int>(*y);
    r.pue = s[24].as<double>();
    r.pue_source = text(s[25]);
    r.config_json = text(s[26]);
    r.source = text(s[27]);
    r.project = text(s[28]);
    r.note = text(s[29]);
    return r;
  }

  static void insert_run(pqxx::transaction_base& t, const RunRecord& r) {
    nlohmann::json software = r.software;
    Params p;
    p.add(r.id).add(to_string(r.kind)).add(to_string(r.status)).add(time_text(r.started_at));
    if (r.ended_at) p.add(time_text(*r.ended_at));
    else p.null();
    p.add(r.user).add(r.machine.hostname).add(r.machine.os).add(r.machine.cpu_model);
    p.add(r.machine.cpu_count).add(r.machine.gpu_model).add(r.machine.gpu_count);
    p.add(r.machine.ram_total_gb).add(software.dump());
    p.add(r.intensity.country_iso3).add(r.intensity.country_name).add(r.intensity.cloud_provider);
    p.add(r.intensity.cloud_region).add(r.intensity.city).add(r.intensity.g_per_kwh);
    p.add(to_string(r.intensity.origin)).add(r.intensity.source).add(r.intensity.zone);
    p.add(r.intensity.year);
    p.add(r.pue).add(r.pue_source).add(r.config_json.empty() ? std::string("{}") : r.config_json);
    p.add(r.source).add(r.project).add(r.note);
    p.exec(t, R"sql(
INSERT INTO runs (id, kind, status, started_at, ended_at, user_name, hostname, os, cpu_model, cpu_count,
  gpu_model, gpu_count, ram_total_gb, software_json, country_iso3, country_name, cloud_provider, cloud_region,
  city, intensity_g_per_kwh, intensity_origin, intensity_source, intensity_zone, intensity_year, pue, pue_source,
  config_json, source, project, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
  $23, $24, $25, $26, $27, $28, $29, $30))sql");
  }

  static void insert_window(pqxx::transaction_base& t, const std::string& run_id, const WindowRecord& w) {
    for (const auto& [table, name] : {std::pair{"tasks", &w.task}, std::pair{"models", &w.model},
                                      std::pair{"datasets", &w.dataset}})
      if (!name->empty())
        Params().add(*name).exec(t, fmt::format("INSERT INTO {} (name) VALUES ($1) ON CONFLICT DO NOTHING", table));
    const Measurement& m = w.measurement;
    std::optional<double> attributed, dynamic;
    for (const auto& c : m.components) {
      if (!is_additive(c.component)) continue;
      if (c.attributed_energy_j) attributed = attributed.value_or(0.0) + *c.attributed_energy_j;
      if (c.dynamic_energy_j) dynamic = dynamic.value_or(0.0) + *c.dynamic_energy_j;
    }
    Params p;
    p.add(run_id).add(w.seq).add(m.name).text_or_null(w.task).text_or_null(w.model).text_or_null(w.dataset);
    p.add(w.phase).add(w.repetition).add(time_text(m.start_time)).add(m.duration_s);
    p.add(w.inferences).add(w.input_tokens).add(w.output_tokens).add(w.latency_p50_s).add(w.latency_p95_s);
    p.add(m.total_energy_j()).add(attributed).add(dynamic).add(w.g_co2e);
    p.add(to_string(m.weakest_provenance())).text_or_null(w.external_id).add(nlohmann::json(m.warnings).dump());
    p.add(w.batch_size).add(w.threads).text_or_null(w.dtype).text_or_null(w.device);
    p.add(w.zero_shot ? 1 : 0).add(w.includes_loading ? 1 : 0).add(w.loading_share);
    p.exec(t, R"sql(
INSERT INTO windows (run_id, seq, name, task, model, dataset, phase, repetition, started_at, duration_s,
  inferences, input_tokens, output_tokens, latency_p50_s, latency_p95_s, energy_j, attributed_energy_j,
  dynamic_energy_j, g_co2e, weakest_provenance, external_id, warnings_json, batch_size, threads, dtype, device,
  zero_shot, includes_loading, loading_share)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
  $25, $26, $27, $28, $29))sql");
    int idx = 0;
    for (const auto& comp : m.components) {
      Params()
          .add(run_id)
          .add(w.seq)
          .add(idx++)
          .add(to_string(comp.component))
          .add(comp.energy_j)
          .add(comp.attributed_energy_j)
          .add(comp.dynamic_energy_j)
          .add(comp.provenance.to_string())
          .add(nlohmann::json(comp.sources).dump())
          .add(comp.band_factor)
          .exec(t, R"sql(
INSERT INTO component_energy (run_id, seq, idx, component, energy_j, attributed_energy_j, dynamic_energy_j,
  provenance, sources_json, band_factor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10))sql");
    }
  }

  std::string url_;  // to connect again; never shown (it may hold a password)
  std::unique_ptr<pqxx::connection> conn_;
  std::string location_;
};

}  // namespace

namespace store {

std::unique_ptr<Store> connect_postgres_store(const std::string& url) { return std::make_unique<PostgresStore>(url); }

}  // namespace store
}  // namespace joulebench
