// Internal: reads a TOML file (toml++) with the error every joulebench
// config gives: "FILE:LINE:COLUMN: malformed TOML: WHAT".
#pragma once

#include <toml++/toml.h>

#include <filesystem>

namespace joulebench::core {

// Throws InputError naming the file, line and column of the first error.
toml::table read_toml_file(const std::filesystem::path& file);

}  // namespace joulebench::core
