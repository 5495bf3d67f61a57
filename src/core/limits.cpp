#include "joulebench/limits.h"

#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "joulebench/error.h"

namespace joulebench {
namespace {

// 1000000000 rather than 1e+09: bounds are read by people.
std::string plain(double v) {
  if (std::fabs(v) < 1e15 && v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:g}", v);
}

// A bound in full even past 1e15 (3600000000000000000 J, not 3.6e+18): plain()
// keeps the exponent for values people typed, echoed back as typed.
std::string bound(double v) {
  if (std::fabs(v) < 9.2e18 && v == std::floor(v)) return fmt::format("{:.0f}", v);
  return plain(v);
}

std::string with_unit(double v, std::string_view unit) {
  return unit.empty() ? bound(v) : fmt::format("{} {}", bound(v), unit);
}

std::string hint_of(const Limits& l) { return l.hint.empty() ? "" : fmt::format(" ({})", l.hint); }

}  // namespace

std::string describe_limits(const Limits& l) {
  return fmt::format("a {} from {} to {}", l.whole ? "whole number" : "number", bound(l.min), with_unit(l.max, l.unit));
}

std::string limits_violation(double v, const Limits& l) {
  if (std::isnan(v)) return fmt::format("{} must be a number, not NaN", l.what);
  if (std::isinf(v)) return fmt::format("{} must be finite, not {}", l.what, v > 0 ? "infinite" : "-infinite");
  if (v < l.min || v > l.max || (l.whole && v != std::floor(v)))
    return fmt::format("{} is out of range: {} must be {}{}", plain(v), l.what, describe_limits(l), hint_of(l));
  return {};
}

double check_limits(double value, const Limits& limits, std::string_view where) {
  const std::string why = limits_violation(value, limits);
  if (!why.empty()) throw InputError(fmt::format("{}: {}", where, why));
  return value;
}

std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);  // locale-independent
  if (end != s.data() + s.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // 1e309 is an infinite value (refused by name later); 1e-400 is 0.
    const std::string copy(s);
    return std::strtod(copy.c_str(), nullptr);
  }
  if (ec != std::errc()) return std::nullopt;
  return v;
}

}  // namespace joulebench
