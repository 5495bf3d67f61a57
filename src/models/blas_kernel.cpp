#include "blas_kernel.h"
#include "core/text_util.h"

#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace joulebench::models {
namespace {

using detail::to_lower;

bool one_of(std::string_view core, std::initializer_list<std::string_view> names) {
  const std::string c = to_lower(core);
  return std::any_of(names.begin(), names.end(), [&](std::string_view n) { return c == to_lower(n); });
}

}  // namespace

CpuFeatures read_cpu_features(const std::string& procfs_root) {
  CpuFeatures f;
  std::ifstream in(procfs_root + "/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      if (line.empty() && !f.vendor.empty()) break;  // the first processor is enough
      continue;
    }
    std::string key = line.substr(0, colon);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    const std::string value = line.substr(colon + 1);
    if (key == "vendor_id") {
      std::istringstream v(value);
      v >> f.vendor;
    } else if (key == "flags") {
      std::istringstream v(value);
      for (std::string flag; v >> flag;) {
        if (flag == "avx2") f.avx2 = true;
        else if (flag == "fma") f.fma = true;
        else if (flag == "avx512f") f.avx512f = true;
        else if (flag == "avx512bw") f.avx512bw = true;
        else if (flag == "avx512vl") f.avx512vl = true;
        else if (flag == "avx512dq") f.avx512dq = true;
      }
    }
  }
  return f;
}

std::string better_openblas_core(std::string_view picked, const CpuFeatures& f) {
  if (picked.empty()) return "";
  // OpenBLAS's kernels that already use AVX-512 / AVX2 (0.3.21 names).
  const bool picked_avx512 = one_of(picked, {"SkylakeX", "Cooperlake", "SapphireRapids"});
  const bool picked_avx2 = picked_avx512 || one_of(picked, {"Haswell", "Zen", "Excavator"});
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && !picked_avx512) return "SkylakeX";
  if (f.avx2 && f.fma && !picked_avx2) return f.vendor == "AuthenticAMD" || f.vendor == "HygonGenuine" ? "Zen" : "Haswell";
  return "";
}

std::string probe_openblas_core() {
  int fds[2];
  if (::pipe(fds) != 0) return "";
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return "";
  }
  if (pid == 0) {  // child: load the BLAS libtorch would load, ask it, leave
    ::close(fds[0]);
    std::string answer;
    for (const char* lib : {"libblas.so.3", "libopenblas.so.0"}) {
      void* h = ::dlopen(lib, RTLD_NOW | RTLD_LOCAL);
      if (!h) continue;
      using CoreName = char* (*)();
      if (auto fn = reinterpret_cast<CoreName>(::dlsym(h, "openblas_get_corename"))) answer = fn();
      break;  // the first BLAS found is the one libtorch gets
    }
    [[maybe_unused]] const auto n = ::write(fds[1], answer.data(), answer.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string answer;
  pollfd p{fds[0], POLLIN, 0};
  char buf[128];
  // 2 s at most: a child that hangs (a loader lock held across fork) is killed, and nothing is changed.
  while (::poll(&p, 1, 2000) > 0) {
    const auto n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return answer;
}

BlasChoice choose_openblas_core(const std::string& procfs_root) {
  if (const char* user = std::getenv("OPENBLAS_CORETYPE"); user && *user)
    return {fmt::format("OPENBLAS_CORETYPE={} (set before joulebench started)", user), ""};
  const std::string picked = probe_openblas_core();
  if (picked.empty()) return {"the BLAS library itself (not OpenBLAS, or it gave no answer)", ""};
  const CpuFeatures features = read_cpu_features(procfs_root);
  const std::string better = better_openblas_core(picked, features);
  if (better.empty()) return {"OpenBLAS's own detection", ""};
  ::setenv("OPENBLAS_CORETYPE", better.c_str(), /*overwrite=*/0);
  return {fmt::format("joulebench: OpenBLAS would fall back to its {} kernel on this CPU ({}{}); "
                      "OPENBLAS_CORETYPE={} set before libtorch loaded (set it yourself to override)",
                      picked, features.avx512f ? "AVX-512" : "AVX2 + FMA", features.vendor.empty() ? "" : ", " + features.vendor,
                      better),
          better};
}

}  // namespace joulebench::models
