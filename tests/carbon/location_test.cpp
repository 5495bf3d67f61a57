#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "joulebench/carbon.h"
#include "joulebench/error.h"
#include "../support/expect_throw.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

class Location : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("jb-location-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    env_.getenv = [this](const std::string& k) -> std::optional<std::string> {
      auto it = vars_.find(k);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
    env_.config_files = {dir_ / "joulebench.toml", dir_ / "home-config.toml"};
    env_.timezone_file = dir_ / "timezone";
    env_.localtime_link = dir_ / "localtime";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  fs::path dir_;
  std::map<std::string, std::string> vars_;
  CarbonEnvironment env_;
};

}  // namespace

TEST_F(Location, NothingKnownGivesWorldAverageWithAWarning) {
  auto s = resolve_carbon_settings({}, env_);
  EXPECT_DOUBLE_EQ(s.intensity.g_per_kwh, 475.0);
  EXPECT_EQ(s.intensity.origin, IntensityOrigin::world_average);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("world average"), std::string::npos);
  EXPECT_DOUBLE_EQ(s.pue.value, 1.0);
}

TEST_F(Location, TimeZoneFileGivesTheCountryAsAGuess) {
  write(dir_ / "timezone", "Europe/Paris\n");
  auto s = resolve_carbon_settings({}, env_);
  EXPECT_EQ(s.intensity.country_iso3, "FRA");
  EXPECT_NE(s.location_origin.find("Europe/Paris"), std::string::npos);
  ASSERT_FALSE(s.warnings.empty());
  EXPECT_NE(s.warnings[0].find("guessed"), std::string::npos);
}

TEST_F(Location, LocaltimeLinkGivesTheCountry) {
  fs::create_symlink("/usr/share/zoneinfo/Asia/Tokyo", dir_ / "localtime");
  EXPECT_EQ(resolve_carbon_settings({}, env_).intensity.country_iso3, "JPN");
}

TEST_F(Location, UtcTimeZoneNamesNoCountry) {
  write(dir_ / "timezone", "Etc/UTC\n");
  auto s = resolve_carbon_settings({}, env_);
  EXPECT_EQ(s.intensity.origin, IntensityOrigin::world_average);
  EXPECT_NE(s.warnings.at(0).find("Etc/UTC"), std::string::npos);
}

TEST_F(Location, TimeZoneTableCoversCommonZones) {
  EXPECT_EQ(country_for_time_zone("America/New_York"), "USA");
  EXPECT_EQ(country_for_time_zone("Europe/Berlin"), "DEU");
  EXPECT_EQ(country_for_time_zone("Asia/Kolkata"), "IND");
  EXPECT_EQ(country_for_time_zone("Australia/Sydney"), "AUS");
  EXPECT_EQ(country_for_time_zone("Etc/UTC"), std::nullopt);
}

// The look-up parses only the lines holding the zone's name: it must give
// what the whole table says, for every zone in it.
TEST_F(Location, TimeZoneLookUpAgreesWithTheWholeTable) {
  std::ifstream in(fs::path(JOULEBENCH_TEST_SOURCE_DIR) / "../../data/timezone-countries.csv");
  ASSERT_TRUE(in) << "data/timezone-countries.csv";
  std::string line;
  int rows = 0;
  bool header = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (!header) {
      header = true;  // tz,iso3
      continue;
    }
    const auto comma = line.find(',');
    ASSERT_NE(comma, std::string::npos) << line;
    EXPECT_EQ(country_for_time_zone(line.substr(0, comma)), line.substr(comma + 1)) << line;
    ++rows;
  }
  EXPECT_GT(rows, 300);
  EXPECT_EQ(country_for_time_zone(""), std::nullopt);
  EXPECT_EQ(country_for_time_zone("Europe"), std::nullopt);  // a part of names, not a zone
}

TEST_F(Location, OrderIsFlagThenEnvironmentThenConfigThenTimeZone) {
  write(dir_ / "timezone", "Europe/Paris\n");
  write(dir_ / "joulebench.toml", "[carbon]\ncountry = \"DEU\"\npue = 1.2\n");
  EXPECT_EQ(resolve_carbon_settings({}, env_).intensity.country_iso3, "DEU");
  EXPECT_DOUBLE_EQ(resolve_carbon_settings({}, env_).pue.value, 1.2);

  vars_["JOULEBENCH_COUNTRY"] = "SWE";
  vars_["JOULEBENCH_PUE"] = "hyperscale";
  auto env_level = resolve_carbon_settings({}, env_);
  EXPECT_EQ(env_level.intensity.country_iso3, "SWE");
  EXPECT_EQ(env_level.location_origin, "JOULEBENCH_COUNTRY");
  EXPECT_DOUBLE_EQ(env_level.pue.value, 1.1);

  CarbonRequest flags;
  flags.country = "POL";
  flags.pue = "1.3";
  auto flag_level = resolve_carbon_settings(flags, env_);
  EXPECT_EQ(flag_level.intensity.country_iso3, "POL");
  EXPECT_EQ(flag_level.location_origin, "--country");
  EXPECT_DOUBLE_EQ(flag_level.pue.value, 1.3);
  EXPECT_TRUE(flag_level.warnings.empty());
}

