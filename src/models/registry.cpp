#include <fmt/format.h>

#include "joulebench/error.h"
#include "registry_parts.h"

namespace joulebench {

std::vector<ModelInfo> list_models() {
  std::vector<ModelInfo> all;
  for (auto& m : models::text_model_infos()) all.push_back(std::move(m));
  for (auto& m : models::vision_model_infos()) all.push_back(std::move(m));
  return all;
}

std::unique_ptr<Model> load_model(std::string_view name, const LoadOptions& options) {
  std::unique_ptr<Model> model;
  model = models::load_text_model(name, options);
  if (model) return model;
  model = models::load_vision_model(name, options);
  if (model) return model;
  std::vector<std::string> names;
  for (const auto& m : list_models()) names.push_back(m.name);
  const std::string valid = fmt::format("{}", fmt::join(names, ", "));
  throw InputError(fmt::format("unknown model '{}'; valid presets: {} (see `joulebench models`)", name,
                               valid.empty() ? "(none built)" : valid));
}

}  // namespace joulebench
