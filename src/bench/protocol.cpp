// The campaign: per cell, load, warm-up, R windows of N inferences,
// cool-down; one store run per cell, one window per repetition.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include <unistd.h>

#include "core/procfs.h"
#include "joulebench/bench.h"
#include "joulebench/error.h"
#include "joulebench/version.h"

namespace joulebench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p of the sample at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

bool stopped(const BenchCallbacks& cb) { return cb.stop && cb.stop->load(std::memory_order_relaxed); }

struct Interrupted {};

// Pauses up to `seconds`, waking early when asked to stop.
void pause(double seconds, const BenchCallbacks& cb) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until && !stopped(cb)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// N inferences through the model in batches of `batch`, inputs cycled from `offset`.
struct Pass {
  std::int64_t inferences = 0, input_tokens = 0, output_tokens = 0;
  std::vector<double> latencies_s;
};

Pass run_inferences(Model& model, const BenchInputSet& inputs, int n, int batch, std::size_t& offset,
                    const BenchCallbacks& cb) {
  Pass pass;
  pass.latencies_s.reserve(static_cast<std::size_t>(n / batch + 1));
  std::vector<InferenceInput> chunk;
  const std::size_t count = inputs.inputs.size();
  for (int done = 0; done < n;) {
    if (stopped(cb)) throw Interrupted{};
    const int b = std::min(batch, n - done);
    chunk.clear();
    for (int i = 0; i < b; ++i) chunk.push_back(inputs.inputs[(offset++) % count]);
    const auto t0 = Clock::now();
    const auto outputs = model.infer(chunk);
    pass.latencies_s.push_back(seconds_since(t0));
    if (outputs.size() != static_cast<std::size_t>(b))
      throw Error(fmt::format("model {} returned {} outputs for a batch of {}", model.info().name, outputs.size(), b));
    for (const auto& o : outputs) {
      pass.input_tokens += o.input_tokens;
      pass.output_tokens += o.output_tokens;
    }
    done += b;
    pass.inferences += b;
  }
  return pass;
}

std::string config_json(const BenchCell& cell, const BenchSettings& s) {
  nlohmann::json j = {{"cell_key", cell_key(cell, s)},
                      {"task", std::string(to_string(cell.task))},
                      {"model", cell.model},
                      {"dataset", cell.dataset()},
                      {"dataset_description", cell.inputs ? cell.inputs->description : ""},
                      {"batch", cell.batch},
                      {"n", s.n},
                      {"reps", s.reps},
                      {"warmup", std::min(s.warmup, s.n)},
                      {"threads", s.threads},
                      {"dtype", s.dtype},
                      {"device", s.device},
                      {"cooldown_s", s.cooldown_s},
                      {"protocol", std::string(to_string(s.protocol))}};
  return j.dump();
}

}  // namespace

double BenchRun::j_per_inference() const { return inferences > 0 ? energy_j() / static_cast<double>(inferences) : 0.0; }
std::optional<double> BenchRun::j_per_output_token() const {
  if (output_tokens <= 0) return std::nullopt;
  return energy_j() / static_cast<double>(output_tokens);
}
double BenchRun::kwh_per_1000() const { return joules_to_kwh(j_per_inference() * 1000.0); }
std::optional<double> BenchRun::gco2e_per_1000() const {
  if (!carbon || inferences <= 0) return std::nullopt;
  return carbon->g_co2e * 1000.0 / static_cast<double>(inferences);
}

std::string cell_key(const BenchCell& cell, const BenchSettings& s) {
  return fmt::format("{}|{}|{}|batch={}|n={}|reps={}|{}|threads={}|{}", to_string(cell.task), cell.model,
                     cell.dataset(), cell.batch, s.n, s.reps, s.dtype, s.threads, s.device);
}

LoadOptions cell_load_options(const BenchCell& cell, const BenchSettings& settings) {
  LoadOptions load = settings.load;
  load.device = settings.device;
  load.dtype = settings.dtype;
  load.threads = settings.threads;
  load.task = cell.task;
  return load;
}

