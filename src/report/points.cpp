// Per-model points for the charts and the energy label, and CSV rows.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "core/csv_reader.h"
#include "core/text_safety.h"
#include "core/text_util.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "joulebench/report_html.h"
#include "joulebench/statistics.h"

namespace joulebench {
namespace {

struct Acc {
  std::vector<double> kwh, g, seconds_per_inference, latency_p50, output_tokens;
  double gpu = 0, cpu = 0, ram = 0, other = 0;
  ProvenanceKind weakest = ProvenanceKind::measured;
  double band = 1.0;
  std::set<std::string> detail;
  int loading_included = 0, coarse = 0;
  bool zero_shot = false;
};

int task_rank(const std::string& task) {
  const auto& tasks = all_tasks();
  for (std::size_t i = 0; i < tasks.size(); ++i)
    if (to_string(tasks[i]) == task) return static_cast<int>(i);
  return static_cast<int>(tasks.size());
}

using detail::to_lower;

// A text cell: quoted as RFC 4180 says, and never a spreadsheet formula.
std::string csv_field(const std::string& s) { return detail::csv_escape(text::spreadsheet_safe(s)); }

std::string number(double v) { return fmt::format("{:.17g}", v); }

// How a point's configuration differs from the study's (batch 1, fp32, CPU,
// the library's threads), as bench's table says it: "gpt2 (batch 8, bf16)".
// Windows of different configurations are different points.
std::string config_suffix(const WindowRecord& w) {
  std::vector<std::string> parts;
  if (w.batch_size && *w.batch_size != 1) parts.push_back(fmt::format("batch {}", *w.batch_size));
  if (!w.dtype.empty() && w.dtype != "fp32") parts.push_back(w.dtype);
  if (!w.device.empty() && w.device != "cpu") parts.push_back(w.device);
  if (w.threads && *w.threads > 0) parts.push_back(fmt::format("{} threads", *w.threads));
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? " (" : ", ") + p;
  return out.empty() ? out : out + ")";
}

}  // namespace

bool is_multi_purpose_name(std::string_view model) {
  const std::string m = to_lower(model);
  return m.find("flan-t5") != std::string::npos || m.find("bloomz") != std::string::npos ||
         m.find("mt0") != std::string::npos;
}

// One window, per 1,000 inferences, into its model's accumulator.
void add_window(const StoredWindow& sw, Acc& a) {
  const auto& w = sw.window;
  const double per = 1000.0 / static_cast<double>(*w.inferences);
  const double kwh = joules_to_kwh(w.measurement.total_energy_j());
  a.kwh.push_back(kwh * per);
  a.g.push_back((w.g_co2e ? *w.g_co2e : kwh * sw.pue * sw.intensity_g_per_kwh) * per);
  if (w.measurement.duration_s > 0)
    a.seconds_per_inference.push_back(w.measurement.duration_s / static_cast<double>(*w.inferences));
  if (w.latency_p50_s) a.latency_p50.push_back(*w.latency_p50_s);
  if (w.output_tokens && *w.output_tokens > 0)
    a.output_tokens.push_back(static_cast<double>(*w.output_tokens) / static_cast<double>(*w.inferences));
  for (const auto& c : w.measurement.components) {
    if (!is_additive(c.component)) continue;
    const double v = joules_to_kwh(c.energy_j) * per;
    a.detail.insert(fmt::format("{} {}", to_string(c.component), c.provenance.to_string()));
    if (c.component == Component::gpu) a.gpu += v;
    else if (c.component == Component::cpu) a.cpu += v;
    else if (c.component == Component::dram) a.ram += v;
    else a.other += v;
  }
  if (!w.measurement.components.empty()) a.weakest = std::max(a.weakest, w.measurement.weakest_provenance());
  a.band = std::max(a.band, w.measurement.total_high_share());
  if (w.includes_loading) ++a.loading_included;
  if (w.measurement.is_coarse()) ++a.coarse;
  a.zero_shot = a.zero_shot || w.zero_shot;
}

