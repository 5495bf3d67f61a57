// Internal: each part of the zoo (text, vision) lists its presets and loads
// them; registry.cpp is the single place that puts the parts together.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "joulebench/models.h"

namespace joulebench::models {

std::vector<ModelInfo> text_model_infos();
// nullptr when `name` is not a text preset.
std::unique_ptr<Model> load_text_model(std::string_view name, const LoadOptions& options);

std::vector<ModelInfo> vision_model_infos();
std::unique_ptr<Model> load_vision_model(std::string_view name, const LoadOptions& options);

}  // namespace joulebench::models
