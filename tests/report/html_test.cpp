#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>

#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "joulebench/report_html.h"
#include "store_fixture.h"
#include "../support/expect_throw.h"

using namespace joulebench;

namespace {

std::size_t count_marks(const std::string& html, const std::string& chart) {
  const std::regex re("class=\"jb-mark[^\"]*\" data-chart=\"" + chart + "\"");
  return static_cast<std::size_t>(std::distance(std::sregex_iterator(html.begin(), html.end(), re),
                                                std::sregex_iterator()));
}
std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

class Html : public jbtest::ScratchStore {
 protected:
  void fill() {
    add("text-classification", "bert-a", {0.002, 0.004});
    add("text-classification", "bert-b", {0.003});
    add("text-classification", "google/flan-t5-base", {0.03, 0.02});
    add("image-classification", "resnet", {0.007});
  }
};

}  // namespace

TEST_F(Html, EmptyStoreSaysHowToFillIt) {
  EXPECT_THROW_MSG(render_html_report(*store_, {}), InputError, "import codecarbon");
}

TEST_F(Html, OneMarkPerModelInEachChartAndNoNetwork) {
  fill();
  HtmlReportOptions o;
  o.facts["bert-a"] = {110000000, false};
  o.facts["resnet"] = {25000000, false};
  const std::string html = render_html_report(*store_, o);
  EXPECT_EQ(count_marks(html, "task"), 4u);
  EXPECT_EQ(count_marks(html, "bars"), 4u);
  EXPECT_EQ(count_marks(html, "params"), 2u);   // only the models with a parameter count
  EXPECT_EQ(count_marks(html, "purpose"), 3u);  // text-classification has both kinds; image does not
  EXPECT_EQ(count_marks(html, "co2e"), 4u);
  EXPECT_EQ(count_marks(html, "latency"), 4u);
  EXPECT_EQ(count(html, "class=\"jb-ref\""), 0u) << "no reference values given";
  EXPECT_EQ(count(html, "data-kind=\"multi-purpose\""), 1u);
  EXPECT_EQ(count(html, "data-modality=\"image\""), 1u);
  // Each bar split in three components, with an error bar.
  EXPECT_EQ(count(html, "class=\"jb-seg\""), 12u);
  EXPECT_EQ(count(html, "class=\"jb-errorbar\""), 4u);
  // Self-contained: nothing to fetch.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  // Constants and provenance are printed.
  EXPECT_NE(html.find("smartphone"), std::string::npos);
  EXPECT_NE(html.find("gpu measured:test"), std::string::npos);
}

TEST_F(Html, MeansAndSplitOfAModel) {
  fill();
  const auto points = model_points(store_->query_windows({}), {});
  ASSERT_EQ(points.size(), 4u);
  const ModelPoint* a = nullptr;
  for (const auto& p : points)
    if (p.model == "bert-a") a = &p;
  ASSERT_NE(a, nullptr);
  EXPECT_NEAR(a->kwh_mean, 0.003, 1e-12);
  EXPECT_NEAR(a->kwh_std, std::sqrt(2e-6), 1e-12);
  EXPECT_NEAR(a->gpu_kwh, 0.0018, 1e-12);
  EXPECT_NEAR(a->ram_kwh, 0.0003, 1e-12);
  // Two runs: t(0.975, 1 df) = 12.706 times sd / sqrt(2).
  EXPECT_NEAR(a->kwh_ci95, 12.7062 * std::sqrt(2e-6) / std::sqrt(2.0), 1e-6);
  EXPECT_NEAR(a->gco2e_ci95, a->kwh_ci95 * 100.0, 1e-6) << "100 g/kWh";
  ASSERT_TRUE(a->seconds_per_inference);
  EXPECT_NEAR(*a->seconds_per_inference, 0.003, 1e-12) << "3 s per 1,000 inferences";
  EXPECT_FALSE(a->multi_purpose);
  EXPECT_TRUE(is_multi_purpose_name("bigscience/bloomz-7b1"));
  EXPECT_FALSE(is_multi_purpose_name("bigscience/bloom-560m"));
}