std::vector<ModelPoint> model_points(const std::vector<StoredWindow>& windows, const HtmlReportOptions& options) {
  std::map<std::tuple<std::string, std::string, std::string>, Acc> acc;  // task, model, configuration
  for (const auto& sw : windows) {
    const auto& w = sw.window;
    if (!w.inferences || *w.inferences <= 0) continue;
    if (!options.report.task.empty() && w.task != options.report.task) continue;
    if (!options.report.model.empty() && w.model != options.report.model) continue;
    add_window(sw, acc[{w.task, w.model, config_suffix(w)}]);
  }
  std::vector<ModelPoint> out;
  for (const auto& [key, a] : acc) {
    ModelPoint p;
    const auto& [task, model, suffix] = key;
    p.task = task;
    p.model = model + suffix;
    p.configuration = suffix;
    const double n = static_cast<double>(a.kwh.size());
    p.runs = static_cast<int>(a.kwh.size());
    const Summary kwh = summarize(a.kwh), g = summarize(a.g);
    p.kwh_mean = kwh.mean;
    p.kwh_std = kwh.std;  // sample std, as the report
    p.kwh_ci95 = ci95_half_width(kwh);
    p.kwh_min = *std::min_element(a.kwh.begin(), a.kwh.end());
    p.kwh_max = *std::max_element(a.kwh.begin(), a.kwh.end());
    p.gco2e_mean = g.mean;
    p.gco2e_ci95 = ci95_half_width(g);
    p.gco2e_min = *std::min_element(a.g.begin(), a.g.end());
    p.gco2e_max = *std::max_element(a.g.begin(), a.g.end());
    if (!a.seconds_per_inference.empty()) p.seconds_per_inference = summarize(a.seconds_per_inference).mean;
    if (!a.latency_p50.empty()) p.latency_p50_s = summarize(a.latency_p50).mean;
    if (!a.output_tokens.empty()) p.output_tokens_per_inference = summarize(a.output_tokens).mean;
    p.gpu_kwh = a.gpu / n;
    p.cpu_kwh = a.cpu / n;
    p.ram_kwh = a.ram / n;
    p.other_kwh = a.other / n;
    p.provenance = std::string(to_string(a.weakest));
    p.band_factor = a.band;
    p.loading_included_runs = a.loading_included;
    p.coarse_runs = a.coarse;
    for (const auto& d : a.detail) p.provenance_detail += (p.provenance_detail.empty() ? "" : "; ") + d;
    auto f = options.facts.find(model);
    if (f != options.facts.end()) {
      p.parameters = f->second.parameters;
      p.multi_purpose = f->second.multi_purpose.value_or(a.zero_shot || is_multi_purpose_name(p.model));
      p.purpose = off_task_purpose(model, f->second.purpose);
    } else {
      p.multi_purpose = a.zero_shot || is_multi_purpose_name(model);
      p.purpose = off_task_purpose(model);
    }
    out.push_back(std::move(p));
  }
  std::stable_sort(out.begin(), out.end(), [](const ModelPoint& a, const ModelPoint& b) {
    const int ra = task_rank(a.task), rb = task_rank(b.task);
    if (ra != rb) return ra < rb;
    if (a.task != b.task) return a.task < b.task;
    return a.kwh_mean < b.kwh_mean;
  });
  return out;
}

std::string render_csv(const Report& report) {
  std::vector<std::string> eq_keys;
  if (!report.rows.empty())
    for (const auto& e : report.rows.front().equivalents) eq_keys.push_back(e.constant.key);
  std::string out =
      "task,model,dataset,runs,models,inferences,kwh_per_1000_mean,kwh_per_1000_std,kwh_per_1000_min,"
      "kwh_per_1000_max,gco2e_per_1000_mean,gco2e_per_1000_std,input_tokens_mean,output_tokens_mean,"
      "weakest_provenance,batch,threads,dtype,device,zero_shot_runs,loading_included_runs,loading_share_mean,"
      "coarse_runs";
  for (const auto& k : eq_keys) out += ",eq_" + k;
  out += "\n";
  auto opt = [](const std::optional<double>& v) { return v ? number(*v) : std::string(); };
  for (const auto& r : report.rows) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", csv_field(r.task), csv_field(r.model),
                       csv_field(r.dataset), r.runs, r.models, r.inferences, number(r.kwh_per_1000_mean),
                       number(r.kwh_per_1000_std), number(r.kwh_per_1000_min), number(r.kwh_per_1000_max),
                       number(r.gco2e_per_1000_mean), number(r.gco2e_per_1000_std), opt(r.input_tokens_mean),
                       opt(r.output_tokens_mean), csv_field(r.weakest_provenance));
    out += fmt::format(",{},{},{},{}", r.batch_size ? std::to_string(*r.batch_size) : "",
                       r.threads ? std::to_string(*r.threads) : "", csv_field(r.dtype), csv_field(r.device));
    out += fmt::format(",{},{},{},{}", r.zero_shot_runs, r.loading_included_runs, opt(r.loading_share_mean),
                       r.coarse_runs);
    for (const auto& k : eq_keys) {
      std::string cell;
      for (const auto& e : r.equivalents)
        if (e.constant.key == k) cell = number(e.value);
      out += "," + cell;
    }
    out += "\n";
  }
  return out;
}

