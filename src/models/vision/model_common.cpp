#include "models/vision/model_common.h"

#include <cstdlib>
#include <filesystem>

#include "joulebench/version.h"

namespace joulebench::models::vision {

bool init_weights(torch::nn::Module& module, const LoadOptions& options, const RuntimeOptions& rt,
                  const StateDictRules& rules) {
  bool loaded = false;
  if (!options.weights_dir.empty()) {
    load_state_dict(module, read_checkpoint(options.weights_dir), rules, options.weights_dir);
    loaded = true;
  } else {
    seeded_init(module, options.seed);
  }
  module.eval();
  for (auto& p : module.parameters()) p.set_requires_grad(false);
  module.to(rt.device, rt.dtype);
  return loaded;
}

LoadOptions resolve_weights(const std::string& name, const LoadOptions& options, const std::string& probe) {
  if (!options.weights_dir.empty()) return options;
  std::filesystem::path dir;
  if (const char* env = std::getenv("JOULEBENCH_MODELS_DIR"); env && *env) dir = std::filesystem::path(env) / name;
  else dir = std::filesystem::path(JOULEBENCH_FETCHED_DATA_DIR) / "models" / name;
  LoadOptions o = options;
  if (!find_safetensors(probe.empty() ? dir : dir / probe).empty()) o.weights_dir = dir.string();
  return o;
}

}  // namespace joulebench::models::vision
