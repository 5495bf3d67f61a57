// CodeCarbon compatibility: write `emissions.csv` rows in CodeCarbon's own
// columns and order (so its dashboards read our files), and import CodeCarbon
// logs (2.x and 3.x, with or without task_name and pue) into the store.
// Units are CodeCarbon's: energy kWh, emissions kg CO2e, power W, duration s.
// Contract and version differences: docs/codecarbon.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "joulebench/carbon.h"
#include "joulebench/energy.h"
#include "joulebench/store.h"

namespace joulebench {

// The columns joulebench writes: CodeCarbon 3.x's emissions.csv, in order.
const std::vector<std::string>& codecarbon_columns();
// Columns an emissions.csv must have for joulebench to import it.
const std::vector<std::string>& codecarbon_required_columns();

// One emissions.csv row.
struct CodeCarbonRecord {
  std::string task_name;  // only in task files (emissions_base_*.csv)
  std::string timestamp;  // "2023-09-08T12:50:22" (UTC, as CodeCarbon)
  std::string project_name = "joulebench";
  std::string run_id;
  std::string experiment_id;
  double duration_s = 0.0;
  double emissions_kg = 0.0;
  double emissions_rate_kg_per_s = 0.0;
  double cpu_power_w = 0.0, gpu_power_w = 0.0, ram_power_w = 0.0;
  double cpu_energy_kwh = 0.0, gpu_energy_kwh = 0.0, ram_energy_kwh = 0.0;
  double energy_consumed_kwh = 0.0;
  std::optional<double> water_consumed_l;
  std::string country_name, country_iso_code, region, cloud_provider, cloud_region;
  std::string os, python_version, codecarbon_version;
  int cpu_count = 0;
  std::string cpu_model;
  int gpu_count = 0;
  std::string gpu_model;
  std::optional<double> longitude, latitude;
  std::optional<double> ram_total_size_gb;
  std::string tracking_mode = "machine";
  std::optional<double> cpu_utilization_percent, gpu_utilization_percent, ram_utilization_percent;
  std::optional<double> ram_used_gb;
  std::string on_cloud = "N";
  std::optional<double> pue;
  std::optional<double> wue;
};

struct CodeCarbonRunInfo {
  std::string project_name = "joulebench";
  std::string run_id;         // empty: a new UUID
  std::string experiment_id;  // empty: left empty
  MachineInfo machine;
  // "machine" writes machine-scope energy (CodeCarbon's default); "process"
  // writes the energy attributed to the measured process tree where known.
  std::string tracking_mode = "machine";
};

// Builds the row for one measured window. cpu, gpu and ram energies come from
// the cpu, gpu and dram components (0 when absent, as CodeCarbon writes);
// emissions and pue from `carbon`.
CodeCarbonRecord make_codecarbon_record(const Measurement& m, const CarbonResult& carbon,
                                        const CodeCarbonRunInfo& info);

// Appends one row like CodeCarbon does: the header only when the file is new
// or empty. An existing file with another CodeCarbon column set (an older
// version) gets the row in its own columns; a file that is not a CodeCarbon
// log throws InputError rather than being appended to.
void append_codecarbon_csv(const std::filesystem::path& file, const CodeCarbonRecord& record);

// Throws InputError unless append_codecarbon_csv could append to `file` (it is
// missing, empty, or a CodeCarbon log): checked before a measured run starts.
void check_codecarbon_csv_appendable(const std::filesystem::path& file);

// ---- Import ----------------------------------------------------------------

struct CodeCarbonImportOptions {
  std::optional<std::string> task;     // kebab-case task for every row; else from the file name
  std::optional<std::string> dataset;  // else from the file name
  std::optional<bool> zero_shot;       // multi-purpose model on another task's data; else from the file name
  std::int64_t inferences = 1000;      // per logged row (the study's protocol)
  // Task files: task_name (lower case) -> phase, beside the known names
  // ("load model", "transfer model to GPU" -> load; "query model" -> inference).
  std::map<std::string, std::string> phases;
  bool dry_run = false;                // parse and report; write nothing
  // What a row's project_name is: "model", "project", or "auto" (default):
  // the model (as in the study's logs and most inference logs), except in
  // rows joulebench measure --csv wrote (its --project) and CodeCarbon's
  // default "codecarbon", which are the project (the model is then unknown).
  std::string project_name_is = "auto";
};

// "text_classif_imdb" -> {"text-classification", "imdb"} for the study's file
// names (fillmask_, image_class_, itt_, obj_detection_, qa_, summarize_,
// text_classif_, textgen_, token_classif_, tti_, zeroshot_{qa,sentiment,summarize}_).
// "_resized" image sets stay their own datasets ("imagenet-resized").
struct StudyFileTask {
  std::string task;
  std::string dataset;
  bool zero_shot = false;
};
std::optional<StudyFileTask> study_task_from_file_name(std::string_view file_stem);
// One name per dataset: lower case, and the study's spellings of one set made
// one ("squad2", "squad_v2" -> "squadv2"; "rotten_tomatoes" -> "tomatoes").
std::string normalize_dataset_name(std::string_view name);

struct ImportIssue {
  std::string file;
  std::size_t line = 0;
  std::string reason;
  std::string to_string() const;  // "file:line: reason"
};

struct CodeCarbonFileResult {
  std::filesystem::path file;
  std::vector<std::string> run_ids;  // the joulebench runs its new rows went into (one per CodeCarbon run_id)
  std::size_t runs = 0;        // CodeCarbon runs (distinct run_id) in the file
  std::string version;         // "2.3.1" from the codecarbon_version column, "" if absent
  std::string column_set;      // "2.x (31 columns)", "3.x", ... in words
  std::string task, dataset;   // where they came from
  std::string task_origin;     // "--task", "file name", "none" (then from another file of the same run, if any)
  bool zero_shot = false;
  std::size_t rows = 0;        // data rows read
  std::size_t imported = 0;
  std::size_t skipped = 0;     // bad rows (see issues)
  std::size_t duplicates = 0;  // already in the store
  std::vector<ImportIssue> issues;  // rows skipped, and why
  std::vector<ImportIssue> notes;   // rows stored with something to say (another model name for the same run)
  std::string error;           // the whole file failed (not CodeCarbon, malformed CSV, unreadable)
};

struct CodeCarbonImportSummary {
  std::vector<CodeCarbonFileResult> files;
  std::int64_t inferences_per_row = 1000;
  std::size_t imported() const;
  std::size_t skipped() const;
  std::size_t duplicates() const;
  std::size_t failed_files() const;
};

// Expands directories (their *.csv files, sorted, recursively) and reads
// every file, then stores each CodeCarbon run (one run_id: a complete/ row and
// the rows of its base/ task file) as one joulebench run, written once in one
// transaction whatever the order or number of imports: a run already stored
// is completed in place (Store::replace_run). Its inference window is the
// "query model" row when one is known, else the whole-run row, marked
// includes_loading. Rules and the study's layout: docs/codecarbon.md.
CodeCarbonImportSummary import_codecarbon(Store& store, const std::vector<std::filesystem::path>& paths,
                                          const CodeCarbonImportOptions& options);
// The options import_codecarbon refuses (an unknown task, inferences below 1,
// an unknown phase), checked before any store is opened. Throws InputError.
void check_import_options(const CodeCarbonImportOptions& options);
// The `import codecarbon --json` summary (docs/codecarbon.md).
nlohmann::json import_summary_json(const CodeCarbonImportSummary& summary, const std::string& store_location,
                                   bool dry_run);

// The joulebench run id of a CodeCarbon run_id (a stable UUID-shaped hash).
std::string import_run_id(std::string_view codecarbon_run_id);

}  // namespace joulebench
