// Weights for the zoo's modules: seeded random initialisation (compute does not
// depend on weight values), loading a checkpoint by Hugging Face parameter
// names, parameter counting, and the device / dtype / thread set-up every
// model does the same way.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "joulebench/models.h"
#include "models/common/safetensors.h"

namespace joulebench::models {

// How a checkpoint's names map onto a module's names.
struct StateDictRules {
  // Prefix of the bare model inside the task model ("bert.", "transformer.",
  // "model."): a checkpoint of the bare model (no prefix) loads into the task
  // model, and a task checkpoint ("bert.x") loads into the bare model.
  std::string base_prefix;
  // Checkpoint tensors to ignore (buffers such as position_ids, heads this
  // model does not have: "cls.seq_relationship").
  std::vector<std::regex> ignore_unexpected;
  // Module tensors a checkpoint may lack (kept at their seeded values: a
  // pooler the task does not use).
  std::vector<std::regex> allow_missing;
};

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing_allowed;
  std::vector<std::string> ignored;
};

// Copies `tensors` into the parameters and buffers of `module` (converting
// dtype). Throws InputError naming `source` for shape mismatches, tensors the
// module lacks (unexpected) and module tensors the checkpoint lacks (missing),
// listing up to ten names of each.
LoadReport load_state_dict(torch::nn::Module& module, const TensorMap& tensors, const StateDictRules& rules,
                           const std::string& source);

// Fills every parameter from a generator seeded with `seed`, in name order:
// 1-D "weight" (norm scales) = 1, 1-D "bias" = 0, other tensors ~ N(0, std).
void seeded_init(torch::nn::Module& module, std::uint64_t seed, double std = 0.02);

// Unique parameter elements (tied tensors counted once), as HF num_parameters().
std::int64_t count_parameters(const torch::nn::Module& module);
// Unique parameter elements under `prefix` ("classifier.") only.
std::int64_t count_parameters(const torch::nn::Module& module, const std::string& prefix);

// Where real weights for preset `name` are looked for when
// LoadOptions::weights_dir is empty, by the text and the vision zoo alike:
// $JOULEBENCH_MODELS_DIR/<name>, else <fetched data>/models/<name>.
std::filesystem::path default_weights_dir(const std::string& name);

// The *.safetensors files of a checkpoint folder (model.safetensors or the
// shards), empty when there are none.
std::vector<std::filesystem::path> find_safetensors(const std::filesystem::path& dir);
// All tensors of the checkpoint in `dir`; throws InputError when it has none
// (and says so when only pytorch_model.bin is there).
TensorMap read_checkpoint(const std::filesystem::path& dir);

struct RuntimeOptions {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
};
// Validates device and dtype, applies the thread count. "cuda" on a libtorch
// without CUDA (Debian's) is an InputError saying so.
RuntimeOptions apply_load_options(const LoadOptions& options);

}  // namespace joulebench::models
