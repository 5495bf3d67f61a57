#include "models/common/weights.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_set>

#include "core/paths.h"
#include "joulebench/error.h"

namespace joulebench::models {
namespace {

// glibc serves blocks above its mmap threshold (128 KiB at start) with a fresh
// mmap and unmaps them on free, so every activation of a forward pass was
// page-faulted in again, zero-filled by the kernel: ~1,300 faults per
// small-bert forward, 25% of a t5-small batch-8 run in the kernel
// (docs/benchmarks.md, "Heap"). Up to 256 MiB (fill-mask logits at batch 8)
// they stay on the heap and are reused; the trim threshold above it keeps the
// heap's top from being returned and faulted in again at every forward. Peak
// RSS moved by < 1% on the presets measured. A user's own malloc settings win.
void keep_activations_on_the_heap() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
        (tunables && std::strstr(tunables, "glibc.malloc."))) {
      return;
    }
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
  });
}

bool matches_any(const std::string& name, const std::vector<std::regex>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::regex& re) { return std::regex_search(name, re); });
}

std::string legacy_name(std::string name) {
  // Old TF-converted BERT checkpoints name LayerNorm parameters gamma / beta.
  auto replace_suffix = [&](const std::string& from, const std::string& to) {
    if (name.size() >= from.size() && name.compare(name.size() - from.size(), from.size(), from) == 0) {
      name = name.substr(0, name.size() - from.size()) + to;
    }
  };
  replace_suffix(".gamma", ".weight");
  replace_suffix(".beta", ".bias");
  return name;
}

std::string list_some(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < 10; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 10) s += fmt::format(", ... ({} in all)", names.size());
  return s;
}

// at::set_num_threads sizes ATen's OpenMP pool only. OpenBLAS, the BLAS under
// Debian's libtorch, runs its products on its own pthread pool of one thread
// per CPU, so "--threads 2" on a 64-core host ran every GEMM on 64 threads
// while the store recorded 2. Found at run time, as whichever BLAS libtorch
// was linked against is already loaded; another BLAS is left alone.
void set_blas_threads(int threads) {
  for (const char* lib : {"libopenblas.so.0", "libblas.so.3"}) {
    void* handle = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);
    if (!handle) continue;
    using SetThreads = void (*)(int);
    auto* set = reinterpret_cast<SetThreads>(dlsym(handle, "openblas_set_num_threads"));
    if (set) set(threads);
    dlclose(handle);
    if (set) return;
  }
}

}  // namespace

LoadReport load_state_dict(torch::nn::Module& module, const TensorMap& tensors, const StateDictRules& rules,
                           const std::string& source) {
  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : module.named_parameters(true)) targets.emplace(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) targets.emplace(b.key(), b.value());

  const std::string& prefix = rules.base_prefix;
  LoadReport report;
  std::set<std::string> filled;
  std::vector<std::string> unexpected;
  torch::NoGradGuard no_grad;
  for (const auto& [raw_name, tensor] : tensors) {
    const std::string name = legacy_name(raw_name);
    std::string target;
    if (targets.count(name)) {
      target = name;
    } else if (!prefix.empty() && targets.count(prefix + name)) {
      target = prefix + name;
    } else if (!prefix.empty() && name.rfind(prefix, 0) == 0 && targets.count(name.substr(prefix.size()))) {
      target = name.substr(prefix.size());
    }
    if (target.empty()) {
      if (matches_any(raw_name, rules.ignore_unexpected)) {
        report.ignored.push_back(raw_name);
      } else {
        unexpected.push_back(raw_name);
      }
      continue;
    }
    auto& dst = targets.at(target);
    if (dst.sizes() != tensor.sizes()) {
      throw InputError(fmt::format("{}: tensor '{}' has shape [{}] but the model's '{}' has shape [{}] "
                                   "(does config.json match the weights?)",
                                   source, raw_name, fmt::join(tensor.sizes(), ", "), target,
                                   fmt::join(dst.sizes(), ", ")));
    }
    dst.copy_(tensor);
    filled.insert(target);
    report.loaded.push_back(target);
  }
  std::vector<std::string> missing;
  for (const auto& [name, t] : targets) {
    if (filled.count(name)) continue;
    if (matches_any(name, rules.allow_missing)) {
      report.missing_allowed.push_back(name);
    } else {
      missing.push_back(name);
    }
  }
  if (!unexpected.empty()) {
    throw InputError(fmt::format("{}: unexpected tensors the model does not have: {} (wrong architecture or "
                                 "config.json?)",
                                 source, list_some(unexpected)));
  }
  if (!missing.empty()) {
    throw InputError(fmt::format("{}: missing tensors the model needs: {}", source, list_some(missing)));
  }
  return report;
}

