// One set of rows, three renderings: terminal table, Markdown, JSON.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "core/text_safety.h"
#include "joulebench/readable.h"
#include "joulebench/report.h"

namespace joulebench {
namespace {

struct Column {
  std::string title;
  bool right;  // numbers align right
};

const EquivalentValue* find_equivalent(const ReportRow& r, std::string_view key) {
  for (const auto& e : r.equivalents)
    if (e.constant.key == key) return &e;
  return nullptr;
}

// The configuration columns, as text ("-" where not recorded).
std::string opt_text(const std::optional<int>& v) { return v ? std::to_string(*v) : "-"; }
std::string opt_text(const std::string& v) { return v.empty() ? "-" : v; }
constexpr std::size_t kConfigColumns = 4;
std::array<std::string, kConfigColumns> config_of(const ReportRow& r) {
  return {opt_text(r.batch_size), opt_text(r.threads), opt_text(r.dtype), opt_text(r.device)};
}
constexpr std::array<const char*, kConfigColumns> kConfigTitles{"batch", "threads", "dtype", "device"};

// A configuration column is shown only where the rows differ in it (a
// batch sweep): a store of one configuration reads as before.
std::array<bool, kConfigColumns> varying_config(const Report& report) {
  std::array<bool, kConfigColumns> show{};
  if (report.rows.empty()) return show;
  const auto first = config_of(report.rows.front());
  for (const auto& r : report.rows) {
    const auto config = config_of(r);
    for (std::size_t i = 0; i < show.size(); ++i) show[i] = show[i] || config[i] != first[i];
  }
  return show;
}

std::vector<Column> columns(const Report& report) {
  std::vector<Column> c{{"task", false}};
  if (report.by == ReportGrouping::model) c.push_back({"model", false});
  if (report.by == ReportGrouping::dataset) c.push_back({"dataset", false});
  const auto show = varying_config(report);
  for (std::size_t i = 0; i < show.size(); ++i)
    if (show[i]) c.push_back({kConfigTitles[i], i < 2});
  for (const char* t : {"runs", "energy/1k mean ± sd", "CO2e/1k", "phone charges/1k", "car km/1k"})
    c.push_back({t, true});
  c.push_back({"source", false});
  return c;
}

// "*" beside a figure that includes model loading, with how much of the group.
std::string loading_mark(const ReportRow& r) {
  if (r.loading_included_runs == 0) return "";
  std::string m = r.loading_included_runs == r.runs ? " *" : fmt::format(" *{}/{}", r.loading_included_runs, r.runs);
  if (r.loading_share_mean) m += fmt::format(" (load {:.0f}%)", *r.loading_share_mean * 100.0);
  return m;
}

// "~" beside a figure from windows shorter than their sensors' resolution.
std::string coarse_mark(const ReportRow& r) {
  if (r.coarse_runs == 0) return "";
  return r.coarse_runs == r.runs ? " ~" : fmt::format(" ~{}/{}", r.coarse_runs, r.runs);
}

std::vector<std::vector<std::string>> cells(const Report& report) {
  std::vector<std::vector<std::string>> out;
  const auto show = varying_config(report);
  for (const auto& r : report.rows) {
    // Names come from logs: shown printable (no terminal escapes, no line breaks).
    std::vector<std::string> row{r.task.empty() ? "(unknown)" : text::printable(r.task)};
    if (report.by == ReportGrouping::model) row.push_back(text::printable(r.model));
    if (report.by == ReportGrouping::dataset) row.push_back(text::printable(r.dataset));
    const auto config = config_of(r);
    for (std::size_t i = 0; i < show.size(); ++i)
      if (show[i]) row.push_back(text::printable(config[i]));
    row.push_back(std::to_string(r.runs));
    // One run has no spread to show ("± 0" would claim one).
    row.push_back((r.runs > 1 ? readable_kwh_pm(r.kwh_per_1000_mean, r.kwh_per_1000_std)
                              : readable_kwh(r.kwh_per_1000_mean)) +
                  loading_mark(r) + coarse_mark(r));
    row.push_back(readable_grams(r.gco2e_per_1000_mean));
    const auto* phone = find_equivalent(r, "smartphone_charges");
    const auto* car = find_equivalent(r, "car_km");
    row.push_back(phone ? readable_number(phone->value) : "-");
    row.push_back(car ? readable_number(car->value) : "-");
    // How the figure was obtained, where the figure is; an estimate with its band.
    row.push_back(provenance_with_band(r.weakest_provenance, r.band_factor));
    out.push_back(std::move(row));
  }
  return out;
}

// Columns two spaces apart, each as wide as its widest cell in terminal
// columns (display_width: "µWh", "±"), numbers right-aligned; no trailing blanks.
std::string aligned_table(const std::vector<Column>& cols, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) {
    width[i] = display_width(cols[i].title);
    for (const auto& r : rows) width[i] = std::max(width[i], display_width(r[i]));
  }
  auto line = [&](const std::vector<std::string>& values) {
    std::string s;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) s += "  ";
      s += cols[i].right ? pad_left(values[i], width[i]) : pad_right(values[i], width[i]);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  std::vector<std::string> titles;
  for (const auto& c : cols) titles.push_back(c.title);
  std::string out = line(titles);
  for (const auto& r : rows) out += line(r);
  return out;
}

std::string constants_footer(const Report& report, const char* prefix) {
  std::string out;
  if (report.rows.empty()) return out;
  for (const auto& e : report.rows.front().equivalents) {
    if (e.constant.key != "smartphone_charges" && e.constant.key != "car_km") continue;
    out += fmt::format("{}{}: {} {} per {} ({})\n", prefix, e.constant.label, e.constant.amount_per_unit,
                       e.constant.basis == EquivalentBasis::energy_kwh ? "kWh" : "g CO2e", e.constant.unit,
                       e.constant.source);
  }
  return out;
}

}  // namespace

