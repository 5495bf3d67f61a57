#include <gtest/gtest.h>

#include <filesystem>

#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "joulebench/store.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {
const fs::path kData = fs::path(JOULEBENCH_TEST_SOURCE_DIR) / "data";
}  // namespace

TEST(StudyFileNames, MapEveryPrefixOfTheStudy) {
  struct Case {
    const char* stem;
    const char* task;
    const char* dataset;
  };
  for (const auto& c : std::vector<Case>{
           {"text_classif_imdb", "text-classification", "imdb"},
           {"textgen_wikitext", "text-generation", "wikitext"},
           {"tti_sd_prompts", "text-to-image", "sd_prompts"},
           {"image_class_imagenet", "image-classification", "imagenet"},
           {"image_class_cifar10_resized", "image-classification", "cifar10-resized"},
           {"fillmask_c4", "fill-mask", "c4"},
           {"itt_redcaps", "image-to-text", "redcaps"},
           {"obj_detection_CPPE", "object-detection", "cppe"},
           {"qa_squadv2", "question-answering", "squadv2"},
           {"summarize_cnn_15", "summarization", "cnn"},
           {"token_classif_conll2003", "token-classification", "conll2003"},
           {"zeroshot_qa_sciq_bloomz", "question-answering", "sciq"},
           {"zeroshot_sentiment_sst2", "text-classification", "sst2"},
           {"zeroshot_summarize_xsum", "summarization", "xsum"},
       }) {
    auto t = study_task_from_file_name(c.stem);
    ASSERT_TRUE(t) << c.stem;
    EXPECT_EQ(t->task, c.task) << c.stem;
    EXPECT_EQ(t->dataset, c.dataset) << c.stem;
    EXPECT_TRUE(task_from_string(t->task)) << t->task;
  }
  EXPECT_TRUE(study_task_from_file_name("zeroshot_qa_sciq")->zero_shot);
  EXPECT_FALSE(study_task_from_file_name("emissions_base_000f2a61"));
  EXPECT_FALSE(study_task_from_file_name("emissions"));
}

namespace {

class Import : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = fs::temp_directory_path() / ("jb-import-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    fs::remove(db_);
    store_ = open_store(db_);
  }
  void TearDown() override {
    store_.reset();
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db_.string() + ext);
  }
  fs::path db_;
  std::unique_ptr<Store> store_;
};

}  // namespace

TEST_F(Import, CodeCarbon3WithPueAndQuotedFields) {
  CodeCarbonImportOptions o;
  o.task = "text-generation";
  o.dataset = "mine";
  auto s = import_codecarbon(*store_, {kData / "cc3_with_pue.csv"}, o);
  ASSERT_EQ(s.files.size(), 1u);
  const auto& f = s.files[0];
  EXPECT_TRUE(f.error.empty()) << f.error;
  EXPECT_EQ(f.imported, 2u);
  EXPECT_EQ(f.version, "3.0.1");
  EXPECT_NE(f.column_set.find("3.x"), std::string::npos) << f.column_set;
  EXPECT_EQ(f.task_origin, "--task");
  auto run = store_->load_run(f.run_id);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->kind, RunKind::import);
  EXPECT_DOUBLE_EQ(run->pue, 1.5);
  EXPECT_EQ(run->machine.cpu_model, "Intel(R) Xeon(R) CPU, 8 cores");
  EXPECT_EQ(run->intensity.country_iso3, "FRA");
  EXPECT_EQ(run->intensity.origin, IntensityOrigin::logged);
  EXPECT_NEAR(run->intensity.g_per_kwh, (1.5 + 3.0) / (0.00165 + 0.00315), 1e-9);
  ASSERT_EQ(run->windows.size(), 2u);
  const auto& w = run->windows[0];
  EXPECT_EQ(w.model, "my-org/model, v2");
  EXPECT_EQ(w.task, "text-generation");
  EXPECT_EQ(w.dataset, "mine");
  EXPECT_EQ(w.inferences, 1000);
  // Energies are stored without the PUE (the log's columns include it).
  EXPECT_NEAR(w.measurement.total_energy_j(), 0.00165 * 3.6e6 / 1.5, 1e-9);
  EXPECT_NEAR(*w.g_co2e, 1.5, 1e-12);
  EXPECT_DOUBLE_EQ(w.measurement.duration_s, 10.0);
  EXPECT_EQ(format_utc(w.measurement.start_time), "2025-03-01T10:00:00Z");
  EXPECT_EQ(w.external_id, "11111111-1111-4111-8111-111111111111");
}