TEST_F(Location, IntensityAndCloudAtOneLevelAreRefusedAsTheFlagsAre) {
  vars_["JOULEBENCH_CLOUD"] = "gcp:europe-west9";
  EXPECT_EQ(resolve_carbon_settings({}, env_).intensity.zone, "gcp:europe-west9");
  vars_["JOULEBENCH_INTENSITY"] = "56";
  EXPECT_THROW_MSG(resolve_carbon_settings({}, env_), InputError, "JOULEBENCH_CLOUD and JOULEBENCH_INTENSITY");
  vars_.erase("JOULEBENCH_CLOUD");
  auto s = resolve_carbon_settings({}, env_);
  EXPECT_EQ(s.intensity.origin, IntensityOrigin::user);
  EXPECT_DOUBLE_EQ(s.intensity.g_per_kwh, 56);
  vars_["JOULEBENCH_INTENSITY"] = "-5";
  EXPECT_THROW(resolve_carbon_settings({}, env_), InputError);
  vars_["JOULEBENCH_INTENSITY"] = "lots";
  EXPECT_THROW(resolve_carbon_settings({}, env_), InputError);
}

TEST_F(Location, CountryAndCloudInOneConfigFileAreRefusedWithBothLines) {
  write(dir_ / "joulebench.toml", "[carbon]\ncountry = \"FRA\"\ncloud = \"gcp:europe-west1\"\n");
  try {
    resolve_carbon_settings({}, env_);
    FAIL() << "the cloud used to win silently";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("joulebench.toml:2 (carbon.country)"), std::string::npos) << m;
    EXPECT_NE(m.find("joulebench.toml:3 (carbon.cloud)"), std::string::npos) << m;
  }
  // A flag still overrides the file's level as a whole (flags > environment > file).
  CarbonRequest flag;
  flag.country = "DEU";
  EXPECT_EQ(resolve_carbon_settings(flag, env_).intensity.country_iso3, "DEU");
}

TEST_F(Location, AFolderNamedLikeTheConfigIsRefusedByName) {
  fs::create_directories(dir_ / "joulebench.toml");
  EXPECT_THROW_MSG(resolve_carbon_settings({}, env_), InputError, "is a folder");
}

TEST_F(Location, NonFiniteAndOutOfRangeConfigValuesAreRefused) {
  write(dir_ / "joulebench.toml", "[carbon]\nintensity_g_per_kwh = nan\n");
  EXPECT_THROW(resolve_carbon_settings({}, env_), InputError);
  write(dir_ / "joulebench.toml", "[carbon]\nintensity_g_per_kwh = inf\n");
  EXPECT_THROW(resolve_carbon_settings({}, env_), InputError);
  write(dir_ / "joulebench.toml", "[carbon]\ncountry = \"FRA\"\npue = 1000\n");
  EXPECT_THROW(resolve_carbon_settings({}, env_), InputError);
  write(dir_ / "joulebench.toml", "[carbon]\ncountry = \"FRA\"\n[carbon.live]\ntimeout_s = nan\n");
  EXPECT_THROW(resolve_carbon_settings({}, env_), InputError);
}

TEST_F(Location, HomeConfigIsReadWhenNoLocalOne) {
  write(dir_ / "home-config.toml", "[carbon]\ncloud = \"aws:us-west-2\"\n");
  EXPECT_DOUBLE_EQ(resolve_carbon_settings({}, env_).intensity.g_per_kwh, 297.6);
  write(dir_ / "joulebench.toml", "[carbon]\nintensity_g_per_kwh = 10\n");
  EXPECT_DOUBLE_EQ(resolve_carbon_settings({}, env_).intensity.g_per_kwh, 10);
}

TEST_F(Location, BadCountryInConfigNamesTheFileAndLine) {
  write(dir_ / "joulebench.toml", "# settings\n[carbon]\ncountry = \"FRN\"\n");
  try {
    resolve_carbon_settings({}, env_);
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("joulebench.toml:3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("FRA"), std::string::npos) << msg;
  }
}

TEST_F(Location, MalformedTomlSaysFileLineAndKey) {
  write(dir_ / "joulebench.toml", "[carbon]\ncountry = \"FRA\"\npue = = 2\n");
  try {
    resolve_carbon_settings({}, env_);
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("joulebench.toml:3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("malformed TOML"), std::string::npos) << msg;
  }
  write(dir_ / "joulebench.toml", "[carbon]\ncountry = \"FRA\"\npue = true\n");
  try {
    resolve_carbon_settings({}, env_);
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("joulebench.toml:3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("carbon.pue"), std::string::npos) << msg;
  }
  write(dir_ / "joulebench.toml", "[carbon]\ncontry = \"FRA\"\n");
  try {
    resolve_carbon_settings({}, env_);
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("carbon.contry"), std::string::npos) << msg;
    EXPECT_NE(msg.find("country"), std::string::npos) << msg;
  }
}

TEST_F(Location, EquivalentOverridesFromConfigThenFlags) {
  write(dir_ / "joulebench.toml", "[carbon.equivalents]\nsmartphone_charges = 0.012\ncar_km = 200\n");
  CarbonRequest flags;
  flags.equivalent_overrides = {"car_km=100"};
  auto s = resolve_carbon_settings(flags, env_);
  for (const auto& c : s.equivalents) {
    if (c.key == "smartphone_charges") {
      EXPECT_DOUBLE_EQ(c.amount_per_unit, 0.012);
    }
    if (c.key == "car_km") {
      EXPECT_DOUBLE_EQ(c.amount_per_unit, 100);
    }
  }
}

TEST_F(Location, ExplicitConfigFileMustExist) {
  CarbonRequest r;
  r.config_file = dir_ / "nope.toml";
  EXPECT_THROW(resolve_carbon_settings(r, env_), InputError);
}