EnergyLabel make_energy_label(Store& store, const std::string& model, const std::string& task,
                              const std::map<std::string, ModelFacts>& facts) {
  if (store.list_runs().empty())
    throw InputError(fmt::format("the store {} holds no runs: fill it with `joulebench bench` or "
                                 "`joulebench import codecarbon FILES`",
                                 store.location()));
  WindowQuery q;
  q.model = model;
  q.task = task;
  const auto own = store.query_windows(q);
  HtmlReportOptions options;
  options.facts = facts;
  const auto own_points = model_points(own, options);
  if (own_points.empty()) {
    std::set<std::string> names;
    for (const auto& sw : store.query_windows({}))
      if (!sw.window.model.empty()) names.insert(sw.window.model);
    const std::string list = fmt::format("{}", fmt::join(names, ", "));
    throw InputError(fmt::format("no inference windows of model '{}' in {}; stored models: {}", model,
                                 store.location(), list.empty() ? "(none)" : list));
  }
  std::set<std::string> tasks;
  for (const auto& p : own_points) tasks.insert(p.task);
  if (tasks.size() > 1 && task.empty()) {
    std::string list;
    for (const auto& t : tasks) list += (list.empty() ? "" : ", ") + (t.empty() ? std::string("(no task)") : t);
    throw InputError(fmt::format("model '{}' has results for several tasks ({}): choose one with --label-task TASK",
                                 model, list));
  }
  // Several configurations (a batch sweep): the study's own (batch 1) when measured.
  const auto plain = std::find_if(own_points.begin(), own_points.end(), [&](const ModelPoint& p) { return p.model == model; });
  const ModelPoint& me = plain != own_points.end() ? *plain : own_points.front();
  WindowQuery tq;
  tq.task = me.task;
  const auto peers = model_points(store.query_windows(tq), options);
  EnergyLabel label;
  label.model = me.model;
  label.task = me.task;
  label.wh_per_1000 = me.kwh_mean * 1000.0;
  label.provenance = me.provenance;
  label.band_factor = me.band_factor;
  // Ranked among the task's models of the same configuration and purpose
  // (batch 8 is not ranked against batch 1, nor a language identifier against sentiment models).
  label.task_min_wh = label.task_max_wh = label.wh_per_1000;
  for (const auto& p : peers) {
    if (p.configuration != me.configuration || p.purpose != me.purpose) continue;
    ++label.models_in_task;
    label.task_min_wh = std::min(label.task_min_wh, p.kwh_mean * 1000.0);
    label.task_max_wh = std::max(label.task_max_wh, p.kwh_mean * 1000.0);
  }
  label.stars = stars_among(label.wh_per_1000, label.task_min_wh, label.task_max_wh, label.models_in_task,
                            &label.stars_note)
                    .value_or(0);
  if (!me.purpose.empty() && label.stars == 0)
    label.stars_note = fmt::format("no stars: it does {}, not {}'s usual job; {} model{} of that purpose; stars "
                                   "rank {} or more",
                                   me.purpose, me.task, label.models_in_task, label.models_in_task == 1 ? "" : "s",
                                   kMinModelsForStars);
  // Hardware and date of the newest run that measured the model.
  std::chrono::system_clock::time_point newest{};
  std::string newest_run;
  for (const auto& sw : own) {
    const auto end = sw.window.measurement.start_time;
    if (newest_run.empty() || end > newest) {
      newest = end;
      newest_run = sw.run_id;
    }
  }
  if (auto run = store.load_run(newest_run)) {
    const auto& m = run->machine;
    label.hardware = m.gpu_model;
    if (!m.cpu_model.empty()) label.hardware += (label.hardware.empty() ? "" : ", ") + m.cpu_model;
    if (label.hardware.empty()) label.hardware = "unknown hardware";
  }
  label.date = format_utc(newest).substr(0, 10);
  return label;
}

}  // namespace joulebench
