// The self-contained HTML report: inline CSS, charts drawn here as SVG, one
// small inline script (hover highlighting and a self-check of the marks that
// tests read back). Nothing is fetched: no fonts, scripts or images from a network.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "joulebench/error.h"
#include "joulebench/models.h"
#include "joulebench/readable.h"
#include "joulebench/report_html.h"
#include "joulebench/version.h"
#include "svg.h"

namespace joulebench {
namespace {

using report::px;
using report::xml_escape;

constexpr double kWidth = 900;
const char* kGpuColour = "#4c72b0";
const char* kCpuColour = "#dd8452";
const char* kRamColour = "#55a868";
const char* kOtherColour = "#8c8c8c";

std::string modality_of(const std::string& task) {
  if (auto t = task_from_string(task)) return std::string(modality(*t));
  return "unknown";
}
const char* modality_colour(const std::string& m) {
  if (m == "text") return "#1b9e77";
  if (m == "image") return "#d95f02";
  return "#7570b3";
}

constexpr const char* kTaskSpecificColour = "#1b9e77";  // green
constexpr const char* kMultiPurposeColour = "#c44e52";  // red

// The tooltip: "gpt2 (text-generation): 16.5 Wh per 1,000 ..."; a model or
// task the store does not name is said so, never "name ():".
std::string title_of(const ModelPoint& p) {
  return fmt::format("<title>{}{}: {} per 1,000 (sd {}, {} runs, {})</title>",
                     xml_escape(p.model.empty() ? "(model not recorded)" : p.model),
                     p.task.empty() ? "" : " (" + xml_escape(p.task) + ")", readable_kwh(p.kwh_mean),
                     readable_kwh(p.kwh_std), p.runs, xml_escape(p.provenance));
}

std::string mark_attrs(const char* chart, const ModelPoint& p) {
  return fmt::format("data-chart=\"{}\" data-task=\"{}\" data-model=\"{}\" data-kwh-per-1000=\"{:.6g}\"", chart,
                     xml_escape(p.task), xml_escape(p.model), p.kwh_mean);
}

// A vertical log axis with gridlines at powers of ten.
std::string y_log_axis(const report::LogScale& y, double x0, double x1, const std::string& label) {
  std::string s;
  for (double t : y.ticks()) {
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"grid\"/>", px(x0), px(y(t)), px(x1),
                     px(y(t)));
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>\n", px(x0 - 6),
                     px(y(t) + 4), readable_kwh(t));
  }
  s += fmt::format("<text transform=\"translate(16,{}) rotate(-90)\" class=\"axis\" text-anchor=\"middle\">{}</text>\n",
                   px((y.a + y.b) / 2), label);
  return s;
}

// Energy per 1,000 inferences per task, log scale, each model a point with its min-max range.
std::string task_chart(const std::vector<ModelPoint>& points) {
  std::vector<std::string> tasks;
  for (const auto& p : points)
    if (tasks.empty() || tasks.back() != p.task) tasks.push_back(p.task);
  const double h = 400, left = 80, right = kWidth - 20, top = 20, bottom = h - 90;
  std::vector<double> values;
  for (const auto& p : points) {
    values.push_back(p.kwh_min);
    values.push_back(p.kwh_max);
  }
  const auto y = report::log_scale_for(values, bottom, top);
  std::string s = fmt::format("<svg class=\"chart\" id=\"chart-task\" viewBox=\"0 0 {} {}\" role=\"img\" "
                              "aria-label=\"energy per 1,000 inferences per task\">\n",
                              kWidth, h);
  s += y_log_axis(y, left, right, "energy per 1,000 inferences (log)");
  const double band = (right - left) / static_cast<double>(std::max<std::size_t>(tasks.size(), 1));
  for (std::size_t ti = 0; ti < tasks.size(); ++ti) {
    const double x0 = left + band * static_cast<double>(ti);
    std::vector<const ModelPoint*> in;
    for (const auto& p : points)
      if (p.task == tasks[ti]) in.push_back(&p);
    for (std::size_t i = 0; i < in.size(); ++i) {
      const auto& p = *in[i];
      const double x = x0 + band * (0.2 + 0.6 * (static_cast<double>(i) + 0.5) / static_cast<double>(in.size()));
      s += fmt::format("<line class=\"jb-spread\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", px(x),
                       px(y(p.kwh_min)), px(y(p.kwh_max)));
      s += fmt::format("<circle class=\"jb-mark\" {} cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"{}\">{}</circle>\n",
                       mark_attrs("task", p), px(x), px(y(p.kwh_mean)),
                       p.multi_purpose ? "#c44e52" : modality_colour(modality_of(p.task)), title_of(p));
    }
    s += fmt::format("<text transform=\"translate({},{}) rotate(35)\" class=\"tick\">{}</text>\n",
                     px(x0 + band * 0.3), px(bottom + 14), xml_escape(tasks[ti].empty() ? "(unknown)" : tasks[ti]));
  }
  s += "</svg>\n";
  return s;
}

