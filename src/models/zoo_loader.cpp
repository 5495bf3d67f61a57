// list_models / load_model for programs that must not link libtorch: the zoo
// plugin is dlopened on first use (where it is looked for: core/plugin.h).
#include <fmt/format.h>

#include <cstdlib>
#include <mutex>

#include "core/plugin.h"
#include "joulebench/error.h"
#include "zoo_api.h"

namespace joulebench {
namespace {

const models::ZooApi& zoo() {
  static const models::ZooApi* api = nullptr;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    // libgomp reads this once, when libtorch loads it. Its default lets idle
    // OpenMP threads spin for ~300k iterations, taking the cores from the BLAS
    // threads (3-7x slower small models on 2 cores, docs/benchmarks.md) and
    // burning energy the meter would count. A user's own setting wins.
    ::setenv("GOMP_SPINCOUNT", "1000", /*overwrite=*/0);
    try {
      const core::PluginSpec spec{"libjoulebench_zoo.so", "JOULEBENCH_ZOO_LIBRARY", "joulebench_zoo_api",
                                  "the model zoo plugin (built when JOULEBENCH_WITH_TORCH=ON)"};
      auto entry = reinterpret_cast<const models::ZooApi* (*)()>(core::open_plugin(spec));
      const models::ZooApi* candidate = entry();
      if (candidate->abi_version != models::kZooAbiVersion)
        failure = fmt::format("the model zoo plugin has ABI {} but this joulebench expects {} (rebuild both)",
                              candidate->abi_version, models::kZooAbiVersion);
      else
        api = candidate;
    } catch (const Error& e) {
      failure = e.what();
    }
  });
  if (!api) throw Error(failure);
  return *api;
}

}  // namespace

std::vector<ModelInfo> list_models() { return zoo().list_models(); }

std::unique_ptr<Model> load_model(std::string_view name, const LoadOptions& options) {
  return zoo().load_model(name, options);
}

std::unique_ptr<Model> load_torchscript(const TorchScriptSpec& spec, const LoadOptions& options) {
  return zoo().load_torchscript(spec, options);
}

}  // namespace joulebench