TEST_F(Import, CodeCarbon2WithoutPue) {
  auto s = import_codecarbon(*store_, {kData / "cc2_no_pue.csv"}, {});
  const auto& f = s.files.at(0);
  ASSERT_TRUE(f.error.empty()) << f.error;
  EXPECT_EQ(f.imported, 1u);
  EXPECT_NE(f.column_set.find("no pue"), std::string::npos);
  EXPECT_EQ(f.task_origin, "none");
  auto run = store_->load_run(f.run_id);
  EXPECT_DOUBLE_EQ(run->pue, 1.0);
  EXPECT_NE(run->pue_source.find("no pue column"), std::string::npos);
  EXPECT_NEAR(run->windows.at(0).measurement.total_energy_j(), 0.00034 * 3.6e6, 1e-9);
}

TEST_F(Import, BadRowsAreReportedWithFileAndLineSkippedAndCounted) {
  auto s = import_codecarbon(*store_, {kData / "bad_rows.csv"}, {});
  const auto& f = s.files.at(0);
  ASSERT_TRUE(f.error.empty()) << f.error;
  EXPECT_EQ(f.rows, 6u);
  EXPECT_EQ(f.imported, 2u);
  EXPECT_EQ(f.skipped, 4u);
  ASSERT_EQ(f.issues.size(), 4u);
  const std::string name = (kData / "bad_rows.csv").string();
  EXPECT_EQ(f.issues[0].to_string().rfind(name + ":3: column gpu_energy", 0), 0u) << f.issues[0].to_string();
  EXPECT_EQ(f.issues[1].line, 4u);
  EXPECT_NE(f.issues[1].reason.find("fields"), std::string::npos);
  EXPECT_EQ(f.issues[2].line, 5u);
  EXPECT_NE(f.issues[2].reason.find("timestamp"), std::string::npos);
  EXPECT_EQ(f.issues[3].line, 6u);
  EXPECT_NE(f.issues[3].reason.find("negative"), std::string::npos);
  EXPECT_EQ(s.skipped(), 4u);
  WindowQuery q;
  EXPECT_EQ(store_->query_windows(q).size(), 2u);
}

TEST_F(Import, ACsvThatIsNotCodeCarbonsSaysWhichColumnsAreMissing) {
  auto s = import_codecarbon(*store_, {kData / "not_codecarbon.csv"}, {});
  const auto& f = s.files.at(0);
  EXPECT_NE(f.error.find("missing columns"), std::string::npos) << f.error;
  for (const char* c : {"timestamp", "run_id", "energy_consumed", "emissions"})
    EXPECT_NE(f.error.find(c), std::string::npos) << c;
  EXPECT_EQ(s.failed_files(), 1u);
  EXPECT_TRUE(store_->list_runs().empty());
}

TEST_F(Import, ReimportIsDetectedAndAddsNothing) {
  import_codecarbon(*store_, {kData / "bad_rows.csv"}, {});
  auto again = import_codecarbon(*store_, {kData / "bad_rows.csv"}, {});
  EXPECT_EQ(again.duplicates(), 2u);
  EXPECT_EQ(again.imported(), 0u);
  EXPECT_EQ(store_->list_runs().size(), 1u);
}

TEST_F(Import, DryRunWritesNothing) {
  CodeCarbonImportOptions o;
  o.dry_run = true;
  auto s = import_codecarbon(*store_, {kData}, o);
  EXPECT_GT(s.imported(), 0u);
  EXPECT_TRUE(store_->list_runs().empty());
}

TEST_F(Import, BadOptionsAreRefusedBeforeAnything) {
  CodeCarbonImportOptions o;
  o.task = "sentiment";
  EXPECT_THROW(import_codecarbon(*store_, {kData}, o), InputError);
  o.task.reset();
  o.inferences = 0;
  EXPECT_THROW(import_codecarbon(*store_, {kData}, o), InputError);
  auto missing = import_codecarbon(*store_, {kData / "nope.csv"}, {});
  EXPECT_NE(missing.files.at(0).error.find("no such file"), std::string::npos);
}

TEST_F(Import, StudyLogsTaskFromFileNameAndTaskFiles) {
  const fs::path logs = fs::path(JOULEBENCH_SHARED_REFERENCE_DIR) / "study-logs";
  if (!fs::exists(logs)) GTEST_SKIP() << "shared/reference not present";
  auto s = import_codecarbon(*store_, {logs / "complete" / "text_classif_imdb.csv"}, {});
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_EQ(s.files[0].task, "text-classification");
  EXPECT_EQ(s.files[0].dataset, "imdb");
  EXPECT_EQ(s.files[0].task_origin, "file name");
  EXPECT_EQ(s.files[0].imported, 80u);
  EXPECT_EQ(s.files[0].version, "2.3.1");
  auto base = import_codecarbon(*store_, {logs / "base"}, {});
  EXPECT_EQ(base.failed_files(), 0u);
  EXPECT_EQ(base.skipped(), 0u);
  WindowQuery load;
  load.phase = "load";
  auto loads = store_->query_windows(load);
  EXPECT_EQ(loads.size(), base.files.size());  // one "load model" row per task file
  for (const auto& w : loads) EXPECT_FALSE(w.window.inferences);
}