// Energy against parameter count, log-log, coloured by modality.
std::string params_chart(const std::vector<ModelPoint>& points) {
  std::vector<const ModelPoint*> known;
  for (const auto& p : points)
    if (p.parameters > 0) known.push_back(&p);
  if (known.empty())
    return "<p class=\"empty\" data-chart=\"params\">No parameter counts known for these models (the zoo's presets "
           "and the study's models have them; imported logs of other models do not).</p>\n";
  const double h = 420, left = 80, right = kWidth - 150, top = 20, bottom = h - 50;
  std::vector<double> xs, ys;
  for (const auto* p : known) {
    xs.push_back(static_cast<double>(p->parameters));
    ys.push_back(p->kwh_mean);
  }
  const auto x = report::log_scale_for(xs, left, right);
  const auto y = report::log_scale_for(ys, bottom, top);
  std::string s = fmt::format("<svg class=\"chart\" id=\"chart-params\" viewBox=\"0 0 {} {}\" role=\"img\" "
                              "aria-label=\"energy against parameter count\">\n",
                              kWidth, h);
  s += y_log_axis(y, left, right, "energy per 1,000 inferences (log)");
  for (double t : x.ticks()) {
    s += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" class=\"grid\"/>", px(x(t)), px(top),
                     px(bottom));
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", px(x(t)),
                     px(bottom + 16), readable_parameters(t));
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">parameters (log)</text>\n",
                   px((left + right) / 2), px(h - 8));
  std::set<std::string> modalities;
  for (const auto* p : known) {
    const std::string m = modality_of(p->task);
    modalities.insert(m);
    s += fmt::format("<circle class=\"jb-mark\" {} data-modality=\"{}\" data-parameters=\"{}\" cx=\"{}\" cy=\"{}\" "
                     "r=\"5\" fill=\"{}\">{}</circle>\n",
                     mark_attrs("params", *p), m, p->parameters, px(x(static_cast<double>(p->parameters))),
                     px(y(p->kwh_mean)), modality_colour(m), title_of(*p));
  }
  double ly = top + 10;
  for (const auto& m : modalities) {
    s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" class=\"tick\">{}"
                     "</text>\n",
                     px(right + 30), px(ly), modality_colour(m), px(right + 42), px(ly + 4), m);
    ly += 20;
  }
  s += "</svg>\n";
  return s;
}

