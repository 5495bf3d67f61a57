// The star rule, in one place for bench tables and labels (docs/bench.md,
// "Stars"). As the AI Energy Score: 5 bands of a task's energy, the lowest 5
// stars. Unlike it, the bands are equal on a log scale (models of one task
// span orders of magnitude: equal linear bands put all but the costliest
// model in the top band), and there are no stars among fewer than
// kMinModelsForStars models (with two, stars could only be 1 or 5).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace joulebench {

inline constexpr int kMinModelsForStars = 5;

// [log10(task_min), log10(task_max)] cut into 5 equal bands: the lowest band
// 5 stars, the highest 1. All equal (or a non-positive bound): 5.
int stars_for(double value, double task_min, double task_max);

// stars_for among `models` models of one task and configuration, or nullopt
// with the reason in `why` (when given) when they are too few to rank.
std::optional<int> stars_among(double value, double task_min, double task_max, int models, std::string* why = nullptr);

// What a model does when that is not its task's usual job: "language
// identification" for a language-id model stored under text-classification.
// Such a model is ranked only among models of the same purpose, never against
// the task's own. `known` is what the zoo says (ModelInfo::purpose); without
// it the name decides (lid, langid, language-detection, -identification).
// Empty: the task's usual job.
std::string off_task_purpose(std::string_view model, std::string_view known = {});

}  // namespace joulebench
