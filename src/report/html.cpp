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
std::string y_log_axis(const report::LogScale& y, double x0, double x1, const std::string& label,
                       std::string (*tick_text)(double)) {
  std::string s;
  for (double t : y.ticks()) {
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"grid\"/>", px(x0), px(y(t)), px(x1),
                     px(y(t)));
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>\n", px(x0 - 6),
                     px(y(t) + 4), tick_text(t));
  }
  s += fmt::format("<text transform=\"translate(16,{}) rotate(-90)\" class=\"axis\" text-anchor=\"middle\">{}</text>\n",
                   px((y.a + y.b) / 2), label);
  return s;
}

// One legend entry: a dot, a bar or a line in its colour, then its meaning.
struct LegendItem {
  std::string text;
  std::string colour;
  enum Shape { dot, line, dashed } shape = dot;
};
// A row of legend entries from (x, y), each as wide as its text needs.
std::string legend_row(const std::vector<LegendItem>& items, double x, double y) {
  std::string s;
  for (const auto& it : items) {
    if (it.shape == LegendItem::dot)
      s += fmt::format("<circle class=\"jb-legend\" cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{}\"/>", px(x + 5), px(y - 4),
                       it.colour);
    else
      s += fmt::format("<line class=\"jb-legend\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" "
                       "stroke-width=\"2\"{}/>",
                       px(x), px(x + 14), px(y - 4), px(y - 4), it.colour,
                       it.shape == LegendItem::dashed ? " stroke-dasharray=\"4 3\"" : "");
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\">{}</text>\n", px(x + 18), px(y), xml_escape(it.text));
    x += 30 + 6.2 * static_cast<double>(it.text.size());
  }
  return s;
}

// What a per-task chart draws: energy (with the study's reference means) or grams CO2e.
struct Metric {
  const char* id;     // data-chart and the SVG's id suffix
  const char* axis;   // the y axis label
  double (*mean)(const ModelPoint&);
  double (*ci95)(const ModelPoint&);
  double (*min)(const ModelPoint&);
  double (*max)(const ModelPoint&);
  std::string (*text)(double);
};
const Metric kEnergy{"task", "energy per 1,000 inferences (log)",
                     [](const ModelPoint& p) { return p.kwh_mean; }, [](const ModelPoint& p) { return p.kwh_ci95; },
                     [](const ModelPoint& p) { return p.kwh_min; },  [](const ModelPoint& p) { return p.kwh_max; },
                     readable_kwh};
const Metric kCarbon{"co2e", "g CO2e per 1,000 inferences (log)",
                     [](const ModelPoint& p) { return p.gco2e_mean; }, [](const ModelPoint& p) { return p.gco2e_ci95; },
                     [](const ModelPoint& p) { return p.gco2e_min; },  [](const ModelPoint& p) { return p.gco2e_max; },
                     readable_grams};

std::vector<std::string> tasks_of(const std::vector<ModelPoint>& points) {
  std::vector<std::string> tasks;
  for (const auto& p : points)
    if (tasks.empty() || tasks.back() != p.task) tasks.push_back(p.task);
  return tasks;
}

