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

#include <type_traits>
#include <variant>

#include "joulebench/error.h"
#include "joulebench/store.h"
#include "rows.h"
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

// The shared row mapping (rows.h) over a libpqxx row.
class PqRow final : public store::Row {
 public:
  explicit PqRow(const pqxx::row& r) : r_(r) {}
  bool is_null(int col) const override { return r_[col].is_null(); }
  std::string text(int col) const override { return ::joulebench::text(r_[col]); }
  double real(int col) const override { return r_[col].as<double>(); }
  std::int64_t integer(int col) const override { return r_[col].as<std::int64_t>(); }

 private:
  const pqxx::row& r_;
};

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

  std::string begin_run(RunRecord given) override {
    const RunRecord run = store::started_run(std::move(given));
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
      const auto r = Params().add(*id).exec(t, store::kSelectRunSql + std::string(" WHERE id = $1"));
      if (r.empty()) return std::nullopt;
      return store::run_from_row(PqRow(r[0]));
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
      RunSummary r = store::run_summary_from_row(PqRow(row));
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
                          .exec(t, store::kSelectWindowSql + std::string(R"sql(
WHERE ($1 = '' OR w.run_id = $1) AND ($2 = '' OR w.task = $2) AND ($3 = '' OR w.model = $3)
  AND ($4 = '' OR w.dataset = $4) AND ($5 = '' OR w.phase = $5)
  AND ($6::integer = 1 OR r.status IN ('complete', 'interrupted'))
ORDER BY r.started_at, w.run_id, w.seq)sql"));
    std::vector<StoredWindow> out;
    for (const auto& row : rows) {
      StoredWindow sw = store::window_from_row(PqRow(row));
      WindowRecord& w = sw.window;
      const auto comps = Params().add(sw.run_id).add(w.seq).exec(
          t, store::kSelectComponentSql + std::string("WHERE run_id = $1 AND seq = $2 ORDER BY idx"));
      for (const auto& cr : comps) {
        ComponentEnergy c = store::component_from_row(PqRow(cr));
        w.measurement.components.push_back(std::move(c));
      }
      out.push_back(std::move(sw));
    }
    return out;
  }

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
      } catch (const pqxx::integrity_constraint_violation& e) {
        // As SQLite's SQLITE_CONSTRAINT: a value the schema refuses is bad input.
        throw InputError(fmt::format("store {}: value refused by the schema ({})", location(), trimmed(e.what())));
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
    const auto rows = Params().add(id_or_prefix).exec(t, store::run_ids_by_prefix_sql('$'));
    std::vector<std::string> ids;
    for (const auto& row : rows) ids.push_back(text(row[0]));
    return store::pick_run_id(id_or_prefix, ids);
  }

  static void run_insert(pqxx::transaction_base& t, const store::SqlInsert& insert) {
    Params p;
    for (const auto& value : insert.values)
      std::visit(
          [&](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) p.null();
            else p.add(v);
          },
          value);
    p.exec(t, insert.sql);
  }

  static void insert_run(pqxx::transaction_base& t, const RunRecord& r) { run_insert(t, store::insert_run(r, '$')); }

  static void insert_window(pqxx::transaction_base& t, const std::string& run_id, const WindowRecord& w) {
    for (const auto& [table, name] : {std::pair{"tasks", &w.task}, std::pair{"models", &w.model},
                                      std::pair{"datasets", &w.dataset}})
      if (!name->empty())
        Params().add(*name).exec(t, fmt::format("INSERT INTO {} (name) VALUES ($1) ON CONFLICT DO NOTHING", table));
    run_insert(t, store::insert_window(run_id, w, '$'));
    int idx = 0;
    for (const auto& comp : w.measurement.components)
      run_insert(t, store::insert_component(run_id, w.seq, idx++, comp, '$'));
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
