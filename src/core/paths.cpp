#include "core/paths.h"

#include <cstdlib>
#include <system_error>

namespace joulebench::core {

namespace fs = std::filesystem;

std::vector<fs::path> executable_folders(int levels) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int i = 0; !ec && i < levels && !dir.empty(); ++i) {
    out.push_back(dir);
    if (dir == dir.root_path()) break;
    dir = dir.parent_path();
  }
  return out;
}

std::vector<fs::path> plugin_paths(const fs::path& file_name) {
  std::vector<fs::path> paths;
  for (const auto& dir : executable_folders()) {
    paths.push_back(dir / file_name);
    paths.push_back(dir / "lib" / "joulebench" / file_name);
  }
  return paths;
}

fs::path data_dir() {
  if (const char* env = std::getenv("JOULEBENCH_DATA_DIR"); env && *env) return env;
  const auto folders = executable_folders();
  std::error_code ec;
  for (const auto& dir : folders)
    if (fs::is_directory(dir / "share" / "joulebench", ec)) return dir / "share" / "joulebench";
  return folders.size() > 1 ? folders[1] / "share" / "joulebench" : fs::path("share/joulebench");
}

}  // namespace joulebench::core
