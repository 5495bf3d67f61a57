// A small, steady CUDA load for scripts/gpu_check.sh, built with plain g++:
// it loads the driver (libcuda.so.1) at run time and JIT-compiles a PTX
// kernel that spins on fused multiply-adds, so no CUDA toolkit is needed on
// either machine. Usage: gpu_load SECONDS [DEVICE]. Exit 2 without a GPU.
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

// Every thread spins ITERS times on one FMA chain; one store keeps it alive.
constexpr const char* kPtx = R"(
.version 6.0
.target sm_50
.address_size 64
.visible .entry spin(.param .u64 out, .param .u32 iters) {
  .reg .u32 %r<4>;
  .reg .f32 %f<3>;
  .reg .pred %p;
  .reg .u64 %rd<3>;
  ld.param.u64 %rd1, [out];
  ld.param.u32 %r1, [iters];
  mov.f32 %f1, 0f3F800000;
  mov.u32 %r2, 0;
LOOP:
  fma.rn.f32 %f1, %f1, 0f3F800001, 0f3A83126F;
  add.u32 %r2, %r2, 1;
  setp.lt.u32 %p, %r2, %r1;
  @%p bra LOOP;
  cvta.to.global.u64 %rd2, %rd1;
  st.global.f32 [%rd2], %f1;
  ret;
}
)";

using CUresult = int;
using CUdevice = int;
using CUcontext = void*;
using CUmodule = void*;
using CUfunction = void*;
using CUdeviceptr = unsigned long long;

template <typename F>
F sym(void* lib, const char* name) {
  auto f = reinterpret_cast<F>(::dlsym(lib, name));
  if (!f) {
    std::fprintf(stderr, "gpu_load: %s missing from libcuda.so.1\n", name);
    std::exit(2);
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  const int ordinal = argc > 2 ? std::atoi(argv[2]) : 0;
  void* lib = ::dlopen("libcuda.so.1", RTLD_NOW);
  if (!lib) {
    std::fprintf(stderr, "gpu_load: no NVIDIA driver (libcuda.so.1): %s\n", ::dlerror());
    return 2;
  }
  auto cuInit = sym<CUresult (*)(unsigned)>(lib, "cuInit");
  auto cuDeviceGet = sym<CUresult (*)(CUdevice*, int)>(lib, "cuDeviceGet");
  auto cuCtxCreate = sym<CUresult (*)(CUcontext*, unsigned, CUdevice)>(lib, "cuCtxCreate_v2");
  auto cuModuleLoadData = sym<CUresult (*)(CUmodule*, const void*)>(lib, "cuModuleLoadData");
  auto cuModuleGetFunction = sym<CUresult (*)(CUfunction*, CUmodule, const char*)>(lib, "cuModuleGetFunction");
  auto cuMemAlloc = sym<CUresult (*)(CUdeviceptr*, size_t)>(lib, "cuMemAlloc_v2");
  auto cuLaunchKernel = sym<CUresult (*)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                         unsigned, void*, void**, void**)>(lib, "cuLaunchKernel");
  auto cuCtxSynchronize = sym<CUresult (*)()>(lib, "cuCtxSynchronize");
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  CUmodule mod = nullptr;
  CUfunction fn = nullptr;
  CUdeviceptr out = 0;
  if (cuInit(0) != 0 || cuDeviceGet(&dev, ordinal) != 0 || cuCtxCreate(&ctx, 0, dev) != 0) {
    std::fprintf(stderr, "gpu_load: no usable CUDA device %d\n", ordinal);
    return 2;
  }
  if (cuModuleLoadData(&mod, kPtx) != 0 || cuModuleGetFunction(&fn, mod, "spin") != 0 || cuMemAlloc(&out, 4) != 0) {
    std::fprintf(stderr, "gpu_load: the PTX kernel did not load\n");
    return 1;
  }
  unsigned iters = 1u << 20;
  void* params[] = {&out, &iters};
  const auto start = std::chrono::steady_clock::now();
  long launches = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    // Enough blocks to fill any current GPU; each launch a few ms.
    if (cuLaunchKernel(fn, 4096, 1, 1, 256, 1, 1, 0, nullptr, params, nullptr) != 0) {
      std::fprintf(stderr, "gpu_load: launch failed\n");
      return 1;
    }
    if (cuCtxSynchronize() != 0) return 1;
    ++launches;
  }
  std::printf("gpu_load: %ld launches in %.2f s on device %d\n", launches,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), ordinal);
  return 0;
}
