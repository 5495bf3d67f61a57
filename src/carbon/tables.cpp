// The compiled-in tables (data/grid-intensity.csv, cloud-regions.csv,
// equivalents.csv, timezone-countries.csv) and the look-ups over them.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "core/table_lines.h"
#include "core/csv_reader.h"
#include "joulebench/carbon.h"
#include "joulebench/error.h"
#include "joulebench/limits.h"
#include "core/text_util.h"

namespace joulebench::embedded {
extern const std::string_view grid_intensity_csv;
extern const std::string_view cloud_regions_csv;
extern const std::string_view equivalents_csv;
extern const std::string_view timezone_countries_csv;
}  // namespace joulebench::embedded

namespace joulebench {
namespace {

using detail::CsvRecord;

// An embedded table, header checked; rows as vectors with fields found by
// column name (not a map per row: the tables are read at every start of
// `measure`, docs/benchmarks.md).
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  const std::string& get(const std::vector<std::string>& row, std::string_view column) const {
    const auto it = std::find(columns.begin(), columns.end(), column);
    return row.at(static_cast<std::size_t>(it - columns.begin()));
  }
};

Table read_table(std::string_view text, const std::string& name, std::vector<std::string> expected) {
  auto records = detail::parse_csv(text, "data/" + name, {.skip_comment_lines = true});
  if (records.empty() || records.front().fields != expected)
    throw Error(fmt::format("built-in table data/{} has an unexpected header; rebuild joulebench", name));
  Table table{std::move(expected), {}};
  table.rows.reserve(records.size() - 1);
  for (std::size_t i = 1; i < records.size(); ++i) {
    if (records[i].fields.size() != table.columns.size())
      throw Error(fmt::format("built-in table data/{}:{}: {} fields, expected {}", name, records[i].line,
                              records[i].fields.size(), table.columns.size()));
    table.rows.push_back(std::move(records[i].fields));
  }
  return table;
}

double table_number(const std::string& s, const std::string& table) {
  auto v = detail::parse_double(s);
  if (!v) throw Error(fmt::format("built-in table data/{}: '{}' is not a number", table, s));
  return *v;
}

}  // namespace

std::string_view to_string(IntensityOrigin o) {
  switch (o) {
    case IntensityOrigin::user: return "user";
    case IntensityOrigin::country_table: return "country-table";
    case IntensityOrigin::cloud_table: return "cloud-table";
    case IntensityOrigin::live: return "live";
    case IntensityOrigin::logged: return "logged";
    case IntensityOrigin::world_average: return "world-average";
  }
  return "unknown";
}

std::optional<IntensityOrigin> intensity_origin_from_string(std::string_view s) {
  for (auto o : {IntensityOrigin::user, IntensityOrigin::country_table, IntensityOrigin::cloud_table,
                 IntensityOrigin::live, IntensityOrigin::logged, IntensityOrigin::world_average})
    if (to_string(o) == s) return o;
  return std::nullopt;
}

const std::vector<CountryIntensity>& country_intensities() {
  static const std::vector<CountryIntensity> table = [] {
    std::vector<CountryIntensity> out;
    const std::string name = "grid-intensity.csv";
    const Table t = read_table(embedded::grid_intensity_csv, name,
                               {"iso3", "iso2", "year", "g_co2e_per_kwh", "fossil_share", "name"});
    for (const auto& row : t.rows) {
      const auto r = [&](std::string_view column) -> const std::string& { return t.get(row, column); };
      CountryIntensity c;
      c.iso3 = r("iso3");
      c.iso2 = r("iso2");
      c.name = r("name");
      c.year = static_cast<int>(table_number(r("year"), name));
      c.g_per_kwh = table_number(r("g_co2e_per_kwh"), name);
      if (!r("fossil_share").empty()) c.fossil_share = table_number(r("fossil_share"), name);
      out.push_back(std::move(c));
    }
    return out;
  }();
  return table;
}

const std::vector<CloudRegionIntensity>& cloud_region_intensities() {
  static const std::vector<CloudRegionIntensity> table = [] {
    std::vector<CloudRegionIntensity> out;
    const std::string name = "cloud-regions.csv";
    const Table t = read_table(embedded::cloud_regions_csv, name,
                               {"provider", "region", "iso3", "g_co2e_per_kwh", "source", "city"});
    for (const auto& row : t.rows) {
      const auto r = [&](std::string_view column) -> const std::string& { return t.get(row, column); };
      out.push_back({r("provider"), r("region"), r("iso3"), r("city"), table_number(r("g_co2e_per_kwh"), name),
                     r("source")});
    }
    return out;
  }();
  return table;
}

const std::vector<EquivalentConstant>& default_equivalents() {
  static const std::vector<EquivalentConstant> table = [] {
    std::vector<EquivalentConstant> out;
    const std::string name = "equivalents.csv";
    const Table t = read_table(embedded::equivalents_csv, name,
                               {"key", "basis", "amount_per_unit", "unit", "label", "source"});
    for (const auto& row : t.rows) {
      const auto r = [&](std::string_view column) -> const std::string& { return t.get(row, column); };
      EquivalentConstant c;
      c.key = r("key");
      if (r("basis") == "kwh") c.basis = EquivalentBasis::energy_kwh;
      else if (r("basis") == "g_co2e") c.basis = EquivalentBasis::co2e_g;
      else throw Error(fmt::format("built-in table data/{}: unknown basis '{}'", name, r("basis")));
      c.amount_per_unit = table_number(r("amount_per_unit"), name);
      c.unit = r("unit");
      c.label = r("label");
      c.source = r("source");
      out.push_back(std::move(c));
    }
    return out;
  }();
  return table;
}

