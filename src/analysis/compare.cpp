// Side-by-side comparison with Welch's t-test on the per-window energy.
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "joulebench/compare.h"
#include "joulebench/error.h"
#include "joulebench/projection.h"
#include "joulebench/readable.h"
#include "joulebench/report.h"

namespace joulebench {
namespace {

// "= 0.034", "< 0.001": after "p".
std::string p_text(double p) {
  const std::string t = readable_p(p);
  return t[0] == '<' ? t : "= " + t;
}

struct Windows {
  std::vector<double> kwh, g, latency;
  std::set<std::string> tasks;
  std::set<std::string> run_ids;
  std::set<std::string> threads;
  ProvenanceKind weakest = ProvenanceKind::measured;
  double band = 1.0;
  int loading_included = 0, coarse = 0;
};

Windows collect(const std::vector<StoredWindow>& windows) {
  Windows w;
  for (const auto& sw : windows) {
    if (!sw.window.inferences || *sw.window.inferences <= 0) continue;
    const double per = 1000.0 / static_cast<double>(*sw.window.inferences);
    const double kwh = joules_to_kwh(sw.window.measurement.total_energy_j());
    w.kwh.push_back(kwh * per);
    w.g.push_back((sw.window.g_co2e ? *sw.window.g_co2e : kwh * sw.pue * sw.intensity_g_per_kwh) * per);
    if (sw.window.latency_p50_s) w.latency.push_back(*sw.window.latency_p50_s);
    w.tasks.insert(sw.window.task);
    w.run_ids.insert(sw.run_id);
    if (sw.window.threads) w.threads.insert(*sw.window.threads == 0 ? "library default" : std::to_string(*sw.window.threads));
    const Measurement& m = sw.window.measurement;
    if (!m.components.empty()) w.weakest = std::max(w.weakest, m.weakest_provenance());
    w.band = std::max(w.band, m.total_high_share());
    if (sw.window.includes_loading) ++w.loading_included;
    if (m.is_coarse()) ++w.coarse;
  }
  return w;
}

CompareSide side(Store& store, const std::string& query, const std::string& task) {
  CompareSide s;
  s.query = query;
  std::optional<RunRecord> run;
  try {
    run = store.load_run(query);
  } catch (const InputError&) {
    // An ambiguous prefix: try it as a model name, and say so below if that fails too.
  }
  WindowQuery q;
  q.task = task;
  if (run) {
    s.kind = "run";
    s.name = run->id;
    q.run_id = run->id;
    q.include_unfinished = true;
  } else {
    s.kind = "model";
    s.name = query;
    q.model = query;
  }
  const Windows w = collect(store.query_windows(q));
  if (w.kwh.empty()) {
    std::string runs;
    const auto list = store.list_runs();
    for (std::size_t i = 0; i < list.size() && i < 10; ++i) runs += (i ? ", " : "") + list[i].id.substr(0, 8);
    std::string models;
    for (const auto& m : stored_models(store)) models += (models.empty() ? "" : ", ") + m;
    throw InputError(fmt::format("'{}' is neither a stored run nor a model with inference windows{} in {}; "
                                 "stored models: {}; runs: {} (see `joulebench report --runs`)",
                                 query, task.empty() ? "" : " of task " + task, store.location(),
                                 models.empty() ? "(none)" : models, runs.empty() ? "(none)" : runs));
  }
  // A model measured on several tasks has no one energy to compare: its
  // tasks cost differently (the study's multi-purpose models), so say which.
  if (w.tasks.size() > 1) {
    std::string list;
    for (const auto& t : w.tasks) list += (list.empty() ? "" : ", ") + (t.empty() ? std::string("(no task)") : t);
    throw InputError(fmt::format("'{}' has inference windows of several tasks ({}): choose one with --task TASK",
                                 query, list));
  }
  s.task = w.tasks.empty() ? "" : *w.tasks.begin();
  s.kwh_per_1000 = summarize(w.kwh);
  s.gco2e_per_1000 = summarize(w.g);
  if (!w.latency.empty()) s.latency_p50_s = summarize(w.latency);
  s.weakest_provenance = std::string(to_string(w.weakest));
  s.band_factor = w.band;
  s.loading_included_runs = w.loading_included;
  s.coarse_runs = w.coarse;
  // The setup each run recorded (bench records what ran the models; docs/bench.md).
  for (const auto& id : w.run_ids) {
    const auto r = store.load_run(id);
    if (!r) continue;
    if (!r->machine.cpu_model.empty()) s.setup["cpu"].insert(r->machine.cpu_model);
    for (const auto& [key, label] : {std::pair{"blas_core", "blas kernel"}, std::pair{"libtorch", "libtorch"}})
      if (auto it = r->software.find(key); it != r->software.end() && !it->second.empty()) s.setup[label].insert(it->second);
  }
  if (!w.threads.empty()) s.setup["threads"] = w.threads;
  return s;
}

nlohmann::json sample_json(const Summary& s) { return {{"n", s.n}, {"mean", s.mean}, {"std", s.std}}; }

nlohmann::json side_json(const CompareSide& s) {
  return {{"query", s.query},
          {"kind", s.kind},
          {"name", s.name},
          {"task", s.task.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.task)},
          {"kwh_per_1000", sample_json(s.kwh_per_1000)},
          {"gco2e_per_1000", sample_json(s.gco2e_per_1000)},
          {"latency_p50_s", s.latency_p50_s ? sample_json(*s.latency_p50_s) : nlohmann::json(nullptr)},
          {"weakest_provenance", s.weakest_provenance},
          {"band_factor", s.band_factor},
          {"loading_included_runs", s.loading_included_runs},
          {"coarse_runs", s.coarse_runs}};
}

}  // namespace

