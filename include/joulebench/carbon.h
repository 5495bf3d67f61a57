// Carbon accounting: energy -> grams CO2e = kWh x PUE x grid intensity, with
// the intensity's source and year, and everyday equivalents whose constants
// travel with the result. Tables are compiled in (data/*.csv); no network is
// used unless live intensity is asked for. Contract: docs/carbon.md.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace joulebench {

inline constexpr double kJoulesPerKwh = 3.6e6;
// IEA 2019 world average, CodeCarbon's default for an unknown location.
inline constexpr double kWorldAverageIntensityGPerKwh = 475.0;
inline constexpr double kDefaultPue = 1.0;          // like CodeCarbon: no data-centre overhead
inline constexpr double kHyperscalePue = 1.1;       // hyperscale cloud data centres
inline constexpr double kIndustryAveragePue = 1.56; // Uptime Institute survey average

inline double joules_to_kwh(double energy_j) { return energy_j / kJoulesPerKwh; }
inline double kwh_to_joules(double energy_kwh) { return energy_kwh * kJoulesPerKwh; }

// Where an intensity figure came from.
enum class IntensityOrigin {
  user,           // --intensity, JOULEBENCH_INTENSITY, config intensity_g_per_kwh
  country_table,  // data/grid-intensity.csv
  cloud_table,    // data/cloud-regions.csv
  live,           // Electricity Maps-style HTTP API
  logged,         // taken from an imported log (emissions / energy)
  world_average,  // nothing known: 475 g/kWh with a warning
};
std::string_view to_string(IntensityOrigin o);
std::optional<IntensityOrigin> intensity_origin_from_string(std::string_view s);

struct GridIntensity {
  double g_per_kwh = kWorldAverageIntensityGPerKwh;
  IntensityOrigin origin = IntensityOrigin::world_average;
  std::string source;        // in words, with the dataset: "Ember / Our World in Data (via CodeCarbon)"
  std::string zone;          // "FRA", "gcp:europe-west1", "FR" (live), "world"
  std::optional<int> year;   // year of the figure, when the table gives one
  std::string country_iso3;  // when known
  std::string country_name;
  std::string cloud_provider;
  std::string cloud_region;
  std::string city;
};

struct CountryIntensity {
  std::string iso3;
  std::string iso2;
  std::string name;
  int year = 0;
  double g_per_kwh = 0.0;
  std::optional<double> fossil_share;
};

struct CloudRegionIntensity {
  std::string provider;  // "gcp", "aws", "azure"
  std::string region;    // "europe-west1"
  std::string iso3;
  std::string city;
  double g_per_kwh = 0.0;
  std::string source;
};

// The compiled-in tables.
const std::vector<CountryIntensity>& country_intensities();
const std::vector<CloudRegionIntensity>& cloud_region_intensities();
const CountryIntensity* find_country(std::string_view iso3);  // case-insensitive; nullptr if unknown

// Look-ups. Unknown codes throw InputError listing the closest valid codes.
GridIntensity intensity_for_country(std::string_view iso3);
GridIntensity intensity_for_cloud(std::string_view provider_colon_region);  // "gcp:europe-west1"
// A figure given by the user; negative values throw InputError naming `where`.
GridIntensity intensity_from_user(double g_per_kwh, std::string_view where = "--intensity");
GridIntensity world_average_intensity();
// Up to `n` valid codes closest to `code` (prefix matches first, then edit distance).
std::vector<std::string> closest_country_codes(std::string_view code, std::size_t n = 5);
std::vector<std::string> closest_cloud_regions(std::string_view provider_colon_region, std::size_t n = 5);

// Power usage effectiveness: facility energy / IT energy.
struct Pue {
  double value = kDefaultPue;
  std::string source = "default (1.0, as CodeCarbon: no data-centre overhead counted)";
};
// "1.2", or a preset: "none" (1.0), "hyperscale" (1.1), "industry-average" (1.56).
// Values below 1.0 (negative included) throw InputError naming `where`.
Pue parse_pue(std::string_view text, std::string_view where = "--pue");

// Everyday equivalents. basis energy: facility kWh / amount_per_unit;
// basis co2e: grams / amount_per_unit.
enum class EquivalentBasis { energy_kwh, co2e_g };

struct EquivalentConstant {
  std::string key;    // "smartphone_charges"
  EquivalentBasis basis = EquivalentBasis::energy_kwh;
  double amount_per_unit = 0.0;  // kWh or g CO2e per unit
  std::string unit;   // "charge"
  std::string label;  // "smartphone full charges"
  std::string source;
};

struct EquivalentValue {
  EquivalentConstant constant;
  double value = 0.0;  // number of units
};

// The compiled-in constants (data/equivalents.csv).
const std::vector<EquivalentConstant>& default_equivalents();
// Applies "key=amount" (amount per unit, > 0); throws InputError naming the valid keys.
void override_equivalent(std::vector<EquivalentConstant>& constants, std::string_view key_equals_amount,
                         std::string_view where = "--equivalent");
