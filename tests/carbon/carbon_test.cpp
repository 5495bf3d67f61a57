#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "joulebench/carbon.h"
#include "joulebench/error.h"
#include "../support/expect_throw.h"

using namespace joulebench;

namespace {

// The reference tables, read here with a plain split (they have no quotes),
// independently of the library's own reader and of its compiled-in copy.
std::vector<std::vector<std::string>> read_reference(const std::string& name) {
  std::ifstream in(std::string(JOULEBENCH_SHARED_REFERENCE_DIR) + "/" + name);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    rows.push_back(f);
  }
  return rows;
}

}  // namespace

TEST(CarbonTables, EveryCountryOfTheReferenceIsCompiledInWithItsFigureAndYear) {
  auto rows = read_reference("grid-intensity.csv");  // iso3,country,year,g,fossil
  if (rows.empty()) GTEST_SKIP() << "shared/reference not present";
  ASSERT_EQ(rows.size(), country_intensities().size());
  for (const auto& r : rows) {
    auto g = intensity_for_country(r[0]);
    EXPECT_DOUBLE_EQ(g.g_per_kwh, std::stod(r[3])) << r[0];
    EXPECT_EQ(g.year, std::stoi(r[2])) << r[0];
    EXPECT_EQ(g.origin, IntensityOrigin::country_table);
  }
}

TEST(CarbonTables, GcpRegionsOfTheReferenceAreCompiledIn) {
  auto rows = read_reference("cloud-regions.csv");  // provider,region,iso3,city,g
  if (rows.empty()) GTEST_SKIP() << "shared/reference not present";
  for (const auto& r : rows) {
    if (r[1] == "me-cenrtal1") continue;  // upstream typo, corrected in data/
    auto g = intensity_for_cloud(r[0] + ":" + r[1]);
    EXPECT_DOUBLE_EQ(g.g_per_kwh, std::stod(r[4])) << r[1];
    EXPECT_EQ(g.country_iso3, r[2]);
  }
  EXPECT_DOUBLE_EQ(intensity_for_cloud("gcp:me-central1").g_per_kwh, 575);
  // AWS Oregon, where the study ran: eGRID 297.6 (the paper's figure).
  EXPECT_DOUBLE_EQ(intensity_for_cloud("aws:us-west-2").g_per_kwh, 297.6);
  EXPECT_EQ(intensity_for_cloud("AWS:US-WEST-2").cloud_region, "us-west-2");
}

TEST(CarbonTables, LookupIsCaseInsensitive) {
  EXPECT_EQ(intensity_for_country("fra").country_iso3, "FRA");
  EXPECT_EQ(intensity_for_country(" usa ").country_name, "United States");
}

TEST(CarbonTables, UnknownCountryListsClosestCodes) {
  {
    const std::string message = jbtest::thrown_message<InputError>([&] { intensity_for_country("FRN"); });
    EXPECT_NE(message.find("closest: FRA (France)"), std::string::npos) << message;
    EXPECT_NE(message.find("unknown country code 'FRN'"), std::string::npos) << message;
  }
  auto close = closest_country_codes("DE");  // prefix of DEU
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(close.front(), "DEU");
  auto by_name = closest_country_codes("Germany");
  ASSERT_FALSE(by_name.empty());
  EXPECT_EQ(by_name.front(), "DEU");
}

TEST(CarbonTables, UnknownCloudRegionListsClosestRegions) {
  EXPECT_THROW_MSG(intensity_for_cloud("gcp:europe-wset1"), InputError, "gcp:europe-west1");
  EXPECT_THROW(intensity_for_cloud("europe-west1"), InputError);  // no provider
}

TEST(Carbon, GramsAreKwhTimesPueTimesIntensity) {
  CarbonSettings s;
  s.intensity = intensity_from_user(100.0);
  s.pue = parse_pue("1.5");
  auto r = compute_carbon(2.0, s);
  EXPECT_DOUBLE_EQ(r.facility_energy_kwh, 3.0);
  EXPECT_DOUBLE_EQ(r.g_co2e, 300.0);
  auto rj = compute_carbon_j(7.2e6, s);  // 2 kWh in joules
  EXPECT_DOUBLE_EQ(rj.g_co2e, 300.0);
}

