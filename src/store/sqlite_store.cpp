// The SQLite backend of Store: WAL journal, foreign keys on, every write in a
// transaction, values only through bound parameters.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>
#include <type_traits>
#include <variant>

#include "joulebench/error.h"
#include "joulebench/store.h"
#include "rows.h"
#include "schema.h"
#include "sqlite_db.h"
#include "store_backends.h"

namespace joulebench {
namespace {

using store::Database;
using store::Statement;
using store::Transaction;
using Clock = std::chrono::system_clock;

using store::time_of;
using store::time_text;

// The shared row mapping (rows.h) over a SQLite statement's current row.
class StatementRow final : public store::Row {
 public:
  explicit StatementRow(const Statement& s) : s_(s) {}
  bool is_null(int col) const override { return s_.is_null(col); }
  std::string text(int col) const override { return s_.text(col); }
  double real(int col) const override { return s_.real(col); }
  std::int64_t integer(int col) const override { return s_.integer(col); }

 private:
  const Statement& s_;
};

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

  std::string begin_run(RunRecord given) override {
    const RunRecord run = store::started_run(std::move(given));
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
    Statement s(db_.handle(), store::kSelectRunSql + std::string(" WHERE id = ?1"));
    s.bind(1, *id);
    if (!s.step()) return std::nullopt;
    RunRecord run = store::run_from_row(StatementRow(s));
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
      RunSummary r = store::run_summary_from_row(StatementRow(s));
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<StoredWindow> query_windows(const WindowQuery& q) override {
    // Only the filters given, so that SQLite uses the (run_id, seq) key and the
    // task index: "(?1 = '' OR w.run_id = ?1)" scanned every window per call.
    std::string sql = store::kSelectWindowSql + std::string("WHERE 1 = 1");
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
    Statement comps(db_.handle(),
                    store::kSelectComponentSql + std::string("WHERE run_id = ?1 AND seq = ?2 ORDER BY idx"));
    std::vector<StoredWindow> out;
    while (s.step()) {
      StoredWindow sw = store::window_from_row(StatementRow(s));
      WindowRecord& w = sw.window;
      comps.bind(1, sw.run_id).bind(2, w.seq);
      while (comps.step()) {
        ComponentEnergy c = store::component_from_row(StatementRow(comps));
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
    Statement s(db_.handle(), store::run_ids_by_prefix_sql('?'));
    s.bind(1, id_or_prefix);
    std::vector<std::string> ids;
    while (s.step()) ids.push_back(s.text(0));
    return store::pick_run_id(id_or_prefix, ids);
  }

  void run_insert(const store::SqlInsert& insert) {
    Statement s(db_.handle(), insert.sql);
    for (std::size_t i = 0; i < insert.values.size(); ++i) {
      const int at = static_cast<int>(i + 1);
      std::visit(
          [&](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) s.bind_null(at);
            else s.bind(at, v);
          },
          insert.values[i]);
    }
    s.run();
  }

  void insert_run(const RunRecord& r) { run_insert(store::insert_run(r, '?')); }

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
    run_insert(store::insert_window(run_id, w, '?'));
    int idx = 0;
    for (const auto& comp : w.measurement.components)
      run_insert(store::insert_component(run_id, w.seq, idx++, comp, '?'));
  }

  Database db_;
};

}  // namespace

namespace store {
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& path, bool read_only) {
  return std::make_unique<SqliteStore>(path, read_only);
}
}  // namespace store

}  // namespace joulebench