std::vector<EquivalentValue> compute_equivalents(double facility_energy_kwh, double g_co2e,
                                                 const std::vector<EquivalentConstant>& constants);

// Everything needed to turn energy into carbon, resolved once per run.
struct CarbonSettings {
  GridIntensity intensity = {};
  Pue pue = {};
  std::vector<EquivalentConstant> equivalents = default_equivalents();
  std::string location_origin = "default";  // "--country", "JOULEBENCH_COUNTRY", "./joulebench.toml", "time zone Europe/Paris (/etc/timezone)"
  std::vector<std::string> warnings;         // e.g. the world-average warning; print them
  // The config file's [run] project (read with the carbon settings, from the
  // same file): the default project of measured runs.
  std::optional<std::string> config_project;
};

struct CarbonResult {
  double energy_kwh = 0.0;           // as measured (IT equipment)
  double pue = kDefaultPue;
  double facility_energy_kwh = 0.0;  // energy_kwh x pue
  double g_co2e = 0.0;               // facility_energy_kwh x intensity
  GridIntensity intensity = {};
  std::string pue_source;
  std::vector<EquivalentValue> equivalents;
  std::vector<std::string> warnings;
};

// Negative energy throws InputError.
CarbonResult compute_carbon(double energy_kwh, const CarbonSettings& settings);
inline CarbonResult compute_carbon_j(double energy_j, const CarbonSettings& settings) {
  return compute_carbon(joules_to_kwh(energy_j), settings);
}

// JSON of a result: g_co2e, energy_kwh, facility_energy_kwh, intensity_g_per_kwh,
// source, origin, zone, year, pue, pue_source, equivalents[], warnings[] (docs/carbon.md).
nlohmann::json carbon_result_json(const CarbonResult& r);
nlohmann::json grid_intensity_json(const GridIntensity& g);
// The one JSON shape of equivalents, wherever they are written (measure,
// report, project, bench): key, value (x scale), unit, label, basis
// ("kwh" or "g_co2e"), amount_per_unit, source.
nlohmann::json equivalents_json(const std::vector<EquivalentValue>& equivalents, double scale = 1.0);

// ---- Where the location comes from ------------------------------------------------

// Optional live intensity from an Electricity Maps-style API:
// GET {url}?zone={zone} with header `auth-token: {token}`, JSON with
// "carbonIntensity" (g/kWh) and "datetime". Cached on disk for cache_ttl_s.
struct LiveIntensityOptions {
  bool enabled = false;
  std::string url = "https://api.electricitymap.org/v3/carbon-intensity/latest";
  std::string zone;   // empty: the country's ISO 3166 alpha-2 code
  std::string token;  // sent as the auth-token header
  double timeout_s = 5.0;
  std::filesystem::path cache_dir;  // empty: $XDG_CACHE_HOME/joulebench or ~/.cache/joulebench
  double cache_ttl_s = 3600.0;
};

// Fetches (or reads from the cache) the live intensity for `zone`. Returns
// nullopt with `why_not` filled when the server is unreachable, slow, or answers
// something unusable: callers fall back to the tables with a warning.
std::optional<GridIntensity> fetch_live_intensity(const LiveIntensityOptions& options, std::string_view zone,
                                                  std::string* why_not);

// What the user said on the command line (all optional; at most one of
// country, cloud, intensity).
struct CarbonRequest {
  std::optional<std::string> country;  // ISO3
  std::optional<std::string> cloud;    // provider:region
  std::optional<double> intensity_g_per_kwh;
  std::optional<std::string> pue;      // number or preset
  std::vector<std::string> equivalent_overrides;  // "key=amount"
  std::optional<bool> live;            // --live-intensity
  std::optional<std::filesystem::path> config_file;  // --config: only this file
};

// The machine around the resolution, as seams for tests.
struct CarbonEnvironment {
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::vector<std::filesystem::path> config_files;  // first existing one is read
  std::filesystem::path timezone_file = "/etc/timezone";
  std::filesystem::path localtime_link = "/etc/localtime";
  bool use_time_zone = true;
  // The real process environment, ./joulebench.toml then ~/.config/joulebench/config.toml.
  static CarbonEnvironment system();
};

// Resolves intensity, PUE and equivalents: flag > environment
// (JOULEBENCH_COUNTRY, JOULEBENCH_CLOUD, JOULEBENCH_INTENSITY, JOULEBENCH_PUE,
// JOULEBENCH_LIVE_INTENSITY, ELECTRICITYMAPS_TOKEN) > config file > system time
// zone > world average (with a warning). Bad values throw InputError naming
// the flag, variable, or file:line and key.
CarbonSettings resolve_carbon_settings(const CarbonRequest& request,
                                       const CarbonEnvironment& env = CarbonEnvironment::system());

// Country (ISO3) of an IANA time zone ("Europe/Paris" -> "FRA"), nullopt if unknown.
std::optional<std::string> country_for_time_zone(std::string_view tz);

}  // namespace joulebench