std::vector<BenchCell> select_shard(const std::vector<BenchCell>& cells, int index, int count) {
  if (count < 1 || index < 1 || index > count)
    throw InputError(fmt::format("--shard {}/{}: expected I/N with 1 <= I <= N", index, count));
  std::vector<BenchCell> out;
  for (std::size_t i = static_cast<std::size_t>(index - 1); i < cells.size(); i += static_cast<std::size_t>(count))
    out.push_back(cells[i]);
  return out;
}

std::set<std::string> completed_cell_keys(Store& store) {
  std::set<std::string> keys;
  for (const auto& r : store.list_runs()) {
    if (r.kind != RunKind::bench || r.status != RunStatus::complete) continue;
    auto run = store.load_run(r.id);
    if (!run) continue;
    const auto j = nlohmann::json::parse(run->config_json, nullptr, false);
    if (j.is_object() && j.contains("cell_key") && j["cell_key"].is_string()) keys.insert(j["cell_key"].get<std::string>());
  }
  return keys;
}

namespace {

// The process that measures a run, recorded in its config ("owner") so that
// another process can prove the run abandoned before deleting it: a pid alone
// is reused, a pid with its start time and the boot id is not.
nlohmann::json owner_of_this_process(const std::string& hostname) {
  const auto self = procfs::read_process_stat("/proc", static_cast<int>(::getpid()));
  return {{"host", hostname},
          {"pid", static_cast<int>(::getpid())},
          {"start_ticks", self ? self->start_ticks : 0},
          {"boot_id", procfs::boot_id("/proc")}};
}

// A run of this cell that no process is working on: finished by its owner
// (failed, interrupted), or 'running' but owned by a process of this host
// that is gone. A run owned by another host, or recorded without an owner,
// is never proven abandoned, so it is kept.
bool abandoned(const RunRecord& run, const nlohmann::json& config, const std::string& hostname) {
  if (run.status == RunStatus::failed || run.status == RunStatus::interrupted) return true;
  if (run.status != RunStatus::running) return false;
  const auto it = config.find("owner");
  if (it == config.end() || !it->is_object()) return false;
  const nlohmann::json& o = *it;
  if (o.value("host", "") != hostname || hostname.empty()) return false;
  const std::string boot = procfs::boot_id("/proc");
  if (!boot.empty() && o.value("boot_id", "") != boot) return true;  // the machine restarted since
  const auto p = procfs::read_process_stat("/proc", o.value("pid", 0));
  return !p || p->start_ticks != o.value("start_ticks", std::uint64_t{0});
}

// A failure as the run's note: libtorch appends a stack trace of 20+ frames
// ("Exception raised from ...") that tells a user nothing; a note stays short.
std::string failure_text(const std::exception& e) {
  std::string text = e.what();
  if (const auto trace = text.find("\nException raised from "); trace != std::string::npos) text.resize(trace);
  constexpr std::size_t kMaxNote = 1000;
  if (text.size() > kMaxNote) text = text.substr(0, kMaxNote) + "...";
  return text;
}

// Runs of `key` that did not complete and that no live process owns.
std::vector<std::string> abandoned_runs(Store& store, const std::string& key, const std::string& hostname) {
  std::vector<std::string> ids;
  for (const auto& r : store.list_runs()) {
    if (r.kind != RunKind::bench || r.status == RunStatus::complete) continue;
    auto run = store.load_run(r.id);
    if (!run) continue;
    const auto j = nlohmann::json::parse(run->config_json, nullptr, false);
    if (j.is_object() && j.value("cell_key", "") == key && abandoned(*run, j, hostname)) ids.push_back(r.id);
  }
  return ids;
}
}  // namespace

void check_campaign(const std::vector<BenchCell>& cells, const BenchSettings& settings) {
  if (settings.n < 1) throw InputError(fmt::format("--n {}: expected at least 1 inference", settings.n));
  if (settings.reps < 1) throw InputError(fmt::format("--reps {}: expected at least 1 repetition", settings.reps));
  for (const auto& c : cells) {
    if (c.batch < 1) throw InputError(fmt::format("--batch {}: expected at least 1", c.batch));
    if (c.batch > settings.n)
      throw InputError(fmt::format("--batch {} is larger than --n {}: a repetition runs {} inferences, so it would "
                                   "never fill one batch; give --batch {} or less, or a larger --n",
                                   c.batch, settings.n, settings.n, settings.n));
    if (!c.inputs || c.inputs->inputs.empty())
      throw InputError(fmt::format("{} / {}: no inputs", to_string(c.task), c.model));
  }
}