std::optional<WelchTest> welch_t_test(const Summary& a, const Summary& b) {
  if (a.n < 2 || b.n < 2) return std::nullopt;
  const double va = a.std * a.std / static_cast<double>(a.n), vb = b.std * b.std / static_cast<double>(b.n);
  if (va + vb <= 0.0) return std::nullopt;
  WelchTest w;
  w.t = (a.mean - b.mean) / std::sqrt(va + vb);
  w.df = (va + vb) * (va + vb) /
         (va * va / static_cast<double>(a.n - 1) + vb * vb / static_cast<double>(b.n - 1));
  w.p = student_t_two_sided_p(w.t, w.df);
  return w;
}

Comparison compare(Store& store, const std::string& a, const std::string& b, const std::string& task) {
  if (store.list_runs().empty())
    throw InputError(fmt::format("the store {} holds no runs: fill it with `joulebench bench` or "
                                 "`joulebench import codecarbon FILES`",
                                 store.location()));
  Comparison c;
  c.a = side(store, a, task);
  c.b = side(store, b, task);
  c.energy_ratio = c.b.kwh_per_1000.mean / c.a.kwh_per_1000.mean;
  if (c.a.gco2e_per_1000.mean > 0) c.co2e_ratio = c.b.gco2e_per_1000.mean / c.a.gco2e_per_1000.mean;
  if (c.a.latency_p50_s && c.b.latency_p50_s && c.a.latency_p50_s->mean > 0)
    c.latency_ratio = c.b.latency_p50_s->mean / c.a.latency_p50_s->mean;
  for (const auto& [what, a_values] : c.a.setup) {
    const auto b_it = c.b.setup.find(what);
    if (b_it == c.b.setup.end() || b_it->second == a_values) continue;
    c.warnings.push_back(fmt::format("the sides ran on different {}: {} (A) against {} (B); the ratio measures that "
                                     "difference too, not the models alone",
                                     what, fmt::join(a_values, ", "), fmt::join(b_it->second, ", ")));
  }
  if (c.a.task != c.b.task)
    c.warnings.push_back(fmt::format("the sides are different tasks: {} (A) and {} (B); the ratio compares "
                                     "different work, not two ways of doing the same",
                                     c.a.task.empty() ? "(no task)" : c.a.task,
                                     c.b.task.empty() ? "(no task)" : c.b.task));
  c.energy_test = welch_t_test(c.a.kwh_per_1000, c.b.kwh_per_1000);
  c.energy_difference_significant = c.energy_test && c.energy_test->p < 0.05;
  if (!c.energy_test)
    c.verdict = "run-to-run spread unknown: each side needs at least 2 windows with some spread to test the difference";
  else if (c.energy_difference_significant)
    c.verdict = fmt::format("{} uses {}x the energy of {}: the difference exceeds the run-to-run spread "
                            "(Welch's t-test, p {} < 0.05)",
                            c.b.name, readable_number(c.energy_ratio), c.a.name, p_text(c.energy_test->p));
  else
    c.verdict = fmt::format("the difference ({}x) is within the run-to-run spread (Welch's t-test, p {} "
                            ">= 0.05)",
                            readable_number(c.energy_ratio), p_text(c.energy_test->p));
  return c;
}

