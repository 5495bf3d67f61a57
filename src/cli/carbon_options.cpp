#include "carbon_options.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "joulebench/store.h"
#include "option_checks.h"

namespace joulebench::cli {

void add_carbon_options(CLI::App& app, CarbonRequest& request) {
  auto* country = app.add_option_function<std::string>(
      "--country", [&request](const std::string& v) { request.country = v; },
      "country of the electricity grid, ISO 3166-1 alpha-3 (FRA, USA, DEU, ...)");
  auto* cloud = app.add_option_function<std::string>(
      "--cloud", [&request](const std::string& v) { request.cloud = v; },
      "cloud provider region, PROVIDER:REGION (gcp:europe-west1, aws:us-west-2, azure:westeurope)");
  auto* intensity = app.add_option_function<double>(
      "--intensity", [&request](double v) { request.intensity_g_per_kwh = v; },
      "carbon intensity in g CO2e per kWh, given outright")
      ->check(within(kIntensityLimits));
  country->excludes(cloud)->excludes(intensity);
  cloud->excludes(intensity);
  app.add_option_function<std::string>(
      "--pue", [&request](const std::string& v) { request.pue = v; },
      "power usage effectiveness: a number >= 1.0 or none (1.0, the default), hyperscale (1.1), "
      "industry-average (1.56)");
  app.add_option("--equivalent", request.equivalent_overrides,
                 "override an equivalent's constant, KEY=AMOUNT (e.g. smartphone_charges=0.012); repeatable");
  app.add_flag_function(
      "--live-intensity", [&request](std::int64_t) { request.live = true; },
      "ask an Electricity Maps-style API for the current intensity (falls back to the tables)");
  app.add_option_function<std::string>(
      "--config", [&request](const std::string& v) { request.config_file = v; },
      "TOML configuration file (default: ./joulebench.toml, then ~/.config/joulebench/config.toml)");
}

void print_carbon_warnings(const CarbonSettings& settings) {
  for (const auto& w : settings.warnings) fmt::print(stderr, "joulebench: warning: {}\n", w);
}

void add_store_option(CLI::App& app, std::string& path) {
  path = kDefaultStorePath;
  app.add_option("--store", path, "results store, a SQLite file (default ./joulebench.db)");
}

}  // namespace joulebench::cli
