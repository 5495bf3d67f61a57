// The text presets: the study's models (Hugging Face ids and configs), `small`
// ones for the default bench on a laptop and `tiny` ones for tests. No libtorch.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/models.h"

namespace joulebench::models {

struct TextPreset {
  std::string name;
  Task task = Task::text_classification;
  std::string family;  // "bert", "roberta", "distilbert", "gpt2", "bloom", "t5", "bart"
  std::string size_class;
  bool multi_purpose = false;
  nlohmann::json config;   // as the model's config.json
  std::string vocabulary;  // fetched real vocabulary: "bert-base-uncased", "gpt2", or "" (built-in)
};

// Every text preset; a multi-purpose model appears once per task it serves.
const std::vector<TextPreset>& text_presets();
// The preset of `name` for `task` (first one when not given); nullptr if unknown.
const TextPreset* find_text_preset(std::string_view name, std::optional<Task> task);

// Bare-model and head parameter counts from the config, computed from the
// architecture's shapes (no model is built); tests check them against the
// modules.
struct ParameterCounts {
  std::int64_t base = 0;
  std::int64_t head = 0;
};
ParameterCounts text_parameter_counts(const std::string& family, Task task, bool multi_purpose,
                                      const nlohmann::json& config);

}  // namespace joulebench::models
