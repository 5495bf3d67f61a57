#include "joulebench/stars.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace joulebench {

int stars_for(double value, double task_min, double task_max) {
  if (!(task_max > task_min) || !(task_min > 0.0) || !(value > 0.0)) return 5;
  const double lo = std::log10(task_min), band = (std::log10(task_max) - lo) / 5.0;
  // The maximum itself belongs to the top band.
  const int index = std::clamp(static_cast<int>(std::floor((std::log10(value) - lo) / band)), 0, 4);
  return 5 - index;
}

std::optional<int> stars_among(double value, double task_min, double task_max, int models, std::string* why) {
  if (models < kMinModelsForStars) {
    if (why)
      *why = fmt::format("no stars: {} model{} of this task and configuration; stars rank {} or more", models,
                         models == 1 ? "" : "s", kMinModelsForStars);
    return std::nullopt;
  }
  return stars_for(value, task_min, task_max);
}

std::string off_task_purpose(std::string_view model, std::string_view known) {
  if (!known.empty()) return std::string(known);
  std::string m(model);
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Whole name parts only: "lid" inside "solid" or "valid" is not language id.
  std::string padded = "-" + m + "-";
  for (auto& c : padded)
    if (c == '/' || c == '_' || c == '.') c = '-';
  for (const char* part : {"-lid-", "-langid-", "language-detection", "language-identification", "-langdetect-"})
    if (padded.find(part) != std::string::npos) return "language identification";
  return {};
}

}  // namespace joulebench
