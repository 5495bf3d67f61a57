// `joulebench study`: the paper's tables beside the store's figures under the
// paper's rules (docs/study.md). Rules, in short: a run's inference energy is
// its "query model" row; task means over task-specific runs (zero-shot runs
// out), image tasks on their "_resized" datasets, text-to-image over the
// script's eight models; multi-purpose means over each model's zero-shot runs.
#include "joulebench/study.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/csv_reader.h"
#include "core/text_util.h"
#include "joulebench/compare.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "joulebench/readable.h"

namespace joulebench::embedded {
extern const std::string_view study_published_csv;
extern const std::string_view study_models_csv;
}  // namespace joulebench::embedded

namespace joulebench {
namespace {

// The part after the organisation, lower case: "google/flan-t5-base" -> "flan-t5-base".
std::string short_name(std::string_view model) {
  const auto slash = model.rfind('/');
  return detail::to_lower(slash == std::string_view::npos ? model : model.substr(slash + 1));
}

bool is_resized(const std::string& dataset) {
  return dataset.size() > 8 && dataset.compare(dataset.size() - 8, 8, "-resized") == 0;
}

bool is_image_input_task(const std::string& task) {
  return task == "image-classification" || task == "object-detection" || task == "image-to-text";
}

// One run as the rules see it.
struct Run {
  std::string task, model, dataset;
  bool zero_shot = false;
  bool includes_loading = false;
  double kwh_per_1000 = 0.0;
  double g_per_1000 = 0.0;
};

struct Selection {
  std::vector<const Run*> runs;
  std::vector<std::string> caveats;
  std::set<std::string> datasets;
};

// Query rows when any run has one; otherwise the whole-run rows, flagged.
void prefer_query_rows(Selection& s) {
  const auto loading = std::count_if(s.runs.begin(), s.runs.end(), [](const Run* r) { return r->includes_loading; });
  if (loading == 0) return;
  if (static_cast<std::size_t>(loading) < s.runs.size()) {
    std::erase_if(s.runs, [](const Run* r) { return r->includes_loading; });
    s.caveats.push_back(fmt::format("{} run(s) without a query-only row left out (import their base/ files)", loading));
  } else {
    s.caveats.push_back(
        "includes model loading: no query-only rows (import the study's base/ files beside complete/)");
  }
}

void finish(Selection& s) {
  for (const Run* r : s.runs) s.datasets.insert(r->dataset.empty() ? "(unknown)" : r->dataset);
}

StudyRow make_row(const PublishedFigure& f) {
  StudyRow row;
  row.table = f.table;
  row.row = f.row;
  row.metric = f.metric;
  row.published = f.value;
  row.decimals = f.decimals;
  row.source = f.source;
  return row;
}

void set_reproduced(StudyRow& row, double value) {
  row.reproduced = value;
  if (row.published != 0) row.ratio = value / row.published;
  const double scale = std::pow(10.0, row.decimals);
  row.matches = std::llround(value * scale) == std::llround(row.published * scale);
}

const PublishedFigure* find_figure(const std::string& table, const std::string& row, const std::string& metric) {
  for (const auto& f : published_study_figures())
    if (f.table == table && f.row == row && f.metric == metric) return &f;
  return nullptr;
}

}  // namespace

const std::vector<PublishedFigure>& published_study_figures() {
  static const std::vector<PublishedFigure> figures = [] {
    std::vector<PublishedFigure> out;
    const auto records = detail::parse_csv(embedded::study_published_csv, "data/study-published.csv",
                                           {.skip_comment_lines = true});
    for (std::size_t i = 1; i < records.size(); ++i) {  // [0] is the header
      const auto& f = records[i].fields;
      if (f.size() != 6) throw Error(fmt::format("built-in table data/study-published.csv:{}: 6 fields expected",
                                                 records[i].line));
      const auto value = detail::parse_double(f[3]);
      const auto decimals = detail::parse_int(f[4]);
      if (!value || !decimals)
        throw Error(fmt::format("built-in table data/study-published.csv:{}: bad number", records[i].line));
      out.push_back({f[0], f[1], f[2], *value, static_cast<int>(*decimals), f[5]});
    }
    return out;
  }();
  return figures;
}

const std::vector<StudyModel>& study_models() {
  static const std::vector<StudyModel> models = [] {
    std::vector<StudyModel> out;
    const auto records =
        detail::parse_csv(embedded::study_models_csv, "data/study-models.csv", {.skip_comment_lines = true});
    for (std::size_t i = 1; i < records.size(); ++i) {  // [0] is the header
      const auto& f = records[i].fields;
      if (f.size() != 8)
        throw Error(fmt::format("built-in table data/study-models.csv:{}: 8 fields expected", records[i].line));
      StudyModel m;
      m.model = f[0];
      m.task = f[1];
      m.multi_purpose = f[2] == "multi-purpose";
      m.total_parameters = detail::parse_int(f[3]).value_or(0);
      m.backbone_parameters = detail::parse_int(f[4]).value_or(0);
      m.architecture = f[5];
      m.source = f[6];
      m.note = f[7];
      out.push_back(std::move(m));
    }
    return out;
  }();
  return models;
}

const std::vector<std::string>& study_text_to_image_models() {
  // The logs hold ten text-to-image models (30 runs each over DiffusionDB, SD
  // Prompts and ImageReward). These eight are the only ones whose query rows
  // give the paper's 2.907 kWh (mean, 240 runs: 2.90718) and 3.31 (sample std:
  // 3.30884); all ten give 2.586 / 3.03, and the repository's current script
  // (top six by downloads plus two distilled models) 2.645 / 3.34. Left out:
  // SG161222/Realistic_Vision_V1.4 and stabilityai/stable-diffusion-2-1-base.
  static const std::vector<std::string> models{
      "runwayml/stable-diffusion-v1-5",           "CompVis/stable-diffusion-v1-4",
      "stabilityai/stable-diffusion-2-1",         "stabilityai/stable-diffusion-xl-base-1.0",
      "prompthero/openjourney",                   "dreamlike-art/dreamlike-photoreal-2.0",
      "nota-ai/bk-sdm-tiny",                      "segmind/tiny-sd",
  };
  return models;
}

namespace {

// The imported inference windows as the paper's runs (kWh and g per 1,000).
std::vector<Run> study_runs(const std::vector<StoredWindow>& windows) {
  std::vector<Run> runs;
  for (const auto& sw : windows) {
    const WindowRecord& w = sw.window;
    if (sw.kind != RunKind::import || w.phase != "inference" || !w.inferences || *w.inferences <= 0) continue;
    if (w.task.empty()) continue;
    const double per = 1000.0 / static_cast<double>(*w.inferences);
    const double kwh = joules_to_kwh(w.measurement.total_energy_j());
    Run r;
    r.task = w.task;
    r.model = w.model;
    r.dataset = w.dataset;
    r.zero_shot = w.zero_shot;
    r.includes_loading = w.includes_loading;
    r.kwh_per_1000 = kwh * per;
    r.g_per_1000 = (w.g_co2e ? *w.g_co2e : kwh * sw.pue * sw.intensity_g_per_kwh) * per;
    runs.push_back(std::move(r));
  }
  if (runs.empty())
    throw InputError(
        "no imported study logs with a task in the store: import the study's CodeCarbon logs first, e.g. "
        "`joulebench import codecarbon study-logs/complete study-logs/base` (complete/ and base/ together)");
  return runs;
}

// The runs of one task under the paper's rules: no zero-shot runs, the
// _resized image datasets, the study's eight text-to-image models.
Selection task_selection(const std::string& name, const std::vector<Run>& runs) {
  const auto& tti = study_text_to_image_models();
  Selection s;
  std::size_t zero_shot = 0;
  for (const auto& r : runs)
    if (r.task == name) {
      if (r.zero_shot) ++zero_shot;
      else s.runs.push_back(&r);
    }
  if (zero_shot) s.caveats.push_back(fmt::format("{} zero-shot run(s) left out, as the paper does", zero_shot));
  if (is_image_input_task(name) && !s.runs.empty()) {
    const bool any_resized = std::any_of(s.runs.begin(), s.runs.end(), [](const Run* r) { return is_resized(r->dataset); });
    if (any_resized) {
      const auto before = s.runs.size();
      std::erase_if(s.runs, [](const Run* r) { return !is_resized(r->dataset); });
      if (before != s.runs.size())
        s.caveats.push_back(fmt::format("{} run(s) on the original-size datasets left out (the paper used the "
                                        "_resized ones)",
                                        before - s.runs.size()));
    } else {
      s.caveats.push_back("not the _resized datasets the paper used (none imported)");
    }
  }
  if (name == "text-to-image" && !s.runs.empty()) {
    std::set<std::string> other;
    std::erase_if(s.runs, [&](const Run* r) {
      const bool out = std::none_of(tti.begin(), tti.end(), [&](const std::string& m) {
        return short_name(m) == short_name(r->model);
      });
      if (out) other.insert(r->model);
      return out;
    });
    if (!other.empty())
      s.caveats.push_back(fmt::format("{} model(s) outside the study's eight left out: {}", other.size(),
                                      fmt::join(other, ", ")));
  }
  prefer_query_rows(s);
  finish(s);
  return s;
}

// Table 2: per task, mean and sample std of kWh per 1,000 inferences.
void add_task_rows(const std::vector<Run>& runs, StudyReport& report) {
  for (auto task : all_tasks()) {
    const std::string name(to_string(task));
    const PublishedFigure* fm = find_figure("tasks", name, "kwh_per_1000_mean");
    const PublishedFigure* fs = find_figure("tasks", name, "kwh_per_1000_std");
    if (!fm || !fs) continue;
    const Selection s = task_selection(name, runs);
    std::vector<double> kwh;
    for (const Run* r : s.runs) kwh.push_back(r->kwh_per_1000);
    for (const PublishedFigure* f : {fm, fs}) {
      StudyRow row = make_row(*f);
      row.statistic = f == fm ? "mean of runs" : "sample std of runs";
      row.runs = static_cast<int>(kwh.size());
      row.datasets.assign(s.datasets.begin(), s.datasets.end());
      row.caveats = s.caveats;
      if (!kwh.empty()) set_reproduced(row, f == fm ? summarize(kwh).mean : summarize(kwh).std);
      if (!kwh.empty() && s.datasets.size() < 3)
        row.caveats.push_back(fmt::format("{} of the paper's 3 datasets", s.datasets.size()));
      report.rows.push_back(std::move(row));
    }
  }
}

// Table 4: the multi-purpose models' zero-shot runs. Returns the kWh per
// query of each model as published, for Table 5.
std::map<std::string, double> add_multi_purpose_rows(const std::vector<Run>& runs, StudyReport& report) {
  std::map<std::string, double> per_query_kwh;
  for (const auto& f : published_study_figures()) {
    if (f.table != "multi-purpose") continue;
    Selection s;
    for (const auto& r : runs)
      if (r.zero_shot && short_name(r.model) == short_name(f.row)) s.runs.push_back(&r);
    prefer_query_rows(s);
    finish(s);
    std::vector<double> v;
    for (const Run* r : s.runs) v.push_back(f.metric == "g_co2e_per_1000" ? r->g_per_1000 : r->kwh_per_1000);
    StudyRow row = make_row(f);
    row.statistic = "mean of zero-shot runs";
    row.runs = static_cast<int>(v.size());
    row.datasets.assign(s.datasets.begin(), s.datasets.end());
    row.caveats = s.caveats;
    if (!v.empty()) {
      const double mean = summarize(v).mean;
      set_reproduced(row, mean);
      if (f.metric == "kwh_per_1000_mean") per_query_kwh[f.row] = mean / 1000.0;
    }
    report.rows.push_back(std::move(row));
  }
  return per_query_kwh;
}

// Table 5: queries until inference equals training plus fine-tuning.
void add_lifecycle_rows(const std::map<std::string, double>& per_query_kwh, StudyReport& report) {
  for (const auto& f : published_study_figures()) {
    if (f.table != "lifecycle" || f.metric != "breakeven_queries") continue;
    const PublishedFigure* train = find_figure("lifecycle", f.row, "training_kwh");
    const PublishedFigure* tune = find_figure("lifecycle", f.row, "finetuning_kwh");
    const PublishedFigure* query = find_figure("lifecycle", f.row, "kwh_per_query");
    if (!train || !tune || !query) continue;
    StudyRow row = make_row(f);
    row.statistic = "(training + fine-tuning kWh) / kWh per query";
    row.from_paper_inputs = (train->value + tune->value) / query->value;
    if (auto it = per_query_kwh.find(f.row); it != per_query_kwh.end() && it->second > 0) {
      set_reproduced(row, (train->value + tune->value) / it->second);
      for (const auto& r : report.rows)
        if (r.table == "multi-purpose" && r.row == f.row && r.metric == "kwh_per_1000_mean") {
          row.runs = r.runs;
          row.datasets = r.datasets;
          row.caveats = r.caveats;
        }
      // The paper divides by its per-query figure rounded to two digits.
      row.matches = std::abs(*row.reproduced / f.value - 1.0) < 0.01;
      row.caveats.push_back(fmt::format("per query {} kWh from the store (the paper: {}); training {} kWh + "
                                        "fine-tuning {} kWh as published",
                                        readable_number(it->second, 4), readable_number(query->value, 4),
                                        readable_number(train->value, 4), readable_number(tune->value, 4)));
    }
    report.rows.push_back(std::move(row));
  }
}

// The SDXL extreme: its largest run.
void add_extreme_rows(const std::vector<Run>& runs, StudyReport& report) {
  for (const auto& f : published_study_figures()) {
    if (f.table != "extremes") continue;
    const Run* largest = nullptr;
    Selection s;
    for (const auto& r : runs)
      if (!r.zero_shot && short_name(r.model) == short_name(f.row)) s.runs.push_back(&r);
    prefer_query_rows(s);
    finish(s);
    for (const Run* r : s.runs)
      if (!largest || r->kwh_per_1000 > largest->kwh_per_1000) largest = r;
    StudyRow row = make_row(f);
    row.statistic = "largest run";
    row.runs = static_cast<int>(s.runs.size());
    row.datasets.assign(s.datasets.begin(), s.datasets.end());
    row.caveats = s.caveats;
    if (largest) set_reproduced(row, f.metric == "g_co2e_per_1000" ? largest->g_per_1000 : largest->kwh_per_1000);
    report.rows.push_back(std::move(row));
  }
}

// Task-specific against multi-purpose, same task (the store's own figures).
void add_comparisons(const std::vector<Run>& runs, StudyReport& report) {
  for (auto task : all_tasks()) {
    const std::string name(to_string(task));
    StudyComparison c;
    c.task = name;
    std::vector<double> specific, multi;
    std::set<std::string> datasets;
    for (const auto& r : runs) {
      if (r.task != name) continue;
      (r.zero_shot ? multi : specific).push_back(r.g_per_1000);
      datasets.insert(r.dataset);
    }
    if (specific.empty() || multi.empty()) continue;
    c.task_specific_g_per_1000 = summarize(specific).mean;
    c.multi_purpose_g_per_1000 = summarize(multi).mean;
    c.task_specific_runs = static_cast<int>(specific.size());
    c.multi_purpose_runs = static_cast<int>(multi.size());
    c.datasets.assign(datasets.begin(), datasets.end());
    report.comparisons.push_back(std::move(c));
  }
}

}  // namespace

StudyReport reproduce_study(const std::vector<StoredWindow>& windows) {
  const std::vector<Run> runs = study_runs(windows);
  StudyReport report;
  report.runs_considered = static_cast<int>(runs.size());
  add_task_rows(runs, report);
  add_lifecycle_rows(add_multi_purpose_rows(runs, report), report);
  add_extreme_rows(runs, report);
  add_comparisons(runs, report);
  report.notes.push_back(std::string("published: ") + kStudyCitation);
  report.notes.push_back(
      "reproduced: imported CodeCarbon runs under the paper's rules (docs/study.md); ratio = reproduced / published; "
      "\"ok\" = equal at the paper's printed precision");
  return report;
}

StudyReport reproduce_study(Store& store) {
  WindowQuery q;
  q.phase = "inference";
  return reproduce_study(store.query_windows(q));
}

std::string render_study_table(const StudyReport& report) {
  std::string out;
  // The paper's units and 4 significant digits (its tables' precision), in
  // fixed notation; whole numbers in full with thousands separators.
  auto number = [](double v) {
    if (std::abs(v) >= 1e5) return readable_count(static_cast<std::int64_t>(std::llround(v)));
    std::string t = readable_number(v, 4);
    if (t.find('.') != std::string::npos) {  // 0.002, as the paper writes it, not 0.002000
      while (t.back() == '0') t.pop_back();
      if (t.back() == '.') t.pop_back();
    }
    return t;
  };
  const std::vector<std::pair<std::string, std::string>> tables{
      {"tasks", "Per task: kWh per 1,000 inferences, task-specific models (Table 2)"},
      {"multi-purpose", "Multi-purpose models, zero-shot: per 1,000 inferences (Table 4)"},
      {"lifecycle", "Lifecycle: queries until inference equals training + fine-tuning (Table 5)"},
      {"extremes", "The most energy-hungry model: stable-diffusion-xl-base-1.0, its largest run (section 4.1)"}};
  for (const auto& [table, title] : tables) {
    out += title + "\n";
    out += fmt::format("  {:<42} {:<18} {:>13} {:>13} {:>7} {:>5} {:>4}  {}\n", "row", "metric", "published",
                       "reproduced", "ratio", "runs", "", "datasets / caveats");
    for (const auto& r : report.rows) {
      if (r.table != table) continue;
      std::string notes = r.runs > 0 ? fmt::format("{}", fmt::join(r.datasets, ", ")) : "no runs in the store";
      for (const auto& c : r.caveats) notes += "; " + c;
      if (r.from_paper_inputs) notes += fmt::format("; from the paper's own inputs: {}", number(*r.from_paper_inputs));
      out += fmt::format("  {:<42} {:<18} {:>13} {:>13} {:>7} {:>5} {:>4}  {}\n", r.row, r.metric,
                         number(r.published), r.reproduced ? number(*r.reproduced) : "-",
                         r.ratio ? fmt::format("{:.3f}", *r.ratio) : "-", r.runs,
                         !r.reproduced ? "" : r.matches ? "ok" : "DIFF", notes);
    }
    out += "\n";
  }
  if (!report.comparisons.empty()) {
    out += "Task-specific against multi-purpose models on the same task (g CO2e per 1,000 inferences, this store)\n";
    out += fmt::format("  {:<24} {:>14} {:>14} {:>8}  {}\n", "task", "task-specific", "multi-purpose", "x",
                       "runs (specific / multi), datasets");
    for (const auto& c : report.comparisons)
      out += fmt::format("  {:<24} {:>14} {:>14} {:>8.1f}  {} / {}, {}\n", c.task, number(c.task_specific_g_per_1000),
                         number(c.multi_purpose_g_per_1000),
                         c.task_specific_g_per_1000 > 0 ? c.multi_purpose_g_per_1000 / c.task_specific_g_per_1000 : 0.0,
                         c.task_specific_runs, c.multi_purpose_runs, fmt::join(c.datasets, ", "));
    out += "\n";
  }
  for (const auto& n : report.notes) out += "note: " + n + "\n";
  return out;
}

nlohmann::json study_json(const StudyReport& report) {
  auto arr = nlohmann::json::array();
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  for (const auto& r : report.rows) {
    nlohmann::json j{{"table", r.table},         {"row", r.row},
                     {"metric", r.metric},       {"published", r.published},
                     {"reproduced", opt(r.reproduced)}, {"ratio", opt(r.ratio)},
                     {"runs", r.runs},           {"matches", r.matches},
                     {"decimals", r.decimals},   {"statistic", r.statistic},
                     {"datasets", r.datasets},   {"caveats", r.caveats},
                     {"source", std::string(kStudyCitation) + ", " + r.source}};
    if (r.from_paper_inputs) j["from_paper_inputs"] = *r.from_paper_inputs;
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace joulebench
