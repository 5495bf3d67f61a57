// The study's published tables beside what the store gives under the study's
// own rules ("Power Hungry Processing", Luccioni, Jernite, Strubell, FAccT
// 2024): per task, multi-purpose models, lifecycle break-even and the SDXL
// extreme. The published figures are compiled in (data/study-published.csv);
// the rules are in docs/study.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "joulebench/store.h"

namespace joulebench {

// One figure as the paper prints it.
struct PublishedFigure {
  std::string table;   // "tasks", "multi-purpose", "lifecycle", "extremes"
  std::string row;     // kebab-case task, or the model as logged ("google/flan-t5-base")
  std::string metric;  // kwh_per_1000_mean, kwh_per_1000_std, g_co2e_per_1000, breakeven_queries, and inputs
  double value = 0.0;
  int decimals = 0;    // digits after the point as printed
  std::string source;  // "Table 2", ...
};
const std::vector<PublishedFigure>& published_study_figures();
// Where the figures come from, for every rendering.
inline constexpr const char* kStudyCitation =
    "Luccioni, Jernite, Strubell, \"Power Hungry Processing: Watts Driving the Cost of AI Deployment?\", "
    "FAccT 2024 (arXiv 2311.16863)";

// The eight text-to-image models of the study's per-task figure: of the ten
// its logs hold, the eight whose runs give its mean and std (docs/study.md).
const std::vector<std::string>& study_text_to_image_models();

// The study's models (data/study-models.csv, with a source per row). One
// definition (docs/models.md): total = the checkpoint's task model as the hub
// counts it; backbone = the bare model as AutoModel builds it, its default
// pooler included.
struct StudyModel {
  std::string model;  // as logged ("google/flan-t5-xl")
  std::string task;   // kebab-case, or "multi-purpose"
  bool multi_purpose = false;
  std::int64_t total_parameters = 0;     // 0 = not known
  std::int64_t backbone_parameters = 0;  // 0 = not known
  std::string architecture, source, note;
};
const std::vector<StudyModel>& study_models();

struct StudyRow {
  std::string table, row, metric;
  double published = 0.0;
  int decimals = 0;
  std::optional<double> reproduced;  // nullopt: the store has no runs for it
  std::optional<double> ratio;       // reproduced / published
  bool matches = false;              // reproduced rounds to the published figure at its printed precision
  int runs = 0;                      // runs of N inferences that went in
  std::vector<std::string> datasets;
  std::string statistic;             // "mean of runs", "sample std of runs", "largest run", ...
  std::optional<double> from_paper_inputs;  // lifecycle: the paper's own inputs, recomputed
  std::vector<std::string> caveats;  // what makes it differ ("includes model loading", "2 of 3 datasets", ...)
  std::string source;                // "Table 2"
};

// Task-specific against multi-purpose models on the same task's data (the
// store only: the paper gives single examples).
struct StudyComparison {
  std::string task;
  double task_specific_g_per_1000 = 0.0;
  double multi_purpose_g_per_1000 = 0.0;
  int task_specific_runs = 0, multi_purpose_runs = 0;
  std::vector<std::string> datasets;
};

struct StudyReport {
  std::vector<StudyRow> rows;
  std::vector<StudyComparison> comparisons;
  int runs_considered = 0;  // imported inference runs in the store
  std::vector<std::string> notes;
};

// Applies the study's rules to imported (CodeCarbon) inference windows.
// Throws InputError naming the import command when none is there.
StudyReport reproduce_study(const std::vector<StoredWindow>& windows);
StudyReport reproduce_study(Store& store);

std::string render_study_table(const StudyReport& report);
// An array of {table, row, metric, published, reproduced, ratio, runs, matches, decimals,
// statistic, datasets, caveats, source} (docs/study.md).
nlohmann::json study_json(const StudyReport& report);

}  // namespace joulebench