// Per task, log scale: each model a point (its mean), a thin line for its
// range over runs and a thick one for the mean's 95 % interval; the study's
// published task mean as a dashed reference line where given.
std::string task_chart(const std::vector<ModelPoint>& points, const Metric& m,
                       const std::map<std::string, double>& reference, const std::string& reference_source) {
  const auto tasks = tasks_of(points);
  const double h = 430, left = 80, right = kWidth - 20, top = 40, bottom = h - 110;
  std::vector<double> values;
  for (const auto& p : points) {
    values.push_back(m.min(p));
    values.push_back(m.max(p));
  }
  for (const auto& t : tasks)
    if (auto r = reference.find(t); r != reference.end()) values.push_back(r->second);
  const auto y = report::log_scale_for(values, bottom, top);
  std::string s = fmt::format("<svg class=\"chart\" id=\"chart-{}\" viewBox=\"0 0 {} {}\" role=\"img\" "
                              "aria-label=\"{}\">\n",
                              m.id, kWidth, h, m.axis);
  s += y_log_axis(y, left, right, m.axis, m.text);
  std::vector<LegendItem> legend{{"text input", modality_colour("text")},
                                 {"image input", modality_colour("image")},
                                 {"multi-purpose", kMultiPurposeColour},
                                 {"range over runs", "#999", LegendItem::line},
                                 {"95 % interval of the mean", "#111", LegendItem::line}};
  bool any_reference = false;
  const double band = (right - left) / static_cast<double>(std::max<std::size_t>(tasks.size(), 1));
  for (std::size_t ti = 0; ti < tasks.size(); ++ti) {
    const double x0 = left + band * static_cast<double>(ti);
    std::vector<const ModelPoint*> in;
    for (const auto& p : points)
      if (p.task == tasks[ti]) in.push_back(&p);
    if (auto r = reference.find(tasks[ti]); r != reference.end()) {
      any_reference = true;
      s += fmt::format("<line class=\"jb-ref\" data-chart=\"{0}\" data-task=\"{1}\" data-kwh-per-1000=\"{2:.6g}\" "
                       "x1=\"{3}\" x2=\"{4}\" y1=\"{5}\" y2=\"{5}\" stroke=\"#555\" stroke-width=\"2\" "
                       "stroke-dasharray=\"4 3\"><title>{6}: {7} per 1,000 ({8})</title></line>\n",
                       m.id, xml_escape(tasks[ti]), r->second, px(x0 + band * 0.1), px(x0 + band * 0.9),
                       px(y(r->second)), xml_escape(tasks[ti]), readable_kwh(r->second), xml_escape(reference_source));
    }
    for (std::size_t i = 0; i < in.size(); ++i) {
      const auto& p = *in[i];
      const double x = x0 + band * (0.2 + 0.6 * (static_cast<double>(i) + 0.5) / static_cast<double>(in.size()));
      const double mean = m.mean(p), ci = m.ci95(p);
      s += fmt::format("<line class=\"jb-spread\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", px(x),
                       px(y(m.min(p))), px(y(m.max(p))));
      if (ci > 0)
        s += fmt::format("<line class=\"jb-ci\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", px(x),
                         px(y(mean - ci)), px(y(mean + ci)));  // the scale clamps a bound <= 0 to its low end
      s += fmt::format("<circle class=\"jb-mark\" {} cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"{}\">{}</circle>\n",
                       mark_attrs(m.id, p), px(x), px(y(mean)),
                       p.multi_purpose ? kMultiPurposeColour : modality_colour(modality_of(p.task)), title_of(p));
    }
    s += fmt::format("<text transform=\"translate({},{}) rotate(35)\" class=\"tick\">{}</text>\n",
                     px(x0 + band * 0.3), px(bottom + 14), xml_escape(tasks[ti].empty() ? "(unknown)" : tasks[ti]));
  }
  if (any_reference) legend.push_back({"the study's published task mean", "#555", LegendItem::dashed});
  s += legend_row(std::vector<LegendItem>(legend.begin(), legend.begin() + 3), left, 14);
  s += legend_row(std::vector<LegendItem>(legend.begin() + 3, legend.end()), left, 32);
  s += "</svg>\n";
  return s;
}

