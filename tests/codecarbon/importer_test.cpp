#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "joulebench/report.h"
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
  // Each CodeCarbon run_id is one run; its id is the same whoever imports it.
  ASSERT_EQ(f.run_ids.size(), 2u);
  EXPECT_EQ(f.runs, 2u);
  EXPECT_EQ(f.run_ids[0], import_run_id("11111111-1111-4111-8111-111111111111"));
  auto run = store_->load_run(f.run_ids[0]);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->kind, RunKind::import);
  EXPECT_DOUBLE_EQ(run->pue, 1.5);
  EXPECT_EQ(run->machine.cpu_model, "Intel(R) Xeon(R) CPU, 8 cores");
  EXPECT_EQ(run->intensity.country_iso3, "FRA");
  EXPECT_EQ(run->intensity.origin, IntensityOrigin::logged);
  EXPECT_NEAR(run->intensity.g_per_kwh, 1.5 / 0.00165, 1e-9);
  ASSERT_EQ(run->windows.size(), 1u);
  const auto& w = run->windows[0];
  EXPECT_EQ(w.model, "my-org/model, v2");
  EXPECT_EQ(run->project, "my-org/model, v2");
  EXPECT_EQ(w.task, "text-generation");
  EXPECT_EQ(w.dataset, "mine");
  EXPECT_EQ(w.inferences, 1000);
  EXPECT_FALSE(w.includes_loading);  // a plain CodeCarbon row is not a study's whole-run row with a known split
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
  auto run = store_->load_run(f.run_ids.at(0));
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
  EXPECT_EQ(store_->list_runs().size(), 2u);  // its two good rows: two CodeCarbon runs
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
  // One "load model" row per task file, and the text-to-image runs' "transfer model to GPU" rows.
  std::size_t transfers = 0;
  for (const auto& e : fs::directory_iterator(logs / "base")) {
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) transfers += line.rfind("transfer model to GPU,", 0) == 0;
  }
  EXPECT_EQ(transfers, 100u);
  EXPECT_EQ(loads.size(), base.files.size() + transfers);
  for (const auto& w : loads) EXPECT_FALSE(w.window.inferences);
}

namespace {

const fs::path kStudy = kData / "study";
const std::string kRunA = "aaaaaaaa-1111-4111-8111-00000000000a";  // zero-shot, complete + base
const std::string kRunB = "bbbbbbbb-1111-4111-8111-00000000000b";  // zero-shot, complete only
const std::string kRunC = "cccccccc-1111-4111-8111-00000000000c";  // task-specific, complete + base

// The store's state as text: every run's windows with what reports read.
std::string snapshot(Store& store) {
  std::string out;
  for (const auto& r : store.list_runs()) {
    auto run = store.load_run(r.id);
    out += fmt::format("run {} {}\n", run->id, run->project);
    for (const auto& w : run->windows)
      out += fmt::format("  {} {} {} {} {} zs={} load={} share={} inf={} kWh={:.9f}\n", w.external_id, w.phase, w.task,
                         w.dataset, w.model, w.zero_shot, w.includes_loading,
                         w.loading_share ? fmt::format("{:.4f}", *w.loading_share) : "-",
                         w.inferences ? std::to_string(*w.inferences) : "-",
                         joules_to_kwh(w.measurement.total_energy_j()));
  }
  return out;
}

const WindowRecord* window_of(const RunRecord& run, const std::string& external_id) {
  for (const auto& w : run.windows)
    if (w.external_id == external_id) return &w;
  return nullptr;
}

}  // namespace

