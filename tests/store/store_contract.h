// The Store contract (include/joulebench/store.h), written once and run
// against every backend: store_test.cpp instantiates it on SQLite files,
// postgres_test.cpp on a real PostgreSQL server. A backend is a class with
//   void SetUp();                       a fresh, empty store
//   std::unique_ptr<Store> open();      opens it (again)
//   int count(const std::string& table);
//   void TearDown();
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>

#include "joulebench/carbon.h"
#include "joulebench/error.h"
#include "joulebench/store.h"

namespace joulebench::testing {

// One window of a bench run: cpu (measured, attributed, dynamic) and gpu.
inline WindowRecord contract_window(const std::string& model, double cpu_j, double gpu_j = 200.0) {
  WindowRecord w;
  w.task = "text-classification";
  w.model = model;
  w.dataset = "imdb";
  w.inferences = 1000;
  w.input_tokens = 58700;
  w.latency_p50_s = 0.008;
  w.repetition = 1;
  w.g_co2e = 1.5;
  w.measurement.name = model + "/imdb";
  w.measurement.start_time = std::chrono::system_clock::now();
  w.measurement.duration_s = 8.5;
  w.measurement.warnings = {"cpu energy is estimated"};
  ComponentEnergy cpu;
  cpu.component = Component::cpu;
  cpu.energy_j = cpu_j;
  cpu.attributed_energy_j = cpu_j / 2;
  cpu.dynamic_energy_j = cpu_j / 4;
  cpu.provenance = {ProvenanceKind::measured, "rapl-powercap"};
  cpu.sources = {"rapl-powercap:package-0"};
  ComponentEnergy gpu;
  gpu.component = Component::gpu;
  gpu.energy_j = gpu_j;
  gpu.provenance = {ProvenanceKind::sampled, "nvml-power"};
  w.measurement.components = {cpu, gpu};
  return w;
}

inline RunRecord contract_run(int windows) {
  RunRecord r;
  r.kind = RunKind::bench;
  r.started_at = std::chrono::system_clock::now();
  r.ended_at = r.started_at + std::chrono::seconds(60);
  r.user = "tester";
  r.machine = {"host-a", "Linux-6.1", "Xeon", 16, "1 x H100", 1, 125.5};
  r.software = {{"joulebench", "0.1.0"}, {"libtorch", "1.13.1"}};
  r.intensity = intensity_for_country("FRA");
  r.pue = 1.1;
  r.pue_source = "preset hyperscale";
  r.config_json = R"({"preset":"small"})";
  r.source = "joulebench bench";
  for (int i = 0; i < windows; ++i)
    r.windows.push_back(contract_window("model-" + std::to_string(i), 100.0 + i));
  return r;
}

template <class Backend>
class StoreContract : public ::testing::Test {
 protected:
  void SetUp() override { backend_.SetUp(); }
  void TearDown() override { backend_.TearDown(); }
  std::unique_ptr<Store> open() { return backend_.open(); }
  int count(const std::string& table) { return backend_.count(table); }
  Backend backend_;
};

TYPED_TEST_SUITE_P(StoreContract);

TYPED_TEST_P(StoreContract, SaveAndLoadRoundTripsEveryField) {
  auto store = this->open();
  RunRecord in = contract_run(2);
  in.intensity.year = 2022;
  in.windows[1].phase = "warmup";
  in.windows[1].external_id = "cc-run-1";
  in.windows[1].output_tokens = 0;
  in.windows[1].latency_p95_s = 0.012;
  in.windows[1].measurement.components[1].band_factor = 2.5;  // as an estimate's
  const std::string id = store->save_run(in);
  ASSERT_EQ(id.size(), 36u);
  const auto out = store->load_run(id.substr(0, 8));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->id, id);
  EXPECT_EQ(out->kind, RunKind::bench);
  EXPECT_EQ(out->status, RunStatus::complete);
  EXPECT_EQ(out->user, "tester");
  EXPECT_EQ(out->machine.gpu_model, "1 x H100");
  EXPECT_EQ(out->machine.cpu_count, 16);
  EXPECT_DOUBLE_EQ(*out->machine.ram_total_gb, 125.5);
  EXPECT_EQ(out->software.at("libtorch"), "1.13.1");
  EXPECT_EQ(out->intensity.country_iso3, "FRA");
  EXPECT_EQ(out->intensity.origin, IntensityOrigin::country_table);
  EXPECT_EQ(out->intensity.year, 2022);
  EXPECT_DOUBLE_EQ(out->intensity.g_per_kwh, in.intensity.g_per_kwh);
  EXPECT_DOUBLE_EQ(out->pue, 1.1);
  EXPECT_EQ(out->pue_source, "preset hyperscale");
  EXPECT_EQ(out->config_json, in.config_json);
  EXPECT_EQ(out->source, "joulebench bench");
  ASSERT_EQ(out->windows.size(), 2u);
  const auto& first = out->windows[0];
  EXPECT_EQ(first.seq, 1);
  EXPECT_EQ(first.model, "model-0");
  EXPECT_EQ(first.inferences, 1000);
  EXPECT_EQ(first.input_tokens, 58700);
  EXPECT_EQ(first.latency_p50_s, 0.008);
  EXPECT_FALSE(first.latency_p95_s.has_value());
  EXPECT_FALSE(first.output_tokens.has_value());
  EXPECT_EQ(first.measurement.duration_s, 8.5);
  EXPECT_EQ(first.measurement.warnings, std::vector<std::string>{"cpu energy is estimated"});
  const auto& w = out->windows[1];
  EXPECT_EQ(w.seq, 2);
  EXPECT_EQ(w.phase, "warmup");
  EXPECT_EQ(w.output_tokens, 0);
  EXPECT_DOUBLE_EQ(*w.latency_p95_s, 0.012);
  ASSERT_EQ(w.measurement.components.size(), 2u);
  const auto& cpu = w.measurement.components[0];
  EXPECT_DOUBLE_EQ(cpu.energy_j, 101.0);
  EXPECT_DOUBLE_EQ(*cpu.attributed_energy_j, 50.5);
  EXPECT_DOUBLE_EQ(*cpu.dynamic_energy_j, 25.25);
  EXPECT_EQ(cpu.provenance.to_string(), "measured:rapl-powercap");
  EXPECT_EQ(cpu.sources, in.windows[1].measurement.components[0].sources);
  EXPECT_EQ(cpu.band_factor, 1.0);
  EXPECT_EQ(w.measurement.components[1].band_factor, 2.5) << "a band is kept";
  EXPECT_FALSE(w.measurement.components[1].attributed_energy_j);
  EXPECT_DOUBLE_EQ(w.measurement.total_energy_j(), 301.0);
  // Start time kept to the millisecond.
  const auto diff = w.measurement.start_time - in.windows[1].measurement.start_time;
  EXPECT_LT(std::abs(std::chrono::duration<double>(diff).count()), 0.002);
  EXPECT_TRUE(store->has_external_id("cc-run-1"));
  EXPECT_FALSE(store->has_external_id("cc-run-2"));
  // Reports read inference windows by default.
  EXPECT_EQ(store->query_windows({}).size(), 1u);
}

