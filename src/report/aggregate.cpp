// Per task / model / dataset statistics of energy and emissions per 1,000 inferences.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "joulebench/models.h"
#include "joulebench/report.h"
#include "joulebench/statistics.h"

namespace joulebench {
namespace {

struct Group {
  std::vector<double> kwh, g;
  std::set<std::string> models;
  std::int64_t inferences = 0;
  double input_tokens = 0, output_tokens = 0;
  std::int64_t token_inferences_in = 0, token_inferences_out = 0;
  ProvenanceKind weakest = ProvenanceKind::measured;
  double band = 1.0;
  int zero_shot = 0, loading_included = 0, coarse = 0;
  std::vector<double> loading_shares;
};

int task_rank(const std::string& task) {
  const auto& tasks = all_tasks();
  for (std::size_t i = 0; i < tasks.size(); ++i)
    if (to_string(tasks[i]) == task) return static_cast<int>(i);
  return static_cast<int>(tasks.size());  // unknown tasks last
}

}  // namespace

std::string_view to_string(ReportGrouping g) {
  switch (g) {
    case ReportGrouping::task: return "task";
    case ReportGrouping::model: return "model";
    case ReportGrouping::dataset: return "dataset";
  }
  return "task";
}

std::optional<ReportGrouping> report_grouping_from_string(std::string_view s) {
  for (auto g : {ReportGrouping::task, ReportGrouping::model, ReportGrouping::dataset})
    if (to_string(g) == s) return g;
  return std::nullopt;
}

namespace {

// task, model, dataset (per --by), then the configuration (always).
using GroupKey = std::tuple<std::string, std::string, std::string, std::optional<int>, std::optional<int>,
                            std::string, std::string>;

// One window into its group, per 1,000 inferences.
void add_window(const StoredWindow& sw, Group& grp) {
  const WindowRecord& w = sw.window;
  const double per = 1000.0 / static_cast<double>(*w.inferences);
  const double kwh = joules_to_kwh(w.measurement.total_energy_j());
  // Logged or computed grams; else this run's intensity and PUE.
  const double g = w.g_co2e ? *w.g_co2e : kwh * sw.pue * sw.intensity_g_per_kwh;
  grp.kwh.push_back(kwh * per);
  grp.g.push_back(g * per);
  grp.models.insert(w.model);
  grp.inferences += *w.inferences;
  if (w.zero_shot) ++grp.zero_shot;
  if (w.measurement.is_coarse()) ++grp.coarse;
  if (w.includes_loading) {
    ++grp.loading_included;
    if (w.loading_share) grp.loading_shares.push_back(*w.loading_share);
  }
  if (w.input_tokens) {
    grp.input_tokens += static_cast<double>(*w.input_tokens);
    grp.token_inferences_in += *w.inferences;
  }
  if (w.output_tokens) {
    grp.output_tokens += static_cast<double>(*w.output_tokens);
    grp.token_inferences_out += *w.inferences;
  }
  if (!w.measurement.components.empty()) grp.weakest = std::max(grp.weakest, w.measurement.weakest_provenance());
  grp.band = std::max(grp.band, w.measurement.total_high_share());
}

ReportRow group_row(const GroupKey& key, const Group& grp, const ReportOptions& options) {
  ReportRow row;
  std::tie(row.task, row.model, row.dataset, row.batch_size, row.threads, row.dtype, row.device) = key;
  row.runs = static_cast<int>(grp.kwh.size());
  row.models = static_cast<int>(grp.models.size());
  row.inferences = grp.inferences;
  // Sample standard deviation (n - 1), as pandas' std() the study used.
  const Summary kwh = summarize(grp.kwh), g = summarize(grp.g);
  row.kwh_per_1000_mean = kwh.mean;
  row.kwh_per_1000_std = kwh.std;
  row.kwh_per_1000_min = *std::min_element(grp.kwh.begin(), grp.kwh.end());
  row.kwh_per_1000_max = *std::max_element(grp.kwh.begin(), grp.kwh.end());
  row.gco2e_per_1000_mean = g.mean;
  row.gco2e_per_1000_std = g.std;
  if (grp.token_inferences_in) row.input_tokens_mean = grp.input_tokens / static_cast<double>(grp.token_inferences_in);
  if (grp.token_inferences_out)
    row.output_tokens_mean = grp.output_tokens / static_cast<double>(grp.token_inferences_out);
  row.weakest_provenance = std::string(to_string(grp.weakest));
  row.band_factor = grp.band;
  row.zero_shot_runs = grp.zero_shot;
  row.loading_included_runs = grp.loading_included;
  row.coarse_runs = grp.coarse;
  if (!grp.loading_shares.empty()) row.loading_share_mean = summarize(grp.loading_shares).mean;
  // Equivalents of the mean; energy-based ones use measured kWh (PUE is in the grams).
  row.equivalents = compute_equivalents(row.kwh_per_1000_mean, row.gco2e_per_1000_mean, options.equivalents);
  return row;
}

// What a reader of the table must know about what it left out or mixed in.
void add_notes(Report& report, std::size_t from_interrupted, std::size_t from_unfinished) {
  if (report.windows_without_inferences)
    report.notes.push_back(fmt::format("{} window(s) without an inference count left out (model loading, "
                                       "whole-command measurements)",
                                       report.windows_without_inferences));
  if (report.zero_shot_left_out)
    report.notes.push_back(fmt::format(
        "{} zero-shot run(s) of multi-purpose models on other tasks' data left out, as the study's task means do; "
        "--include-zero-shot counts them, --by model shows them",
        report.zero_shot_left_out));
  auto any_row = [&](auto&& pred) { return std::any_of(report.rows.begin(), report.rows.end(), pred); };
  if (any_row([](const ReportRow& r) { return r.loading_included_runs > 0; }))
    report.notes.push_back(kLoadingIncludedNote);
  if (any_row([](const ReportRow& r) { return r.coarse_runs > 0; })) report.notes.push_back(kCoarseRunsNote);
  if (from_interrupted)
    report.notes.push_back(fmt::format("{} window(s) come from interrupted runs (complete windows they kept)",
                                       from_interrupted));
  if (from_unfinished)
    report.notes.push_back(fmt::format("{} window(s) come from runs still marked running or failed", from_unfinished));
  if (any_row([](const ReportRow& r) { return r.task.empty(); }))
    report.notes.push_back("rows with an empty task come from logs whose task was not known: re-import with --task");
}

}  // namespace

Report aggregate_windows(const std::vector<StoredWindow>& windows, const ReportOptions& options) {
  Report report;
  report.by = options.by;
  std::map<GroupKey, Group> groups;
  std::size_t from_interrupted = 0, from_unfinished = 0;
  for (const auto& sw : windows) {
    const WindowRecord& w = sw.window;
    if (!options.task.empty() && w.task != options.task) continue;
    if (!options.model.empty() && w.model != options.model) continue;
    if (!w.inferences || *w.inferences <= 0) {
      ++report.windows_without_inferences;
      continue;
    }
    if (w.zero_shot && !options.include_zero_shot && options.by != ReportGrouping::model) {
      ++report.zero_shot_left_out;
      continue;
    }
    GroupKey key{w.task, "", "", w.batch_size, w.threads, w.dtype, w.device};
    if (options.by == ReportGrouping::model) std::get<1>(key) = w.model;
    if (options.by == ReportGrouping::dataset) std::get<2>(key) = w.dataset;
    add_window(sw, groups[key]);
    ++report.windows_used;
    if (sw.status == RunStatus::interrupted) ++from_interrupted;
    if (sw.status == RunStatus::running || sw.status == RunStatus::failed) ++from_unfinished;
  }
  for (const auto& [key, grp] : groups) report.rows.push_back(group_row(key, grp, options));
  // The study's order: tasks in their canonical order, then cheapest first.
  std::stable_sort(report.rows.begin(), report.rows.end(), [](const ReportRow& a, const ReportRow& b) {
    const int ra = task_rank(a.task), rb = task_rank(b.task);
    if (ra != rb) return ra < rb;
    if (a.task != b.task) return a.task < b.task;
    return a.kwh_per_1000_mean < b.kwh_per_1000_mean;
  });
  add_notes(report, from_interrupted, from_unfinished);
  return report;
}

Report build_report(Store& store, const ReportOptions& options) {
  WindowQuery q;
  q.task = options.task;
  q.model = options.model;
  q.phase = "inference";
  q.include_unfinished = options.include_unfinished;
  return aggregate_windows(store.query_windows(q), options);
}

}  // namespace joulebench