TEST_F(Import, PhasesOfTaskFilesAndUnknownNamesReportedNeverStoredAsInference) {
  auto s = import_codecarbon(*store_, {kData / "phases"}, {});
  const auto& f = s.files.at(0);
  EXPECT_EQ(f.rows, 4u);
  EXPECT_EQ(f.imported, 3u);
  ASSERT_EQ(f.issues.size(), 1u);
  EXPECT_EQ(f.issues[0].line, 4u);
  EXPECT_NE(f.issues[0].to_string().find(f.file.string() + ":4: task_name 'Frobnicate'"), std::string::npos)
      << f.issues[0].to_string();
  EXPECT_NE(f.issues[0].reason.find("--phase"), std::string::npos);
  auto run = store_->load_run(f.run_ids.at(0));
  ASSERT_TRUE(run);
  const std::string d = "dddddddd-1111-4111-8111-00000000000d";
  EXPECT_EQ(window_of(*run, d + "/load model")->phase, "load");
  EXPECT_EQ(window_of(*run, d + "/transfer model to GPU")->phase, "load");
  EXPECT_EQ(window_of(*run, d + "/warm-up")->phase, "warmup");
  EXPECT_EQ(window_of(*run, d + "/Frobnicate"), nullptr);
  WindowQuery inference;
  EXPECT_TRUE(store_->query_windows(inference).empty());  // nothing counted as inference

  // Mapped by the user, the row is an inference window.
  CodeCarbonImportOptions o;
  o.phases["frobnicate"] = "inference";
  auto again = import_codecarbon(*store_, {kData / "phases"}, o);
  EXPECT_EQ(again.files.at(0).imported, 1u);
  EXPECT_EQ(again.files.at(0).duplicates, 3u);
  EXPECT_EQ(store_->query_windows(inference).size(), 1u);
  o.phases["frobnicate"] = "sideways";
  EXPECT_THROW(import_codecarbon(*store_, {kData / "phases"}, o), InputError);
}

TEST_F(Import, OneRunPerCodeCarbonRunWhateverTheOrderAndNumberOfImports) {
  // complete/ then base/, base/ then complete/, both at once, each twice: one state.
  std::vector<std::vector<std::vector<fs::path>>> orders{
      {{kStudy / "complete"}, {kStudy / "base"}},
      {{kStudy / "base"}, {kStudy / "complete"}},
      {{kStudy / "complete", kStudy / "base"}},
      {{kStudy / "base", kStudy / "complete"}, {kStudy}, {kStudy / "complete"}},
  };
  std::string first;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    const fs::path db = db_.string() + std::to_string(i);
    fs::remove(db);
    auto store = open_store(db);
    for (const auto& paths : orders[i]) {
      auto s = import_codecarbon(*store, paths, {});
      EXPECT_EQ(s.skipped(), 0u);
    }
    EXPECT_EQ(store->list_runs().size(), 3u);  // three CodeCarbon runs, three stored runs
    const std::string state = snapshot(*store);
    if (i == 0) first = state;
    else EXPECT_EQ(state, first) << "order " << i;
    store.reset();
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext);
  }
  EXPECT_NE(first.find(kRunA + "/query model inference question-answering squadv2"), std::string::npos) << first;
}

