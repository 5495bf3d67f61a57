#include "models/text/text_model.h"

namespace joulebench::models {

std::vector<ModelInfo> fasttext_model_infos() { return {}; }
std::unique_ptr<Model> load_fasttext_model(std::string_view, const LoadOptions&) { return nullptr; }

}  // namespace joulebench::models