TEST_F(Html, BatchSweepIsOnePointPerBatchAndTheLabelIsBatchOne) {
  add("text-classification", "m", {0.004, 0.004}, 1000, 1);
  add("text-classification", "m", {0.001, 0.001}, 1000, 8);
  add("text-classification", "peer", {0.002});
  HtmlReportOptions o;
  o.facts["m"] = {66000000, false};
  const auto points = model_points(store_->query_windows({}), o);
  ASSERT_EQ(points.size(), 3u);
  std::map<std::string, const ModelPoint*> by_name;
  for (const auto& p : points) by_name[p.model] = &p;
  ASSERT_TRUE(by_name.count("m"));
  ASSERT_TRUE(by_name.count("m (batch 8)"));
  EXPECT_NEAR(by_name["m"]->kwh_mean, 0.004, 1e-12);
  EXPECT_NEAR(by_name["m (batch 8)"]->kwh_mean, 0.001, 1e-12);
  EXPECT_EQ(by_name["m (batch 8)"]->parameters, 66000000) << "facts found under the model's own name";
  // The label of m is the study's configuration (batch 1), ranked among every point of the task.
  const auto label = make_energy_label(*store_, "m");
  EXPECT_EQ(label.model, "m");
  EXPECT_NEAR(label.wh_per_1000, 4.0, 1e-9);
  EXPECT_EQ(label.models_in_task, 2) << "m and peer at batch 1; m at batch 8 is another configuration";
  EXPECT_EQ(label.stars, 0) << "two models are too few to rank";
  EXPECT_NE(label.stars_note.find("no stars: 2 models of this task and configuration; stars rank 5 or more"),
            std::string::npos)
      << label.stars_note;
}

// Bands equal on a log scale: over 1..100,000 Wh each decade is a band.
TEST(Stars, FiveLogBandsLowestEnergyFiveStars) {
  EXPECT_EQ(stars_for(1.0, 1.0, 1e5), 5);
  EXPECT_EQ(stars_for(9.9, 1.0, 1e5), 5);
  EXPECT_EQ(stars_for(10.1, 1.0, 1e5), 4);
  EXPECT_EQ(stars_for(150.0, 1.0, 1e5), 3);
  EXPECT_EQ(stars_for(5000.0, 1.0, 1e5), 2);
  EXPECT_EQ(stars_for(1e5, 1.0, 1e5), 1);
  EXPECT_EQ(stars_for(2.0, 2.0, 2.0), 5);
  // #17: gpt2 at 29 Wh and distilgpt2 at 16.5 Wh among models up to 2,900 Wh are no longer both 5 stars.
  EXPECT_GT(stars_for(16.5, 1.0, 2900.0), stars_for(29.0 * 4, 1.0, 2900.0));
  std::string why;
  EXPECT_FALSE(stars_among(1.0, 1.0, 6.0, 4, &why));
  EXPECT_NE(why.find("4 models"), std::string::npos) << why;
  EXPECT_EQ(stars_among(1.0, 1.0, 6.0, 5), 5);
}

TEST_F(Html, EnergyLabel) {
  fill();
  const auto cheap = make_energy_label(*store_, "bert-b");
  EXPECT_EQ(cheap.task, "text-classification");
  EXPECT_NEAR(cheap.wh_per_1000, 3.0, 1e-9);
  EXPECT_EQ(cheap.models_in_task, 3);
  EXPECT_EQ(cheap.stars, 0) << "three models are too few to rank";
  add("text-classification", "small-a", {0.0001});
  add("text-classification", "small-b", {0.001});
  const auto dear = make_energy_label(*store_, "google/flan-t5-base");
  EXPECT_EQ(dear.models_in_task, 5);
  EXPECT_EQ(dear.stars, 1);
  EXPECT_EQ(make_energy_label(*store_, "small-a").stars, 5);
  EXPECT_NE(dear.hardware.find("Test GPU"), std::string::npos);
  const std::string svg = render_energy_label_svg(dear);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(count(svg, "class=\"jb-star\""), 5u);
  EXPECT_EQ(count(svg, "data-filled=\"1\""), 1u);
  EXPECT_NE(svg.find("google/flan-t5-base"), std::string::npos);
  EXPECT_THROW_MSG(make_energy_label(*store_, "unknown-model"), InputError, "bert-a");
}

TEST_F(Html, CsvHasTheJsonFieldsAndQuotes) {
  add("text-classification", "org/model,with comma", {0.002});
  ReportOptions o;
  o.by = ReportGrouping::model;
  const std::string csv = render_csv(build_report(*store_, o));
  EXPECT_EQ(csv.rfind("task,model,dataset,runs,", 0), 0u);
  EXPECT_NE(csv.find("\"org/model,with comma\""), std::string::npos);
  EXPECT_EQ(count(csv, "\n"), 2u);
  EXPECT_NE(csv.find(",0.002,"), std::string::npos);
}

