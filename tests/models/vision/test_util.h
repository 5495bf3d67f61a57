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

#include <stdexcept>

#include "models/registry_parts.h"

namespace jbtest {

// The vision half directly (the test does not depend on the text half's state).
inline std::unique_ptr<joulebench::Model> load(std::string_view name, const joulebench::LoadOptions& o = {}) {
  auto m = joulebench::models::load_vision_model(name, o);
  if (!m) throw std::runtime_error("not a vision preset: " + std::string(name));
  return m;
}

}  // namespace jbtest