TEST(Carbon, NegativeOrImpossibleValuesAreRefusedWithTheReason) {
  EXPECT_THROW(intensity_from_user(-1.0), InputError);
  EXPECT_THROW_MSG(parse_pue("-1.2"), InputError, "--pue");
  EXPECT_THROW(parse_pue("0.9"), InputError);
  EXPECT_THROW(parse_pue("fast"), InputError);
  CarbonSettings s;
  EXPECT_THROW(compute_carbon(-1.0, s), InputError);
}

TEST(Carbon, PuePresetsAndDefault) {
  EXPECT_DOUBLE_EQ(Pue{}.value, 1.0);
  EXPECT_NE(Pue{}.source.find("default"), std::string::npos);
  EXPECT_DOUBLE_EQ(parse_pue("hyperscale").value, 1.1);
  EXPECT_DOUBLE_EQ(parse_pue("industry-average").value, 1.56);
  EXPECT_DOUBLE_EQ(parse_pue("none").value, 1.0);
  EXPECT_DOUBLE_EQ(parse_pue("1.25").value, 1.25);
}

TEST(Equivalents, ConstantsMatchTheirStatedSources) {
  std::map<std::string, EquivalentConstant> by_key;
  for (const auto& c : default_equivalents()) {
    EXPECT_FALSE(c.source.empty()) << c.key;
    EXPECT_GT(c.amount_per_unit, 0) << c.key;
    by_key[c.key] = c;
  }
  ASSERT_TRUE(by_key.count("smartphone_charges"));
  EXPECT_DOUBLE_EQ(by_key["smartphone_charges"].amount_per_unit, 0.022);
  ASSERT_TRUE(by_key.count("car_km"));
  EXPECT_NEAR(by_key["car_km"].amount_per_unit, 393.0 / 1.609344, 0.01);
  EXPECT_EQ(by_key["car_km"].basis, EquivalentBasis::co2e_g);
  ASSERT_TRUE(by_key.count("tree_days"));
  EXPECT_NEAR(by_key["tree_days"].amount_per_unit, 60000.0 / (10 * 365.25), 0.01);
  EXPECT_GE(by_key.size(), 4u);
}

TEST(Equivalents, StudyExtremeReproduces) {
  // SDXL: 11.49 kWh and 1,594 g per 1,000 images -> ~522 charges, ~4.1 miles.
  CarbonSettings s;
  s.intensity = intensity_from_user(1594.0 / 11.49);
  auto r = compute_carbon(11.49, s);
  for (const auto& e : r.equivalents) {
    if (e.constant.key == "smartphone_charges") {
      EXPECT_NEAR(e.value, 522.3, 0.1);
    }
    if (e.constant.key == "car_km") {
      EXPECT_NEAR(e.value / 1.609344, 1594.0 / 393.0, 0.01);
    }
  }
}

TEST(Equivalents, OverrideChangesTheConstantAndSaysSo) {
  auto constants = default_equivalents();
  override_equivalent(constants, "smartphone_charges=0.012");
  CarbonSettings s;
  s.equivalents = constants;
  s.intensity = intensity_from_user(0.0);
  auto r = compute_carbon(1.2, s);
  bool seen = false;
  for (const auto& e : r.equivalents)
    if (e.constant.key == "smartphone_charges") {
      seen = true;
      EXPECT_DOUBLE_EQ(e.value, 100.0);
      EXPECT_NE(e.constant.source.find("user"), std::string::npos);
    }
  EXPECT_TRUE(seen);
  EXPECT_THROW(override_equivalent(constants, "bananas=1"), InputError);
  EXPECT_THROW(override_equivalent(constants, "car_km=-3"), InputError);
  EXPECT_THROW(override_equivalent(constants, "car_km"), InputError);
}

TEST(Carbon, JsonCarriesTheContractFields) {
  CarbonSettings s;
  s.intensity = intensity_for_country("FRA");
  auto j = carbon_result_json(compute_carbon(0.5, s));
  for (const char* k : {"g_co2e", "intensity_g_per_kwh", "source", "year", "pue", "equivalents", "zone"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_DOUBLE_EQ(j["g_co2e"].get<double>(), 0.5 * intensity_for_country("FRA").g_per_kwh);
  ASSERT_FALSE(j["equivalents"].empty());
  EXPECT_TRUE(j["equivalents"][0].contains("amount_per_unit"));
  EXPECT_TRUE(j["equivalents"][0].contains("source"));
}
