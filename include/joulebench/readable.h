// Numbers for people: what the terminal tables, Markdown, the HTML report
// and the label print. A scaled SI unit (µWh, mWh, Wh, kWh; mg, g, kg, t;
// µJ, mJ, J, kJ), 3 significant digits, thousands separators, and never
// scientific notation. JSON and CSV keep full precision in fixed units and
// never go through these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace joulebench {

// 1,230 / 12.3 / 0.0123 / 0.0000258 (`significant` digits, fixed notation).
std::string readable_number(double v, int significant = 3);
// 1,032,071,643
std::string readable_count(std::int64_t n);
// A model's size as people say it: "66.4 M", "1.03 B", "65.5 K" (parameters).
std::string readable_parameters(double n);

// A unit of a family and its size in the family's base unit (Wh, g, J, W).
struct ScaledUnit {
  double size = 1.0;  // base units per this unit: 0.001 for mWh
  std::string_view name;
};
// The unit in which |value| (in base units) reads between 1 and 1,000, as
// near as the family allows.
ScaledUnit energy_wh_unit(double wh);
ScaledUnit mass_g_unit(double g);
ScaledUnit energy_j_unit(double j);
ScaledUnit power_w_unit(double w);

// "23.9 mWh", "1.23 kWh", "5,060 t", "1.39 mJ", "312 W".
std::string readable_kwh(double kwh);
std::string readable_wh(double wh);
std::string readable_grams(double g);
std::string readable_joules(double j);
std::string readable_watts(double w);
std::string readable_seconds(double s);  // "45.6 µs", "12.3 ms", "1.23 s" (no minutes)
// A p-value: "0.034", "< 0.001".
std::string readable_p(double p);
// Mean and spread in the mean's unit: "23.9 ± 2.3 mWh" (the spread with 2
// significant digits).
std::string readable_kwh_pm(double kwh, double spread_kwh);
std::string readable_grams_pm(double g, double spread_g);

// Terminal columns of UTF-8 text ("µ" and "±" are one column, two bytes),
// and the text right-aligned in `width` columns: tables with these units.
std::size_t display_width(std::string_view text);
std::string pad_left(const std::string& text, std::size_t width);
std::string pad_right(const std::string& text, std::size_t width);

}  // namespace joulebench
