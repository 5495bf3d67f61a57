// The command-line contracts of carbon, import codecarbon and report, run
// against the built binary in a scratch folder with a clean environment.
#include <gtest/gtest.h>

#include "../support/cli_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;

namespace {

class Cli : public jbtest::CliFixture {};

const std::string kData = std::string(JOULEBENCH_SOURCE_DIR) + "/tests/codecarbon/data/";

}  // namespace

TEST_F(Cli, CarbonJsonContract) {
  auto r = run("carbon --kwh 2 --intensity 100 --pue 1.5 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["g_co2e"].get<double>(), 300.0);
  EXPECT_DOUBLE_EQ(j["intensity_g_per_kwh"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["pue"].get<double>(), 1.5);
  EXPECT_TRUE(j["source"].is_string());
  EXPECT_TRUE(j.contains("year"));
  ASSERT_TRUE(j["equivalents"].is_array());
  for (const auto& e : j["equivalents"]) {
    EXPECT_TRUE(e["amount_per_unit"].is_number());
    EXPECT_TRUE(e["source"].is_string());
  }
}

TEST_F(Cli, CarbonLocationFromEnvironmentAndWorldAverageWarning) {
  auto env = run("carbon --kwh 1 --json", "JOULEBENCH_COUNTRY=FRA");
  ASSERT_EQ(env.code, 0) << env.err;
  auto j = nlohmann::json::parse(env.out);
  EXPECT_EQ(j["country_iso3"], "FRA");
  EXPECT_EQ(j["location_origin"], "JOULEBENCH_COUNTRY");
  EXPECT_TRUE(j["year"].is_number());
  auto none = run("carbon --kwh 1");
  ASSERT_EQ(none.code, 0);
  EXPECT_NE(none.err.find("warning"), std::string::npos);
  EXPECT_NE(none.err.find("475"), std::string::npos);
}

TEST_F(Cli, CarbonRefusesBadInputWithExitCode2) {
  auto neg = run("carbon --kwh 1 --intensity -5");
  EXPECT_EQ(neg.code, 2);
  EXPECT_NE(neg.err.find("--intensity: -5 is out of range: carbon intensity must be a number from 0 to 5000"),
            std::string::npos)
      << neg.err;
  auto pue = run("carbon --kwh 1 --country FRA --pue -1");
  EXPECT_EQ(pue.code, 2);
  EXPECT_NE(pue.err.find("--pue"), std::string::npos) << pue.err;
  auto code = run("carbon --kwh 1 --cloud gcp:europe-wset1");
  EXPECT_EQ(code.code, 2);
  EXPECT_NE(code.err.find("gcp:europe-west1"), std::string::npos) << code.err;
  std::ofstream(dir_ / "joulebench.toml") << "[carbon]\npue = = 1\n";
  auto toml = run("carbon --kwh 1");
  EXPECT_EQ(toml.code, 2);
  EXPECT_NE(toml.err.find("joulebench.toml:2"), std::string::npos) << toml.err;
}

TEST_F(Cli, ImportExitCodesAndMessages) {
  auto bad = run("import codecarbon '" + kData + "not_codecarbon.csv'");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("missing columns"), std::string::npos) << bad.err;
  auto partial = run("import codecarbon '" + kData + "bad_rows.csv'");
  EXPECT_EQ(partial.code, 3);
  EXPECT_NE(partial.err.find("bad_rows.csv:3:"), std::string::npos) << partial.err;
  EXPECT_NE(partial.out.find("1000 inferences"), std::string::npos) << partial.out;
  auto good = run("import codecarbon --task fill-mask '" + kData + "cc3_with_pue.csv'");
  EXPECT_EQ(good.code, 0) << good.err;
  EXPECT_TRUE(fs::exists(dir_ / "joulebench.db"));
}

TEST_F(Cli, ReportJsonContractAndModelCard) {
  EXPECT_EQ(run("report").code, 2);  // no store yet
  ASSERT_EQ(run("import codecarbon --task fill-mask --store s.db '" + kData + "cc3_with_pue.csv'").code, 0);
  auto r = run("report --by model --json --store s.db");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  for (const char* k : {"task", "model", "runs", "kwh_per_1000_mean", "kwh_per_1000_std", "gco2e_per_1000_mean"})
    EXPECT_TRUE(j[0].contains(k)) << k;
  EXPECT_EQ(j[0]["task"], "fill-mask");
  EXPECT_EQ(j[0]["runs"], 2);
  // Two rows of 1,000 inferences: (0.00165 + 0.00315) / 2 kWh with the log's PUE 1.5 taken out.
  EXPECT_NEAR(j[0]["kwh_per_1000_mean"].get<double>(), (0.00165 + 0.00315) / 2 / 1.5, 1e-12);
  // One stored run per CodeCarbon run (run_id), so a model card is one model's run, not a file's.
  auto runs = run("report --runs --json --store s.db");
  ASSERT_EQ(runs.code, 0);
  const auto listed = nlohmann::json::parse(runs.out);
  ASSERT_EQ(listed.size(), 2u);
  const std::string id = listed.at(0)["id"];
  auto card = run("report --model-card " + id.substr(0, 8) + " --store s.db");
  ASSERT_EQ(card.code, 0) << card.err;
  EXPECT_EQ(card.out.rfind("co2_eq_emissions:\n  emissions: 1.5\n", 0), 0u) << card.out;
  EXPECT_NE(card.out.find("geographical_location:"), std::string::npos);
  EXPECT_NE(card.out.find("hardware_used: \"1 x NVIDIA L4"), std::string::npos) << card.out;
}

TEST_F(Cli, ImportOfAnUnknownPhaseIsPartialWithFileAndLine) {
  auto r = run("import codecarbon '" + kData + "phases'");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("emissions_base_dddddddd-1111-4111-8111-00000000000d.csv:4: task_name 'Frobnicate'"),
            std::string::npos)
      << r.err;
  auto mapped = run("import codecarbon --phase Frobnicate=inference '" + kData + "phases'");
  EXPECT_EQ(mapped.code, 0) << mapped.err;
  EXPECT_EQ(run("import codecarbon --phase nonsense '" + kData + "phases'").code, 2);
}