nlohmann::json comparison_json(const Comparison& c) {
  nlohmann::json test = nullptr;
  if (c.energy_test)
    test = {{"method", "welch-t-test"}, {"t", c.energy_test->t}, {"df", c.energy_test->df}, {"p", c.energy_test->p}};
  return {{"a", side_json(c.a)},
          {"b", side_json(c.b)},
          {"energy_ratio", c.energy_ratio},
          {"co2e_ratio", c.co2e_ratio},
          {"latency_ratio", c.latency_ratio ? nlohmann::json(*c.latency_ratio) : nlohmann::json(nullptr)},
          {"energy_test", test},
          {"alpha", 0.05},
          {"energy_difference_significant", c.energy_difference_significant},
          {"verdict", c.verdict},
          {"warnings", c.warnings}};
}

std::string render_comparison(const Comparison& c) {
  // Readable units (joulebench/readable.h); the --json contract keeps kWh, g and s.
  auto n = [](const Summary& s) { return fmt::format(" (n={})", s.n); };
  // "*" / "~" beside the energy as in the report: loading included, coarse windows.
  auto marks = [](const CompareSide& s) {
    return std::string(s.loading_included_runs ? " *" : "") + (s.coarse_runs ? " ~" : "");
  };
  auto energy = [&](const CompareSide& s) { return readable_kwh_pm(s.kwh_per_1000.mean, s.kwh_per_1000.std) + n(s.kwh_per_1000) + marks(s); };
  auto grams = [&](const Summary& s) { return readable_grams_pm(s.mean, s.std) + n(s); };
  auto seconds = [&](const Summary& s) {
    return readable_seconds(s.mean) + " ± " + readable_seconds(s.std) + n(s);
  };
  auto row = [](const std::string& what, const std::string& a, const std::string& b, const std::string& ratio) {
    return pad_right(what, 24) + " " + pad_right(a, 40) + " " + pad_right(b, 40) + " " + ratio + "\n";
  };
  std::string out = row("", "A: " + c.a.name, "B: " + c.b.name, "B/A");
  out += row("task", c.a.task.empty() ? "(mixed)" : c.a.task, c.b.task.empty() ? "(mixed)" : c.b.task, "");
  out += row("energy per 1,000", energy(c.a), energy(c.b), readable_number(c.energy_ratio));
  out += row("CO2e per 1,000", grams(c.a.gco2e_per_1000), grams(c.b.gco2e_per_1000), readable_number(c.co2e_ratio));
  out += row("latency p50", c.a.latency_p50_s ? seconds(*c.a.latency_p50_s) : "-",
             c.b.latency_p50_s ? seconds(*c.b.latency_p50_s) : "-",
             c.latency_ratio ? readable_number(*c.latency_ratio) : "-");
  out += row("source", provenance_with_band(c.a.weakest_provenance, c.a.band_factor),
             provenance_with_band(c.b.weakest_provenance, c.b.band_factor), "");
  out += "\nmean ± sample standard deviation over windows (runs of N inferences)\n";
  if (c.a.loading_included_runs || c.b.loading_included_runs) out += std::string(kLoadingIncludedNote) + "\n";
  if (c.a.coarse_runs || c.b.coarse_runs) out += std::string(kCoarseRunsNote) + "\n";
  out += c.verdict + "\n";
  for (const auto& w : c.warnings) out += "warning: " + w + "\n";
  return out;
}

}  // namespace joulebench
