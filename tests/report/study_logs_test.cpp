// Imports the study's own CodeCarbon logs and checks the report against
// figures computed here, independently, from the CSV files.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "joulebench/codecarbon.h"
#include "joulebench/report.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

const fs::path kLogs = fs::path(JOULEBENCH_SHARED_REFERENCE_DIR) / "study-logs";

// The study's logs hold no quoted fields: a plain split is an independent reader.
std::vector<std::map<std::string, std::string>> read_plain(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream hs(line);
  for (std::string c; std::getline(hs, c, ',');) header.push_back(c);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::map<std::string, std::string> row;
    std::stringstream ss(line);
    std::size_t i = 0;
    for (std::string c; std::getline(ss, c, ',') && i < header.size(); ++i) row[header[i]] = c;
    rows.push_back(row);
  }
  return rows;
}

struct Acc {
  std::vector<double> kwh, g;
};

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// This test's own reading of the file names present in study-logs/complete.
std::string task_of(const std::string& stem) {
  if (stem.rfind("text_classif_", 0) == 0) return "text-classification";
  if (stem.rfind("textgen_", 0) == 0) return "text-generation";
  if (stem.rfind("tti_", 0) == 0) return "text-to-image";
  if (stem.rfind("image_class_", 0) == 0) return "image-classification";
  return "?";
}

class StudyLogs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(kLogs)) return;
    db_ = fs::temp_directory_path() / ("jb-study-" + std::to_string(::getpid()) + ".db");
    fs::remove(db_);
    store_ = open_store(db_).release();
    summary_ = new CodeCarbonImportSummary(import_codecarbon(*store_, {kLogs}, {}));
    // Independent figures, by this test's own reading of the files: a run's
    // inference is its base/ file's "query model" row (1,000 inferences, the
    // study's protocol); task and model from the complete/ file naming it.
    std::map<std::string, std::pair<double, double>> query;  // run_id -> (kWh, g)
    for (const auto& e : fs::directory_iterator(kLogs / "base"))
      for (const auto& row : read_plain(e.path())) {
        ++base_rows_;
        if (row.at("task_name") == "query model")
          query[row.at("run_id")] = {std::stod(row.at("energy_consumed")), std::stod(row.at("emissions")) * 1000.0};
      }
    std::set<std::string> named;
    for (const auto& e : fs::directory_iterator(kLogs / "complete")) {
      const std::string task = task_of(e.path().stem().string());
      for (const auto& row : read_plain(e.path())) {
        ++complete_rows_;
        const std::string id = row.at("run_id");
        named.insert(id);
        const double pue = row.count("pue") && !row.at("pue").empty() ? std::stod(row.at("pue")) : 1.0;
        auto [kwh, g] = query.count(id) ? query.at(id)
                                        : std::pair{std::stod(row.at("energy_consumed")) / pue,
                                                    std::stod(row.at("emissions")) * 1000.0};
        by_task_[task].kwh.push_back(kwh);
        by_task_[task].g.push_back(g);
        by_model_[{task, row.at("project_name")}].kwh.push_back(kwh);
        by_model_[{task, row.at("project_name")}].g.push_back(g);
      }
    }
    // Base files of runs no complete/ file here names: task unknown.
    for (const auto& [id, kg] : query)
      if (!named.count(id)) {
        by_task_[""].kwh.push_back(kg.first);
        by_task_[""].g.push_back(kg.second);
      }
  }
  static void TearDownTestSuite() {
    delete store_;
    delete summary_;
    store_ = nullptr;
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db_.string() + ext);
  }
  void SetUp() override {
    if (!store_) GTEST_SKIP() << "shared/reference/study-logs not present";
  }

  static inline fs::path db_;
  static inline Store* store_ = nullptr;
  static inline CodeCarbonImportSummary* summary_ = nullptr;
  static inline std::map<std::string, Acc> by_task_;
  static inline std::size_t base_rows_ = 0, complete_rows_ = 0;
  static inline std::map<std::pair<std::string, std::string>, Acc> by_model_;
};

void expect_close(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-9 * std::max(1.0, std::abs(want))) << what;
}

}  // namespace

