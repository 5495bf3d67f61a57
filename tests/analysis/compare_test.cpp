#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "joulebench/compare.h"
#include "joulebench/error.h"
#include "joulebench/report.h"
#include "../support/expect_throw.h"

using namespace joulebench;
namespace fs = std::filesystem;

TEST(Statistics, StudentTTwoSidedPAgainstTables) {
  // Critical values of Student's t at 95 % two-sided (any statistics table).
  EXPECT_NEAR(student_t_two_sided_p(12.706, 1), 0.05, 1e-4);
  EXPECT_NEAR(student_t_two_sided_p(2.228, 10), 0.05, 1e-4);
  EXPECT_NEAR(student_t_two_sided_p(2.042, 30), 0.05, 1e-4);
  EXPECT_NEAR(student_t_two_sided_p(1.96, 1e6), 0.05, 1e-4);
  EXPECT_NEAR(student_t_two_sided_p(3.169, 10), 0.01, 1e-4);
  EXPECT_DOUBLE_EQ(student_t_two_sided_p(0.0, 5), 1.0);
  EXPECT_NEAR(student_t_two_sided_p(-2.228, 10), 0.05, 1e-4);
}

TEST(Statistics, WelchOnTwoSmallSamples) {
  // {1..5} against {6..10}: means 3 and 8, variances 2.5: t = -5, df = 8, p = 0.00105.
  const auto a = summarize({1, 2, 3, 4, 5});
  const auto b = summarize({6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(a.std, std::sqrt(2.5));
  const auto w = welch_t_test(a, b);
  ASSERT_TRUE(w);
  EXPECT_NEAR(w->t, -5.0, 1e-12);
  EXPECT_NEAR(w->df, 8.0, 1e-12);
  EXPECT_NEAR(w->p, 0.001053, 2e-6);
  EXPECT_FALSE(welch_t_test(summarize({1}), b));
  EXPECT_FALSE(welch_t_test(summarize({1, 1}), summarize({2, 2})));
}

class Compare : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("jb-compare-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    fs::remove(path_);
    store_ = open_store(path_);
  }
  void TearDown() override {
    store_.reset();
    for (const char* s : {"", "-wal", "-shm"}) fs::remove(path_.string() + s);
  }
  std::string add(const std::string& model, std::vector<double> kwh, std::map<std::string, std::string> software = {},
                  std::optional<int> threads = std::nullopt, const std::string& task = "fill-mask") {
    RunRecord run;
    run.intensity = intensity_from_user(100);
    run.software = std::move(software);
    run.machine.cpu_model = "AMD EPYC";
    for (double v : kwh) {
      WindowRecord w;
      w.task = task;
      w.model = model;
      w.inferences = 1000;
      w.latency_p50_s = v * 10;
      w.threads = threads;
      ComponentEnergy c;
      c.component = Component::gpu;
      c.energy_j = kwh_to_joules(v);
      c.provenance = {ProvenanceKind::measured, "nvml-energy"};
      w.measurement.components = {c};
      run.windows.push_back(w);
    }
    return store_->save_run(run);
  }
  fs::path path_;
  std::unique_ptr<Store> store_;
};

TEST_F(Compare, ModelsAndRunsWithRatiosAndTheTest) {
  add("small", {0.010, 0.011, 0.009});
  const std::string big_run = add("big", {0.030, 0.031, 0.029});
  add("close", {0.0102, 0.0098, 0.0105});
  const auto c = compare(*store_, "small", big_run.substr(0, 8));
  EXPECT_EQ(c.a.kind, "model");
  EXPECT_EQ(c.b.kind, "run");
  EXPECT_NEAR(c.energy_ratio, 3.0, 1e-9);
  EXPECT_NEAR(c.co2e_ratio, 3.0, 1e-9);
  ASSERT_TRUE(c.latency_ratio);
  EXPECT_NEAR(*c.latency_ratio, 3.0, 1e-9);
  EXPECT_TRUE(c.energy_difference_significant);
  const auto close = compare(*store_, "small", "close");
  ASSERT_TRUE(close.energy_test);
  EXPECT_FALSE(close.energy_difference_significant);
  const auto j = comparison_json(c);
  EXPECT_EQ(j["energy_test"]["method"], "welch-t-test");
  EXPECT_EQ(j["a"]["kwh_per_1000"]["n"], 3);
}

TEST_F(Compare, UnknownSideListsWhatIsStoredAndEmptyStoreSaysHowToFill) {
  EXPECT_THROW_MSG(compare(*store_, "a", "b"), InputError, "import codecarbon");
  add("small", {0.01, 0.02});
  {
    const std::string message = jbtest::thrown_message<InputError>([&] { compare(*store_, "small", "nothing"); });
    EXPECT_NE(message.find("small"), std::string::npos) << message;
    EXPECT_NE(message.find("nothing"), std::string::npos) << message;
  }
}

// README's `compare distilgpt2 gpt2` mixed the tasks a model was measured on.
TEST_F(Compare, SeveralTasksOnOneSideAreRefusedAndDifferentTasksWarned) {
  add("flan", {0.010, 0.011}, {}, std::nullopt, "question-answering");
  add("flan", {0.030, 0.031}, {}, std::nullopt, "summarization");
  add("bert", {0.002, 0.0021}, {}, std::nullopt, "question-answering");
  add("bart", {0.02, 0.021}, {}, std::nullopt, "summarization");
  try {
    compare(*store_, "bert", "flan");
    FAIL() << "a mean over two tasks was compared";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'flan' has inference windows of several tasks (question-answering, "
                                         "summarization): choose one with --task TASK"),
              std::string::npos)
        << e.what();
  }
  const auto same = compare(*store_, "bert", "flan", "question-answering");
  EXPECT_NEAR(same.energy_ratio, 0.0105 / 0.00205, 1e-9);
  EXPECT_TRUE(same.warnings.empty());
  const auto across = compare(*store_, "bert", "bart");
  ASSERT_EQ(across.warnings.size(), 1u);
  EXPECT_NE(across.warnings[0].find("different tasks: question-answering (A) and summarization (B)"),
            std::string::npos)
      << across.warnings[0];
}

