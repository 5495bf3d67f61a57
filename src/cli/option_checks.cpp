#include "option_checks.h"

#include <fmt/core.h>

#include "joulebench/models.h"

namespace joulebench::cli {

namespace {
// Its --help text ("number from 1 to 5") is formatted when help is shown, not
// at every start for every option.
class Within final : public CLI::Validator {
 public:
  explicit Within(const Limits& limits)
      : CLI::Validator(
            [limits](std::string& text) -> std::string {
              const auto v = parse_number(text);
              if (!v) return fmt::format("'{}' is not a number; give {}", text, describe_limits(limits));
              return limits_violation(*v, limits);
            },
            "") {
    desc_function_ = [limits] { return describe_limits(limits).substr(2); };
  }
};
}  // namespace

CLI::Validator within(const Limits& limits) { return Within(limits); }

}  // namespace joulebench::cli
