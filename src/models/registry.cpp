#include <fmt/format.h>

#include "joulebench/error.h"
#include "registry_parts.h"

namespace joulebench {

std::vector<ModelInfo> list_models() {
  std::vector<ModelInfo> all;
#ifdef JOULEBENCH_HAVE_TEXT_MODELS
  for (auto& m : models::text_model_infos()) all.push_back(std::move(m));
#endif
#ifdef JOULEBENCH_HAVE_VISION_MODELS
  for (auto& m : models::vision_model_infos()) all.push_back(std::move(m));
#endif
  return all;
}

std::unique_ptr<Model> load_model(std::string_view name, const LoadOptions& options) {
  std::unique_ptr<Model> model;
#ifdef JOULEBENCH_HAVE_TEXT_MODELS
  model = models::load_text_model(name, options);
  if (model) return model;
#endif
#ifdef JOULEBENCH_HAVE_VISION_MODELS
  model = models::load_vision_model(name, options);
  if (model) return model;
#endif
  std::string valid;
  for (const auto& m : list_models()) valid += (valid.empty() ? "" : ", ") + m.name;
  throw InputError(fmt::format("unknown model '{}'; valid presets: {} (see `joulebench models`)", name,
                               valid.empty() ? "(none built)" : valid));
}

}  // namespace joulebench
