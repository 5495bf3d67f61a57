// `joulebench project` contracts, against the built binary in a scratch folder.
#include <gtest/gtest.h>

#include "../support/cli_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;

namespace {

class ProjectCli : public jbtest::CliFixture {};

const std::string kLogs = std::string(JOULEBENCH_SHARED_REFERENCE_DIR) + "/study-logs/complete/text_classif_imdb.csv";

}  // namespace

TEST_F(ProjectCli, LifecycleContract) {
  auto r = run("project --training-kwh 10505 --finetune-kwh 543 --kwh-per-query 5.4e-5 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["breakeven_queries"].get<double>(), 204592592);  // the study's BLOOMz-560M row
  EXPECT_DOUBLE_EQ(j["training_total_kwh"].get<double>(), 11048);
}

TEST_F(ProjectCli, NonsenseIsRefusedWithTheReason) {
  auto zero = run("project --kwh-per-request 0 --requests-per-day 10 --intensity 100");
  EXPECT_EQ(zero.code, 2);
  EXPECT_NE(zero.err.find("energy per request"), std::string::npos) << zero.err;
  auto negative = run("project --kwh-per-request 1e-6 --requests-per-day -5 --intensity 100");
  EXPECT_EQ(negative.code, 2);
  EXPECT_NE(negative.err.find("--requests-per-day"), std::string::npos) << negative.err;
  auto nothing = run("project --kwh-per-request 1e-6");
  EXPECT_EQ(nothing.code, 2);
  auto no_store = run("project --model m --requests-per-day 10");
  EXPECT_EQ(no_store.code, 2);
  EXPECT_NE(no_store.err.find("import codecarbon"), std::string::npos);
}

TEST_F(ProjectCli, DeploymentFromTheStoreWithAlternativesAndScale) {
  ASSERT_EQ(run("import codecarbon '" + kLogs + "'").code, 0);
  auto unknown = run("project --model nope --requests-per-day 10 --intensity 100");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("lvwerra/distilbert-imdb"), std::string::npos) << unknown.err;

  auto r = run("project --model lvwerra/distilbert-imdb --users 1000 --requests-per-user 20 --days 10 "
               "--intensity 200 --pue 1.5 --price-per-kwh 0.1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& d = j["deployment"];
  const double per_request = d["kwh_per_request"].get<double>();
  EXPECT_GT(per_request, 0);
  EXPECT_DOUBLE_EQ(d["requests_per_day"].get<double>(), 20000);
  EXPECT_NEAR(d["per_day"]["kwh"].get<double>(), per_request * 20000, 1e-12);
  EXPECT_NEAR(d["per_day"]["kg_co2e"].get<double>(), per_request * 20000 * 1.5 * 200 / 1000, 1e-12);
  EXPECT_NEAR(d["total"]["cost"].get<double>(), per_request * 20000 * 10 * 1.5 * 0.1, 1e-12);
  EXPECT_EQ(j["task"], "text-classification");
  // The imdb log holds 8 models: the 7 others are the alternatives.
  ASSERT_EQ(j["alternatives"].size(), 7u);
  for (const auto& alt : j["alternatives"]) EXPECT_NE(alt["label"], "lvwerra/distilbert-imdb");
}

TEST_F(ProjectCli, TrainingEnergyFromAStoredRun) {
  ASSERT_EQ(run("import codecarbon '" + kLogs + "'").code, 0);
  auto runs = run("report --runs --json");
  ASSERT_EQ(runs.code, 0) << runs.err;
  const auto list = nlohmann::json::parse(runs.out);
  ASSERT_FALSE(list.empty());
  const std::string id = list.front()["id"];
  const double kwh = list.front()["energy_kwh"].get<double>();
  auto r = run("project --training-run " + id.substr(0, 8) + " --kwh-per-query 1e-6 --queries-per-day 1000 --json "
               "--intensity 100");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["training_kwh"].get<double>(), kwh, kwh * 1e-9);
  EXPECT_NEAR(j["breakeven_queries_exact"].get<double>(), kwh / 1e-6, kwh * 1e-3);
  EXPECT_NEAR(j["breakeven_days"].get<double>(), kwh / 1e-6 / 1000, kwh * 1e-6);
  // With queries a day, the deployment is projected too.
  EXPECT_TRUE(j["deployment"].is_object());
  auto both = run("project --training-run " + id.substr(0, 8) + " --training-kwh 5 --kwh-per-query 1e-6");
  EXPECT_EQ(both.code, 2);
  auto unknown = run("project --training-run ffffffff --kwh-per-query 1e-6");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find(id), std::string::npos) << unknown.err;
}
