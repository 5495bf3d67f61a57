#include <fmt/format.h>

#include <array>
#include <utility>

#include "joulebench/models.h"

namespace joulebench {
namespace {

constexpr std::array<std::pair<Task, std::string_view>, 10> kTaskNames{{
    {Task::text_classification, "text-classification"},
    {Task::token_classification, "token-classification"},
    {Task::question_answering, "question-answering"},
    {Task::fill_mask, "fill-mask"},
    {Task::text_generation, "text-generation"},
    {Task::summarization, "summarization"},
    {Task::image_classification, "image-classification"},
    {Task::object_detection, "object-detection"},
    {Task::image_to_text, "image-to-text"},
    {Task::text_to_image, "text-to-image"},
}};

}  // namespace

std::string_view to_string(Task t) {
  for (const auto& [value, name] : kTaskNames)
    if (value == t) return name;
  return "unknown";
}

std::optional<Task> task_from_string(std::string_view s) {
  for (const auto& [value, name] : kTaskNames)
    if (name == s) return value;
  return std::nullopt;
}

const std::vector<Task>& all_tasks() {
  static const std::vector<Task> tasks = [] {
    std::vector<Task> v;
    for (const auto& entry : kTaskNames) v.push_back(entry.first);
    return v;
  }();
  return tasks;
}

std::string task_names() {
  std::vector<std::string_view> names;
  for (const auto& entry : kTaskNames) names.push_back(entry.second);
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string_view modality(Task t) {
  switch (t) {
    case Task::image_classification:
    case Task::object_detection:
    case Task::image_to_text:
      return "image";
    default:
      return "text";
  }
}

}  // namespace joulebench
