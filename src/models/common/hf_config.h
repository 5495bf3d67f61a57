// Hugging Face config.json, read as JSON with typed look-ups that say which
// file and key is wrong. Presets are written as the same JSON, so a preset and
// a user's checkpoint go through one code path.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace joulebench::models {

class HfConfig {
 public:
  HfConfig() = default;
  HfConfig(nlohmann::json json, std::string source) : json_(std::move(json)), source_(std::move(source)) {}

  // Throws InputError naming the file when it is missing or not a JSON object.
  static HfConfig read(const std::filesystem::path& path);
  static HfConfig parse(const std::string& text, std::string source);

  bool has(const std::string& key) const { return json_.contains(key) && !json_.at(key).is_null(); }
  // The value of the first key present (HF renames keys between families:
  // n_embd / hidden_size / d_model); throws InputError naming the keys when none is.
  std::int64_t integer(std::initializer_list<const char*> keys) const;
  std::int64_t integer(const std::string& key, std::int64_t fallback) const;
  double number(const std::string& key, double fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key, const std::string& fallback) const;

  // Overrides keys of this config with those of `other` (a user's config.json over a preset).
  void merge(const nlohmann::json& other);

  const nlohmann::json& json() const { return json_; }
  const std::string& source() const { return source_; }

 private:
  nlohmann::json json_ = nlohmann::json::object();
  std::string source_ = "<preset>";
};

}  // namespace joulebench::models
