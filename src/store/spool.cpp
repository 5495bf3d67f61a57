// The spool: a local SQLite store that keeps the runs a shared store
// (PostgreSQL) could not take, and the copy that moves them there exactly once.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/store.h"
#include "store/rows.h"

namespace joulebench {

bool copy_run(RunRecord run, Store& into) {
  const auto there = into.load_run(run.id);
  const bool replacing = there && there->id == run.id;
  if (replacing) {
    const bool further = there->status == RunStatus::running &&
                         (run.status != RunStatus::running || run.windows.size() > there->windows.size());
    if (!further) return false;
  }
  // An imported window keeps its external id, unique per store: skip those
  // already imported into the target by another route (not those of the copy
  // being replaced, which go with it).
  std::set<std::string> replaced;
  if (replacing)
    for (const auto& w : there->windows) replaced.insert(w.external_id);
  std::erase_if(run.windows, [&](const WindowRecord& w) {
    return !w.external_id.empty() && !replaced.count(w.external_id) && into.has_external_id(w.external_id);
  });
  if (replacing) into.replace_run(std::move(run));  // one transaction: never a moment without the run
  else into.save_run(std::move(run));
  return true;
}

namespace {

using Clock = std::chrono::steady_clock;

class SpooledStoreImpl final : public SpooledStore {
 public:
  SpooledStoreImpl(std::unique_ptr<Store> primary, SpoolOptions options)
      : primary_(std::move(primary)), options_(std::move(options)), backoff_s_(options_.retry_initial_s) {
    std::error_code ec;
    if (std::filesystem::exists(options_.path, ec)) spool_ = open_store(options_.path);
  }

  std::string location() const override { return primary_->location(); }

  int schema_version() override {
    if (auto v = on_primary([&] { return primary_->schema_version(); })) return *v;
    return spool_ ? spool_->schema_version() : 0;
  }

  std::string save_run(RunRecord run) override { return write_whole(std::move(run), &Store::save_run); }
  std::string replace_run(RunRecord run) override { return write_whole(std::move(run), &Store::replace_run); }

  std::string begin_run(RunRecord given) override {
    RunRecord run = store::started_run(std::move(given));
    run.windows.clear();
    // Each new run first gives the spooled ones a chance (when the backoff allows).
    if (spool_ && primary_due()) flush_once();
    OpenRun& open = open_[run.id];
    open.record = run;
    if (!on_primary([&] { return primary_->begin_run(run); })) move_to_spool(open);
    return run.id;
  }

  int add_window(const std::string& run_id, WindowRecord window) override {
    const auto it = open_.find(run_id);
    if (it == open_.end()) return primary_->add_window(run_id, std::move(window));  // not begun here
    OpenRun& open = it->second;
    if (!open.spooled) {
      if (auto seq = on_primary([&] { return primary_->add_window(run_id, window); })) {
        window.seq = *seq;
        open.record.windows.push_back(std::move(window));
        return *seq;
      }
      move_to_spool(open);
    }
    window.seq = spool_->add_window(run_id, window);
    open.record.windows.push_back(window);
    return window.seq;
  }

  void finish_run(const std::string& run_id, RunStatus status, std::string note) override {
    const auto it = open_.find(run_id);
    if (it == open_.end()) return primary_->finish_run(run_id, status, std::move(note));
    OpenRun& open = it->second;
    if (!open.spooled && on_primary([&] {
          primary_->finish_run(run_id, status, note);
          return true;
        })) {
      open_.erase(it);
      return;
    }
    if (!open.spooled) move_to_spool(open);
    spool_->finish_run(run_id, status, std::move(note));
    open_.erase(it);
  }

  std::optional<RunRecord> load_run(const std::string& id_or_prefix) override {
    if (spool_)
      if (auto run = spool_->load_run(id_or_prefix)) return run;
    if (auto run = on_primary([&] { return primary_->load_run(id_or_prefix); })) return *run;
    return std::nullopt;
  }

  std::vector<RunSummary> list_runs() override {
    std::vector<RunSummary> out = spool_ ? spool_->list_runs() : std::vector<RunSummary>{};
    std::set<std::string> spooled;
    for (const auto& r : out) spooled.insert(r.id);
    if (auto runs = on_primary([&] { return primary_->list_runs(); }))
      for (auto& r : *runs)
        if (!spooled.count(r.id)) out.push_back(std::move(r));
    std::stable_sort(out.begin(), out.end(), [](const RunSummary& a, const RunSummary& b) {
      return a.started_at != b.started_at ? a.started_at < b.started_at : a.id < b.id;
    });
    return out;
  }

  std::vector<StoredWindow> query_windows(const WindowQuery& query) override {
    std::vector<StoredWindow> out;
    std::set<std::string> spooled;
    if (spool_) {
      for (const auto& r : spool_->list_runs()) spooled.insert(r.id);
      out = spool_->query_windows(query);
    }
    if (auto windows = on_primary([&] { return primary_->query_windows(query); }))
      for (auto& w : *windows)
        if (!spooled.count(w.run_id)) out.push_back(std::move(w));
    return out;
  }

  bool has_external_id(const std::string& external_id) override {
    if (spool_ && spool_->has_external_id(external_id)) return true;
    return on_primary([&] { return primary_->has_external_id(external_id); }).value_or(false);
  }

