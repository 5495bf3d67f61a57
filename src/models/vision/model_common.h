// What every vision preset shares on top of models/common/weights.h.
#pragma once

#include <torch/torch.h>

#include <string>

#include "joulebench/models.h"
#include "models/common/weights.h"

namespace joulebench::models::vision {

// Seeds random weights (or loads options.weights_dir when set, by HF names),
// then puts the module in inference state: eval, no grad, runtime dtype/device.
// Returns whether real weights were loaded.
bool init_weights(torch::nn::Module& module, const LoadOptions& options, const RuntimeOptions& rt,
                  const StateDictRules& rules = {});

}  // namespace joulebench::models::vision
