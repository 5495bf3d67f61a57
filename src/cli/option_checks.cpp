#include "option_checks.h"

#include <fmt/core.h>

namespace joulebench::cli {

CLI::Validator within(const Limits& limits) {
  return CLI::Validator(
      [limits](std::string& text) -> std::string {
        const auto v = parse_number(text);
        if (!v) return fmt::format("'{}' is not a number; give {}", text, describe_limits(limits));
        return limits_violation(*v, limits);
      },
      describe_limits(limits).substr(2));  // "number from 1 to 5" in --help
}

}  // namespace joulebench::cli
