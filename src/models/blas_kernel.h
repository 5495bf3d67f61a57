// Internal: the BLAS kernel under libtorch, chosen before libtorch loads.
// Debian 12's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know CPUs newer than
// itself and falls back to its generic "Prescott" kernel on them: 5-6x slower
// matrix products, so every zoo figure would be that much too high
// (docs/measurement.md, "The BLAS kernel"). Torch-free: runs in the loader.
#pragma once

#include <string>
#include <string_view>

namespace joulebench::models {

struct CpuFeatures {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD"
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
};
// The first processor's vendor and flags from /proc/cpuinfo; empty when unreadable.
CpuFeatures read_cpu_features(const std::string& procfs_root = "/proc");

// The OpenBLAS kernel to ask for (OPENBLAS_CORETYPE) when OpenBLAS picked
// `picked` on a CPU with `features`: "SkylakeX" with AVX-512 (F, BW, VL, DQ),
// else "Haswell" (Intel) or "Zen" (AMD) with AVX2 and FMA; "" when OpenBLAS's
// own choice already uses what the CPU has.
std::string better_openblas_core(std::string_view picked, const CpuFeatures& features);

// The kernel OpenBLAS picks on this machine by itself, asked in a short-lived
// child process (OpenBLAS decides once, when it loads); "" when the BLAS
// libtorch would load is not OpenBLAS or the child gives no answer.
std::string probe_openblas_core();

// What the loader decided, for RuntimeInfo::blas_core_chosen_by.
struct BlasChoice {
  std::string chosen_by;  // who picked the kernel, in words
  std::string requested;  // the OPENBLAS_CORETYPE joulebench set ("" when none)
};
// Sets OPENBLAS_CORETYPE when the user did not and OpenBLAS would fall back
// to a kernel below what the CPU has. Call before libtorch (OpenBLAS) loads.
BlasChoice choose_openblas_core(const std::string& procfs_root = "/proc");

}  // namespace joulebench::models