// Schema 3's window fields, and replace_run: a run completed in place (an
// import whose other log files came later), all or nothing.
TYPED_TEST_P(StoreContract, ZeroShotLoadingFieldsAndReplaceRun) {
  auto store = this->open();
  RunRecord in = contract_run(1);
  in.windows[0].zero_shot = true;
  in.windows[0].includes_loading = true;
  in.windows[0].loading_share = 0.25;
  in.windows[0].external_id = "cc-a";
  const std::string id = store->save_run(in);
  auto out = store->load_run(id);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->windows[0].zero_shot);
  EXPECT_TRUE(out->windows[0].includes_loading);
  EXPECT_EQ(out->windows[0].loading_share, 0.25);
  RunRecord more = *out;
  more.windows[0].phase = "whole";
  more.windows[0].inferences.reset();
  more.windows[0].includes_loading = false;
  more.windows[0].loading_share.reset();
  more.windows.push_back(contract_window("model-0", 80.0));
  more.windows.back().external_id = "cc-a/query model";
  EXPECT_EQ(store->replace_run(more), id);
  out = store->load_run(id);
  ASSERT_EQ(out->windows.size(), 2u);
  EXPECT_EQ(out->windows[0].phase, "whole");
  EXPECT_FALSE(out->windows[0].loading_share.has_value());
  EXPECT_EQ(this->count("runs"), 1);
  EXPECT_EQ(store->query_windows({}).size(), 1u);  // the query window only
  // A replacement that cannot be written leaves the run as it was.
  RunRecord bad = more;
  bad.windows.push_back(contract_window("model-0", 1.0));
  bad.windows.back().external_id = "cc-a";  // twice in one run
  EXPECT_ANY_THROW(store->replace_run(bad));
  EXPECT_EQ(store->load_run(id)->windows.size(), 2u);
}

TYPED_TEST_P(StoreContract, DuplicateExternalIdRollsTheWholeRunBack) {
  auto store = this->open();
  RunRecord r = contract_run(2);
  r.windows[0].external_id = "cc-run-1";
  r.windows[1].external_id = "cc-run-1";
  EXPECT_THROW(store->save_run(r), InputError);
  EXPECT_EQ(this->count("runs"), 0);
  EXPECT_EQ(this->count("windows"), 0);
  r.windows[1].external_id = "cc-run-2";
  store->save_run(r);
  RunRecord again = contract_run(3);
  again.windows[2].external_id = "cc-run-1";  // already stored by the run above
  EXPECT_THROW(store->save_run(again), InputError);
  EXPECT_EQ(store->list_runs().size(), 1u);
  EXPECT_EQ(this->count("windows"), 2);
}