// Time per inference per task (window duration / inferences), log scale;
// the median request latency and generated tokens in each point's tooltip.
std::string latency_chart(const std::vector<ModelPoint>& points) {
  std::vector<ModelPoint> timed;
  for (const auto& p : points)
    if (p.seconds_per_inference) timed.push_back(p);
  if (timed.empty())
    return "<p class=\"empty\" data-chart=\"latency\">No window durations recorded for these models.</p>\n";
  const auto tasks = tasks_of(timed);
  const double h = 400, left = 80, right = kWidth - 20, top = 30, bottom = h - 110;
  std::vector<double> values;
  for (const auto& p : timed) values.push_back(*p.seconds_per_inference);
  const auto y = report::log_scale_for(values, bottom, top);
  std::string s = fmt::format("<svg class=\"chart\" id=\"chart-latency\" viewBox=\"0 0 {} {}\" role=\"img\" "
                              "aria-label=\"time per inference per task\">\n",
                              kWidth, h);
  s += y_log_axis(y, left, right, "time per inference (log)", [](double v) { return readable_seconds(v); });
  s += legend_row({{"text input", modality_colour("text")},
                   {"image input", modality_colour("image")},
                   {"multi-purpose", kMultiPurposeColour}},
                  left, 14);
  const double band = (right - left) / static_cast<double>(tasks.size());
  for (std::size_t ti = 0; ti < tasks.size(); ++ti) {
    const double x0 = left + band * static_cast<double>(ti);
    std::vector<const ModelPoint*> in;
    for (const auto& p : timed)
      if (p.task == tasks[ti]) in.push_back(&p);
    for (std::size_t i = 0; i < in.size(); ++i) {
      const auto& p = *in[i];
      const double x = x0 + band * (0.2 + 0.6 * (static_cast<double>(i) + 0.5) / static_cast<double>(in.size()));
      std::string extra;
      if (p.latency_p50_s) extra += ", median latency " + readable_seconds(*p.latency_p50_s);
      if (p.output_tokens_per_inference)
        extra += ", " + readable_number(*p.output_tokens_per_inference) + " tokens generated per inference";
      s += fmt::format("<circle class=\"jb-mark\" {} data-seconds-per-inference=\"{:.6g}\" cx=\"{}\" cy=\"{}\" "
                       "r=\"4.5\" fill=\"{}\"><title>{}: {} per inference{}</title></circle>\n",
                       mark_attrs("latency", p), *p.seconds_per_inference, px(x), px(y(*p.seconds_per_inference)),
                       p.multi_purpose ? kMultiPurposeColour : modality_colour(modality_of(p.task)),
                       xml_escape(p.model), readable_seconds(*p.seconds_per_inference), xml_escape(extra));
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
  s += y_log_axis(y, left, right, "energy per 1,000 inferences (log)", readable_kwh);
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

// Per model, two panels on one row: its energy on one log axis shared by
// every model of the page (a point at the mean, the 95 % interval of the
// mean as an error bar), and its split into GPU / CPU / RAM as shares of 100 %.
std::string bars_chart(const std::vector<ModelPoint>& points) {
  const double names_right = 250, eleft = 262, eright = 590, sleft = 660, sright = kWidth - 20;
  const double row_h = 20, heading = 24, top = 58;
  const auto tasks = tasks_of(points);
  std::vector<double> values;
  for (const auto& p : points) {
    values.push_back(p.kwh_mean);
    values.push_back(p.kwh_mean + p.kwh_ci95);
    if (p.kwh_mean - p.kwh_ci95 > 0) values.push_back(p.kwh_mean - p.kwh_ci95);
  }
  const auto x = report::log_scale_for(values, eleft, eright);
  const double h = top + static_cast<double>(tasks.size()) * heading + static_cast<double>(points.size()) * row_h + 30;
  std::string s = fmt::format("<svg class=\"chart\" id=\"chart-bars\" viewBox=\"0 0 {} {}\" role=\"img\" "
                              "aria-label=\"energy per model with its 95 % interval, and its GPU CPU RAM split\">\n",
                              kWidth, px(h));
  s += legend_row({{"GPU", kGpuColour}, {"CPU", kCpuColour}, {"RAM", kRamColour}, {"other / not split", kOtherColour},
                   {"95 % interval of the mean", "#111", LegendItem::line}},
                  eleft, 14);
  s += fmt::format("<text x=\"{}\" y=\"36\" class=\"axis\" text-anchor=\"middle\">energy per 1,000 inferences "
                   "(log, every task)</text>\n",
                   px((eleft + eright) / 2));
  s += fmt::format("<text x=\"{}\" y=\"36\" class=\"axis\" text-anchor=\"middle\">share of the energy</text>\n",
                   px((sleft + sright) / 2));
  const double grid_bottom = h - 24;
  for (double t : x.ticks()) {
    s += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" class=\"grid\"/>", px(x(t)), px(top - 8),
                     px(grid_bottom));
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", px(x(t)),
                     px(grid_bottom + 14), readable_kwh(t));
  }
  for (int pct : {0, 50, 100}) {
    const double gx = sleft + (sright - sleft) * pct / 100.0;
    s += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" class=\"grid\"/>", px(gx), px(top - 8),
                     px(grid_bottom));
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{} %</text>\n", px(gx),
                     px(grid_bottom + 14), pct);
  }
  double yy = top;
  for (const auto& task : tasks) {
    s += fmt::format("<text x=\"10\" y=\"{}\" class=\"heading\">{}</text>\n", px(yy + 16),
                     xml_escape(task.empty() ? "(unknown)" : task));
    yy += heading;
    for (const auto& p : points) {
      if (p.task != task) continue;
      const double mid = yy + row_h / 2;
      s += fmt::format("<g class=\"jb-mark jb-bar\" {}>{}", mark_attrs("bars", p), title_of(p));
      s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>", px(names_right),
                       px(mid + 4), xml_escape(report::fit_text(p.model, 38)));
      // The interval, then the mean on top of it.
      const double lo = x(p.kwh_mean - p.kwh_ci95), hi = x(p.kwh_mean + p.kwh_ci95);
      s += fmt::format("<path class=\"jb-errorbar\" data-ci95-kwh-per-1000=\"{0:.6g}\" "
                       "d=\"M{1} {2}H{3}M{1} {4}V{5}M{3} {4}V{5}\"/>",
                       p.kwh_ci95, px(lo), px(mid), px(hi), px(mid - 5), px(mid + 5));
      s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"#222\"/>", px(x(p.kwh_mean)), px(mid));
      // Components that do not add up to the total (no split logged) are drawn as "other".
      const double split = p.gpu_kwh + p.cpu_kwh + p.ram_kwh + p.other_kwh;
      const double scale = split > 0 ? p.kwh_mean / split : 0;
      double at = sleft;
      for (auto [name, value, colour] :
           {std::tuple{"gpu", p.gpu_kwh * scale, kGpuColour}, {"cpu", p.cpu_kwh * scale, kCpuColour},
            {"ram", p.ram_kwh * scale, kRamColour},
            {"other", split > 0 ? p.other_kwh * scale : p.kwh_mean, kOtherColour}}) {
        if (value <= 0 || p.kwh_mean <= 0) continue;
        const double w = value / p.kwh_mean * (sright - sleft);
        s += fmt::format("<rect class=\"jb-seg\" data-component=\"{}\" data-kwh-per-1000=\"{:.6g}\" x=\"{}\" "
                         "y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {} ({:.0f} %)</title></rect>",
                         name, value, px(at), px(mid - 6), px(w), px(12), colour, name, readable_kwh(value),
                         100.0 * value / p.kwh_mean);
        at += w;
      }
      s += "</g>\n";
      yy += row_h;
    }
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
  s += legend_row({{"task-specific", kTaskSpecificColour}, {"multi-purpose (zero-shot)", kMultiPurposeColour}},
                  left, 14);
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
.jb-spread{stroke:#999;stroke-width:1.5}.jb-ci{stroke:#111;stroke-width:3}.jb-errorbar{stroke:#111;stroke-width:1.2;fill:none}
td.n,td.t{white-space:nowrap}td.name{overflow-wrap:break-word}
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
  ['task','co2e','latency','params','bars','purpose'].forEach(function(c){
    check.setAttribute('data-marks-'+c,String(document.querySelectorAll('.jb-mark[data-chart="'+c+'"]').length));
  });
  check.setAttribute('data-errors',String(window.jbErrors.length));
  check.setAttribute('data-error-messages',window.jbErrors.join(' | '));
  check.setAttribute('data-ready','1');
})();
</script>
)";


