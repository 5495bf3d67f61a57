// Internal: the table of entry points the zoo plugin (libjoulebench_zoo.so)
// exports. The `joulebench` binary dlopens the plugin only when a command
// needs a model, so that libtorch's ~0.4 s load time is not paid by
// `measure`, `sensors`, `report` and the rest.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "joulebench/models.h"

namespace joulebench::models {

// Bumped when ZooApi or the types of models.h change layout.
inline constexpr int kZooAbiVersion = 3;  // 2: load_torchscript; 3: runtime_info

struct ZooApi {
  int abi_version;
  std::vector<ModelInfo> (*list_models)();
  std::unique_ptr<Model> (*load_model)(std::string_view name, const LoadOptions& options);
  std::unique_ptr<Model> (*load_torchscript)(const TorchScriptSpec& spec, const LoadOptions& options);
  RuntimeInfo (*runtime_info)();  // blas_core_chosen_by is the loader's to fill
};

}  // namespace joulebench::models

// The one symbol the plugin exports: returns a static table.
extern "C" const joulebench::models::ZooApi* joulebench_zoo_api();
