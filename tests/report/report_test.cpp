#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "joulebench/report.h"

using namespace joulebench;

namespace {

StoredWindow window(const std::string& task, const std::string& model, const std::string& dataset, double kwh,
                    std::optional<std::int64_t> inferences, std::optional<double> g = std::nullopt) {
  StoredWindow sw;
  sw.run_id = "r";
  sw.intensity_g_per_kwh = 100.0;
  sw.pue = 1.5;
  sw.window.task = task;
  sw.window.model = model;
  sw.window.dataset = dataset;
  sw.window.inferences = inferences;
  sw.window.g_co2e = g;
  ComponentEnergy c;
  c.component = Component::gpu;
  c.energy_j = kwh_to_joules(kwh);
  c.provenance = {ProvenanceKind::sampled, "nvml-power"};
  sw.window.measurement.components = {c};
  return sw;
}

}  // namespace

TEST(ReportAggregate, PerThousandMeanAndSampleStd) {
  // 500 inferences at 0.001 kWh -> 0.002 kWh per 1,000; 1000 at 0.004 -> 0.004.
  std::vector<StoredWindow> ws{window("fill-mask", "m1", "c4", 0.001, 500, 0.2),
                               window("fill-mask", "m2", "c4", 0.004, 1000, 0.6),
                               window("fill-mask", "m2", "oscar", 0.0, std::nullopt)};
  const Report r = aggregate_windows(ws, {});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].runs, 2);
  EXPECT_EQ(r.rows[0].models, 2);
  EXPECT_EQ(r.rows[0].inferences, 1500);
  EXPECT_DOUBLE_EQ(r.rows[0].kwh_per_1000_mean, 0.003);
  EXPECT_NEAR(r.rows[0].kwh_per_1000_std, std::sqrt(2.0) * 0.001, 1e-15);
  EXPECT_NEAR(r.rows[0].gco2e_per_1000_mean, (0.4 + 0.6) / 2, 1e-12);
  EXPECT_EQ(r.windows_without_inferences, 1u);
  EXPECT_FALSE(r.notes.empty());
  EXPECT_EQ(r.rows[0].weakest_provenance, "sampled");
}

// Where the figure is, the table says how it was obtained; an estimate comes
// with its model's band (#15: every estimated figure carries low/high).
TEST(ReportRender, SourceColumnWithTheBandOfEstimates) {
  auto estimated = window("fill-mask", "m", "d", 0.01, 1000);
  estimated.window.measurement.components[0].provenance = {ProvenanceKind::estimated, "cpu-power-model"};
  estimated.window.measurement.components[0].band_factor = 2.5;
  const Report r = aggregate_windows({estimated, window("fill-mask", "m", "d", 0.01, 1000)}, {});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].weakest_provenance, "estimated");
  EXPECT_DOUBLE_EQ(r.rows[0].band_factor, 2.5);
  EXPECT_NE(render_table(r).find("estimated x/÷2.5"), std::string::npos) << render_table(r);
  EXPECT_NE(render_markdown(r).find("| source |"), std::string::npos) << render_markdown(r);
  EXPECT_DOUBLE_EQ(report_json(r)[0]["band_factor"].get<double>(), 2.5);
  const Report read = aggregate_windows({window("fill-mask", "m", "d", 0.01, 1000)}, {});
  EXPECT_DOUBLE_EQ(read.rows[0].band_factor, 1.0);
  EXPECT_EQ(render_table(read).find("x/÷"), std::string::npos) << "a reading has no band";
}

TEST(ReportAggregate, SaysWhenWindowsComeFromInterruptedRuns) {
  auto w = window("fill-mask", "m", "d", 0.01, 1000);
  w.status = RunStatus::interrupted;
  const Report r = aggregate_windows({w, window("fill-mask", "m", "d", 0.01, 1000)}, {});
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("1 window(s) come from interrupted runs"), std::string::npos);
}

TEST(ReportAggregate, GramsFromTheRunIntensityAndPueWhenNotStored) {
  const Report r = aggregate_windows({window("fill-mask", "m", "d", 0.01, 1000)}, {});
  EXPECT_DOUBLE_EQ(r.rows.at(0).gco2e_per_1000_mean, 0.01 * 1.5 * 100.0);
}

