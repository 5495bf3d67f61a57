#include "models/common/hf_config.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "joulebench/error.h"

namespace joulebench::models {

HfConfig HfConfig::read(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("cannot open model config '{}'", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path.string());
}

HfConfig HfConfig::parse(const std::string& text, std::string source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", source, e.what()));
  }
  if (!j.is_object()) throw InputError(fmt::format("{}: a model config must be a JSON object", source));
  return HfConfig(std::move(j), std::move(source));
}

std::int64_t HfConfig::integer(std::initializer_list<const char*> keys) const {
  for (const char* k : keys) {
    if (has(k)) {
      const auto& v = json_.at(k);
      if (!v.is_number()) throw InputError(fmt::format("{}: key '{}' must be a number", source_, k));
      return v.get<std::int64_t>();
    }
  }
  std::string names;
  for (const char* k : keys) names += (names.empty() ? "" : " / ") + std::string(k);
  throw InputError(fmt::format("{}: missing key {} in the model config", source_, names));
}

std::int64_t HfConfig::integer(const std::string& key, std::int64_t fallback) const {
  if (!has(key)) return fallback;
  if (!json_.at(key).is_number()) throw InputError(fmt::format("{}: key '{}' must be a number", source_, key));
  return json_.at(key).get<std::int64_t>();
}

double HfConfig::number(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  if (!json_.at(key).is_number()) throw InputError(fmt::format("{}: key '{}' must be a number", source_, key));
  return json_.at(key).get<double>();
}

bool HfConfig::boolean(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  if (!json_.at(key).is_boolean()) throw InputError(fmt::format("{}: key '{}' must be true or false", source_, key));
  return json_.at(key).get<bool>();
}

std::string HfConfig::string(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  if (!json_.at(key).is_string()) throw InputError(fmt::format("{}: key '{}' must be a string", source_, key));
  return json_.at(key).get<std::string>();
}

void HfConfig::merge(const nlohmann::json& other) {
  for (const auto& [k, v] : other.items()) json_[k] = v;
}

}  // namespace joulebench::models