// A model name that may wrap after "/", "_" and "." (a Hugging Face id has
// no spaces; without these it would widen the table past the page).
std::string breakable_name(const std::string& model) {
  std::string out;
  for (char c : xml_escape(model)) {
    out += c;
    if (c == '/' || c == '_' || c == '.') out += "<wbr>";
  }
  return out;
}

// "~" after a figure from windows shorter than their sensors' resolution.
std::string coarse_mark(int coarse_runs, int runs) {
  if (coarse_runs == 0) return "";
  return fmt::format("<span class=\"jb-coarse\" title=\"{} of {} runs were shorter than their sensors' "
                     "resolution: coarse\">~</span>",
                     coarse_runs, runs);
}

// "*" after a figure that includes model loading, how many runs in its title.
std::string loading_mark(int loading_runs, int runs) {
  if (loading_runs == 0) return "";
  return fmt::format("<span class=\"jb-loading\" title=\"{} of {} runs include model loading\">*</span>",
                     loading_runs, runs);
}

}  // namespace

namespace {

// Everything the page shows, read from the store once (the rendering below
// queries nothing).
struct ReportData {
  std::vector<ModelPoint> points;
  Report tasks;
  std::vector<RunRecord> runs;  // without their windows
};

ReportData read_report_data(Store& store, const HtmlReportOptions& options) {
  WindowQuery q;
  q.task = options.report.task;
  q.model = options.report.model;
  q.include_unfinished = options.report.include_unfinished;
  const auto windows = store.query_windows(q);
  ReportData d;
  d.points = model_points(windows, options);
  if (d.points.empty())
    throw InputError(fmt::format("no inference measurements in {}{}: fill it with `joulebench bench` or "
                                 "`joulebench import codecarbon FILES`",
                                 store.location(),
                                 options.report.task.empty() && options.report.model.empty() ? "" : " for this filter"));
  ReportOptions by_task = options.report;
  by_task.by = ReportGrouping::task;
  d.tasks = aggregate_windows(windows, by_task);
  std::set<std::string> run_ids;
  for (const auto& sw : windows) run_ids.insert(sw.run_id);
  for (const auto& id : run_ids)
    if (auto r = store.load_run(id)) {
      r->windows.clear();
      d.runs.push_back(std::move(*r));
    }
  return d;
}

std::string page_head(const HtmlReportOptions& options, const ReportData& d, const std::string& location) {
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
                   xml_escape(options.title), JOULEBENCH_VERSION, format_utc(now), xml_escape(location),
                   d.runs.size(), d.points.size(), d.tasks.windows_used);
  // For the tests' headless browser (attributes only; nothing shown to readers).
  h += "<output id=\"jb-check\" hidden data-ready=\"0\"></output>\n";
  return h;
}