TEST(ReportAggregate, GroupingsAndOrder) {
  std::vector<StoredWindow> ws{window("text-to-image", "sd", "db", 3.0, 1000),
                               window("text-classification", "big", "imdb", 0.005, 1000),
                               window("text-classification", "small", "sst2", 0.001, 1000),
                               window("", "mystery", "", 0.5, 1000)};
  ReportOptions o;
  o.by = ReportGrouping::model;
  const Report m = aggregate_windows(ws, o);
  ASSERT_EQ(m.rows.size(), 4u);
  EXPECT_EQ(m.rows[0].model, "small");  // study's task order, then cheapest first
  EXPECT_EQ(m.rows[1].model, "big");
  EXPECT_EQ(m.rows[2].task, "text-to-image");
  EXPECT_EQ(m.rows[3].task, "");
  o.by = ReportGrouping::dataset;
  const Report d = aggregate_windows(ws, o);
  EXPECT_EQ(d.rows[0].dataset, "sst2");
  EXPECT_TRUE(d.rows[0].model.empty());
  o.task = "text-to-image";
  EXPECT_EQ(aggregate_windows(ws, o).rows.size(), 1u);
}

TEST(ReportRender, TableMarkdownAndJsonShareTheRows) {
  ReportOptions o;
  o.by = ReportGrouping::model;
  const Report r = aggregate_windows({window("fill-mask", "a|b", "c4", 0.022, 1000, 5.0)}, o);
  const std::string table = render_table(r);
  EXPECT_NE(table.find("energy/1k mean ± sd"), std::string::npos);
  EXPECT_NE(table.find("a|b"), std::string::npos);
  EXPECT_NE(table.find("22.0 Wh"), std::string::npos) << table;  // 0.022 kWh, in readable units (one run: no ±)
  EXPECT_NE(table.find("5.00 g"), std::string::npos) << table;
  EXPECT_EQ(table.find("e-0"), std::string::npos) << table;  // no scientific notation
  EXPECT_NE(table.find("0.022 kWh per charge"), std::string::npos);  // the constant is printed
  const std::string md = render_markdown(r);
  EXPECT_NE(md.find("| --- |"), std::string::npos);
  EXPECT_NE(md.find("a\\|b"), std::string::npos);
  const auto j = report_json(r);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["model"], "a|b");
  EXPECT_DOUBLE_EQ(j[0]["kwh_per_1000_mean"].get<double>(), 0.022);
  EXPECT_DOUBLE_EQ(j[0]["gco2e_per_1000_mean"].get<double>(), 5.0);
  bool phone = false;
  for (const auto& e : j[0]["equivalents"])
    if (e["key"] == "smartphone_charges") {
      phone = true;
      EXPECT_NEAR(e["value"].get<double>(), 1.0, 1e-12);
    }
  EXPECT_TRUE(phone);
  EXPECT_NE(render_table(Report{}).find("no inference"), std::string::npos);
}

TEST(ReportAggregate, BatchSweepsAreNotAveragedTogether) {
  // One model at batch 1 and batch 8 (a `bench --batch 1,8` sweep), two runs each.
  auto at = [](int batch, double kwh) {
    auto w = window("text-classification", "m", "imdb", kwh, 1000);
    w.window.batch_size = batch;
    w.window.threads = 0;
    w.window.dtype = "fp32";
    w.window.device = "cpu";
    return w;
  };
  const std::vector<StoredWindow> ws{at(1, 0.004), at(8, 0.001), at(1, 0.006), at(8, 0.002)};
  for (auto by : {ReportGrouping::task, ReportGrouping::model}) {
    ReportOptions o;
    o.by = by;
    const Report r = aggregate_windows(ws, o);
    ASSERT_EQ(r.rows.size(), 2u) << to_string(by);
    EXPECT_EQ(r.rows[0].batch_size, 8);  // cheapest first
    EXPECT_DOUBLE_EQ(r.rows[0].kwh_per_1000_mean, 0.0015);
    EXPECT_EQ(r.rows[0].runs, 2);
    EXPECT_EQ(r.rows[1].batch_size, 1);
    EXPECT_DOUBLE_EQ(r.rows[1].kwh_per_1000_mean, 0.005);
    EXPECT_EQ(r.rows[1].dtype, "fp32");
    // The table shows the column that differs, not the ones that do not.
    const std::string table = render_table(r);
    EXPECT_NE(table.find("batch"), std::string::npos) << table;
    EXPECT_EQ(table.find("dtype"), std::string::npos) << table;
    EXPECT_NE(render_markdown(r).find("| batch |"), std::string::npos);
    const auto j = report_json(r);
    EXPECT_EQ(j[0]["batch"], 8);
    EXPECT_EQ(j[1]["batch"], 1);
    EXPECT_EQ(j[1]["threads"], 0);
    EXPECT_EQ(j[1]["dtype"], "fp32");
    EXPECT_EQ(j[1]["device"], "cpu");
  }
  // A dtype sweep likewise; a store of one configuration has no such column.
  auto bf16 = at(1, 0.002);
  bf16.window.dtype = "bf16";
  const Report d = aggregate_windows({at(1, 0.004), bf16}, {});
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_NE(render_table(d).find("dtype"), std::string::npos);
  EXPECT_EQ(render_table(d).find("batch"), std::string::npos);
  const Report one = aggregate_windows({at(1, 0.004), at(1, 0.006)}, {});
  ASSERT_EQ(one.rows.size(), 1u);
  EXPECT_EQ(render_table(one).find("batch"), std::string::npos);
  // Windows that recorded no configuration (imports) are their own group, null in JSON.
  const Report mixed = aggregate_windows({at(1, 0.004), window("text-classification", "m", "imdb", 0.004, 1000)}, {});
  ASSERT_EQ(mixed.rows.size(), 2u);
  const auto mj = report_json(mixed);
  EXPECT_TRUE(mj[0]["batch"].is_null() || mj[1]["batch"].is_null());
}

