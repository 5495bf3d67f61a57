// What every vision preset shares on top of models/common/weights.h.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "joulebench/models.h"
#include "models/common/weights.h"

namespace joulebench::models::vision {

// Seeds random weights (or loads options.weights_dir when set, by HF names),
// then puts the module in inference state: eval, no grad, runtime dtype/device.
// Returns whether real weights were loaded.
// `rename` (optional) maps checkpoint names onto the module's before loading
// (older diffusers VAE checkpoints: "query" -> "to_q", ...).
bool init_weights(torch::nn::Module& module, const LoadOptions& options, const RuntimeOptions& rt,
                  const StateDictRules& rules = {},
                  const std::function<std::string(const std::string&)>& rename = nullptr);

// Older diffusers attention names in VAE checkpoints (query, key, value,
// proj_attn) -> the current ones (to_q, to_k, to_v, to_out.0).
std::string rename_legacy_vae_attention(const std::string& name);

// LoadOptions with weights_dir resolved as the text zoo does: the given one,
// else $JOULEBENCH_MODELS_DIR/<name>, else <fetched data>/models/<name>, when
// that folder holds a checkpoint (`probe`: a sub-folder to look in, as
// diffusers' "unet"); otherwise weights_dir stays empty (seeded weights).
LoadOptions resolve_weights(const std::string& name, const LoadOptions& options, const std::string& probe = "");

// A preset's listing: parameters of the bare model and of the task head
// (docs/models.md, "Parameter counts"); 0 for the tiny presets, counted once built.
ModelInfo preset_info(std::string name, Task task, std::string family, std::string size, std::int64_t params,
                      std::int64_t head = 0);

}  // namespace joulebench::models::vision