std::string charts_section(const HtmlReportOptions& options, const std::vector<ModelPoint>& points) {
  std::string h = "<h2>Energy per 1,000 inferences, by task</h2>\n<p class=\"note\">Log scale; every model a point "
                  "(its mean over runs), a thin line through it for its range over runs and a thick one for the 95 % "
                  "interval of the mean (Student's t over runs; none with one run).";
  if (!options.reference_kwh_per_1000.empty())
    h += " Dashed: the study's published mean of the task (" + xml_escape(options.reference_source) +
         "), measured on other hardware and models: a reference, not a target.";
  h += "</p>\n";
  h += task_chart(points, kEnergy, options.reference_kwh_per_1000, options.reference_source);
  h += "<h2>Emissions per 1,000 inferences, by task</h2>\n<p class=\"note\">g CO2e = kWh x PUE x the grid "
       "intensity of each run (below), or the grams an imported log carries; log scale, marks as above.</p>\n";
  h += task_chart(points, kCarbon, {}, {});
  h += "<h2>Time per inference, by task</h2>\n<p class=\"note\">Window duration / inferences, mean over runs "
       "(batched runs share a batch's time); the tooltip adds the median request latency and the tokens generated "
       "where they were recorded.</p>\n";
  h += latency_chart(points);
  h += "<h2>Energy against model size</h2>\n<p class=\"note\">Log-log; colour is the input modality of the "
       "task.</p>\n";
  h += params_chart(points);
  h += "<h2>Task-specific against multi-purpose models</h2>\n";
  h += purpose_chart(points);
  h += "<h2>Per model: energy with its 95 % interval, and the GPU / CPU / RAM split</h2>\n";
  h += bars_chart(points);
  return h;
}