void seeded_init(torch::nn::Module& module, std::uint64_t seed, double std) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : module.named_parameters(true)) {
    auto& t = p.value();
    const std::string& name = p.key();
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (t.dim() == 1 && is_bias) {
      t.zero_();
    } else if (t.dim() == 1) {
      t.fill_(1.0);
    } else if (t.device().is_cpu() && t.scalar_type() == torch::kFloat32) {
      t.normal_(0.0, std, gen);
    } else {
      t.copy_(torch::empty(t.sizes(), torch::kFloat32).normal_(0.0, std, gen));
    }
  }
}

std::int64_t count_parameters(const torch::nn::Module& module) { return count_parameters(module, ""); }

std::int64_t count_parameters(const torch::nn::Module& module, const std::string& prefix) {
  std::unordered_set<const void*> seen;
  std::int64_t n = 0;
  for (const auto& p : module.named_parameters(true)) {
    if (!prefix.empty() && p.key().rfind(prefix, 0) != 0) continue;
    if (seen.insert(p.value().unsafeGetTensorImpl()).second) n += p.value().numel();
  }
  return n;
}

std::filesystem::path default_weights_dir(const std::string& name) {
  if (const char* env = std::getenv("JOULEBENCH_MODELS_DIR"); env && *env) return std::filesystem::path(env) / name;
  return core::data_dir() / "models" / name;
}

std::vector<std::filesystem::path> find_safetensors(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".safetensors") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TensorMap read_checkpoint(const std::filesystem::path& dir) {
  const auto files = find_safetensors(dir);
  if (files.empty()) {
    if (std::filesystem::exists(dir / "pytorch_model.bin")) {
      throw InputError(fmt::format("{}: only pytorch_model.bin found; the zoo reads safetensors (convert it with "
                                   "`python -c \"...save_file(torch.load(...))\"` or download model.safetensors)",
                                   dir.string()));
    }
    throw InputError(fmt::format("{}: no *.safetensors weights found", dir.string()));
  }
  TensorMap all;
  for (const auto& f : files) {
    for (auto& [k, v] : read_safetensors(f)) all[k] = std::move(v);
  }
  return all;
}

RuntimeOptions apply_load_options(const LoadOptions& options) {
  keep_activations_on_the_heap();
  RuntimeOptions rt;
  if (options.device == "cpu" || options.device.empty()) {
    rt.device = torch::kCPU;
  } else if (options.device.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw InputError(fmt::format("device '{}' requested, but this libtorch has no CUDA support or sees no GPU "
                                   "(Debian's libtorch-dev is CPU-only); use --device cpu, or build joulebench "
                                   "against a CUDA-enabled libtorch",
                                   options.device));
    }
    rt.device = torch::Device(options.device);
  } else {
    throw InputError(fmt::format("unknown device '{}' (expected cpu, cuda or cuda:N)", options.device));
  }
  if (options.dtype == "fp32" || options.dtype.empty()) {
    rt.dtype = torch::kFloat32;
  } else if (options.dtype == "bf16") {
    rt.dtype = torch::kBFloat16;
  } else if (options.dtype == "fp16") {
    if (rt.device.is_cpu()) {
      throw InputError("dtype fp16 is not supported on the CPU by this libtorch (no half-precision matrix "
                       "products); use bf16 or fp32");
    }
    rt.dtype = torch::kFloat16;
  } else {
    throw InputError(fmt::format("unknown dtype '{}' (expected fp32, bf16 or fp16)", options.dtype));
  }
  if (options.threads < 0) throw InputError(fmt::format("threads must be >= 0, got {}", options.threads));
  if (options.threads > 0) {
    at::set_num_threads(options.threads);
    set_blas_threads(options.threads);
  }
  return rt;
}

}  // namespace joulebench::models