namespace {

// The store run of one cell, before its first repetition.
RunRecord cell_record(const BenchCell& cell, const BenchSettings& settings, const BenchContext& ctx) {
  RunRecord record;
  record.kind = RunKind::bench;
  record.status = RunStatus::running;
  record.started_at = std::chrono::system_clock::now();
  record.user = current_user();
  record.machine = ctx.machine;
  record.software = ctx.software;
  record.software["joulebench"] = JOULEBENCH_VERSION;
  record.intensity = ctx.carbon.intensity;
  record.pue = ctx.carbon.pue.value;
  record.pue_source = ctx.carbon.pue.source;
  nlohmann::json config = nlohmann::json::parse(config_json(cell, settings));
  config["owner"] = owner_of_this_process(ctx.machine.hostname);
  record.config_json = config.dump();
  record.source = settings.source;
  record.project = "bench";
  return record;
}

// One repetition's result, from its pass and its window's measurement.
BenchRun repetition_run(const BenchCell& cell, const std::string& run_id, int rep, const Pass& pass, Measurement m,
                        const CarbonSettings& carbon) {
  BenchRun run;
  run.cell = cell;
  run.run_id = run_id;
  run.repetition = rep;
  run.inferences = pass.inferences;
  run.input_tokens = pass.input_tokens;
  run.output_tokens = pass.output_tokens;
  run.latency_p50_s = percentile(pass.latencies_s, 0.50);
  run.latency_p95_s = percentile(pass.latencies_s, 0.95);
  if (m.any_additive()) run.carbon = compute_carbon_j(m.total_energy_j(), carbon);
  run.measurement = std::move(m);
  return run;
}

// The stored window of one repetition.
WindowRecord repetition_window(const BenchRun& run, const BenchSettings& settings) {
  WindowRecord w;
  w.measurement = run.measurement;
  w.task = std::string(to_string(run.cell.task));
  w.model = run.cell.model;
  w.dataset = run.cell.dataset();
  w.phase = "inference";
  w.repetition = run.repetition;
  w.inferences = run.inferences;
  w.input_tokens = run.input_tokens;
  w.output_tokens = run.output_tokens;
  w.latency_p50_s = run.latency_p50_s;
  w.latency_p95_s = run.latency_p95_s;
  if (run.carbon) w.g_co2e = run.carbon->g_co2e;
  w.batch_size = run.cell.batch;
  w.threads = settings.threads;
  w.dtype = settings.dtype;
  w.device = settings.device;
  return w;
}

// One campaign: its progress reports and its cells, one store run each.
class Campaign {
 public:
  Campaign(const BenchSettings& settings, BenchContext& ctx, const BenchCallbacks& cb, std::size_t cells)
      : settings_(settings), ctx_(ctx), cb_(cb), total_reps_(static_cast<int>(cells) * settings.reps) {
    progress_.cell_count = cells;
    progress_.reps = settings.reps;
  }

  void report(const std::string& phase) {
    if (!cb_.progress) return;
    progress_.phase = phase;
    progress_.elapsed_s = seconds_since(start_);
    if (reps_done_ > 0) progress_.eta_s = progress_.elapsed_s / reps_done_ * (total_reps_ - reps_done_);
    cb_.progress(progress_);
  }

  // Runs cell `index`: its repetitions go to result.runs, or the cell fails
  // alone. Returns false when interrupted (the partial cell is discarded).
  bool run_cell(const BenchCell& cell, std::size_t index, CampaignResult& result) {
    progress_.cell_index = index;
    progress_.cell = &cell;
    progress_.repetition = 0;
    const std::string key = cell_key(cell, settings_);
    for (const auto& id : abandoned_runs(ctx_.store, key, ctx_.machine.hostname)) ctx_.store.delete_run(id);
    const std::string run_id = ctx_.store.begin_run(cell_record(cell, settings_, ctx_));
    std::string open_window;
    try {
      measure_cell(cell, key, run_id, open_window, result);
      ctx_.store.finish_run(run_id, RunStatus::complete);
      return true;
    } catch (const Interrupted&) {
      if (!open_window.empty()) ctx_.tracker.end_window(open_window);
      // The partial cell is discarded: a resumed campaign runs it again whole.
      ctx_.store.delete_run(run_id);
      std::erase_if(result.runs, [&](const BenchRun& r) { return r.run_id == run_id; });
      return false;
    } catch (const std::exception& e) {
      if (!open_window.empty()) {
        try {
          ctx_.tracker.end_window(open_window);
        } catch (const std::exception&) {
        }
      }
      fail_cell(cell, run_id, failure_text(e), result);
      reps_done_ = static_cast<int>(index + 1) * settings_.reps;  // the ETA counts the cell as done
      return true;
    }
  }

