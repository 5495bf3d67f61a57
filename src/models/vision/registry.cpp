// The vision half of the zoo: every image preset, by task.
#include <functional>

#include "models/registry_parts.h"
#include "models/vision/captioning.h"
#include "models/vision/centernet.h"
#include "models/vision/classification.h"
#include "models/vision/detection.h"
#include "models/vision/sd_pipeline.h"

namespace joulebench::models {

namespace {

using Loader = std::function<std::unique_ptr<Model>(const ModelInfo&, const LoadOptions&)>;

struct Family {
  std::vector<ModelInfo> (*infos)();
  Loader load;
};

const std::vector<Family>& families() {
  static const std::vector<Family> all = {
      {vision::classification_infos, vision::load_classification},
      {vision::detection_infos, vision::load_detection},
      {vision::centernet_infos, vision::load_centernet},
      {vision::captioning_infos, vision::load_captioning},
      {vision::text_to_image_infos, vision::load_text_to_image},
  };
  return all;
}

}  // namespace

std::vector<ModelInfo> vision_model_infos() {
  std::vector<ModelInfo> out;
  for (const auto& f : families()) {
    for (auto& m : f.infos()) {
      // Tiny presets are cheap to build: their counts come from the modules themselves.
      if (m.size_class == "tiny") m = f.load(m, LoadOptions{})->info();
      out.push_back(std::move(m));
    }
  }
  return out;
}

std::unique_ptr<Model> load_vision_model(std::string_view name, const LoadOptions& options) {
  for (const auto& f : families()) {
    for (const auto& m : f.infos()) {
      if (m.name == name) return f.load(m, options);
    }
  }
  return nullptr;
}

}  // namespace joulebench::models