// Per model: a bar of the mean split into GPU / CPU / RAM, with +-1 sd error
// bars; one linear scale per task (tasks differ by orders of magnitude).
std::string bars_chart(const std::vector<ModelPoint>& points) {
  const double left = 330, right = kWidth - 30, bar_h = 14, gap = 6, heading = 28;
  std::map<std::string, double> task_max;
  std::vector<std::string> tasks;
  for (const auto& p : points) {
    if (tasks.empty() || tasks.back() != p.task) tasks.push_back(p.task);
    task_max[p.task] = std::max(task_max[p.task], p.kwh_mean + p.kwh_std);
  }
  const double h = 40 + static_cast<double>(tasks.size()) * (heading + 20) +
                   static_cast<double>(points.size()) * (bar_h + gap);
  std::string s = fmt::format("<svg class=\"chart\" id=\"chart-bars\" viewBox=\"0 0 {} {}\" role=\"img\" "
                              "aria-label=\"energy per model, GPU CPU RAM split\">\n",
                              kWidth, px(h));
  double legend_x = left;
  for (auto [name, colour] : {std::pair{"GPU", kGpuColour}, {"CPU", kCpuColour}, {"RAM", kRamColour},
                              {"other", kOtherColour}}) {
    s += fmt::format("<rect x=\"{}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"18\" "
                     "class=\"tick\">{}</text>",
                     px(legend_x), colour, px(legend_x + 16), name);
    legend_x += 80;
  }
  s += "<text x=\"" + px(legend_x) + "\" y=\"18\" class=\"tick\">error bar: +-1 sample sd over runs</text>\n";
  double yy = 40;
  for (const auto& task : tasks) {
    const double max = task_max[task] > 0 ? task_max[task] : 1;
    auto sx = [&](double v) { return left + v / max * (right - left); };
    s += fmt::format("<text x=\"10\" y=\"{}\" class=\"heading\">{} (energy per 1,000 inferences, 0 to {})</text>\n",
                     px(yy + 16), xml_escape(task.empty() ? "(unknown)" : task), readable_kwh(max));
    yy += heading;
    for (const auto& p : points) {
      if (p.task != task) continue;
      s += fmt::format("<g class=\"jb-mark jb-bar\" {}>{}", mark_attrs("bars", p), title_of(p));
      s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>", px(left - 6),
                       px(yy + bar_h - 3), xml_escape(p.model.size() > 48 ? p.model.substr(0, 47) + "…" : p.model));
      // Components that do not add up to the total (no split logged) are drawn as "other".
      const double split = p.gpu_kwh + p.cpu_kwh + p.ram_kwh + p.other_kwh;
      const double scale = split > 0 ? p.kwh_mean / split : 0;
      double x = left;
      for (auto [name, value, colour] :
           {std::tuple{"gpu", p.gpu_kwh * scale, kGpuColour}, {"cpu", p.cpu_kwh * scale, kCpuColour},
            {"ram", p.ram_kwh * scale, kRamColour},
            {"other", split > 0 ? p.other_kwh * scale : p.kwh_mean, kOtherColour}}) {
        if (value <= 0) continue;
        const double w = sx(value) - left;
        s += fmt::format("<rect class=\"jb-seg\" data-component=\"{}\" data-kwh-per-1000=\"{:.6g}\" x=\"{}\" "
                         "y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                         name, value, px(x), px(yy), px(w), px(bar_h), colour);
        x += w;
      }
      const double lo = sx(std::max(0.0, p.kwh_mean - p.kwh_std)), hi = sx(p.kwh_mean + p.kwh_std);
      const double mid = yy + bar_h / 2;
      s += fmt::format("<path class=\"jb-errorbar\" d=\"M{0} {1}H{2}M{0} {3}V{4}M{2} {3}V{4}\"/>", px(lo), px(mid),
                       px(hi), px(mid - 5), px(mid + 5));
      s += "</g>\n";
      yy += bar_h + gap;
    }
    yy += 20;
  }
  s += "</svg>\n";
  return s;
}

// Task-specific against multi-purpose models on the tasks that have both.
std::string purpose_chart(const std::vector<ModelPoint>& points) {
  std::vector<std::string> tasks;
  for (const auto& p : points) {
    if (!tasks.empty() && tasks.back() == p.task) continue;
    bool specific = false, multi = false;
    for (const auto& q : points)
      if (q.task == p.task) (q.multi_purpose ? multi : specific) = true;
    if (specific && multi) tasks.push_back(p.task);
  }
  if (tasks.empty())
    return "<p class=\"empty\" data-chart=\"purpose\">No task in the store has results of both task-specific and "
           "multi-purpose (Flan-T5, BLOOMz) models.</p>\n";
  const double left = 200, right = kWidth - 30, row = 50, top = 30;
  const double h = top + row * static_cast<double>(tasks.size()) + 40;
  std::vector<double> values;
  for (const auto& p : points)
    if (std::find(tasks.begin(), tasks.end(), p.task) != tasks.end()) values.push_back(p.kwh_mean);
  const auto x = report::log_scale_for(values, left, right);
  std::string s = fmt::format("<svg class=\"chart\" id=\"chart-purpose\" viewBox=\"0 0 {} {}\" role=\"img\" "
                              "aria-label=\"task-specific against multi-purpose models\">\n",
                              kWidth, px(h));
  for (double t : x.ticks()) {
    s += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" class=\"grid\"/>", px(x(t)), px(top - 10),
                     px(h - 40));
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", px(x(t)),
                     px(h - 24), readable_kwh(t));
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">energy per 1,000 inferences "
                   "(log)</text>\n",
                   px((left + right) / 2), px(h - 6));
  // The legend: each colour with its meaning, drawn in the colour itself.
  double lx = left;
  for (const auto& [name, colour] : {std::pair{"task-specific", kTaskSpecificColour},
                                     std::pair{"multi-purpose (zero-shot)", kMultiPurposeColour}}) {
    s += fmt::format("<circle class=\"jb-legend\" cx=\"{}\" cy=\"10\" r=\"5\" fill=\"{}\"/><text x=\"{}\" y=\"14\" "
                     "class=\"tick\">{}</text>\n",
                     px(lx), colour, px(lx + 10), name);
    lx += 190;
  }
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const double yy = top + row * static_cast<double>(i) + row / 2;
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>\n", px(left - 10),
                     px(yy + 4), xml_escape(tasks[i]));
    for (const auto& p : points) {
      if (p.task != tasks[i]) continue;
      const bool multi = p.multi_purpose;
      s += fmt::format("<circle class=\"jb-mark\" {} data-kind=\"{}\" cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{}\" "
                       "fill-opacity=\"0.8\">{}</circle>\n",
                       mark_attrs("purpose", p), multi ? "multi-purpose" : "task-specific", px(x(p.kwh_mean)),
                       px(yy + (multi ? 7 : -7)), multi ? kMultiPurposeColour : kTaskSpecificColour, title_of(p));
    }
  }
  s += "</svg>\n";
  return s;
}