TEST_F(Compare, RunsOnDifferentBlasKernelsOrThreadsAreNotComparedSilently) {
  const std::string zen = add("bert", {0.010, 0.011}, {{"blas_core", "Zen"}, {"libtorch", "1.13.0"}}, 2);
  const std::string generic = add("bert", {0.050, 0.051}, {{"blas_core", "Prescott"}, {"libtorch", "1.13.0"}}, 2);
  auto c = compare(*store_, zen.substr(0, 8), generic.substr(0, 8));
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("blas kernel: Zen (A) against Prescott (B)"), std::string::npos) << c.warnings[0];
  EXPECT_NE(render_comparison(c).find("warning: the sides ran on different blas kernel"), std::string::npos);
  EXPECT_EQ(comparison_json(c)["warnings"].size(), 1u);
  // Threads too.
  const std::string four = add("bert", {0.010, 0.012}, {{"blas_core", "Zen"}, {"libtorch", "1.13.0"}}, 4);
  c = compare(*store_, zen.substr(0, 8), four.substr(0, 8));
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("threads: 2 (A) against 4 (B)"), std::string::npos) << c.warnings[0];
  // The same setup: nothing to say; imports (nothing recorded): nothing either.
  const std::string zen2 = add("bert", {0.011, 0.010}, {{"blas_core", "Zen"}, {"libtorch", "1.13.0"}}, 2);
  EXPECT_TRUE(compare(*store_, zen.substr(0, 8), zen2.substr(0, 8)).warnings.empty());
  const std::string imported = add("other", {0.02, 0.021});
  EXPECT_TRUE(compare(*store_, zen.substr(0, 8), imported.substr(0, 8)).warnings.empty());
}

// Each side says how its figures were obtained, where they are (#17: every
// human table shows the weakest provenance, loading included and coarse windows).
TEST_F(Compare, EachSideShowsItsSourceLoadingAndCoarseWindows) {
  add("read", {0.010, 0.011});
  RunRecord run;
  run.intensity = intensity_from_user(100);
  for (double v : {0.02, 0.021}) {
    WindowRecord w;
    w.task = "fill-mask";
    w.model = "guessed";
    w.inferences = 1000;
    w.includes_loading = true;
    w.measurement.warnings = {"window 'w' (2.0 ms) is shorter than the 1.00 s its sensors need (x): its energy is "
                              "coarse"};
    ComponentEnergy c;
    c.component = Component::cpu;
    c.energy_j = kwh_to_joules(v);
    c.provenance = {ProvenanceKind::estimated, "cpu-power-model"};
    c.band_factor = 2.5;
    w.measurement.components = {c};
    run.windows.push_back(w);
  }
  store_->save_run(run);
  const auto c = compare(*store_, "read", "guessed");
  EXPECT_EQ(c.a.weakest_provenance, "measured");
  EXPECT_EQ(c.b.weakest_provenance, "estimated");
  EXPECT_DOUBLE_EQ(c.b.band_factor, 2.5);
  EXPECT_EQ(c.b.loading_included_runs, 2);
  EXPECT_EQ(c.b.coarse_runs, 2);
  const std::string text = render_comparison(c);
  EXPECT_NE(text.find("estimated x/÷2.5"), std::string::npos) << text;
  EXPECT_NE(text.find("(n=2) * ~"), std::string::npos) << text;
  EXPECT_NE(text.find(kLoadingIncludedNote), std::string::npos) << text;
  EXPECT_NE(text.find(kCoarseRunsNote), std::string::npos) << text;
  EXPECT_EQ(comparison_json(c)["b"]["coarse_runs"], 2);
  EXPECT_EQ(comparison_json(c)["a"]["weakest_provenance"], "measured");
}