std::string render_table(const Report& report) {
  if (report.rows.empty())
    return "no inference measurements in the store: fill it with `joulebench bench` or `joulebench import codecarbon "
           "FILES`\n";
  std::string out = aligned_table(columns(report), cells(report));
  out += "\nper 1,000 inferences; sd = sample standard deviation over runs\n";
  out += constants_footer(report, "");
  for (const auto& n : report.notes) out += "note: " + text::printable(n) + "\n";
  return out;
}

std::string render_markdown(const Report& report) {
  const auto cols = columns(report);
  std::string out = "|";
  std::string rule = "|";
  for (const auto& c : cols) {
    out += " " + c.title + " |";
    rule += c.right ? " ---: |" : " --- |";
  }
  out += "\n" + rule + "\n";
  for (const auto& r : cells(report)) {
    out += "|";
    for (const auto& v : r) out += " " + text::markdown_cell(v) + " |";
    out += "\n";
  }
  out += "\nPer 1,000 inferences; sd is the sample standard deviation over runs.\n";
  out += constants_footer(report, "- ");
  for (const auto& n : report.notes) out += "- Note: " + text::markdown_cell(n) + "\n";
  return out;
}

nlohmann::json report_json(const Report& report) {
  auto arr = nlohmann::json::array();
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  auto str = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  for (const auto& r : report.rows) {
    const nlohmann::json eq = equivalents_json(r.equivalents);
    auto opt_int = [](const std::optional<int>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    arr.push_back({{"task", str(r.task)},
                   {"model", str(r.model)},
                   {"dataset", str(r.dataset)},
                   {"batch", opt_int(r.batch_size)},
                   {"threads", opt_int(r.threads)},
                   {"dtype", str(r.dtype)},
                   {"device", str(r.device)},
                   {"runs", r.runs},
                   {"models", r.models},
                   {"inferences", r.inferences},
                   {"kwh_per_1000_mean", r.kwh_per_1000_mean},
                   {"kwh_per_1000_std", r.kwh_per_1000_std},
                   {"kwh_per_1000_min", r.kwh_per_1000_min},
                   {"kwh_per_1000_max", r.kwh_per_1000_max},
                   {"gco2e_per_1000_mean", r.gco2e_per_1000_mean},
                   {"gco2e_per_1000_std", r.gco2e_per_1000_std},
                   {"input_tokens_mean", opt(r.input_tokens_mean)},
                   {"output_tokens_mean", opt(r.output_tokens_mean)},
                   {"weakest_provenance", r.weakest_provenance},
                   {"band_factor", r.band_factor},
                   {"zero_shot_runs", r.zero_shot_runs},
                   {"loading_included_runs", r.loading_included_runs},
                   {"loading_share_mean", opt(r.loading_share_mean)},
                   {"coarse_runs", r.coarse_runs},
                   {"equivalents", eq}});
  }
  return arr;
}

nlohmann::json runs_json(const std::vector<RunSummary>& runs) {
  auto arr = nlohmann::json::array();
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  for (const auto& r : runs)
    arr.push_back({{"id", r.id},
                   {"kind", std::string(to_string(r.kind))},
                   {"status", std::string(to_string(r.status))},
                   {"started_at", format_utc(r.started_at)},
                   {"ended_at", r.ended_at ? nlohmann::json(format_utc(*r.ended_at)) : nlohmann::json(nullptr)},
                   {"hostname", r.hostname},
                   {"source", r.source},
                   {"project", r.project},
                   {"task", or_null(r.task)},
                   {"model", or_null(r.model)},
                   {"batch", r.batch_size ? nlohmann::json(*r.batch_size) : nlohmann::json(nullptr)},
                   {"note", r.note},
                   {"windows", r.windows},
                   {"energy_kwh", joules_to_kwh(r.energy_j)},
                   {"g_co2e", r.g_co2e}});
  return arr;
}

std::string render_runs_table(const std::vector<RunSummary>& runs) {
  if (runs.empty()) return "no runs in the store\n";
  // What each run was (project, task, model, batch) beside its figures; ids
  // in full, as `report --model-card` and `project --training-run` take them.
  const std::vector<Column> cols{{"id", false},      {"kind", false},    {"status", false}, {"started (UTC)", false},
                                 {"project", false}, {"task", false},    {"model", false},  {"batch", true},
                                 {"windows", true},  {"energy", true},   {"CO2e", true},    {"source", false}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : runs)
    rows.push_back({r.id, std::string(to_string(r.kind)), std::string(to_string(r.status)), format_utc(r.started_at),
                    text::printable(r.project.empty() ? "-" : r.project), text::printable(r.task.empty() ? "-" : r.task),
                    text::printable(r.model.empty() ? "-" : r.model), r.batch_size ? std::to_string(*r.batch_size) : "-",
                    std::to_string(r.windows), readable_kwh(joules_to_kwh(r.energy_j)), readable_grams(r.g_co2e),
                    text::printable(r.source)});
  std::string out = aligned_table(cols, rows);
  for (const auto& r : runs)
    if (!r.note.empty()) out += fmt::format("note on {}: {}\n", r.id, text::printable(r.note));
  return out;
}

}  // namespace joulebench
