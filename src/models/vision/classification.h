// Image classification presets (ResNet, ViT): HF *ForImageClassification.
#pragma once

#include <memory>
#include <vector>

#include "joulebench/models.h"

namespace joulebench::models::vision {

std::vector<ModelInfo> classification_infos();
std::unique_ptr<Model> load_classification(const ModelInfo& info, const LoadOptions& options);

}  // namespace joulebench::models::vision
