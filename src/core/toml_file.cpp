// toml++ is compiled here, once, into joulebench_core (no libtomlplusplus.so
// to load at every start: CMakeLists.txt, joulebench_tomlpp).
#define TOML_IMPLEMENTATION
#include "core/toml_file.h"

#include <fmt/format.h>

#include "joulebench/error.h"

namespace joulebench::core {

toml::table read_toml_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw InputError(fmt::format("{} is a folder: a configuration is a TOML file; rename or remove the folder, or "
                                 "give --config FILE",
                                 file.string()));
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: malformed TOML: {}", file.string(), e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
}

}  // namespace joulebench::core
