// The report as files for people: a self-contained HTML page (inline CSS,
// generated SVG charts, one small inline script; nothing fetched), CSV rows,
// and an energy label per model in the manner of the AI Energy Score label.
// Contract (classes and data attributes of the marks): docs/report.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/report.h"
#include "joulebench/stars.h"
#include "joulebench/store.h"

namespace joulebench {

// What the store does not know about a model: its parameter count and whether
// it is a multi-purpose (zero-shot) model. The CLI fills it from the zoo.
struct ModelFacts {
  std::int64_t parameters = 0;  // 0 = unknown
  std::optional<bool> multi_purpose;
  std::string purpose = {};  // ModelInfo::purpose: an off-task model (language id) is not ranked with its task's
};

struct HtmlReportOptions {
  ReportOptions report;  // task / model filters, equivalents (grouping is ignored)
  std::map<std::string, ModelFacts> facts;  // by model name
  // Published reference per task (the study's Table 2 mean, kWh per 1,000),
  // drawn beside the measured points; empty: none drawn.
  std::map<std::string, double> reference_kwh_per_1000;
  std::string reference_source;  // its citation, printed under the chart
  std::string title = "joulebench report";
  std::optional<std::chrono::system_clock::time_point> generated_at;  // default: now
};

// One model of one task, as the charts draw it (per 1,000 inferences).
struct ModelPoint {
  std::string task;
  std::string model;
  int runs = 0;
  double kwh_mean = 0, kwh_std = 0, kwh_min = 0, kwh_max = 0;
  double kwh_ci95 = 0;  // half-width of the mean's 95 % interval (Student's t); 0 with one run
  double gco2e_mean = 0, gco2e_min = 0, gco2e_max = 0, gco2e_ci95 = 0;
  std::optional<double> seconds_per_inference;  // window duration / inferences, mean over runs
  std::optional<double> latency_p50_s;          // median request latency where recorded (bench, endpoints)
  std::optional<double> output_tokens_per_inference;  // generative tasks, where recorded
  double gpu_kwh = 0, cpu_kwh = 0, ram_kwh = 0, other_kwh = 0;  // means of the split
  std::string provenance;  // weakest: measured / sampled / estimated
  std::string provenance_detail;  // "cpu estimated:cpu-model; gpu sampled:nvml-power"
  double band_factor = 1.0;  // widest band of its estimates (1: read, or not recorded)
  std::int64_t parameters = 0;
  bool multi_purpose = false;
  int loading_included_runs = 0;  // runs whose energy also covers loading the model
  int coarse_runs = 0;            // runs shorter than their sensors' resolution (Measurement::is_coarse)
  std::string configuration;      // " (batch 8, bf16)" where not the study's, else empty
  std::string purpose;            // off_task_purpose (stars.h): empty for the task's usual job
};

// Models of the windows (inference windows with a count), in task order.
std::vector<ModelPoint> model_points(const std::vector<StoredWindow>& windows, const HtmlReportOptions& options);

// A multi-purpose model when the facts do not say: the study's zero-shot
// families (Flan-T5, BLOOMz, mT0), by name.
bool is_multi_purpose_name(std::string_view model);

// The whole page. Throws InputError saying how to fill the store when it holds
// no inference windows.
std::string render_html_report(Store& store, const HtmlReportOptions& options);

// CSV of the report's rows (header + one line per row; the JSON fields, with
// one column per equivalent `eq_<key>`), RFC 4180 quoting.
std::string render_csv(const Report& report);

// ---- Energy label -------------------------------------------------------------

struct EnergyLabel {
  std::string model;
  std::string task;
  double wh_per_1000 = 0.0;  // measured (IT) energy per 1,000 queries, GPU + CPU + RAM
  int stars = 0;             // 1..5; 0: not ranked (see stars_note)
  double band_factor = 1.0;  // an estimate's band: the real figure within [x / F, x * F]
  std::string stars_note;    // why there are no stars (too few models), or empty
  int models_in_task = 0;    // of the same configuration: the range the stars are relative to
  double task_min_wh = 0.0, task_max_wh = 0.0;
  std::string hardware;
  std::string date;  // YYYY-MM-DD of the newest window
  std::string provenance;
};

// Stars (joulebench/stars.h): among the task's models of the same
// configuration, bands equal on a log scale; none among fewer than 5. Throws InputError listing the
// stored models when `model` has no inference windows.
// An off-task model (facts' purpose, or off_task_purpose by name) is ranked
// only among models of its purpose.
EnergyLabel make_energy_label(Store& store, const std::string& model, const std::string& task = {},
                              const std::map<std::string, ModelFacts>& facts = {});
std::string render_energy_label_svg(const EnergyLabel& label);

}  // namespace joulebench
