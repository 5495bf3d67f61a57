#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/csv_reader.h"
#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "../support/expect_throw.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

Measurement sample_measurement() {
  Measurement m;
  m.name = "window";
  m.start_time = std::chrono::system_clock::from_time_t(1700000000);
  m.duration_s = 100.0;
  ComponentEnergy cpu{Component::cpu, 3600.0, 1800.0, std::nullopt, {ProvenanceKind::measured, "rapl-powercap"}, {}};
  ComponentEnergy gpu{Component::gpu, 36000.0, std::nullopt, std::nullopt, {ProvenanceKind::measured, "nvml"}, {}};
  ComponentEnergy ram{Component::dram, 360.0, std::nullopt, std::nullopt, {ProvenanceKind::measured, "rapl"}, {}};
  m.components = {cpu, gpu, ram};
  return m;
}

std::vector<detail::CsvRecord> read_back(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return detail::parse_csv(ss.str(), p.string());
}

class Writer : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = fs::temp_directory_path() / ("jb-cc-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".csv");
    fs::remove(file_);
  }
  void TearDown() override { fs::remove(file_); }
  fs::path file_;
};

}  // namespace

TEST(CodeCarbonColumns, AreCodeCarbon3InOrder) {
  const auto& c = codecarbon_columns();
  ASSERT_EQ(c.size(), 38u);
  EXPECT_EQ(c.front(), "timestamp");
  EXPECT_EQ(c[3], "experiment_id");
  EXPECT_EQ(c[13], "energy_consumed");
  EXPECT_EQ(c[c.size() - 2], "pue");
  EXPECT_EQ(c.back(), "wue");
}

TEST(CodeCarbonRecord, UnitsAreKwhKgAndWattsWithPueInTheEnergies) {
  CarbonSettings s;
  s.intensity = intensity_for_country("FRA");
  s.pue = parse_pue("1.5");
  const Measurement m = sample_measurement();
  const auto carbon = compute_carbon_j(m.total_energy_j(), s);
  CodeCarbonRunInfo info;
  info.project_name = "proj";
  info.run_id = "rid";
  info.machine.cpu_model = "Xeon";
  const auto r = make_codecarbon_record(m, carbon, info);
  EXPECT_DOUBLE_EQ(r.cpu_energy_kwh, 0.001 * 1.5);
  EXPECT_DOUBLE_EQ(r.gpu_energy_kwh, 0.01 * 1.5);
  EXPECT_DOUBLE_EQ(r.ram_energy_kwh, 0.0001 * 1.5);
  EXPECT_DOUBLE_EQ(r.energy_consumed_kwh, 0.0111 * 1.5);
  EXPECT_NEAR(r.emissions_kg, carbon.g_co2e / 1000.0, 1e-15);
  EXPECT_DOUBLE_EQ(r.cpu_power_w, 36.0);
  EXPECT_DOUBLE_EQ(r.gpu_power_w, 360.0);
  EXPECT_EQ(r.timestamp, "2023-11-14T22:15:00");  // end of the window, UTC, no zone (as CodeCarbon)
  EXPECT_EQ(r.country_iso_code, "FRA");
  EXPECT_EQ(r.country_name, "France");
  EXPECT_DOUBLE_EQ(*r.pue, 1.5);
  info.tracking_mode = "process";
  EXPECT_DOUBLE_EQ(make_codecarbon_record(m, carbon, info).cpu_energy_kwh, 0.0005 * 1.5);
}

TEST_F(Writer, HeaderOnlyWhenNewThenAppends) {
  CarbonSettings s;
  s.intensity = intensity_from_user(100);
  const Measurement m = sample_measurement();
  CodeCarbonRunInfo info;
  info.machine.cpu_model = "CPU, with a comma";
  auto r = make_codecarbon_record(m, compute_carbon_j(m.total_energy_j(), s), info);
  append_codecarbon_csv(file_, r);
  append_codecarbon_csv(file_, r);
  auto rows = read_back(file_);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, codecarbon_columns());
  EXPECT_EQ(rows[1].fields.size(), codecarbon_columns().size());
  EXPECT_EQ(rows[1].fields[24], "CPU, with a comma");  // cpu_model, quoted on write
  EXPECT_EQ(rows[2].fields[13], rows[1].fields[13]);
  // The row reads back with the energies written.
  EXPECT_DOUBLE_EQ(std::stod(rows[1].fields[13]), r.energy_consumed_kwh);
}

TEST_F(Writer, AppendsInTheColumnsOfAnOlderCodeCarbonFile) {
  std::ifstream src(std::string(JOULEBENCH_TEST_SOURCE_DIR) + "/data/cc2_no_pue.csv");
  std::ofstream(file_) << src.rdbuf();
  CarbonSettings s;
  const Measurement m = sample_measurement();
  append_codecarbon_csv(file_, make_codecarbon_record(m, compute_carbon_j(m.total_energy_j(), s), {}));
  auto rows = read_back(file_);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].fields.size(), rows[0].fields.size());  // no experiment_id, no pue: its own 29 columns
}

TEST_F(Writer, RefusesToAppendToAFileThatIsNotCodeCarbons) {
  std::ofstream(file_) << "a,b\n1,2\n";
  CarbonSettings s;
  const Measurement m = sample_measurement();
  EXPECT_THROW_MSG(append_codecarbon_csv(file_, make_codecarbon_record(m, compute_carbon_j(1, s), {})), InputError, "energy_consumed");
  auto rows = read_back(file_);
  EXPECT_EQ(rows.size(), 2u);  // untouched
}
