#include "core/toml_file.h"

#include <fmt/format.h>

#include "joulebench/error.h"

namespace joulebench::core {

toml::table read_toml_file(const std::filesystem::path& file) {
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: malformed TOML: {}", file.string(), e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
}

}  // namespace joulebench::core
