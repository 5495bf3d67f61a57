// The BLAS kernel choice made before libtorch loads (src/models/blas_kernel.h).
#include "models/blas_kernel.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace joulebench::models;
namespace fs = std::filesystem;

namespace {

CpuFeatures intel_avx512() {
  CpuFeatures f;
  f.vendor = "GenuineIntel";
  f.avx2 = f.fma = f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  return f;
}

}  // namespace

TEST(BlasKernel, AGenericKernelOnAModernCpuIsReplacedByTheBestItHas) {
  // Intel family 6 model 207 (AVX-512), unknown to OpenBLAS 0.3.21: it picks Prescott.
  EXPECT_EQ(better_openblas_core("Prescott", intel_avx512()), "SkylakeX");
  EXPECT_EQ(better_openblas_core("Haswell", intel_avx512()), "SkylakeX");  // AVX2 only where AVX-512 is there
  CpuFeatures avx2 = intel_avx512();
  avx2.avx512f = avx2.avx512bw = avx2.avx512vl = avx2.avx512dq = false;
  EXPECT_EQ(better_openblas_core("Prescott", avx2), "Haswell");
  EXPECT_EQ(better_openblas_core("Sandybridge", avx2), "Haswell");
  avx2.vendor = "AuthenticAMD";
  EXPECT_EQ(better_openblas_core("Prescott", avx2), "Zen");
}

TEST(BlasKernel, OpenBlasOwnChoiceIsKeptWhenItUsesWhatTheCpuHas) {
  EXPECT_EQ(better_openblas_core("SkylakeX", intel_avx512()), "");
  EXPECT_EQ(better_openblas_core("Cooperlake", intel_avx512()), "");
  EXPECT_EQ(better_openblas_core("SAPPHIRERAPIDS", intel_avx512()), "");
  CpuFeatures amd;
  amd.vendor = "AuthenticAMD";
  amd.avx2 = amd.fma = true;
  EXPECT_EQ(better_openblas_core("Zen", amd), "");
  CpuFeatures old;  // an SSE-only CPU: Prescott is its best
  old.vendor = "GenuineIntel";
  EXPECT_EQ(better_openblas_core("Prescott", old), "");
  EXPECT_EQ(better_openblas_core("", intel_avx512()), "") << "not OpenBLAS: nothing to change";
}

TEST(BlasKernel, FeaturesOfTheFirstProcessorFromCpuinfo) {
  const fs::path dir = fs::temp_directory_path() / ("jb-cpuinfo-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "cpuinfo") << "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 207\n"
                                    "flags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl\n\n"
                                    "processor\t: 1\nvendor_id\t: Other\nflags\t\t: fpu\n";
  const CpuFeatures f = read_cpu_features(dir.string());
  EXPECT_EQ(f.vendor, "GenuineIntel");
  EXPECT_TRUE(f.avx2 && f.fma && f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl);
  EXPECT_TRUE(read_cpu_features((dir / "none").string()).vendor.empty());
  fs::remove_all(dir);
}

TEST(BlasKernel, TheUsersSettingWins) {
  ::setenv("OPENBLAS_CORETYPE", "Nehalem", 1);
  const BlasChoice c = choose_openblas_core();
  EXPECT_NE(c.chosen_by.find("OPENBLAS_CORETYPE=Nehalem"), std::string::npos) << c.chosen_by;
  EXPECT_EQ(c.requested, "");
  EXPECT_STREQ(std::getenv("OPENBLAS_CORETYPE"), "Nehalem");
  ::unsetenv("OPENBLAS_CORETYPE");
}

TEST(BlasKernel, TheProbeAsksTheBlasLibtorchWouldLoad) {
  // On this machine's OpenBLAS (Debian's libopenblas0-pthread) the child answers with a kernel name.
  const std::string core = probe_openblas_core();
  if (core.empty()) GTEST_SKIP() << "libtorch's BLAS here is not OpenBLAS";
  EXPECT_GT(core.size(), 2u);
  for (char c : core) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_') << core;
}
