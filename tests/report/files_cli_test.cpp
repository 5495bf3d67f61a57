// `report --html / --csv / --label` and `compare` against the built binary, on
// the study's own CodeCarbon logs imported into a scratch store.
#include <gtest/gtest.h>

#include "../support/cli_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;

namespace {

using jbtest::slurp;

class ReportFiles : public jbtest::CliFixture {
 protected:
  void import_imdb() {
    ASSERT_EQ(run("import codecarbon '" + std::string(JOULEBENCH_SHARED_REFERENCE_DIR) +
                  "/study-logs/complete/text_classif_imdb.csv'")
                  .code,
              0);
  }
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

}  // namespace

TEST_F(ReportFiles, EmptyStoreSaysHowToFillIt) {
  ASSERT_EQ(run("report --runs").code, 2);  // no store file yet
  import_imdb();
  auto r = run("report --html page.html --task object-detection");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("import codecarbon"), std::string::npos) << r.err;
}

TEST_F(ReportFiles, HtmlCsvLabelAndCompareOnTheStudyLogs) {
  import_imdb();
  auto html = run("report --html page.html");
  ASSERT_EQ(html.code, 0) << html.err;
  const std::string page = slurp(dir_ / "page.html");
  // The imdb log holds 8 text-classification models, 10 runs each.
  EXPECT_EQ(count(page, "jb-mark\" data-chart=\"task\""), 8u);
  EXPECT_EQ(count(page, "jb-bar\" data-chart=\"bars\""), 8u);
  EXPECT_EQ(count(page, "class=\"jb-ref\" data-chart=\"task\" data-task=\"text-classification\""), 1u)
      << "the study's published mean of the task, as a reference mark";

  auto csv = run("report --by model --csv");
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(count(csv.out, "\n"), 9u);  // header + 8 models
  EXPECT_EQ(count(csv.out, "text-classification,"), 8u);

  auto label = run("report --label lvwerra/distilbert-imdb -o label.svg");
  ASSERT_EQ(label.code, 0) << label.err;
  const std::string svg = slurp(dir_ / "label.svg");
  EXPECT_EQ(count(svg, "class=\"jb-star\""), 5u);
  EXPECT_NE(svg.find("lvwerra/distilbert-imdb"), std::string::npos);
  auto unknown = run("report --label nope");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("lvwerra/distilbert-imdb"), std::string::npos);

  // The cheapest and the dearest model by the JSON report, compared.
  auto json = run("report --by model --json");
  ASSERT_EQ(json.code, 0);
  const auto rows = nlohmann::json::parse(json.out);
  const std::string cheap = rows.front()["model"], dear = rows.back()["model"];
  auto cmp = run("compare '" + cheap + "' '" + dear + "' --json");
  ASSERT_EQ(cmp.code, 0) << cmp.err;
  const auto c = nlohmann::json::parse(cmp.out);
  EXPECT_NEAR(c["energy_ratio"].get<double>(),
              rows.back()["kwh_per_1000_mean"].get<double>() / rows.front()["kwh_per_1000_mean"].get<double>(), 1e-9);
  EXPECT_EQ(c["a"]["kwh_per_1000"]["n"], 10);
  EXPECT_TRUE(c["energy_difference_significant"].get<bool>());
  auto bad = run("compare '" + cheap + "' nothing-stored");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find(dear), std::string::npos);
}

TEST_F(ReportFiles, UnknownModelListsTheStoredOnes) {
  import_imdb();
  auto r = run("report --by model --model nope");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("lvwerra/distilbert-imdb"), std::string::npos) << r.err;
  EXPECT_EQ(run("report --by model --model lvwerra/distilbert-imdb").code, 0);
}

TEST_F(ReportFiles, UnknownRunOfAModelCardListsTheStoredOnes) {
  import_imdb();
  const auto runs = nlohmann::json::parse(run("report --runs --json").out);
  ASSERT_FALSE(runs.empty());
  auto r = run("report --model-card ffffffff");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(runs.front()["id"].get<std::string>()), std::string::npos) << r.err;
}

TEST_F(ReportFiles, UnwritableOutputIsRefused) {
  import_imdb();
  auto r = run("report --html no-such-folder/page.html");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no-such-folder/page.html"), std::string::npos) << r.err;
}