TYPED_TEST_P(StoreContract, AnInterruptedRunKeepsItsCommittedWindows) {
  std::string id;
  {
    auto store = this->open();
    id = store->begin_run(contract_run(0));
    EXPECT_EQ(store->add_window(id, contract_window("a", 1.0, 0.0)), 1);
    EXPECT_EQ(store->add_window(id, contract_window("b", 2.0, 0.0)), 2);
    // The process dies here: no finish_run.
  }
  auto store = this->open();
  auto r = store->load_run(id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, RunStatus::running);
  EXPECT_EQ(r->windows.size(), 2u);
  // Reports leave unfinished runs out unless asked.
  EXPECT_TRUE(store->query_windows({}).empty());
  WindowQuery all;
  all.include_unfinished = true;
  EXPECT_EQ(store->query_windows(all).size(), 2u);
  store->finish_run(id, RunStatus::interrupted, "kept 2 of 10 windows");
  EXPECT_EQ(store->query_windows({}).size(), 2u);
  EXPECT_EQ(store->load_run(id)->note, "kept 2 of 10 windows");
  EXPECT_TRUE(store->load_run(id)->ended_at);
  const auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::interrupted);
  EXPECT_EQ(runs[0].windows, 2);
  EXPECT_DOUBLE_EQ(runs[0].energy_j, 3.0);
  EXPECT_EQ(runs[0].note, "kept 2 of 10 windows");
  EXPECT_THROW(store->add_window(id, contract_window("c", 1.0)), InputError);
  EXPECT_THROW(store->add_window("no-such-run", contract_window("c", 1.0)), InputError);
}

TYPED_TEST_P(StoreContract, ValuesNeverBecomeSqlAndDeleteCascades) {
  auto store = this->open();
  RunRecord r = contract_run(1);
  r.windows[0].model = "x'); DROP TABLE runs; --";
  r.source = "\"; DELETE FROM windows; --";
  r.note = "'); DROP TABLE runs; --";
  const auto id = store->save_run(r);
  auto out = store->load_run(id);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->windows.at(0).model, r.windows[0].model);
  EXPECT_EQ(out->source, r.source);
  EXPECT_EQ(out->note, r.note);
  WindowQuery q;
  q.model = r.windows[0].model;
  EXPECT_EQ(store->query_windows(q).size(), 1u);
  EXPECT_TRUE(store->delete_run(id));
  EXPECT_FALSE(store->delete_run(id));
  EXPECT_EQ(this->count("windows"), 0);
  EXPECT_EQ(this->count("component_energy"), 0);
}

TYPED_TEST_P(StoreContract, PrefixLookupListAndDelete) {
  auto store = this->open();
  RunRecord a = contract_run(1), b = contract_run(2);
  a.id = "aaaa1111-0000-4000-8000-000000000000";
  b.id = "aaaa2222-0000-4000-8000-000000000000";
  store->save_run(a);
  store->save_run(b);
  EXPECT_EQ(store->load_run("aaaa2")->id, b.id);
  EXPECT_THROW(store->load_run("aaaa"), InputError);
  EXPECT_FALSE(store->load_run("zzz"));
  auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].windows + runs[0].windows, 3);
  EXPECT_TRUE(store->delete_run(a.id));
  EXPECT_FALSE(store->delete_run(a.id));
  EXPECT_EQ(this->count("windows"), 2);
  EXPECT_EQ(this->count("component_energy"), 4);
}

TYPED_TEST_P(StoreContract, QueryFiltersByTaskModelAndPhase) {
  auto store = this->open();
  RunRecord r = contract_run(3);
  r.windows[2].phase = "load";
  r.windows[1].task = "fill-mask";
  store->save_run(r);
  WindowQuery q;
  q.task = "text-classification";
  auto ws = store->query_windows(q);
  ASSERT_EQ(ws.size(), 1u);  // window 3 is a load phase, window 2 another task
  EXPECT_EQ(ws[0].window.model, "model-0");
  EXPECT_DOUBLE_EQ(ws[0].pue, 1.1);
  EXPECT_EQ(ws[0].window.measurement.components.size(), 2u);
  q.phase.clear();
  EXPECT_EQ(store->query_windows(q).size(), 2u);
  q.model = "model-2";
  EXPECT_EQ(store->query_windows(q).size(), 1u);
}

REGISTER_TYPED_TEST_SUITE_P(StoreContract, SaveAndLoadRoundTripsEveryField, ZeroShotLoadingFieldsAndReplaceRun,
                            DuplicateExternalIdRollsTheWholeRunBack, AnInterruptedRunKeepsItsCommittedWindows,
                            ValuesNeverBecomeSqlAndDeleteCascades, PrefixLookupListAndDelete,
                            QueryFiltersByTaskModelAndPhase);

}  // namespace joulebench::testing