TEST_F(Html, LabelOfAMultiPurposeModelNeedsItsTask) {
  fill();
  add("summarization", "google/flan-t5-base", {0.05});
  add("summarization", "bart", {0.01});
  EXPECT_THROW(make_energy_label(*store_, "google/flan-t5-base"), InputError);
  const auto l = make_energy_label(*store_, "google/flan-t5-base", "summarization");
  EXPECT_EQ(l.task, "summarization");
  EXPECT_EQ(l.models_in_task, 2);
  EXPECT_NEAR(l.wh_per_1000, 50.0, 1e-9);
  EXPECT_EQ(l.stars, 0);
  const std::string svg = render_energy_label_svg(l);
  EXPECT_EQ(count(svg, "data-filled=\"1\""), 0u);
  EXPECT_NE(svg.find("no stars: 2 models of this task and configuration;"), std::string::npos) << svg;
}

TEST_F(Html, EmptyTableSaysHowToFillTheStore) {
  const std::string table = render_table(build_report(*store_, {}));
  EXPECT_NE(table.find("joulebench bench"), std::string::npos);
  EXPECT_NE(table.find("joulebench import codecarbon"), std::string::npos);
}

TEST_F(Html, FiguresThatIncludeModelLoadingAreMarkedWithTheRunCount) {
  // A study complete/ file alone: each row is model loading + queries.
  const auto file = std::filesystem::path(JOULEBENCH_TEST_SOURCE_DIR) / "../codecarbon/data/study/complete/qa_squadv2.csv";
  ASSERT_EQ(import_codecarbon(*store_, {file}, {}).imported(), 1u);
  const std::string html = render_html_report(*store_, {});
  EXPECT_EQ(count(html, "<span class=\"jb-loading\" title=\"1 of 1 runs include model loading\">*</span>"), 2u)
      << "the task table and the model table";
  EXPECT_EQ(count(html, "id=\"note-loading\""), 1u);
  // Without such runs, no mark and no note.
  fill();
  HtmlReportOptions only_a;
  only_a.report.model = "bert-a";
  const std::string other = render_html_report(*store_, only_a);
  EXPECT_EQ(count(other, "jb-loading"), 0u);
  EXPECT_EQ(count(other, "note-loading"), 0u);
}

// An estimated figure shows its model's band beside its provenance, after a
// round trip through the store (#15: the band reaches the reports).
TEST_F(Html, EstimatesShowTheirBandInTheModelTable) {
  fill();
  RunRecord run;
  run.kind = RunKind::measure;
  run.intensity = intensity_from_user(100.0);
  WindowRecord w;
  w.task = "text-classification";
  w.model = "estimated-model";
  w.dataset = "d";
  w.inferences = 1000;
  ComponentEnergy e;
  e.component = Component::cpu;
  e.energy_j = kwh_to_joules(0.005);
  e.provenance = {ProvenanceKind::estimated, "cpu-power-model"};
  e.band_factor = 2.5;
  w.measurement.components.push_back(e);
  run.windows.push_back(w);
  store_->save_run(run);
  const auto points = model_points(store_->query_windows({}), {});
  for (const auto& p : points) EXPECT_DOUBLE_EQ(p.band_factor, p.model == "estimated-model" ? 2.5 : 1.0) << p.model;
  const std::string html = render_html_report(*store_, {});
  EXPECT_EQ(count(html, "estimated x/÷2.5"), 1u);
  EXPECT_EQ(count(html, "measured x/÷"), 0u);
}

// Issue 17: the page shows no test counter, every colour has a legend in that
// colour, and a tooltip never reads "name ():".
TEST_F(Html, LegendsTooltipsAndNoTestCounterForReaders) {
  fill();
  add("", "unlabelled", {0.005});
  const std::string html = render_html_report(*store_, {});
  EXPECT_EQ(html.find("rendered:"), std::string::npos);
  EXPECT_NE(html.find("<output id=\"jb-check\" hidden"), std::string::npos);
  for (const char* legend : {"fill=\"#1b9e77\"/><text x=\"[0-9.]+\" y=\"14.0\" class=\"tick\">task-specific<",
                             "fill=\"#c44e52\"/><text x=\"[0-9.]+\" y=\"14.0\" class=\"tick\">multi-purpose",
                             "fill=\"#1b9e77\"/><text x=\"[0-9.]+\" y=\"14.0\" class=\"tick\">text input<",
                             "stroke=\"#111\" stroke-width=\"2\"/><text x=\"[0-9.]+\" y=\"[0-9.]+\" "
                             "class=\"tick\">95 % interval of the mean<"})
    EXPECT_TRUE(std::regex_search(html, std::regex(legend))) << legend;
  EXPECT_TRUE(std::regex_search(html, std::regex("data-kind=\"multi-purpose\"[^>]*fill=\"#c44e52\"")));
  EXPECT_EQ(html.find("red: multi-purpose"), std::string::npos);
  EXPECT_EQ(html.find(" ():"), std::string::npos);
  EXPECT_NE(html.find("<title>unlabelled: "), std::string::npos);
}

