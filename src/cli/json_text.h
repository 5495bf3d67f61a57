// How every command prints JSON: indented, and with any invalid UTF-8 (a name
// from an old store or a file name) replaced by U+FFFD rather than throwing
// nlohmann's type_error 316 after the work is done.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace joulebench::cli {

inline std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace joulebench::cli
