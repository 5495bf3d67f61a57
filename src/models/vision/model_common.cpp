#include "models/vision/model_common.h"

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

}  // namespace joulebench::models::vision
