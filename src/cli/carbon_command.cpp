// joulebench carbon --kwh X [--country ISO3 | --cloud P:R | --intensity G] [--pue P] [--json]:
// energy to grams CO2e with the intensity's source and year, and equivalents.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "carbon_options.h"
#include "commands.h"
#include "joulebench/readable.h"
#include "joulebench/carbon.h"
#include "joulebench/error.h"
#include "json_text.h"
#include "option_checks.h"

namespace joulebench::cli {
namespace {

std::string describe_intensity(const GridIntensity& g) {
  std::string where = g.zone;
  if (!g.country_name.empty() && g.zone != g.country_iso3) where += fmt::format(" ({}, {})", g.country_name, g.country_iso3);
  else if (!g.country_name.empty()) where += fmt::format(" ({})", g.country_name);
  if (!g.city.empty()) where += ", " + g.city;
  return fmt::format("{} g CO2e/kWh, {}: {}{}", readable_number(g.g_per_kwh), where, g.source,
                     g.year && g.source.find(std::to_string(*g.year)) == std::string::npos
                         ? fmt::format(" ({})", *g.year)
                         : "");
}

void print_tables(const std::string& which) {
  if (which == "countries") {
    fmt::print("{:<5} {:<4} {:>5} {:>9}  {}\n", "iso3", "iso2", "year", "g/kWh", "name");
    for (const auto& c : country_intensities())
      fmt::print("{:<5} {:<4} {:>5} {:>9.4g}  {}\n", c.iso3, c.iso2, c.year, c.g_per_kwh, c.name);
  } else if (which == "clouds") {
    fmt::print("{:<34} {:<5} {:>7}  {}\n", "provider:region", "iso3", "g/kWh", "source");
    for (const auto& c : cloud_region_intensities())
      fmt::print("{:<34} {:<5} {:>7.4g}  {}\n", c.provider + ":" + c.region, c.iso3, c.g_per_kwh, c.source);
  } else {
    fmt::print("{:<20} {:>10} {:<8} {}\n", "key", "amount", "per", "source");
    for (const auto& e : default_equivalents())
      fmt::print("{:<20} {:>10} {:<8} {}\n", e.key, e.amount_per_unit,
                 fmt::format("{} {}", e.basis == EquivalentBasis::energy_kwh ? "kWh" : "g", e.unit), e.source);
  }
}

}  // namespace

void register_carbon_command(CommandRegistry& registry) {
  struct Args {
    std::optional<double> kwh, joules;
    bool json = false;
    std::string list;
    CarbonRequest request;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "carbon", "convert energy to grams CO2e (kWh x PUE x grid intensity) with the source and equivalents");
  if (!registry.wanted(sub)) return;
  auto* kwh = sub->add_option_function<double>("--kwh", [args](double v) { args->kwh = v; }, "energy in kWh")
                 ->check(within(kEnergyKwhLimits));
  auto* joules =
      sub->add_option_function<double>("--joules", [args](double v) { args->joules = v; }, "energy in joules")
                   ->check(within(kEnergyJouleLimits));
  kwh->excludes(joules);
  add_carbon_options(*sub, args->request);
  sub->add_flag("--json", args->json, "JSON on stdout (contract: docs/carbon.md)");
  sub->add_option("--list", args->list, "print a built-in table instead: countries, clouds or equivalents")
      ->check(CLI::IsMember({"countries", "clouds", "equivalents"}));
  registry.add(sub, [args] {
    if (!args->list.empty()) {
      print_tables(args->list);
      return 0;
    }
    if (!args->kwh && !args->joules) throw InputError("give the energy: --kwh X or --joules J");
    const double energy_kwh = args->kwh ? *args->kwh : joules_to_kwh(*args->joules);
    const CarbonSettings settings = resolve_carbon_settings(args->request);
    const CarbonResult r = compute_carbon(energy_kwh, settings);
    print_carbon_warnings(settings);
    if (args->json) {
      auto j = carbon_result_json(r);
      j["location_origin"] = settings.location_origin;
      fmt::print("{}", json_text(j));
      return 0;
    }
    fmt::print("{} CO2e  = {} x PUE {} x {} g CO2e/kWh\n", readable_grams(r.g_co2e), readable_kwh(r.energy_kwh), r.pue,
               readable_number(r.intensity.g_per_kwh));
    fmt::print("intensity: {} [from {}]\n", describe_intensity(r.intensity), settings.location_origin);
    fmt::print("PUE:       {} ({})\n", r.pue, r.pue_source);
    fmt::print("equivalents:\n");
    for (const auto& e : r.equivalents)
      fmt::print("  {:>12} {}  ({} {} per {}; {})\n", readable_number(e.value), e.constant.label, e.constant.amount_per_unit,
                 e.constant.basis == EquivalentBasis::energy_kwh ? "kWh" : "g CO2e", e.constant.unit,
                 e.constant.source);
    return 0;
  });
}

}  // namespace joulebench::cli
