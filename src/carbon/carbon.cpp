// grams CO2e = kWh x PUE x intensity; PUE presets; equivalents; JSON.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "joulebench/carbon.h"
#include "joulebench/error.h"
#include "joulebench/limits.h"
#include "core/text_util.h"

namespace joulebench {

Pue parse_pue(std::string_view text, std::string_view where) {
  const std::string t = detail::to_lower(detail::trim(text));
  if (t == "none" || t == "default") return Pue{};
  if (t == "hyperscale") return Pue{kHyperscalePue, "preset hyperscale (1.1, hyperscale cloud data centres)"};
  if (t == "industry-average" || t == "industry_average" || t == "average")
    return Pue{kIndustryAveragePue, "preset industry-average (1.56, Uptime Institute survey)"};
  auto v = detail::parse_double(t);
  if (!v)
    throw InputError(fmt::format("{}: PUE '{}' is not a number nor a preset (none = 1.0, hyperscale = 1.1, "
                                 "industry-average = 1.56)",
                                 where, text));
  check_limits(*v, kPueLimits, where);
  return Pue{*v, fmt::format("given by the user ({})", where)};
}

void override_equivalent(std::vector<EquivalentConstant>& constants, std::string_view key_equals_amount,
                         std::string_view where) {
  const auto eq = key_equals_amount.find('=');
  std::vector<std::string> key_list;
  for (const auto& c : constants) key_list.push_back(c.key);
  const std::string keys = fmt::format("{}", fmt::join(key_list, ", "));
  if (eq == std::string_view::npos)
    throw InputError(fmt::format("{}: '{}' must be KEY=AMOUNT (keys: {})", where, key_equals_amount, keys));
  const std::string key(detail::trim(key_equals_amount.substr(0, eq)));
  const auto amount = detail::parse_double(key_equals_amount.substr(eq + 1));
  if (!amount || *amount <= 0.0)
    throw InputError(fmt::format("{}: amount for '{}' must be a positive number (kWh or g CO2e per unit), got '{}'",
                                 where, key, key_equals_amount.substr(eq + 1)));
  for (auto& c : constants) {
    if (c.key != key) continue;
    c.amount_per_unit = *amount;
    c.source = fmt::format("given by the user ({})", where);
    return;
  }
  throw InputError(fmt::format("{}: unknown equivalent '{}'; known: {}", where, key, keys));
}

std::vector<EquivalentValue> compute_equivalents(double facility_energy_kwh, double g_co2e,
                                                 const std::vector<EquivalentConstant>& constants) {
  std::vector<EquivalentValue> out;
  for (const auto& c : constants) {
    if (c.amount_per_unit <= 0.0) continue;
    const double amount = c.basis == EquivalentBasis::energy_kwh ? facility_energy_kwh : g_co2e;
    out.push_back({c, amount / c.amount_per_unit});
  }
  return out;
}

CarbonResult compute_carbon(double energy_kwh, const CarbonSettings& settings) {
  if (!(energy_kwh >= 0.0)) throw InputError(fmt::format("energy {} kWh refused: it must be 0 or more", energy_kwh));
  if (!(settings.intensity.g_per_kwh >= 0.0))
    throw InputError(fmt::format("carbon intensity {} g/kWh refused: it must be 0 or more",
                                 settings.intensity.g_per_kwh));
  if (!(settings.pue.value >= 1.0))
    throw InputError(fmt::format("PUE {} refused: it must be 1.0 or more", settings.pue.value));
  CarbonResult r;
  r.energy_kwh = energy_kwh;
  r.pue = settings.pue.value;
  r.pue_source = settings.pue.source;
  r.facility_energy_kwh = energy_kwh * settings.pue.value;
  r.g_co2e = r.facility_energy_kwh * settings.intensity.g_per_kwh;
  r.intensity = settings.intensity;
  r.equivalents = compute_equivalents(r.facility_energy_kwh, r.g_co2e, settings.equivalents);
  r.warnings = settings.warnings;
  return r;
}

nlohmann::json grid_intensity_json(const GridIntensity& g) {
  nlohmann::json j{{"intensity_g_per_kwh", g.g_per_kwh},
                   {"source", g.source},
                   {"origin", std::string(to_string(g.origin))},
                   {"zone", g.zone},
                   {"year", g.year ? nlohmann::json(*g.year) : nlohmann::json(nullptr)}};
  auto opt = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  j["country_iso3"] = opt(g.country_iso3);
  j["country_name"] = opt(g.country_name);
  j["cloud_provider"] = opt(g.cloud_provider);
  j["cloud_region"] = opt(g.cloud_region);
  return j;
}

nlohmann::json equivalents_json(const std::vector<EquivalentValue>& equivalents, double scale) {
  auto eq = nlohmann::json::array();
  for (const auto& e : equivalents)
    eq.push_back({{"key", e.constant.key},
                  {"value", e.value * scale},
                  {"unit", e.constant.unit},
                  {"label", e.constant.label},
                  {"basis", e.constant.basis == EquivalentBasis::energy_kwh ? "kwh" : "g_co2e"},
                  {"amount_per_unit", e.constant.amount_per_unit},
                  {"source", e.constant.source}});
  return eq;
}

nlohmann::json carbon_result_json(const CarbonResult& r) {
  nlohmann::json j{{"schema", "joulebench.carbon/1"},
                   {"g_co2e", r.g_co2e},
                   {"energy_kwh", r.energy_kwh},
                   {"facility_energy_kwh", r.facility_energy_kwh},
                   {"pue", r.pue},
                   {"pue_source", r.pue_source}};
  j.update(grid_intensity_json(r.intensity));
  j["equivalents"] = equivalents_json(r.equivalents);
  j["warnings"] = r.warnings;
  return j;
}

}  // namespace joulebench
