// Small helpers to write SVG and HTML text (escaping, numbers, log scales).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace joulebench::report {

std::string xml_escape(std::string_view s);
// Compact number for coordinates.
std::string px(double v);

// Linear map of log10(value) from [lo, hi] (powers of ten) onto [a, b].
struct LogScale {
  double lo_exp = 0, hi_exp = 1;  // log10 of the ends
  double a = 0, b = 1;
  double operator()(double value) const;
  std::vector<double> ticks() const;  // the powers of ten inside
};
// A log scale covering the values (at least one decade).
LogScale log_scale_for(const std::vector<double>& values, double a, double b);

std::string star_points(double cx, double cy, double outer, double inner);

// `text` cut to at most `max_chars` characters (UTF-8 aware), "…" marking a cut.
std::string fit_text(std::string_view text, std::size_t max_chars);

// Words wrapped into lines of at most `max_chars` characters (a longer word is
// a line of its own): SVG text does not wrap by itself.
std::vector<std::string> wrap_words(std::string_view text, std::size_t max_chars);

// A script for a page with inline SVG: counts every SVG text drawn outside
// its SVG, and the page wider than the window, into the data-overflow and
// data-overflow-items attributes of #jb-check (a headless browser's DOM dump
// then says whether anything is clipped). Needs the element with id jb-check.
extern const char* const kOverflowCheckScript;

}  // namespace joulebench::report