// The study's published task means are drawn as reference marks on the energy
// chart and printed in the task table; the 95 % interval is in the model table.
TEST_F(Html, StudyReferenceMarksAndIntervals) {
  fill();
  HtmlReportOptions o;
  o.reference_kwh_per_1000["text-classification"] = 0.002;
  o.reference_kwh_per_1000["text-to-image"] = 2.9;  // no models of it stored: no mark
  o.reference_source = "Table 2 of the study";
  const std::string html = render_html_report(*store_, o);
  EXPECT_EQ(count(html, "class=\"jb-ref\""), 1u);
  EXPECT_NE(html.find("class=\"jb-ref\" data-chart=\"task\" data-task=\"text-classification\" "
                      "data-kwh-per-1000=\"0.002\""),
            std::string::npos);
  EXPECT_NE(html.find("the study&#39;s published task mean"), std::string::npos) << "the legend names the dashed line";
  EXPECT_NE(html.find("<th title=\"Table 2 of the study\">the study's mean</th>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"n\">2.00 Wh</td>"), std::string::npos) << "the reference in the task table";
  // bert-a: two runs, mean 3 Wh, 95 % interval +- 12.7 Wh; bert-b: one run, no interval.
  EXPECT_NE(html.find("<td class=\"n\">± 12.7 Wh</td>"), std::string::npos);
  EXPECT_TRUE(std::regex_search(html, std::regex("data-model=\"bert-b\"><td class=\"t\">[^<]*</td><td class=\"name\">bert-b</td>"
                                                 "<td class=\"n\">1</td><td class=\"n\">3.00 Wh</td>"
                                                 "<td class=\"n\">-</td>")));
  // Component sources once under the table, not a column wrapping in every row.
  EXPECT_NE(html.find("gpu measured:test (4 models)"), std::string::npos);
}

// An off-task model (language id under text-classification) is ranked only
// among models of its purpose; the task's own models are ranked without it.
TEST_F(Html, OffTaskModelsAreRankedApartOnTheLabel) {
  for (int i = 0; i < 5; ++i) add("text-classification", "sentiment-" + std::to_string(i), {0.001 * (i + 1)});
  add("text-classification", "fasttext-lid-176", {0.00001});
  const auto lid = make_energy_label(*store_, "fasttext-lid-176");
  EXPECT_EQ(lid.stars, 0);
  EXPECT_EQ(lid.models_in_task, 1);
  EXPECT_NE(lid.stars_note.find("it does language identification, not text-classification's usual job"),
            std::string::npos)
      << lid.stars_note;
  const auto cheapest = make_energy_label(*store_, "sentiment-0");
  EXPECT_EQ(cheapest.models_in_task, 5) << "the language identifier is not among them";
  EXPECT_EQ(cheapest.stars, 5);
  // The zoo's word wins over the name.
  std::map<std::string, ModelFacts> facts;
  facts["sentiment-4"] = {0, false, "language identification"};
  EXPECT_EQ(make_energy_label(*store_, "sentiment-4", "", facts).models_in_task, 2);
  // The note is on the label, wrapped to its width.
  const std::string svg = render_energy_label_svg(lid);
  EXPECT_EQ(count(svg, "class=\"jb-label-unranked\""), 3u) << svg;
}

TEST(OffTask, ByNameWholeParts) {
  EXPECT_EQ(off_task_purpose("fasttext-lid-176"), "language identification");
  EXPECT_EQ(off_task_purpose("papluca/xlm-roberta-base-language-detection"), "language identification");
  EXPECT_EQ(off_task_purpose("solid-bert"), "");
  EXPECT_EQ(off_task_purpose("distilbert-base-uncased-finetuned-sst-2-english"), "");
  EXPECT_EQ(off_task_purpose("anything", "spam filtering"), "spam filtering");
}

// An estimate's band is on the label, beside the figure.
TEST_F(Html, LabelOfAnEstimateShowsItsBand) {
  EnergyLabel l;
  l.model = "m";
  l.task = "text-classification";
  l.wh_per_1000 = 10.0;
  l.provenance = "estimated";
  l.band_factor = 2.0;
  l.stars_note = "no stars: 1 model of this task and configuration; stars rank 5 or more";
  const std::string svg = render_energy_label_svg(l);
  EXPECT_NE(svg.find("per 1,000 queries, estimated"), std::string::npos);
  EXPECT_NE(svg.find("between 5.00 Wh and 20.0 Wh"), std::string::npos) << svg;
}