TEST(ModelCard, CarriesTheFiveFieldsWithGrams) {
  RunRecord run;
  run.id = "abc";
  run.kind = RunKind::bench;
  run.machine.gpu_model = "1 x NVIDIA H100";
  run.machine.cpu_model = "AMD EPYC \"Genoa\"";
  run.machine.cpu_count = 32;
  run.intensity = intensity_for_cloud("gcp:europe-west1");
  run.pue = 1.1;
  WindowRecord a, b;
  a.g_co2e = 12.5;
  ComponentEnergy c;
  c.component = Component::gpu;
  c.energy_j = kwh_to_joules(0.1);
  c.provenance = {ProvenanceKind::measured, "nvml-energy"};
  b.measurement.components = {c};  // no stored grams: 0.1 kWh x 1.1 x intensity
  run.windows = {a, b};
  const std::string yaml = model_card_yaml(run);
  const double want = 12.5 + 0.1 * 1.1 * run.intensity.g_per_kwh;
  EXPECT_EQ(yaml.rfind("co2_eq_emissions:\n", 0), 0u);
  EXPECT_NE(yaml.find(fmt::format("  emissions: {:.6g}\n", want)), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  training_type: \"inference\""), std::string::npos);
  EXPECT_NE(yaml.find("  geographical_location: \"gcp europe-west1"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("Belgium (BEL)"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("AMD EPYC \\\"Genoa\\\" (32 CPUs)"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("gpu measured:nvml-energy"), std::string::npos) << yaml;
  ModelCardOptions o;
  o.training_type = "fine-tuning";
  EXPECT_NE(model_card_yaml(run, o).find("\"fine-tuning\""), std::string::npos);
}

// Figures from windows shorter than their sensors' resolution are marked "~"
// in every rendering and counted (#17: fastText's 2 ms windows).
TEST(ReportRender, CoarseWindowsAreMarkedWhereTheFigureIs) {
  auto coarse = window("fill-mask", "m", "d", 0.01, 1000);
  coarse.window.measurement.warnings.push_back(
      "window 'w' (2.0 ms) is shorter than the 1.00 s its sensors need (estimate:cpu is read every 1.00 s): "
      "its energy is coarse");
  const Report r = aggregate_windows({coarse, window("fill-mask", "m", "d", 0.01, 1000)}, {});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].coarse_runs, 1);
  EXPECT_NE(render_table(r).find(" ~1/2"), std::string::npos) << render_table(r);
  EXPECT_NE(render_table(r).find(kCoarseRunsNote), std::string::npos) << render_table(r);
  EXPECT_EQ(report_json(r)[0]["coarse_runs"].get<int>(), 1);
  const Report clean = aggregate_windows({window("fill-mask", "m", "d", 0.01, 1000)}, {});
  EXPECT_EQ(render_table(clean).find("~"), std::string::npos) << render_table(clean);
}