TEST_F(Cli, StudyTablesAndTheirJsonContract) {
  auto none = run("study");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("joulebench import codecarbon"), std::string::npos) << none.err;
  // A store with no study logs in it: the same message.
  ASSERT_EQ(run("import codecarbon --store other.db '" + kData + "cc2_no_pue.csv'").code, 0);
  auto empty = run("study --store other.db");
  EXPECT_EQ(empty.code, 2);
  EXPECT_NE(empty.err.find("joulebench import codecarbon"), std::string::npos) << empty.err;

  ASSERT_EQ(run("import codecarbon '" + kData + "study/complete' '" + kData + "study/base'").code, 0);
  auto text = run("study");
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("Per task"), std::string::npos);
  EXPECT_NE(text.out.find("question-answering"), std::string::npos);
  EXPECT_NE(text.out.find("Power Hungry Processing"), std::string::npos);
  auto json = run("study --json");
  ASSERT_EQ(json.code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  bool qa = false;
  for (const auto& row : j) {
    if (row["table"] == "tasks" && row["row"] == "question-answering" && row["metric"] == "kwh_per_1000_mean") {
      qa = true;
      EXPECT_DOUBLE_EQ(row["published"].get<double>(), 0.003);
      EXPECT_NEAR(row["reproduced"].get<double>(), 0.003, 1e-12);  // the query row, zero-shot runs out
      EXPECT_NEAR(row["ratio"].get<double>(), 1.0, 1e-9);
      EXPECT_EQ(row["runs"], 1);
    }
  }
  EXPECT_TRUE(qa);
  // report --by task leaves the zero-shot runs out and says so; --include-zero-shot counts them.
  auto by_task = run("report --by task --json");
  ASSERT_EQ(by_task.code, 0);
  EXPECT_EQ(nlohmann::json::parse(by_task.out).at(0)["runs"], 1);
  auto text_report = run("report --by task");
  EXPECT_NE(text_report.out.find("zero-shot"), std::string::npos) << text_report.out;
  auto with = run("report --by task --include-zero-shot --json");
  EXPECT_EQ(nlohmann::json::parse(with.out).at(0)["runs"], 3);
}