std::string location_of(const RunRecord& r) {
  const auto& g = r.intensity;
  std::string loc;
  if (!g.cloud_provider.empty()) loc = g.cloud_provider + " " + g.cloud_region;
  if (!g.country_name.empty() || !g.country_iso3.empty())
    loc += (loc.empty() ? "" : ", ") + (g.country_name.empty() ? g.country_iso3 : g.country_name);
  if (loc.empty()) loc = g.zone.empty() ? "unknown" : g.zone;
  return loc;
}

const char* kStyle = R"(body{font-family:system-ui,"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:960px;color:#222}
h1{font-size:24px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 6px}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
svg.chart{width:100%;height:auto;background:#fff}.grid{stroke:#e6e6e6}.tick{font-size:11px;fill:#444}
.axis{font-size:12px;fill:#222}.heading{font-size:13px;font-weight:bold;fill:#222}
.jb-spread{stroke:#999;stroke-width:1.5}.jb-errorbar{stroke:#111;stroke-width:1.2;fill:none}
.jb-mark.hl,.jb-mark.hl rect{stroke:#000;stroke-width:2}.empty{color:#666;font-style:italic}
.note{color:#555;font-size:12px}
)";

// Counts the marks per chart and records script errors in #jb-check, so a
// headless browser's DOM dump says whether the page rendered as intended.
const char* kErrorTrap = R"(<script>window.jbErrors=[];window.addEventListener('error',function(e){window.jbErrors.push(String(e.message));});</script>
)";
const char* kScript = R"(<script>
(function(){
  var marks=document.querySelectorAll('.jb-mark');
  marks.forEach(function(m){
    m.addEventListener('mouseenter',function(){
      var name=m.getAttribute('data-model');
      marks.forEach(function(o){if(o.getAttribute('data-model')===name)o.classList.add('hl');});
    });
    m.addEventListener('mouseleave',function(){marks.forEach(function(o){o.classList.remove('hl');});});
  });
  var check=document.getElementById('jb-check');
  ['task','params','bars','purpose'].forEach(function(c){
    check.setAttribute('data-marks-'+c,String(document.querySelectorAll('.jb-mark[data-chart="'+c+'"]').length));
  });
  check.setAttribute('data-errors',String(window.jbErrors.length));
  check.setAttribute('data-error-messages',window.jbErrors.join(' | '));
  check.setAttribute('data-ready','1');
})();
</script>
)";


// "*" after a figure that includes model loading, how many runs in its title.
std::string loading_mark(int loading_runs, int runs) {
  if (loading_runs == 0) return "";
  return fmt::format("<span class=\"jb-loading\" title=\"{} of {} runs include model loading\">*</span>",
                     loading_runs, runs);
}

}  // namespace

std::string render_html_report(Store& store, const HtmlReportOptions& options) {
  WindowQuery q;
  q.task = options.report.task;
  q.model = options.report.model;
  q.include_unfinished = options.report.include_unfinished;
  const auto windows = store.query_windows(q);
  const auto points = model_points(windows, options);
  if (points.empty())
    throw InputError(fmt::format("no inference measurements in {}{}: fill it with `joulebench bench` or "
                                 "`joulebench import codecarbon FILES`",
                                 store.location(),
                                 options.report.task.empty() && options.report.model.empty() ? "" : " for this filter"));
  ReportOptions by_task = options.report;
  by_task.by = ReportGrouping::task;
  const Report tasks = aggregate_windows(windows, by_task);

  std::set<std::string> run_ids;
  for (const auto& sw : windows) run_ids.insert(sw.run_id);
  std::vector<RunRecord> runs;
  for (const auto& id : run_ids)
    if (auto r = store.load_run(id)) {
      r->windows.clear();
      runs.push_back(std::move(*r));
    }

  const auto now = options.generated_at.value_or(std::chrono::system_clock::now());
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n";
  // No network: a policy that forbids every fetch; inline styles and scripts only.
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; img-src data:\">\n";
  h += fmt::format("<title>{}</title>\n<style>{}</style>\n{}</head><body>\n", xml_escape(options.title), kStyle,
                   kErrorTrap);
  h += fmt::format("<h1>{}</h1>\n<p class=\"note\">joulebench {}, generated {} from {} ({} run(s), {} model(s), {} "
                   "inference window(s)). Every figure is per 1,000 inferences.</p>\n",
                   xml_escape(options.title), JOULEBENCH_VERSION, format_utc(now), xml_escape(store.location()),
                   runs.size(), points.size(), tasks.windows_used);
  // For the tests' headless browser (attributes only; nothing shown to readers).
  h += "<output id=\"jb-check\" hidden data-ready=\"0\"></output>\n";

  h += "<h2>Energy per 1,000 inferences, by task</h2>\n<p class=\"note\">Log scale; every model a point (its mean "
       "over runs), the line through it its range over runs. Red points: multi-purpose models.</p>\n";
  h += task_chart(points);
  h += "<h2>Energy against model size</h2>\n<p class=\"note\">Log-log; colour is the input modality of the "
       "task.</p>\n";
  h += params_chart(points);
  h += "<h2>Task-specific against multi-purpose models</h2>\n";
  h += purpose_chart(points);
  h += "<h2>Per model: GPU, CPU and RAM</h2>\n";
  h += bars_chart(points);

  h += "<h2>Per task, with equivalents</h2>\n<table id=\"table-tasks\"><tr><th>task</th><th>models</th><th>runs</th>"
       "<th>energy mean</th><th>energy sd</th><th>CO2e</th>";
  const auto& eqs = tasks.rows.empty() ? std::vector<EquivalentValue>{} : tasks.rows.front().equivalents;
  for (const auto& e : eqs) h += "<th>" + xml_escape(e.constant.label) + "</th>";
  h += "</tr>\n";
  for (const auto& r : tasks.rows) {
    h += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                     "class=\"n\">{}</td><td class=\"n\">{}</td>",
                     xml_escape(r.task.empty() ? "(unknown)" : r.task), r.models, r.runs,
                     readable_kwh(r.kwh_per_1000_mean) + loading_mark(r.loading_included_runs, r.runs),
                     readable_kwh(r.kwh_per_1000_std), readable_grams(r.gco2e_per_1000_mean));
    for (const auto& e : r.equivalents) h += "<td class=\"n\">" + readable_number(e.value) + "</td>";
    h += "</tr>\n";
  }
  h += "</table>\n";

  h += "<h2>Per model, with the provenance of each figure</h2>\n<table id=\"table-models\"><tr><th>task</th>"
       "<th>model</th><th>runs</th><th>energy mean</th><th>energy sd</th><th>CO2e</th><th>parameters</th><th>kind</th>"
       "<th>provenance</th><th>per component</th></tr>\n";
  for (const auto& p : points)
    h += fmt::format("<tr class=\"jb-row\" data-model=\"{}\"><td>{}</td><td>{}</td><td class=\"n\">{}</td><td "
                     "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                     "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
                     xml_escape(p.model), xml_escape(p.task), xml_escape(p.model), p.runs,
                     readable_kwh(p.kwh_mean) + loading_mark(p.loading_included_runs, p.runs),
                     readable_kwh(p.kwh_std), readable_grams(p.gco2e_mean),
                     p.parameters > 0 ? readable_parameters(static_cast<double>(p.parameters)) : "-",
                     p.multi_purpose ? "multi-purpose" : "task-specific",
                     provenance_with_band(p.provenance, p.band_factor),
                     xml_escape(p.provenance_detail));
  h += "</table>\n";
  if (std::any_of(points.begin(), points.end(), [](const ModelPoint& p) { return p.loading_included_runs > 0; }))
    h += fmt::format("<p class=\"note\" id=\"note-loading\">{}. Hover the mark for how many runs.</p>\n",
                     xml_escape(kLoadingIncludedNote));
  h += "<p class=\"note\">measured: an energy counter; sampled: power readings integrated over time; "
       "estimated: a model (e.g. CodeCarbon's fixed CPU and RAM watts). The weakest source in a row names it.</p>\n";

  // Runs that share every context column are one row (an imported study is thousands of runs on one machine).
  h += "<h2>Where, and every constant used</h2>\n<table id=\"table-runs\"><tr><th>runs</th><th>kind</th><th>started"
       "</th><th>location</th><th>intensity g CO2e/kWh</th><th>source</th><th>PUE</th><th>hardware</th></tr>\n";
  struct Context {
    std::string kind, cells;  // the run's kind, and the columns after "started"
    std::string first_id, first, last;
    int count = 0;
  };
  std::map<std::string, Context> contexts;
  std::vector<std::string> context_order;
  for (const auto& r : runs) {
    const auto& g = r.intensity;
    std::string hw = r.machine.gpu_model;
    if (!r.machine.cpu_model.empty()) hw += (hw.empty() ? "" : ", ") + r.machine.cpu_model;
    const std::string kind(to_string(r.kind));
    const std::string cells = fmt::format(
        "<td>{}</td><td class=\"n\">{}</td><td>{} ({}{})</td><td class=\"n\">{} ({})</td><td>{}</td>",
        xml_escape(location_of(r)), readable_number(g.g_per_kwh), xml_escape(g.source), to_string(g.origin),
        g.year ? fmt::format(", {}", *g.year) : "", r.pue, xml_escape(r.pue_source),
        xml_escape(hw.empty() ? "unknown" : hw));
    const std::string started = format_utc(r.started_at);
    auto [it, fresh] = contexts.try_emplace(kind + cells, Context{kind, cells, r.id, started, started, 0});
    if (fresh) context_order.push_back(kind + cells);
    Context& c = it->second;
    ++c.count;
    c.first = std::min(c.first, started);
    c.last = std::max(c.last, started);
  }
  for (const auto& key : context_order) {
    const Context& c = contexts.at(key);
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td>{}</tr>\n",
                     c.count == 1 ? xml_escape(c.first_id.substr(0, 8)) : fmt::format("{} runs", c.count), c.kind,
                     c.first == c.last ? c.first : c.first + " to " + c.last, c.cells);
  }
  h += "</table>\n<table id=\"table-constants\"><tr><th>constant</th><th>value</th><th>source</th></tr>\n";
  h += fmt::format("<tr><td>joules per kWh</td><td class=\"n\">{}</td><td>definition</td></tr>\n",
                   readable_count(static_cast<std::int64_t>(kJoulesPerKwh)));
  h += "<tr><td>g CO2e</td><td>kWh x PUE x intensity</td><td>the run's intensity and PUE (above), or the grams "
       "logged with an imported window</td></tr>\n";
  for (const auto& e : options.report.equivalents)
    h += fmt::format("<tr><td>{}</td><td class=\"n\">{} {} per {}</td><td>{}</td></tr>\n", xml_escape(e.label),
                     e.amount_per_unit, e.basis == EquivalentBasis::energy_kwh ? "kWh" : "g CO2e",
                     xml_escape(e.unit), xml_escape(e.source));
  h += "</table>\n";
  for (const auto& n : tasks.notes)
    if (n != kLoadingIncludedNote) h += "<p class=\"note\">Note: " + xml_escape(n) + "</p>\n";  // shown by its table
  h += kScript;
  h += "</body></html>\n";
  return h;
}

}  // namespace joulebench
