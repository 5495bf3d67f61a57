#pragma once

#include <filesystem>
#include <string>

namespace jbtest {

inline std::string fetched(const std::string& rel) { return std::string(JOULEBENCH_FETCHED_DATA) + "/" + rel; }
inline bool have_fetched(const std::string& rel) { return std::filesystem::exists(fetched(rel)); }

// A fresh scratch folder under the build tree.
inline std::filesystem::path scratch(const std::string& name) {
  auto p = std::filesystem::path(JOULEBENCH_TEST_BINARY_DIR) / "scratch" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace jbtest