std::string tasks_table(const HtmlReportOptions& options, const Report& tasks) {
  std::string h = "<h2>Per task, with equivalents</h2>\n<table id=\"table-tasks\"><tr><th>task</th><th>models</th>"
                  "<th>runs</th><th>energy mean</th><th>energy sd</th><th>CO2e</th>";
  const bool with_reference = !options.reference_kwh_per_1000.empty();
  if (with_reference) h += "<th title=\"" + xml_escape(options.reference_source) + "\">the study's mean</th>";
  const auto& eqs = tasks.rows.empty() ? std::vector<EquivalentValue>{} : tasks.rows.front().equivalents;
  for (const auto& e : eqs) h += "<th>" + xml_escape(e.constant.label) + "</th>";
  h += "</tr>\n";
  for (const auto& r : tasks.rows) {
    h += fmt::format("<tr><td class=\"t\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}"
                     "</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                     xml_escape(r.task.empty() ? "(unknown)" : r.task), r.models, r.runs,
                     readable_kwh(r.kwh_per_1000_mean) + loading_mark(r.loading_included_runs, r.runs) +
                         coarse_mark(r.coarse_runs, r.runs),
                     readable_kwh(r.kwh_per_1000_std), readable_grams(r.gco2e_per_1000_mean));
    if (with_reference) {
      const auto ref = options.reference_kwh_per_1000.find(r.task);
      h += "<td class=\"n\">" + (ref == options.reference_kwh_per_1000.end() ? "-" : readable_kwh(ref->second)) +
           "</td>";
    }
    for (const auto& e : r.equivalents) h += "<td class=\"n\">" + readable_number(e.value) + "</td>";
    h += "</tr>\n";
  }
  return h + "</table>\n";
}

