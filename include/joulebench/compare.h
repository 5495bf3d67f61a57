// Two models, runs or configurations side by side: energy and emissions per
// 1,000 inferences and latency, their ratios, and whether the difference in
// energy exceeds the run-to-run spread (Welch's two-sided t-test at 5 %, over
// the windows of each side). Contract: docs/report.md.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "joulebench/statistics.h"
#include "joulebench/store.h"

namespace joulebench {

struct WelchTest {
  double t = 0.0;
  double df = 0.0;
  double p = 1.0;
};
// nullopt when either side has fewer than 2 values (no spread to compare with)
// or both spreads are 0.
std::optional<WelchTest> welch_t_test(const Summary& a, const Summary& b);

struct CompareSide {
  std::string query;  // what the user typed
  std::string kind;   // "run" or "model"
  std::string name;   // run id or model name
  std::string task;   // "" when mixed
  Summary kwh_per_1000, gco2e_per_1000;
  std::optional<Summary> latency_p50_s;
  // How the figures were obtained, as the report says it beside them: the
  // weakest provenance with an estimate's widest band, and the windows that
  // include model loading or were shorter than their sensors' resolution.
  std::string weakest_provenance = "measured";
  double band_factor = 1.0;
  int loading_included_runs = 0;
  int coarse_runs = 0;
  // What ran it, over the side's runs: "cpu", "blas kernel", "libtorch",
  // "threads" -> the values seen (empty where not recorded, e.g. imports).
  std::map<std::string, std::set<std::string>> setup;
};

struct Comparison {
  CompareSide a, b;
  double energy_ratio = 0.0;  // b / a of the mean kWh per 1,000
  double co2e_ratio = 0.0;
  std::optional<double> latency_ratio;
  std::optional<WelchTest> energy_test;
  bool energy_difference_significant = false;  // p < 0.05
  std::string verdict;  // in words
  // The sides ran on different setups (CPU, BLAS kernel, libtorch, threads):
  // their ratio measures that difference too, not the models alone.
  std::vector<std::string> warnings;
};

// A side is a run (id or unique prefix) when one matches, else a model name.
// Throws InputError saying how to fill an empty store, or listing the stored
// runs and models when a side matches nothing.
Comparison compare(Store& store, const std::string& a, const std::string& b, const std::string& task = {});
nlohmann::json comparison_json(const Comparison& c);
std::string render_comparison(const Comparison& c);

}  // namespace joulebench
