// list_models / load_model for programs that must not link libtorch: the zoo
// plugin is dlopened on first use (where it is looked for: core/plugin.h).
#include <cstdlib>

#include "blas_kernel.h"
#include "core/plugin.h"
#include "joulebench/error.h"
#include "zoo_api.h"

namespace joulebench {
namespace {

// libgomp reads this once, when libtorch loads it. Its default lets idle
// OpenMP threads spin for ~300k iterations, taking the cores from the BLAS
// threads (3-7x slower small models on 2 cores, docs/benchmarks.md) and
// burning energy the meter would count. A user's own setting wins.
void quiet_openmp() { ::setenv("GOMP_SPINCOUNT", "1000", /*overwrite=*/0); }

// Who chose the BLAS kernel: set once, before libtorch (and OpenBLAS) loads.
models::BlasChoice& blas_choice() {
  static models::BlasChoice choice;
  return choice;
}

void before_libtorch_loads() {
  quiet_openmp();
  blas_choice() = models::choose_openblas_core();
}

const models::ZooApi& zoo() {
  static const core::PluginSpec spec{"libjoulebench_zoo.so", "JOULEBENCH_ZOO_LIBRARY", "joulebench_zoo_api",
                                     "the model zoo plugin (built when JOULEBENCH_WITH_TORCH=ON)"};
  return core::plugin_table<models::ZooApi>(spec, models::kZooAbiVersion, &before_libtorch_loads);
}

}  // namespace

RuntimeInfo zoo_runtime_info() {
  RuntimeInfo r = zoo().runtime_info();
  r.blas_core_chosen_by = blas_choice().chosen_by;
  return r;
}

std::vector<ModelInfo> list_models() { return zoo().list_models(); }

std::unique_ptr<Model> load_model(std::string_view name, const LoadOptions& options) {
  return zoo().load_model(name, options);
}

std::unique_ptr<Model> load_torchscript(const TorchScriptSpec& spec, const LoadOptions& options) {
  return zoo().load_torchscript(spec, options);
}

}  // namespace joulebench
