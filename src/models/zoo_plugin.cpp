// The model zoo as a plugin: exports the registry's entry points.
#include <dlfcn.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "zoo_api.h"

namespace {

// OpenBLAS as libtorch loaded it (libblas.so.3 through Debian's alternatives).
joulebench::RuntimeInfo runtime_info() {
  joulebench::RuntimeInfo r;
  r.torch_version = TORCH_VERSION;
  r.cuda_available = torch::cuda::is_available();
  r.cuda_devices = r.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  r.intra_op_threads = at::get_num_threads();
  for (const char* lib : {"libblas.so.3", "libopenblas.so.0"}) {
    void* h = ::dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
    if (!h) continue;
    using Text = char* (*)();
    if (auto core = reinterpret_cast<Text>(::dlsym(h, "openblas_get_corename"))) r.blas_core = core();
    if (auto config = reinterpret_cast<Text>(::dlsym(h, "openblas_get_config"))) r.blas_library = config();
    ::dlclose(h);  // NOLOAD took a reference: give it back
    if (!r.blas_core.empty()) break;
  }
  return r;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const joulebench::models::ZooApi* joulebench_zoo_api() {
  static const joulebench::models::ZooApi api{joulebench::models::kZooAbiVersion, &joulebench::list_models,
                                              &joulebench::load_model, &joulebench::load_torchscript,
                                              &runtime_info};
  return &api;
}