TEST_F(Import, QueryRowIsTheInferenceAndTheCompleteRowBecomesTheWholeRun) {
  import_codecarbon(*store_, {kStudy / "base"}, {});
  // Before the complete/ file: the task is not known yet.
  auto c = store_->load_run(import_run_id(kRunC));
  ASSERT_TRUE(c);
  EXPECT_EQ(window_of(*c, kRunC + "/query model")->task, "");
  import_codecarbon(*store_, {kStudy / "complete"}, {});
  c = store_->load_run(import_run_id(kRunC));
  ASSERT_EQ(c->windows.size(), 3u);
  const auto* query = window_of(*c, kRunC + "/query model");
  const auto* whole = window_of(*c, kRunC);
  const auto* load = window_of(*c, kRunC + "/load model");
  EXPECT_EQ(query->phase, "inference");
  EXPECT_EQ(query->inferences, 1000);
  EXPECT_EQ(query->task, "question-answering");  // from the complete/ file's name
  EXPECT_EQ(query->dataset, "squadv2");
  EXPECT_FALSE(query->zero_shot);
  EXPECT_FALSE(query->includes_loading);
  EXPECT_EQ(load->phase, "load");
  EXPECT_EQ(load->task, "question-answering");
  EXPECT_EQ(whole->phase, "whole");
  EXPECT_FALSE(whole->inferences);
  EXPECT_NEAR(joules_to_kwh(query->measurement.total_energy_j()), 0.003, 1e-12);
  EXPECT_EQ(c->project, "deepset/roberta-base-squad2");
  // So does the list of runs.
  for (const auto& listed : store_->list_runs())
    if (listed.id == c->id) {
      EXPECT_NEAR(joules_to_kwh(listed.energy_j), 0.004, 1e-12);
    }
  // The model card of the run counts load + query once, not again with the whole-run row.
  const std::string card = model_card_yaml(*c);
  EXPECT_NE(card.find(fmt::format("emissions: {:.6g}\n", (0.001 + 0.003) * 139)), std::string::npos) << card;
  // The report counts the query row alone: 0.003 kWh per 1,000, one run.
  ReportOptions o;
  o.by = ReportGrouping::model;
  o.model = "deepset/roberta-base-squad2";
  const auto r = build_report(*store_, o);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].runs, 1);
  EXPECT_NEAR(r.rows[0].kwh_per_1000_mean, 0.003, 1e-12);
  EXPECT_EQ(r.rows[0].loading_included_runs, 0);
}

TEST_F(Import, ZeroShotRunsAreMarkedAndLeftOutOfTaskMeansUnlessAsked) {
  auto s = import_codecarbon(*store_, {kStudy}, {});
  EXPECT_EQ(s.skipped(), 0u);
  for (const auto& f : s.files)
    if (f.file.filename() == "zeroshot_qa_squad2.csv") {
      EXPECT_TRUE(f.zero_shot);
      EXPECT_EQ(f.dataset, "squadv2");  // squad2 and squadv2 are one dataset
      EXPECT_EQ(f.runs, 2u);
    }
  ReportOptions o;
  o.by = ReportGrouping::task;
  auto r = build_report(*store_, o);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].task, "question-answering");
  EXPECT_EQ(r.rows[0].runs, 1);  // the task-specific run only
  EXPECT_EQ(r.zero_shot_left_out, 2u);
  bool said = false;
  for (const auto& n : r.notes) said = said || n.find("zero-shot") != std::string::npos;
  EXPECT_TRUE(said);
  o.include_zero_shot = true;
  r = build_report(*store_, o);
  EXPECT_EQ(r.rows.at(0).runs, 3);
  // By model they are always there, marked.
  o.include_zero_shot = false;
  o.by = ReportGrouping::model;
  r = build_report(*store_, o);
  for (const auto& row : r.rows)
    if (row.model == "google/flan-t5-base") {
      EXPECT_EQ(row.runs, 2);
      EXPECT_EQ(row.zero_shot_runs, 2);
      // Run A has its query row (0.020); run B only its complete row (0.032), flagged.
      EXPECT_EQ(row.loading_included_runs, 1);
      EXPECT_NEAR(row.kwh_per_1000_mean, (0.020 + 0.032) / 2, 1e-12);
    }
}

