// list_models / load_model for programs that must not link libtorch: the zoo
// plugin is dlopened on first use. It is looked for in $JOULEBENCH_ZOO_LIBRARY,
// then beside the executable, then in ../lib/joulebench/ (an installed tree).
#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "joulebench/error.h"
#include "zoo_api.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;
constexpr const char* kPluginName = "libjoulebench_zoo.so";

std::vector<fs::path> candidate_paths() {
  std::vector<fs::path> paths;
  if (const char* env = std::getenv("JOULEBENCH_ZOO_LIBRARY"); env && *env) {
    paths.emplace_back(env);
    return paths;  // an explicit choice is not second-guessed
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    paths.push_back(exe.parent_path() / kPluginName);
    paths.push_back(exe.parent_path().parent_path() / "lib" / "joulebench" / kPluginName);
  }
  return paths;
}

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
    std::string tried;
    for (const auto& path : candidate_paths()) {
      if (!fs::exists(path)) {
        tried += fmt::format("\n  {}: not found", path.string());
        continue;
      }
      // Never closed: models created by the plugin live until exit.
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        tried += fmt::format("\n  {}: {}", path.string(), dlerror());
        continue;
      }
      auto entry = reinterpret_cast<const models::ZooApi* (*)()>(dlsym(handle, "joulebench_zoo_api"));
      if (!entry) {
        tried += fmt::format("\n  {}: no joulebench_zoo_api symbol (not a joulebench zoo plugin)", path.string());
        continue;
      }
      const models::ZooApi* candidate = entry();
      if (candidate->abi_version != models::kZooAbiVersion) {
        tried += fmt::format("\n  {}: plugin ABI {} but this joulebench expects {} (rebuild both)", path.string(),
                             candidate->abi_version, models::kZooAbiVersion);
        continue;
      }
      api = candidate;
      return;
    }
    failure = fmt::format(
        "the model zoo plugin {} could not be loaded (was joulebench built with -DJOULEBENCH_WITH_TORCH=ON? "
        "set JOULEBENCH_ZOO_LIBRARY to its path):{}",
        kPluginName, tried);
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
