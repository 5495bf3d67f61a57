// What a campaign gives back: stars, the JSON of each run, the final
// table, and merging stores of sharded campaigns.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "joulebench/bench.h"
#include "joulebench/error.h"
#include "joulebench/meter_output.h"
#include "joulebench/readable.h"
#include "joulebench/stars.h"
#include "joulebench/statistics.h"

namespace joulebench {
namespace {

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

std::map<std::string, std::optional<int>> energy_stars(const std::map<std::string, double>& value_by_model) {
  std::map<std::string, std::optional<int>> stars;
  if (value_by_model.empty()) return stars;
  double lo = value_by_model.begin()->second, hi = lo;
  for (const auto& [_, v] : value_by_model) lo = std::min(lo, v), hi = std::max(hi, v);
  const int n = static_cast<int>(value_by_model.size());
  for (const auto& [model, v] : value_by_model) stars[model] = stars_among(v, lo, hi, n);
  return stars;
}

nlohmann::json bench_run_json(const BenchRun& r) {
  nlohmann::json j;
  j["task"] = std::string(to_string(r.cell.task));
  j["model"] = r.cell.model;
  j["dataset"] = r.cell.dataset();
  j["batch"] = r.cell.batch;
  j["repetition"] = r.repetition;
  j["status"] = std::string(to_string(r.status));
  j["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
  j["run_id"] = r.run_id;
  if (r.status != RunStatus::complete) {
    for (const char* k : {"inferences", "duration_s", "energy_j", "kwh_per_1000", "gco2e_per_1000", "provenance"})
      j[k] = nullptr;
    return j;
  }
  const Measurement& m = r.measurement;
  j["inferences"] = r.inferences;
  j["duration_s"] = m.duration_s;
  j["energy_j"] = r.energy_j();
  const bool attributed = std::any_of(m.components.begin(), m.components.end(),
                                      [](const ComponentEnergy& c) { return c.attributed_energy_j.has_value(); });
  j["attributed_energy_j"] = attributed ? nlohmann::json(m.total_attributed_energy_j()) : nlohmann::json(nullptr);
  std::optional<double> dynamic;
  for (const auto& c : m.components)
    if (is_additive(c.component) && c.dynamic_energy_j) dynamic = dynamic.value_or(0.0) + *c.dynamic_energy_j;
  j["dynamic_energy_j"] = opt(dynamic);
  const auto mj = measurement_json(m);
  j["components"] = mj.contains("components") ? mj["components"] : nlohmann::json::array();
  j["warnings"] = m.warnings;
  // The least trusted source among the additive components, and each one's.
  nlohmann::json prov = nlohmann::json::object();
  for (const auto& c : m.components)
    if (is_additive(c.component)) prov[std::string(to_string(c.component))] = c.provenance.to_string();
  j["provenance"] = {{"weakest", m.components.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(std::string(to_string(m.weakest_provenance())))},
                     {"components", prov}};
  j["input_tokens"] = r.input_tokens;
  j["output_tokens"] = r.output_tokens;
  j["latency_p50_s"] = r.latency_p50_s;
  j["latency_p95_s"] = r.latency_p95_s;
  j["j_per_inference"] = r.j_per_inference();
  j["j_per_output_token"] = opt(r.j_per_output_token());
  j["kwh_per_1000"] = r.kwh_per_1000();
  j["gco2e_per_1000"] = opt(r.gco2e_per_1000());
  // The band of estimated figures (docs/measurement.md, "Estimates"); equal
  // to the figure where everything was read from counters.
  j["kwh_per_1000_low"] = r.kwh_per_1000() * m.total_low_share();
  j["kwh_per_1000_high"] = r.kwh_per_1000() * m.total_high_share();
  const auto g = r.gco2e_per_1000();
  j["gco2e_per_1000_low"] = g ? nlohmann::json(*g * m.total_low_share()) : nlohmann::json(nullptr);
  j["gco2e_per_1000_high"] = g ? nlohmann::json(*g * m.total_high_share()) : nlohmann::json(nullptr);
  nlohmann::json eq = nlohmann::json::array();
  if (r.carbon && r.inferences > 0) {
    eq = equivalents_json(r.carbon->equivalents, 1000.0 / static_cast<double>(r.inferences));
    j["intensity_g_per_kwh"] = r.carbon->intensity.g_per_kwh;
    j["pue"] = r.carbon->pue;
  } else {
    j["intensity_g_per_kwh"] = nullptr;
    j["pue"] = nullptr;
  }
  j["equivalents_per_1000"] = eq;
  return j;
}

namespace {

// One model's repetitions in one task (and batch size).
struct SummaryGroup {
  std::vector<double> kwh, g, jpi, seconds;
  std::int64_t n = 0;  // inferences per repetition
  ProvenanceKind weakest = ProvenanceKind::measured;  // enum order: measured < sampled < estimated
  double band = 1.0;  // widest high share of the group's estimates
  int batch = 1;
  std::string purpose;  // off-task (language id under text-classification): ranked apart
};

// task -> model -> repetitions, in the order the campaign ran them.
struct SummaryGroups {
  std::vector<std::string> task_order;
  std::map<std::string, std::vector<std::string>> model_order;
  std::map<std::string, std::map<std::string, SummaryGroup>> groups;
  std::vector<const BenchRun*> failed;
};

SummaryGroups group_runs(const CampaignResult& result) {
  SummaryGroups s;
  for (const auto& r : result.runs) {
    if (r.status != RunStatus::complete) {
      s.failed.push_back(&r);
      continue;
    }
    const std::string task(to_string(r.cell.task));
    const std::string model = r.cell.batch == 1 ? r.cell.model : fmt::format("{} (batch {})", r.cell.model, r.cell.batch);
    if (!s.groups.count(task)) s.task_order.push_back(task);
    auto& models = s.groups[task];
    if (!models.count(model)) s.model_order[task].push_back(model);
    auto& g = models[model];
    g.kwh.push_back(r.kwh_per_1000());
    if (auto v = r.gco2e_per_1000()) g.g.push_back(*v);
    g.jpi.push_back(r.j_per_inference());
    g.seconds.push_back(r.measurement.duration_s);
    g.n = r.inferences;
    g.weakest = std::max(g.weakest, r.measurement.weakest_provenance());
    g.band = std::max(g.band, r.measurement.total_high_share());
    g.batch = r.cell.batch;
    g.purpose = off_task_purpose(r.cell.model, r.cell.purpose);
  }
  return s;
}

// Stars within one configuration and purpose: batch 8 of a model is not
// ranked against batch 1, nor a language identifier against sentiment models.
std::map<std::string, std::optional<int>> task_stars(const std::map<std::string, SummaryGroup>& models) {
  std::map<std::pair<int, std::string>, std::map<std::string, double>> means_by_kind;
  for (const auto& [model, g] : models) means_by_kind[{g.batch, g.purpose}][model] = summarize(g.kwh).mean;
  std::map<std::string, std::optional<int>> stars;
  for (const auto& [kind, means] : means_by_kind) stars.merge(energy_stars(means));
  return stars;
}

// Repetitions shorter than the sensors' resolution: the reason, and an N
// that would make one long enough ("" when the group is not coarse).
std::string coarse_note(const std::string& task, const std::string& model, const SummaryGroup& g,
                        const Meter::Resolution& resolution) {
  const double seconds = summarize(g.seconds).mean;
  if (!(resolution.seconds > 0.0 && seconds < resolution.seconds)) return {};
  const auto suggested =
      static_cast<std::int64_t>(std::ceil(static_cast<double>(g.n) * resolution.seconds / std::max(seconds, 1e-6)));
  return fmt::format("~ {} {}: a repetition lasted {}, under the {} the sensors need ({}): its figures are coarse; "
                     "--n {} would make one last about {}\n",
                     task, model, readable_seconds(seconds), readable_seconds(resolution.seconds), resolution.why,
                     readable_count(suggested), readable_seconds(resolution.seconds));
}

}  // namespace

std::string render_bench_summary(const CampaignResult& result, const Meter::Resolution& resolution) {
  const SummaryGroups s = group_runs(result);
  // "source" says how the figure was obtained, where the figure is: an
  // estimate must not read as a measurement (docs/measurement.md, "Estimates").
  // Readable units (joulebench/readable.h): "23.9 ± 2.3 mWh" per 1,000
  // inferences, not 2.391e-05 kWh; the --json contract keeps kWh.
  std::string out = fmt::format("{:<22} {:<40} {:>4} {:>24} {:>22} {:>13} {:>5}  {}\n", "task", "model", "reps",
                                "energy/1,000 mean ± sd", "CO2e/1,000 mean ± sd", "per inference", "stars", "source");
  bool any_estimated = false, any_unranked = false;
  std::string coarse_notes, off_task_notes;
  for (const auto& task : s.task_order) {
    const auto& models = s.groups.at(task);
    const auto stars = task_stars(models);
    for (const auto& [model, g] : models)
      if (!g.purpose.empty())
        off_task_notes += fmt::format("{} {}: does {}, not the task's usual job; ranked only among models that do "
                                      "the same\n",
                                      task, model, g.purpose);
    for (const auto& model : s.model_order.at(task)) {
      const auto& g = models.at(model);
      const Summary k = summarize(g.kwh), c = summarize(g.g), e = summarize(g.jpi);
      // One repetition has no spread to show ("± 0" would claim one).
      const bool spread = g.kwh.size() > 1;
      const std::string gtext = g.g.empty() ? "n/a" : spread ? readable_grams_pm(c.mean, c.std) : readable_grams(c.mean);
      any_estimated = any_estimated || g.weakest == ProvenanceKind::estimated;
      // Coarse repetitions: "~" at the figure, the reason and a better N below.
      const std::string note = coarse_note(task, model, g, resolution);
      coarse_notes += note;
      const std::string energy =
          (spread ? readable_kwh_pm(k.mean, k.std) : readable_kwh(k.mean)) + (note.empty() ? "" : " ~");
      out += fmt::format("{:<22} {:<40} {:>4} {} {} {} {:>5}  {}\n", task, model, g.kwh.size(), pad_left(energy, 24),
                         pad_left(gtext, 22), pad_left(readable_joules(e.mean), 13),
                         stars.at(model) ? std::string(static_cast<std::size_t>(*stars.at(model)), '*') : "-",
                         provenance_with_band(to_string(g.weakest), g.band));
      any_unranked = any_unranked || !stars.at(model);
    }
  }
  for (const auto* r : s.failed)
    out += fmt::format("{:<22} {:<40} FAILED: {}\n", to_string(r->cell.task), r->cell.model, r->error);
  if (!coarse_notes.empty()) out += "\n" + coarse_notes;
  if (!off_task_notes.empty()) out += "\n" + off_task_notes;
  if (any_unranked)
    out += fmt::format("\nstars: only among {} or more models of one task and batch size (bands equal on a log scale "
                       "of energy; docs/bench.md), \"-\" where fewer were measured\n",
                       kMinModelsForStars);
  if (any_estimated)
    out += "\nsource estimated: no energy counter could be read for some of it (`joulebench doctor` says why); those "
           "figures come from a power model, not a measurement, and x/÷F is the model's band: the real figure lies "
           "within [x ÷ F, x × F] (docs/measurement.md)\n";
  return out;
}

std::size_t merge_stores(Store& from, Store& into) {
  // Finished runs already in `into` are skipped without loading them; a
  // 'running' one may be the cut-off part of a run that `from` holds whole
  // (a spool): copy_run decides.
  std::map<std::string, RunStatus> present;
  for (const auto& r : into.list_runs()) present.emplace(r.id, r.status);
  std::size_t copied = 0;
  for (const auto& summary : from.list_runs()) {
    const auto there = present.find(summary.id);
    if (there != present.end() && there->second != RunStatus::running) continue;
    auto run = from.load_run(summary.id);
    if (run && copy_run(std::move(*run), into)) ++copied;
  }
  return copied;
}

}  // namespace joulebench