TEST_F(Import, ACompleteRowAloneIsStoredFlaggedIncludesLoadingWithTheShareWhenKnown) {
  import_codecarbon(*store_, {kStudy / "complete" / "qa_squadv2.csv"}, {});
  auto c = store_->load_run(import_run_id(kRunC));
  ASSERT_EQ(c->windows.size(), 1u);
  EXPECT_EQ(c->windows[0].phase, "inference");
  EXPECT_TRUE(c->windows[0].includes_loading);
  EXPECT_FALSE(c->windows[0].loading_share);
  ReportOptions o;
  auto r = build_report(*store_, o);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].loading_included_runs, 1);
  EXPECT_NE(render_table(r).find("4.00 Wh *"), std::string::npos) << render_table(r);
  EXPECT_NE(render_markdown(r).find("includes model loading"), std::string::npos);
  EXPECT_EQ(report_json(r)[0]["loading_included_runs"], 1);
  // A task file with the load row only: the share becomes known (0.001 of 0.004).
  const fs::path dir = fs::temp_directory_path() / ("jb-load-only-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path base = kStudy / "base" / ("emissions_base_" + kRunC + ".csv");
  std::ifstream in(base);
  std::string header, load;
  std::getline(in, header);
  std::getline(in, load);
  std::ofstream(dir / base.filename()) << header << "\n" << load << "\n";
  import_codecarbon(*store_, {dir}, {});
  fs::remove_all(dir);
  c = store_->load_run(import_run_id(kRunC));
  const auto* whole = window_of(*c, kRunC);
  ASSERT_TRUE(whole);
  EXPECT_TRUE(whole->includes_loading);
  ASSERT_TRUE(whole->loading_share);
  EXPECT_NEAR(*whole->loading_share, 0.25, 1e-9);
  r = build_report(*store_, o);
  EXPECT_NE(render_table(r).find("(load 25%)"), std::string::npos) << render_table(r);
}

TEST(DatasetNames, TheStudysSpellingsOfOneSetAreOne) {
  EXPECT_EQ(normalize_dataset_name("squad2"), "squadv2");
  EXPECT_EQ(normalize_dataset_name("SQuAD_v2"), "squadv2");
  EXPECT_EQ(normalize_dataset_name("squadv2"), "squadv2");
  EXPECT_EQ(normalize_dataset_name("imagenet_resized"), "imagenet-resized");
  EXPECT_EQ(normalize_dataset_name("CPPE_resized"), "cppe-resized");
  EXPECT_EQ(normalize_dataset_name("rotten_tomatoes"), "tomatoes");
  EXPECT_EQ(study_task_from_file_name("zeroshot_qa_squad2")->dataset, "squadv2");
  EXPECT_EQ(study_task_from_file_name("obj_detection_CPPE_resized")->dataset, "cppe-resized");
}

TEST_F(Import, ATaskFileNamingAnotherModelIsStoredUnderTheRunsModelAndSaidSo) {
  // The study's summarize_cnn_15 runs of distilbart-xsum-12-6 have base files naming distilbart-cnn-6-6.
  const std::string e = "eeeeeeee-1111-4111-8111-00000000000e";
  for (const bool base_first : {true, false}) {
    const fs::path db = db_.string() + (base_first ? "-b" : "-c");
    fs::remove(db);
    auto store = open_store(db);
    std::vector<fs::path> order{kData / "renamed" / "complete", kData / "renamed" / "base"};
    if (base_first) std::swap(order[0], order[1]);
    std::size_t notes = 0;
    for (const auto& p : order) {
      const auto s = import_codecarbon(*store, {p}, {});
      EXPECT_EQ(s.skipped(), 0u);
      for (const auto& f : s.files) notes += f.notes.size();
    }
    // Said once per renamed row when the complete file came first; the run's windows carry it either way.
    EXPECT_EQ(notes, base_first ? 0u : 2u);
    auto run = store->load_run(import_run_id(e));
    ASSERT_TRUE(run);
    EXPECT_EQ(run->project, "sshleifer/distilbart-xsum-12-6");
    for (const auto& w : run->windows) EXPECT_EQ(w.model, "sshleifer/distilbart-xsum-12-6") << w.external_id;
    const auto* query = window_of(*run, e + "/query model");
    ASSERT_TRUE(query);
    EXPECT_EQ(query->phase, "inference");
    ASSERT_EQ(query->measurement.warnings.size(), 1u);
    EXPECT_NE(query->measurement.warnings[0].find("sshleifer/distilbart-cnn-6-6"), std::string::npos);
    store.reset();
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext);
  }
}
