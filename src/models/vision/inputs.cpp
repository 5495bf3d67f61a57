#include "models/vision/inputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "joulebench/error.h"

namespace joulebench::models::vision {

std::vector<std::string> list_images(const std::string& folder) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec))
    throw InputError(fmt::format("image folder '{}' does not exist or is not a folder", folder));
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
    if (!e.is_regular_file(ec)) continue;
    auto ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") out.push_back(e.path().string());
  }
  if (out.empty()) throw InputError(fmt::format("image folder '{}' holds no .jpg, .jpeg or .png file", folder));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> read_prompts(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("cannot read prompt file '{}'", path));
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    auto e = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(b, e - b + 1));
  }
  if (out.empty()) throw InputError(fmt::format("prompt file '{}' has no prompt (one per line)", path));
  return out;
}

}  // namespace joulebench::models::vision
