// Reports over the store: per task, model or dataset, energy and emissions
// per 1,000 inferences (mean, sample standard deviation), with equivalents;
// rendered as a terminal table, Markdown or JSON from the same rows. Also the
// Hugging Face model-card `co2_eq_emissions` block of a stored run.
// Contract: docs/store.md (report JSON) and docs/carbon.md (equivalents).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "joulebench/carbon.h"
#include "joulebench/store.h"

namespace joulebench {

enum class ReportGrouping { task, model, dataset };
std::string_view to_string(ReportGrouping g);
std::optional<ReportGrouping> report_grouping_from_string(std::string_view s);

struct ReportOptions {
  ReportGrouping by = ReportGrouping::task;
  std::string task;   // only this task ("" = all)
  std::string model;  // only this model ("" = all)
  bool include_unfinished = false;  // windows of runs still 'running' or 'failed'
  // Zero-shot runs (a multi-purpose model on another task's data) count in
  // --by task and --by dataset only when asked: the study's task means leave
  // them out. --by model always shows them (marked).
  bool include_zero_shot = false;
  std::vector<EquivalentConstant> equivalents = default_equivalents();
};

// One group. Every figure is per 1,000 inferences; statistics are over the
// group's windows (one window = one logged run of N inferences).
struct ReportRow {
  std::string task;     // "" when unknown (an imported log without task)
  std::string model;    // "" for --by task
  std::string dataset;  // only for --by dataset
  // The configuration of the group's windows: windows of different batch
  // sizes, threads, dtypes or devices (a `bench --batch 1,8` sweep) are never
  // averaged together. nullopt / "" where not recorded (imports, measure).
  std::optional<int> batch_size;
  std::optional<int> threads;
  std::string dtype;
  std::string device;
  int runs = 0;         // runs of N inferences in the group (one inference window each)
  int models = 0;       // distinct models in the group
  std::int64_t inferences = 0;
  double kwh_per_1000_mean = 0.0;
  double kwh_per_1000_std = 0.0;  // sample standard deviation (n - 1); 0 for one run
  double kwh_per_1000_min = 0.0;
  double kwh_per_1000_max = 0.0;
  double gco2e_per_1000_mean = 0.0;
  double gco2e_per_1000_std = 0.0;
  std::optional<double> input_tokens_mean;  // per inference, where recorded
  std::optional<double> output_tokens_mean;
  std::string weakest_provenance;  // "measured", "sampled", "estimated"
  // Widest band of the group's estimates: the real figure lies within
  // [x / band_factor, x * band_factor]; 1 when every figure was read (or the
  // band was not recorded: rows written before store schema 4, imports).
  double band_factor = 1.0;
  int zero_shot_runs = 0;          // runs of a multi-purpose model on another task's data
  // Runs whose energy also covers loading the model (a log's whole-run row),
  // and the mean share of loading in them where it is known.
  int loading_included_runs = 0;
  std::optional<double> loading_share_mean;
  // Runs whose window was shorter than its sensors' resolution
  // (Measurement::is_coarse), marked "~" beside the figure.
  int coarse_runs = 0;
  std::vector<EquivalentValue> equivalents;  // of the means
};

struct Report {
  ReportGrouping by = ReportGrouping::task;
  std::vector<ReportRow> rows;
  std::size_t windows_used = 0;
  std::size_t windows_without_inferences = 0;  // left out: no per-inference figure possible
  std::size_t zero_shot_left_out = 0;          // zero-shot runs left out of task / dataset groups
  std::vector<std::string> notes;
};

// The note every rendering gives when a figure comes from windows shorter
// than their sensors' resolution (the row's coarse_runs > 0), marked "~".
inline constexpr const char* kCoarseRunsNote =
    "~ some windows were shorter than their sensors' resolution (a counter's 100 updates, 10 power samples, the "
    "CPU estimate's 1 s): their figures are coarse; more inferences per window (bench --n) make them exact";

// The note every rendering gives when a figure includes model loading (the
// row's loading_included_runs > 0), marked "*" beside it.
inline constexpr const char* kLoadingIncludedNote =
    "* includes model loading: those runs' logs have no query-only row (import the run's task file, e.g. the "
    "study's base/ folder, to separate it)";

// Reads the store (inference windows only) and aggregates.
Report build_report(Store& store, const ReportOptions& options);
// The aggregation alone, for windows obtained elsewhere.
Report aggregate_windows(const std::vector<StoredWindow>& windows, const ReportOptions& options);

std::string render_table(const Report& report);
std::string render_markdown(const Report& report);
// JSON array, one object per row: task, model, dataset, batch, threads, dtype,
// device (null where not recorded), runs, models, inferences,
// kwh_per_1000_mean, kwh_per_1000_std, kwh_per_1000_min, kwh_per_1000_max,
// gco2e_per_1000_mean, gco2e_per_1000_std, input_tokens_mean, output_tokens_mean,
// weakest_provenance, zero_shot_runs, loading_included_runs, loading_share_mean, coarse_runs, equivalents[] (key, value, unit, amount_per_unit, source).
nlohmann::json report_json(const Report& report);

// Stored runs, newest last, as a table; and as `report --runs --json`:
// id, kind, status, started_at, ended_at (null while running), hostname,
// source, project, task, model, batch (null when mixed or unknown), note,
// windows, energy_kwh, g_co2e.
std::string render_runs_table(const std::vector<RunSummary>& runs);
nlohmann::json runs_json(const std::vector<RunSummary>& runs);

// ---- Hugging Face model card ------------------------------------------------

struct ModelCardOptions {
  std::string training_type = "inference";  // HF documents "pre-training" and "fine-tuning"
};

// The `co2_eq_emissions` YAML block (emissions in grams, source,
// training_type, geographical_location, hardware_used) for one run.
std::string model_card_yaml(const RunRecord& run, const ModelCardOptions& options = {});

}  // namespace joulebench
