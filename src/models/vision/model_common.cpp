#include "models/vision/model_common.h"

#include <cstring>
#include <filesystem>

#include "joulebench/version.h"

namespace joulebench::models::vision {

bool init_weights(torch::nn::Module& module, const LoadOptions& options, const RuntimeOptions& rt,
                  const StateDictRules& rules, const std::function<std::string(const std::string&)>& rename) {
  bool loaded = false;
  if (!options.weights_dir.empty()) {
    auto tensors = read_checkpoint(options.weights_dir);
    if (rename) {
      TensorMap renamed;
      for (auto& [name, t] : tensors) renamed[rename(name)] = t;
      tensors = std::move(renamed);
    }
    load_state_dict(module, tensors, rules, options.weights_dir);
    loaded = true;
  } else {
    seeded_init(module, options.seed);
  }
  module.eval();
  for (auto& p : module.parameters()) p.set_requires_grad(false);
  module.to(rt.device, rt.dtype);
  return loaded;
}

std::string rename_legacy_vae_attention(const std::string& name) {
  static const std::pair<const char*, const char*> kMap[] = {
      {".query.", ".to_q."}, {".key.", ".to_k."}, {".value.", ".to_v."}, {".proj_attn.", ".to_out.0."}};
  if (name.find("attentions.") == std::string::npos) return name;
  for (const auto& [from, to] : kMap) {
    auto pos = name.find(from);
    if (pos != std::string::npos) return name.substr(0, pos) + to + name.substr(pos + std::strlen(from));
  }
  return name;
}

ModelInfo preset_info(std::string name, Task task, std::string family, std::string size, std::int64_t params,
                      std::int64_t head) {
  ModelInfo m;
  m.name = std::move(name);
  m.task = task;
  m.family = std::move(family);
  m.size_class = std::move(size);
  m.parameters = params;
  m.head_parameters = head;
  return m;
}

LoadOptions resolve_weights(const std::string& name, const LoadOptions& options, const std::string& probe) {
  if (!options.weights_dir.empty()) return options;
  const std::filesystem::path dir = default_weights_dir(name);
  LoadOptions o = options;
  if (!find_safetensors(probe.empty() ? dir : dir / probe).empty()) o.weights_dir = dir.string();
  return o;
}

}  // namespace joulebench::models::vision