 private:
  // Load, warm up, then R measured repetitions, each stored as it ends.
  void measure_cell(const BenchCell& cell, const std::string& key, const std::string& run_id,
                    std::string& open_window, CampaignResult& result) {
    report("load");
    std::unique_ptr<Model> model = ctx_.loader(cell.model, cell_load_options(cell, settings_));
    if (!model) throw Error(fmt::format("model {}: the loader returned nothing", cell.model));
    std::size_t offset = 0;
    const int warmup = std::min(settings_.warmup, settings_.n);
    if (warmup > 0) {
      report("warmup");
      run_inferences(*model, *cell.inputs, warmup, cell.batch, offset, cb_);
    }
    for (int rep = 1; rep <= settings_.reps; ++rep) {
      progress_.repetition = rep;
      report("measure");
      open_window = fmt::format("bench {} rep {} ({})", key, rep, run_id.substr(0, 8));
      ctx_.tracker.begin_window(open_window);
      const Pass pass = run_inferences(*model, *cell.inputs, settings_.n, cell.batch, offset, cb_);
      Measurement m = ctx_.tracker.end_window(open_window);
      open_window.clear();
      BenchRun run = repetition_run(cell, run_id, rep, pass, std::move(m), ctx_.carbon);
      ctx_.store.add_window(run_id, repetition_window(run, settings_));
      ++reps_done_;
      if (cb_.run_done) cb_.run_done(run);
      result.runs.push_back(std::move(run));
      if (settings_.cooldown_s > 0.0) {
        report("cooldown");
        pause(settings_.cooldown_s, cb_);
      }
    }
  }

  // Only the model's own failure is the cell's: the store must keep working.
  void fail_cell(const BenchCell& cell, const std::string& run_id, const std::string& error, CampaignResult& result) {
    ctx_.store.finish_run(run_id, RunStatus::failed, error);
    std::erase_if(result.runs, [&](const BenchRun& r) { return r.run_id == run_id; });
    BenchRun failed;
    failed.cell = cell;
    failed.run_id = run_id;
    failed.status = RunStatus::failed;
    failed.error = error;
    if (cb_.run_done) cb_.run_done(failed);
    result.runs.push_back(std::move(failed));
    ++result.failed_cells;
  }

  const BenchSettings& settings_;
  BenchContext& ctx_;
  const BenchCallbacks& cb_;
  const Clock::time_point start_ = Clock::now();
  const int total_reps_;
  int reps_done_ = 0;
  BenchProgress progress_;
};

}  // namespace

CampaignResult run_campaign(const std::vector<BenchCell>& all_cells, const BenchSettings& settings,
                            BenchContext& ctx, const BenchCallbacks& cb) {
  check_campaign(all_cells, settings);
  CampaignResult result;
  result.carbon = ctx.carbon;
  const auto done_keys = completed_cell_keys(ctx.store);
  std::vector<BenchCell> cells;
  for (const auto& c : all_cells) {
    if (done_keys.count(cell_key(c, settings))) result.skipped.push_back(c);
    else cells.push_back(c);
  }
  Campaign campaign(settings, ctx, cb, cells.size());
  if (ctx.idle_baseline_s > 0.0 && !cells.empty()) {
    campaign.report("idle");
    result.idle = ctx.tracker.measure_idle(ctx.idle_baseline_s);
  }
  for (std::size_t ci = 0; ci < cells.size(); ++ci) {
    // Asked between cells (e.g. during a cool-down): nothing partial to discard.
    if (stopped(cb) || !campaign.run_cell(cells[ci], ci, result)) {
      result.interrupted = true;
      result.interrupted_cell = cells[ci];
      return result;
    }
  }
  return result;
}

}  // namespace joulebench
