#include "svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace joulebench::report {

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string px(double v) { return fmt::format("{:.1f}", v); }


double LogScale::operator()(double value) const {
  // Zero (nothing measured) sits on the axis's low end rather than off the chart.
  const double e = std::clamp(std::log10(std::max(value, 1e-300)), lo_exp, hi_exp);
  return a + (e - lo_exp) / (hi_exp - lo_exp) * (b - a);
}

std::vector<double> LogScale::ticks() const {
  std::vector<double> t;
  for (int e = static_cast<int>(std::ceil(lo_exp - 1e-9)); e <= static_cast<int>(std::floor(hi_exp + 1e-9)); ++e)
    t.push_back(std::pow(10.0, e));
  return t;
}

LogScale log_scale_for(const std::vector<double>& values, double a, double b) {
  double lo = 1e300, hi = 0;
  for (double v : values)
    if (v > 0) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (hi == 0) lo = hi = 1;  // nothing positive: one decade around 1
  LogScale s;
  s.lo_exp = std::floor(std::log10(lo));
  s.hi_exp = std::ceil(std::log10(hi));
  if (s.hi_exp <= s.lo_exp) s.hi_exp = s.lo_exp + 1;
  s.a = a;
  s.b = b;
  return s;
}

std::string star_points(double cx, double cy, double outer, double inner) {
  std::string pts;
  for (int i = 0; i < 10; ++i) {
    const double r = i % 2 ? inner : outer;
    const double angle = -M_PI / 2 + i * M_PI / 5;
    pts += fmt::format("{}{},{}", i ? " " : "", px(cx + r * std::cos(angle)), px(cy + r * std::sin(angle)));
  }
  return pts;
}

}  // namespace joulebench::report
