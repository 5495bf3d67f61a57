// The bounds of every quantity joulebench takes from a user or a file: flags,
// joulebench.toml, the environment, CodeCarbon logs and the live intensity
// API are all checked against this one table, by one function, so that no
// path stores or prints inf, NaN or a value no real machine or grid has.
// docs/cli.md "Limits" lists them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace joulebench {

struct Limits {
  std::string_view what;  // "PUE", "sampling interval"
  double min;
  double max;
  std::string_view unit;  // "g CO2e/kWh"; empty when the quantity has none
  bool whole = false;     // a count: no fraction
  std::string_view hint;  // why the bounds are what they are; may be empty
};

// Carbon (docs/carbon.md).
inline constexpr Limits kPueLimits{"PUE", 1.0, 5.0, "", false,
                                   "facility energy / IT energy: hyperscale 1.1, industry average 1.56"};
inline constexpr Limits kIntensityLimits{"carbon intensity", 0.0, 5000.0, "g CO2e/kWh", false,
                                         "real grids lie between under 50 and about 1,100"};
inline constexpr Limits kEnergyKwhLimits{"energy", 0.0, 1e12, "kWh", false, ""};
inline constexpr Limits kEnergyJouleLimits{"energy", 0.0, 3.6e18, "J", false, ""};
inline constexpr Limits kEnergyWhLimits{"energy", 0.0, 1e15, "Wh", false, ""};

// Sampling (docs/measurement.md): under 1 ms the sampler's own CPU time is
// what it measures.
inline constexpr std::string_view kIntervalHint = "below 1 ms the sampler measures mostly itself";
inline constexpr Limits kIntervalMsLimits{"sampling interval", 1.0, 3.6e6, "ms", false, kIntervalHint};
inline constexpr Limits kIntervalSecondsLimits{"sampling interval", 0.001, 3600.0, "s", false, kIntervalHint};
inline constexpr Limits kWaitSecondsLimits{"duration", 0.0, 86400.0, "s", false, ""};

// Power models (`joulebench estimate`, include/joulebench/power_model.h).
inline constexpr Limits kLoadLimits{"CPU load", 0.0, 1.0, "", false, "busy CPU time / (threads x time): 0.5 is half"};
inline constexpr Limits kThreadsLimits{"hardware threads", 1.0, 65536.0, "", true, ""};
inline constexpr Limits kSocketsLimits{"sockets", 1.0, 64.0, "", true, ""};
inline constexpr Limits kMemoryGbLimits{"memory in use", 0.0, 1e6, "GB", false, ""};

// Counts.
inline constexpr Limits kInferencesLimits{"inferences", 1.0, 1e9, "", true, ""};

// Empty when `value` is finite and within `limits`; otherwise why not, e.g.
// "1000 is out of range: PUE must be a number from 1 to 5 (facility energy / IT energy: ...)".
std::string limits_violation(double value, const Limits& limits);

// `value`, or InputError "WHERE: VIOLATION".
double check_limits(double value, const Limits& limits, std::string_view where);

// The range in words: "a number from 1 to 5", "a whole number from 1 to 1000000000 ms".
std::string describe_limits(const Limits& limits);

// A whole string as a number (decimal, exponent, "inf"/"nan" included so that
// they can be refused by name); nullopt when it is not one, or is empty.
std::optional<double> parse_number(std::string_view text);

}  // namespace joulebench