// The per-component sources are the provenance cell's tooltip and, once
// each, a list under the table: a column of them wrapped every row to
// several lines.
std::string models_table(const std::vector<ModelPoint>& points) {
  std::string h = "<h2>Per model, with the provenance of each figure</h2>\n<table id=\"table-models\"><tr><th>task"
                  "</th><th>model</th><th>runs</th><th>energy mean</th><th>95 % interval</th><th>CO2e</th><th>time "
                  "per inference</th><th>tokens out</th><th>parameters</th><th>kind</th><th>provenance</th></tr>\n";
  std::map<std::string, int> sources;  // "gpu sampled:nvml-power" -> models
  for (const auto& p : points) {
    std::size_t at = 0;
    while (at < p.provenance_detail.size()) {
      const std::size_t end = std::min(p.provenance_detail.find("; ", at), p.provenance_detail.size());
      ++sources[p.provenance_detail.substr(at, end - at)];
      at = end + 2;
    }
    std::string kind = p.multi_purpose ? "multi-purpose" : "task-specific";
    if (!p.purpose.empty()) kind += ", " + p.purpose;
    h += fmt::format("<tr class=\"jb-row\" data-model=\"{}\"><td class=\"t\">{}</td><td class=\"name\">{}</td>"
                     "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                     "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"t\">{}</td>"
                     "<td class=\"t\" title=\"{}\">{}</td></tr>\n",
                     xml_escape(p.model), xml_escape(p.task), breakable_name(p.model), p.runs,
                     readable_kwh(p.kwh_mean) + loading_mark(p.loading_included_runs, p.runs) +
                         coarse_mark(p.coarse_runs, p.runs),
                     p.runs > 1 ? "± " + readable_kwh(p.kwh_ci95) : std::string("-"), readable_grams(p.gco2e_mean),
                     p.seconds_per_inference ? readable_seconds(*p.seconds_per_inference) : "-",
                     p.output_tokens_per_inference ? readable_number(*p.output_tokens_per_inference) : "-",
                     p.parameters > 0 ? readable_parameters(static_cast<double>(p.parameters)) : "-",
                     xml_escape(kind), xml_escape(p.provenance_detail),
                     provenance_with_band(p.provenance, p.band_factor));
  }
  h += "</table>\n<p class=\"note\" id=\"sources\">Sources per component (hover a provenance cell for its "
       "model's): ";
  bool first_source = true;
  for (const auto& [source, models] : sources) {
    h += fmt::format("{}{} ({} model{})", first_source ? "" : "; ", xml_escape(source), models, models == 1 ? "" : "s");
    first_source = false;
  }
  h += ".</p>\n";
  if (std::any_of(points.begin(), points.end(), [](const ModelPoint& p) { return p.loading_included_runs > 0; }))
    h += fmt::format("<p class=\"note\" id=\"note-loading\">{}. Hover the mark for how many runs.</p>\n",
                     xml_escape(kLoadingIncludedNote));
  if (std::any_of(points.begin(), points.end(), [](const ModelPoint& p) { return p.coarse_runs > 0; }))
    h += fmt::format("<p class=\"note\" id=\"note-coarse\">{}. Hover the mark for how many runs.</p>\n",
                     xml_escape(kCoarseRunsNote));
  h += "<p class=\"note\">measured: an energy counter; sampled: power readings integrated over time; "
       "estimated: a model (e.g. CodeCarbon's fixed CPU and RAM watts). The weakest source in a row names it.</p>\n";
  return h;
}

// Runs that share every context column are one row (an imported study is
// thousands of runs on one machine).
std::string runs_table(const std::vector<RunRecord>& runs) {
  std::string h = "<h2>Where, and every constant used</h2>\n<table id=\"table-runs\"><tr><th>runs</th><th>kind</th>"
                  "<th>started</th><th>location</th><th>intensity g CO2e/kWh</th><th>source</th><th>PUE</th>"
                  "<th>hardware</th></tr>\n";
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
  return h + "</table>\n";
}

// Every constant the figures used, and the report's notes.
std::string constants_section(const HtmlReportOptions& options, const Report& tasks) {
  std::string h = "<table id=\"table-constants\"><tr><th>constant</th><th>value</th><th>source</th></tr>\n";
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
    if (n != kLoadingIncludedNote && n != kCoarseRunsNote)  // those two are shown by their table
      h += "<p class=\"note\">Note: " + xml_escape(n) + "</p>\n";
  return h;
}

}  // namespace

std::string render_html_report(Store& store, const HtmlReportOptions& options) {
  const ReportData d = read_report_data(store, options);
  std::string h = page_head(options, d, store.location());
  h += charts_section(options, d.points);
  h += tasks_table(options, d.tasks);
  h += models_table(d.points);
  h += runs_table(d.runs);
  h += constants_section(options, d.tasks);
  h += kScript;
  h += report::kOverflowCheckScript;
  h += "</body></html>\n";
  return h;
}

}  // namespace joulebench
