#include "core/plugin.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/paths.h"
#include "joulebench/error.h"

namespace joulebench::core {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> candidate_paths(const PluginSpec& spec) {
  if (const char* env = std::getenv(spec.env_variable); env && *env) return {fs::path(env)};
  return plugin_paths(spec.file_name);
}

}  // namespace

void* open_plugin(const PluginSpec& spec) {
  std::string tried;
  for (const auto& path : candidate_paths(spec)) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      tried += fmt::format("\n  {}: not found", path.string());
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      tried += fmt::format("\n  {}: {}", path.string(), dlerror());
      continue;
    }
    if (void* entry = dlsym(handle, spec.entry_symbol)) return entry;
    tried += fmt::format("\n  {}: no {} symbol (not this plugin, or built by another joulebench)", path.string(),
                         spec.entry_symbol);
  }
  throw Error(fmt::format("{} {} could not be loaded (set {} to its path; it is built beside the joulebench "
                          "binary):{}",
                          spec.what, spec.file_name, spec.env_variable, tried));
}

}  // namespace joulebench::core