  bool delete_run(const std::string& id) override {
    open_.erase(id);
    bool deleted = spool_ && spool_->delete_run(id);
    // Unreachable: the store keeps its part as a 'running' run, which reports
    // leave out and bench deletes before it runs that cell again.
    deleted = on_primary([&] { return primary_->delete_run(id); }).value_or(false) || deleted;
    return deleted;
  }

  std::size_t pending() override {
    if (!spool_) return 0;
    std::size_t n = 0;
    for (const auto& r : spool_->list_runs()) n += open_.count(r.id) ? 0 : 1;
    return n;
  }
  std::size_t spooled_count() const override { return spooled_; }
  std::size_t flushed_count() const override { return flushed_; }
  const std::filesystem::path& spool_path() const override { return options_.path; }
  std::string last_error() const override { return last_error_; }

  std::size_t flush(int attempts, double wait_s) override {
    std::size_t left = pending();
    for (int attempt = 1; left > 0 && attempt <= std::max(1, attempts); ++attempt) {
      if (attempt > 1)  // bounded: wait_s, 2 x wait_s, ...
        std::this_thread::sleep_for(std::chrono::duration<double>(wait_s * (1 << std::min(attempt - 2, 10))));
      force_ = true;  // asked explicitly: try now, whatever the backoff says
      left = flush_once();
      force_ = false;
    }
    if (left == 0 && spool_ && open_.empty() && spool_->list_runs().empty()) remove_spool();
    return left;
  }

 private:
  // A whole run to the store, else (it is unavailable) to the spool.
  std::string write_whole(RunRecord run, std::string (Store::*write)(RunRecord)) {
    if (run.id.empty()) run.id = make_uuid();
    if (auto id = on_primary([&] { return (primary_.get()->*write)(run); })) return *id;
    (spool().*write)(run);
    ++spooled_;
    return run.id;
  }

  struct OpenRun {
    RunRecord record;      // as begun, with the windows written so far
    bool spooled = false;  // the rest of it goes to the spool
  };

  bool primary_due() const { return !down_ || force_ || Clock::now() >= retry_at_; }

  // f() on the primary, or nullopt when it is unavailable (now, or still
  // within the backoff of an earlier failure). Other errors propagate.
  template <typename F>
  auto on_primary(F&& f) -> std::optional<decltype(f())> {
    if (!primary_due()) return std::nullopt;
    try {
      auto value = f();
      down_ = false;
      backoff_s_ = options_.retry_initial_s;
      return value;
    } catch (const StoreUnavailable& e) {
      went_down(e.what());
      return std::nullopt;
    }
  }

  void went_down(const std::string& why) {
    if (!down_ && options_.notify)
      options_.notify(fmt::format("the results store is unavailable ({}); runs are kept in {} until it is back",
                                  why, options_.path.string()));
    down_ = true;
    last_error_ = why;
    retry_at_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(backoff_s_));
    backoff_s_ = std::min(options_.retry_max_s, backoff_s_ * 2.0);  // retry_initial_s 0: no backoff
  }

  Store& spool() {
    if (!spool_) spool_ = open_store(options_.path);
    return *spool_;
  }

  // The run so far (record and windows) goes to the spool; what follows of it goes there too.
  void move_to_spool(OpenRun& open) {
    Store& s = spool();
    s.begin_run(open.record);
    for (const auto& w : open.record.windows) s.add_window(open.record.id, w);
    open.spooled = true;
    ++spooled_;
  }

  // One pass over the finished spooled runs; stops at the first sign that
  // the primary is unavailable. Returns the runs still pending.
  std::size_t flush_once() {
    if (!spool_) return 0;
    std::size_t moved = 0;
    for (const auto& summary : spool_->list_runs()) {
      if (open_.count(summary.id)) continue;  // still being written by this process
      auto run = spool_->load_run(summary.id);
      if (!run) continue;
      bool ok = false;
      try {
        ok = on_primary([&] {
               copy_run(*run, *primary_);
               return true;
             }).has_value();
      } catch (const std::exception& e) {
        // Not a connection problem (e.g. a constraint the store refuses):
        // the run stays in the spool, and the end of the campaign says so.
        last_error_ = fmt::format("run {}: {}", summary.id, e.what());
      }
      if (!ok) {
        if (down_) break;  // unavailable: keep the rest for later
        continue;
      }
      spool_->delete_run(summary.id);
      ++flushed_;
      ++moved;
    }
    const std::size_t left = pending();
    if (moved > 0 && options_.notify)
      options_.notify(fmt::format("{} spooled run(s) now in {}{}", moved, primary_->location(),
                                  left ? fmt::format("; {} still in {}", left, options_.path.string()) : ""));
    return left;
  }

  void remove_spool() {
    spool_.reset();
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(options_.path.string() + suffix, ec);
  }

  std::unique_ptr<Store> primary_;
  SpoolOptions options_;
  std::unique_ptr<Store> spool_;  // null until needed (or found at start)
  std::map<std::string, OpenRun> open_;
  bool down_ = false;   // unavailable at the last try
  bool force_ = false;  // flush(): try whatever the backoff says
  Clock::time_point retry_at_{};
  double backoff_s_;
  std::string last_error_;
  std::size_t spooled_ = 0, flushed_ = 0;
};

}  // namespace

std::unique_ptr<SpooledStore> open_spooled_store(std::unique_ptr<Store> primary, SpoolOptions options) {
  if (!primary) throw Error("open_spooled_store: no store to put the spool in front of");
  return std::make_unique<SpooledStoreImpl>(std::move(primary), std::move(options));
}

}  // namespace joulebench