std::optional<std::string> country_for_time_zone(std::string_view tz) {
  // A scan, not a cached map: it runs once per process, when no location was
  // given, and only over the rows whose line holds the zone's name.
  const Table t = read_table(
      detail::table_rows_containing(embedded::timezone_countries_csv, "tz,iso3", {std::string(detail::trim(tz))}),
      "timezone-countries.csv", {"tz", "iso3"});
  for (const auto& row : t.rows)
    if (t.get(row, "tz") == tz) return t.get(row, "iso3");
  return std::nullopt;
}

const CountryIntensity* find_country(std::string_view iso3) {
  const std::string code = detail::to_upper(detail::trim(iso3));
  for (const auto& c : country_intensities())
    if (c.iso3 == code) return &c;
  return nullptr;
}

std::vector<std::string> closest_country_codes(std::string_view code, std::size_t n) {
  std::vector<std::string> candidates;
  for (const auto& c : country_intensities()) candidates.push_back(c.iso3);
  auto best = detail::closest_matches(detail::to_upper(detail::trim(code)), candidates, n);
  // Also match the country's name ("France" -> FRA) when the code looks like a name.
  const std::string lowered = detail::to_lower(detail::trim(code));
  if (lowered.size() > 3) {
    for (const auto& c : country_intensities())
      if (detail::to_lower(c.name).rfind(lowered, 0) == 0 &&
          std::find(best.begin(), best.end(), c.iso3) == best.end())
        best.insert(best.begin(), c.iso3);
  }
  if (best.size() > n) best.resize(n);
  return best;
}

std::vector<std::string> closest_cloud_regions(std::string_view provider_colon_region, std::size_t n) {
  std::vector<std::string> candidates;
  for (const auto& c : cloud_region_intensities()) candidates.push_back(c.provider + ":" + c.region);
  return detail::closest_matches(detail::to_lower(detail::trim(provider_colon_region)), candidates, n);
}

GridIntensity intensity_for_country(std::string_view iso3) {
  const CountryIntensity* c = find_country(iso3);
  if (!c) {
    std::string hint;
    for (const auto& s : closest_country_codes(iso3)) {
      const CountryIntensity* m = find_country(s);
      hint += fmt::format("{}{} ({})", hint.empty() ? "" : ", ", s, m ? m->name : "");
    }
    throw InputError(fmt::format("unknown country code '{}': use an ISO 3166-1 alpha-3 code; closest: {}",
                                 iso3, hint.empty() ? "none" : hint));
  }
  GridIntensity g;
  g.g_per_kwh = c->g_per_kwh;
  g.origin = IntensityOrigin::country_table;
  g.source = fmt::format("Ember / Our World in Data {} annual average (via CodeCarbon)", c->year);
  g.zone = c->iso3;
  g.year = c->year;
  g.country_iso3 = c->iso3;
  g.country_name = c->name;
  return g;
}

GridIntensity intensity_for_cloud(std::string_view provider_colon_region) {
  const std::string key = detail::to_lower(detail::trim(provider_colon_region));
  const auto colon = key.find(':');
  if (colon == std::string::npos)
    throw InputError(fmt::format("cloud location '{}' must be PROVIDER:REGION, e.g. gcp:europe-west1 or "
                                 "aws:us-west-2",
                                 provider_colon_region));
  const std::string provider = key.substr(0, colon), region = key.substr(colon + 1);
  for (const auto& c : cloud_region_intensities()) {
    if (c.provider != provider || c.region != region) continue;
    GridIntensity g;
    g.g_per_kwh = c.g_per_kwh;
    g.origin = IntensityOrigin::cloud_table;
    g.source = fmt::format("{} region figure: {}", c.provider, c.source);
    g.zone = c.provider + ":" + c.region;
    g.country_iso3 = c.iso3;
    if (const auto* country = find_country(c.iso3)) g.country_name = country->name;
    g.cloud_provider = c.provider;
    g.cloud_region = c.region;
    g.city = c.city;
    return g;
  }
  auto close = closest_cloud_regions(key);
  const std::string hint = fmt::format("{}", fmt::join(close, ", "));
  throw InputError(fmt::format("unknown cloud region '{}'; closest known: {} (or give --intensity G)",
                               provider_colon_region, hint.empty() ? "none" : hint));
}

GridIntensity intensity_from_user(double g_per_kwh, std::string_view where) {
  check_limits(g_per_kwh, kIntensityLimits, where);
  GridIntensity g;
  g.g_per_kwh = g_per_kwh;
  g.origin = IntensityOrigin::user;
  g.source = fmt::format("given by the user ({})", where);
  g.zone = "user";
  return g;
}

GridIntensity world_average_intensity() {
  GridIntensity g;
  g.g_per_kwh = kWorldAverageIntensityGPerKwh;
  g.origin = IntensityOrigin::world_average;
  g.source = "world average (IEA 2019), CodeCarbon's default for an unknown location";
  g.zone = "world";
  g.year = 2019;
  return g;
}

}  // namespace joulebench