TEST_F(StudyLogs, EveryFileImportsWithoutBadRows) {
  EXPECT_EQ(summary_->failed_files(), 0u);
  EXPECT_EQ(summary_->skipped(), 0u);
  // Every row is stored once: complete/ rows and every base/ row (load, transfer, query).
  EXPECT_EQ(summary_->imported(), complete_rows_ + base_rows_);
  EXPECT_EQ(summary_->duplicates(), 0u);
  // One run per CodeCarbon run, not per file.
  std::size_t runs = 0;
  for (const auto& [task, acc] : by_task_) runs += acc.kwh.size();
  EXPECT_EQ(store_->list_runs().size(), runs);
}

TEST_F(StudyLogs, ImportingAgainAddsNothing) {
  const auto again = import_codecarbon(*store_, {kLogs / "base", kLogs / "complete"}, {});
  EXPECT_EQ(again.imported(), 0u);
  EXPECT_EQ(again.duplicates(), complete_rows_ + base_rows_);
}

TEST_F(StudyLogs, ByTaskMatchesFiguresComputedFromTheCsvFiles) {
  ReportOptions o;
  o.by = ReportGrouping::task;
  const Report r = build_report(*store_, o);
  ASSERT_EQ(r.rows.size(), by_task_.size());
  for (const auto& row : r.rows) {
    ASSERT_TRUE(by_task_.count(row.task)) << row.task;
    const Acc& a = by_task_.at(row.task);
    EXPECT_EQ(row.runs, static_cast<int>(a.kwh.size())) << row.task;
    expect_close(row.kwh_per_1000_mean, mean(a.kwh), row.task + " mean");
    expect_close(row.kwh_per_1000_std, sample_std(a.kwh), row.task + " std");
    expect_close(row.gco2e_per_1000_mean, mean(a.g), row.task + " g");
    expect_close(row.gco2e_per_1000_std, sample_std(a.g), row.task + " g std");
  }
}

TEST_F(StudyLogs, ByModelMatchesFiguresComputedFromTheCsvFiles) {
  ReportOptions o;
  o.by = ReportGrouping::model;
  const Report r = build_report(*store_, o);
  std::size_t checked = 0;
  for (const auto& row : r.rows) {
    if (row.task.empty()) continue;  // base/ files of runs not named here, checked by task
    auto it = by_model_.find({row.task, row.model});
    ASSERT_NE(it, by_model_.end()) << row.task << " " << row.model;
    EXPECT_EQ(row.runs, static_cast<int>(it->second.kwh.size()));
    expect_close(row.kwh_per_1000_mean, mean(it->second.kwh), row.model);
    expect_close(row.kwh_per_1000_std, sample_std(it->second.kwh), row.model);
    expect_close(row.gco2e_per_1000_mean, mean(it->second.g), row.model);
    ++checked;
  }
  EXPECT_EQ(checked, by_model_.size());
}

TEST_F(StudyLogs, JsonContractHoldsTheSameFigures) {
  ReportOptions o;
  o.by = ReportGrouping::model;
  o.task = "text-to-image";
  const auto j = report_json(build_report(*store_, o));
  ASSERT_TRUE(j.is_array());
  ASSERT_FALSE(j.empty());
  for (const auto& row : j) {
    for (const char* k : {"task", "model", "runs", "kwh_per_1000_mean", "kwh_per_1000_std", "gco2e_per_1000_mean"})
      EXPECT_TRUE(row.contains(k)) << k;
    EXPECT_EQ(row["task"], "text-to-image");
    const auto& a = by_model_.at({"text-to-image", row["model"].get<std::string>()});
    expect_close(row["kwh_per_1000_mean"].get<double>(), mean(a.kwh), "json");
  }
}

TEST_F(StudyLogs, LoggedIntensityIsTheRatioTheStudyNotes) {
  // STUDY.md: logged emissions / energy = about 139 g CO2e/kWh.
  for (const auto& run : store_->list_runs()) {
    auto r = store_->load_run(run.id);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->intensity.origin, IntensityOrigin::logged);
    EXPECT_NEAR(r->intensity.g_per_kwh, 139, 5) << r->source;
    EXPECT_EQ(r->intensity.country_iso3, "USA");
    break;
  }
}
