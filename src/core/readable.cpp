#include "joulebench/readable.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdlib>

namespace joulebench {
namespace {

// Digits before the point with a comma every three: "1234567" -> "1,234,567".
std::string group_thousands(std::string digits) {
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

// The largest unit of `units` (ascending sizes) that |v| reaches, so that it
// reads 1 to 999; `base` for 0 and for what is not finite. 999.96 mWh would
// round to "1,000 mWh": it reads as 1.00 Wh.
template <std::size_t N>
ScaledUnit pick(double v, const std::array<ScaledUnit, N>& units, ScaledUnit base) {
  const double a = std::fabs(v);
  if (a == 0.0 || !std::isfinite(a)) return base;
  ScaledUnit best = units.front();
  for (const auto& u : units)
    if (a >= u.size * 0.9995) best = u;
  return best;
}

std::string with_unit(double v, ScaledUnit u, int significant = 3) {
  return readable_number(v / u.size, significant) + " " + std::string(u.name);
}

std::string pm(double v, double spread, ScaledUnit u) {
  return readable_number(v / u.size) + " ± " + readable_number(spread / u.size, 2) + " " + std::string(u.name);
}

}  // namespace

std::string readable_number(double v, int significant) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0.0) return "0";
  const bool negative = v < 0;
  double a = std::fabs(v);
  int magnitude = static_cast<int>(std::floor(std::log10(a)));
  // Rounded to `significant` digits first: 999.6 becomes 1,000 and 9.996 10.0.
  const double step = std::pow(10.0, magnitude + 1 - significant);
  a = std::round(a / step) * step;
  magnitude = static_cast<int>(std::floor(std::log10(a)));
  std::string text;
  if (a >= 1000.0)
    text = group_thousands(fmt::format("{:.0f}", a));
  else
    text = fmt::format("{:.{}f}", a, std::max(0, significant - 1 - magnitude));
  return negative ? "-" + text : text;
}

std::string readable_count(std::int64_t n) {
  const bool negative = n < 0;
  std::string digits = std::to_string(negative ? -(n + 1) + std::uint64_t{1} : static_cast<std::uint64_t>(n));
  return (negative ? "-" : "") + group_thousands(std::move(digits));
}

std::string readable_parameters(double n) {
  static constexpr std::array<ScaledUnit, 5> units{{{1.0, ""}, {1e3, "K"}, {1e6, "M"}, {1e9, "B"}, {1e12, "T"}}};
  const ScaledUnit u = pick(n, units, units[0]);
  return u.name.empty() ? readable_number(n) : readable_number(n / u.size) + " " + std::string(u.name);
}

ScaledUnit energy_wh_unit(double wh) {
  static constexpr std::array<ScaledUnit, 7> units{
      {{1e-6, "µWh"}, {1e-3, "mWh"}, {1.0, "Wh"}, {1e3, "kWh"}, {1e6, "MWh"}, {1e9, "GWh"}, {1e12, "TWh"}}};
  return pick(wh, units, units[2]);
}

ScaledUnit mass_g_unit(double g) {
  // Tonnes, not kilotonnes, at the top: "5,060 t" reads better than "5.06 kt".
  static constexpr std::array<ScaledUnit, 5> units{{{1e-6, "µg"}, {1e-3, "mg"}, {1.0, "g"}, {1e3, "kg"}, {1e6, "t"}}};
  return pick(g, units, units[2]);
}

ScaledUnit energy_j_unit(double j) {
  static constexpr std::array<ScaledUnit, 8> units{
      {{1e-9, "nJ"}, {1e-6, "µJ"}, {1e-3, "mJ"}, {1.0, "J"}, {1e3, "kJ"}, {1e6, "MJ"}, {1e9, "GJ"}, {1e12, "TJ"}}};
  return pick(j, units, units[3]);
}

ScaledUnit power_w_unit(double w) {
  static constexpr std::array<ScaledUnit, 5> units{{{1e-6, "µW"}, {1e-3, "mW"}, {1.0, "W"}, {1e3, "kW"}, {1e6, "MW"}}};
  return pick(w, units, units[2]);
}

std::string readable_wh(double wh) { return with_unit(wh, energy_wh_unit(wh)); }
std::string readable_kwh(double kwh) { return readable_wh(kwh * 1000.0); }
std::string readable_grams(double g) { return with_unit(g, mass_g_unit(g)); }
std::string readable_joules(double j) { return with_unit(j, energy_j_unit(j)); }
std::string readable_watts(double w) { return with_unit(w, power_w_unit(w)); }
std::string readable_seconds(double s) {
  static constexpr std::array<ScaledUnit, 4> units{{{1e-9, "ns"}, {1e-6, "µs"}, {1e-3, "ms"}, {1.0, "s"}}};
  return with_unit(s, pick(s, units, units[3]));
}
std::string readable_p(double p) { return p < 0.001 ? "< 0.001" : readable_number(p, 2); }
std::string readable_kwh_pm(double kwh, double spread_kwh) {
  return pm(kwh * 1000.0, spread_kwh * 1000.0, energy_wh_unit(kwh * 1000.0));
}
std::string readable_grams_pm(double g, double spread_g) { return pm(g, spread_g, mass_g_unit(g)); }

std::size_t display_width(std::string_view text) {
  std::size_t columns = 0;
  for (unsigned char ch : text) columns += (ch & 0xC0) != 0x80;  // continuation bytes take no column
  return columns;
}

std::string pad_left(const std::string& text, std::size_t width) {
  const std::size_t w = display_width(text);
  return std::string(width > w ? width - w : 0, ' ') + text;
}

std::string pad_right(const std::string& text, std::size_t width) {
  const std::size_t w = display_width(text);
  return text + std::string(width > w ? width - w : 0, ' ');
}

}  // namespace joulebench
