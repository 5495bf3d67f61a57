// The protocol runner against fake models and a scripted energy counter: the
// real campaign, store and meter code run; no libtorch.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "bench_fakes.h"
#include "core/procfs.h"
#include "joulebench/bench.h"
#include "joulebench/error.h"
#include "../support/expect_throw.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;

using namespace joulebench::testing;

struct Fixture : ::testing::Test {
  fs::path dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<Tracker> tracker;
  CarbonSettings carbon;
  FakeState state;

  void SetUp() override {
    dir = fs::path(JOULEBENCH_TEST_BINARY_DIR) /
          ("bench_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
           std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    store = open_store(dir / "bench.db");
    SensorList sensors;
    sensors.push_back(std::make_unique<RampCounter>());
    tracker = std::make_unique<Tracker>(std::move(sensors), TrackerOptions{});
    carbon.intensity = intensity_from_user(100.0);
  }
  void TearDown() override { fs::remove_all(dir); }

  BenchContext context() {
    return BenchContext{*tracker, *store, carbon,
                        [this](const std::string& name, const LoadOptions&) -> std::unique_ptr<Model> {
                          ++state.loads;
                          if (name == "missing") throw InputError("unknown model 'missing'");
                          if (name == "traced")  // as libtorch's c10::Error::what() reads
                            throw Error("shape '[2, 3]' is invalid for input of size 4\nException raised from "
                                        "infer_size_impl at ../aten/src/ATen/InferSize.h:92 (most recent call "
                                        "first):\n" + std::string(25 * 120, 'f'));
                          if (name == "wordy") throw Error(std::string(5000, 'w'));
                          return std::make_unique<FakeModel>(name, state);
                        },
                        detect_machine(), 0.0, {}};
  }
  std::vector<BenchCell> cells(std::vector<std::string> models, int batch = 1) {
    std::vector<BenchCell> out;
    for (auto& m : models) out.push_back(BenchCell{Task::text_classification, m, inputs(), batch});
    return out;
  }
};

BenchSettings small_settings(int n, int reps) {
  BenchSettings s;
  s.n = n;
  s.reps = reps;
  s.warmup = 2;
  return s;
}

TEST_F(Fixture, RunsEveryRepetitionAsOneStoredWindow) {
  auto ctx = context();
  const auto settings = small_settings(5, 3);
  const auto result = run_campaign(cells({"a", "b"}, 2), settings, ctx);
  ASSERT_EQ(result.runs.size(), 6u);
  EXPECT_FALSE(result.interrupted);
  EXPECT_EQ(result.failed_cells, 0u);
  // Per cell: warm-up 2 (1 call of 2), then 3 x 5 inferences in batches 2,2,1.
  EXPECT_EQ(state.calls, 2 * (1 + 3 * 3));
  double energy_j = 0.0, duration_s = 0.0;
  for (const auto& r : result.runs) {
    energy_j += r.energy_j();
    duration_s += r.measurement.duration_s;
  }
  // Energy follows the fake counter's 10 W (windows of a few ms: edge jitter allowed).
  EXPECT_NEAR(energy_j / duration_s, kWatts, 0.5 * kWatts);
  for (const auto& r : result.runs) {
    EXPECT_EQ(r.inferences, 5);
    EXPECT_GT(r.measurement.duration_s, 0.0);
    EXPECT_GT(r.latency_p95_s, 0.0019);
    EXPECT_GE(r.latency_p95_s, r.latency_p50_s);
  }
  const auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& s : runs) {
    EXPECT_EQ(s.kind, RunKind::bench);
    EXPECT_EQ(s.status, RunStatus::complete);
    EXPECT_EQ(s.windows, 3);
  }
  WindowQuery q;
  q.model = "a";
  const auto windows = store->query_windows(q);
  ASSERT_EQ(windows.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(windows[i].window.repetition, i + 1);
    EXPECT_EQ(windows[i].window.inferences, 5);
    EXPECT_EQ(windows[i].window.dataset, "toy");
    EXPECT_EQ(windows[i].window.task, "text-classification");
    EXPECT_EQ(windows[i].window.output_tokens, 15);
  }
}

TEST_F(Fixture, EachWindowRecordsItsConfiguration) {
  auto ctx = context();
  auto settings = small_settings(4, 1);
  settings.threads = 3;
  settings.dtype = "bf16";
  std::vector<BenchCell> sweep = cells({"a"}, 1);
  sweep.push_back(BenchCell{Task::text_classification, "a", inputs(), 4});
  run_campaign(sweep, settings, ctx);
  const auto windows = store->query_windows({});
  ASSERT_EQ(windows.size(), 2u);
  std::set<int> batches;
  for (const auto& sw : windows) {
    ASSERT_TRUE(sw.window.batch_size.has_value());
    batches.insert(*sw.window.batch_size);
    EXPECT_EQ(sw.window.threads, 3);
    EXPECT_EQ(sw.window.dtype, "bf16");
    EXPECT_EQ(sw.window.device, "cpu");
  }
  EXPECT_EQ(batches, (std::set<int>{1, 4}));
}

TEST_F(Fixture, JsonCarriesTheContractFields) {
  auto ctx = context();
  const auto result = run_campaign(cells({"a"}), small_settings(4, 1), ctx);
  ASSERT_EQ(result.runs.size(), 1u);
  const auto j = bench_run_json(result.runs[0]);
  for (const char* k : {"task", "model", "inferences", "duration_s", "energy_j", "kwh_per_1000", "gco2e_per_1000",
                        "provenance"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["task"], "text-classification");
  EXPECT_EQ(j["inferences"], 4);
  const double energy = j["energy_j"].get<double>();
  EXPECT_NEAR(j["kwh_per_1000"].get<double>(), energy / 4 * 1000 / 3.6e6, 1e-15);
  // 100 g/kWh, PUE 1.
  EXPECT_NEAR(j["gco2e_per_1000"].get<double>(), j["kwh_per_1000"].get<double>() * 100.0, 1e-12);
  EXPECT_EQ(j["provenance"]["components"]["cpu"], "measured:fake-counter");
  // A reading: the band's ends are the figure.
  EXPECT_EQ(j["kwh_per_1000_low"], j["kwh_per_1000"]);
  EXPECT_EQ(j["gco2e_per_1000_high"], j["gco2e_per_1000"]);
  EXPECT_NEAR(j["j_per_output_token"].get<double>(), energy / 12.0, 1e-12);
}

TEST_F(Fixture, CompletedCellsAreSkippedOnResume) {
  auto ctx = context();
  const auto settings = small_settings(3, 2);
  run_campaign(cells({"a", "b"}), settings, ctx);
  const int loads = state.loads;
  const auto again = run_campaign(cells({"a", "b", "c"}), settings, ctx);
  EXPECT_EQ(again.skipped.size(), 2u);
  EXPECT_EQ(state.loads, loads + 1);  // only c
  EXPECT_EQ(store->list_runs().size(), 3u);
  // Another configuration is another cell.
  auto other = small_settings(4, 2);
  const auto third = run_campaign(cells({"a"}), other, ctx);
  EXPECT_TRUE(third.skipped.empty());
}

// An unfinished run of the same cell is deleted only when proven abandoned:
// a second campaign on the same store must not delete the first one's run.
TEST_F(Fixture, UnfinishedRunsAreDeletedOnlyWhenNoLiveProcessOwnsThem) {
  auto ctx = context();
  const auto settings = small_settings(2, 1);
  ASSERT_EQ(run_campaign(cells({"a"}), settings, ctx).runs.size(), 1u);
  const auto done = store->load_run(store->list_runs().at(0).id);
  const auto config = nlohmann::json::parse(done->config_json);
  const std::string key = config.at("cell_key");
  ASSERT_TRUE(config.at("owner").is_object()) << config.dump();
  EXPECT_EQ(config.at("owner").at("pid"), static_cast<int>(::getpid()));
  ASSERT_TRUE(store->delete_run(done->id));

  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  const auto self = procfs::read_process_stat("/proc", static_cast<int>(::getpid()));
  ASSERT_TRUE(self);
  auto plant = [&](RunStatus status, const nlohmann::json& owner) {
    RunRecord r;
    r.kind = RunKind::bench;
    r.started_at = std::chrono::system_clock::now();
    nlohmann::json c{{"cell_key", key}};
    if (!owner.is_null()) c["owner"] = owner;
    r.config_json = c.dump();
    const std::string id = store->begin_run(r);
    if (status != RunStatus::running) store->finish_run(id, status, "planted");
    return id;
  };
  const std::string host = ctx.machine.hostname;
  const std::string boot = procfs::boot_id("/proc");
  const auto live = plant(RunStatus::running, {{"host", host}, {"pid", ::getpid()}, {"start_ticks", self->start_ticks},
                                               {"boot_id", boot}});
  const auto reused_pid = plant(RunStatus::running, {{"host", host}, {"pid", ::getpid()},
                                                     {"start_ticks", self->start_ticks + 1}, {"boot_id", boot}});
  const auto dead = plant(RunStatus::running, {{"host", host}, {"pid", gone}, {"start_ticks", 1}, {"boot_id", boot}});
  const auto rebooted = plant(RunStatus::running, {{"host", host}, {"pid", ::getpid()},
                                                   {"start_ticks", self->start_ticks}, {"boot_id", "another-boot"}});
  const auto elsewhere = plant(RunStatus::running, {{"host", "another-machine"}, {"pid", gone}, {"start_ticks", 1}});
  const auto no_owner = plant(RunStatus::running, nullptr);
  const auto failed = plant(RunStatus::failed, nullptr);

  ASSERT_EQ(run_campaign(cells({"a"}), settings, ctx).runs.size(), 1u);
  std::set<std::string> left;
  for (const auto& r : store->list_runs()) left.insert(r.id);
  EXPECT_TRUE(left.count(live)) << "a live process's run was deleted";
  EXPECT_TRUE(left.count(elsewhere)) << "another host's run cannot be proven abandoned";
  EXPECT_TRUE(left.count(no_owner)) << "a run without an owner cannot be proven abandoned";
  EXPECT_FALSE(left.count(reused_pid)) << "same pid, another start time: the owner is gone";
  EXPECT_FALSE(left.count(dead));
  EXPECT_FALSE(left.count(rebooted));
  EXPECT_FALSE(left.count(failed));
  EXPECT_EQ(left.size(), 3u + 1u) << "the three kept and the new complete run";
}

// A failure's note is its message, not libtorch's stack trace nor 5 KB of text.
TEST_F(Fixture, AFailedCellsNoteIsShort) {
  auto ctx = context();
  run_campaign(cells({"traced", "wordy"}), small_settings(2, 1), ctx);
  std::map<std::string, std::string> notes;
  for (const auto& r : store->list_runs()) {
    const auto run = store->load_run(r.id);
    notes[nlohmann::json::parse(run->config_json).at("model")] = r.note;
  }
  EXPECT_EQ(notes["traced"], "shape '[2, 3]' is invalid for input of size 4");
  EXPECT_LE(notes["wordy"].size(), 1003u);
  EXPECT_EQ(notes["wordy"].substr(notes["wordy"].size() - 3), "...");
}

TEST_F(Fixture, AFailingModelFailsItsCellOnly) {
  auto ctx = context();
  state.throw_at_call = 3;  // inside cell "a"'s first repetition
  const auto result = run_campaign(cells({"a", "missing", "b"}), small_settings(3, 2), ctx);
  EXPECT_EQ(result.failed_cells, 2u);
  int complete = 0, failed = 0;
  for (const auto& r : result.runs) (r.status == RunStatus::complete ? complete : failed)++;
  EXPECT_EQ(failed, 2);
  EXPECT_EQ(complete, 2);  // b's two repetitions
  int failed_runs = 0;
  for (const auto& s : store->list_runs()) {
    if (s.status == RunStatus::failed) {
      ++failed_runs;
      EXPECT_FALSE(s.note.empty());
    }
  }
  EXPECT_EQ(failed_runs, 2);
  const auto j = bench_run_json(result.runs[0]);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_NE(j["error"].get<std::string>().find("out of memory"), std::string::npos);
  // A resumed campaign retries the failed cells, replacing their failed runs.
  state.throw_at_call = -1;
  const auto retry = run_campaign(cells({"a", "b"}), small_settings(3, 2), ctx);
  EXPECT_EQ(retry.skipped.size(), 1u);
  int failed_left = 0;
  for (const auto& s : store->list_runs()) failed_left += s.status == RunStatus::failed && s.note.find("out of") != std::string::npos;
  EXPECT_EQ(failed_left, 0);
}

TEST_F(Fixture, InterruptDiscardsThePartialCellAndResumes) {
  auto ctx = context();
  std::atomic<bool> stop{false};
  state.stop = &stop;
  // Cell a: 1 warm-up call + 2 reps x 3 calls = 7; stop during cell b's first repetition.
  state.stop_at_call = 7 + 3;
  BenchCallbacks cb;
  cb.stop = &stop;
  const auto result = run_campaign(cells({"a", "b", "c"}), small_settings(3, 2), ctx, cb);
  EXPECT_TRUE(result.interrupted);
  ASSERT_TRUE(result.interrupted_cell);
  EXPECT_EQ(result.interrupted_cell->model, "b");
  EXPECT_EQ(result.runs.size(), 2u);
  const auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::complete);
  stop = false;
  state.stop_at_call = -1;
  const auto resumed = run_campaign(cells({"a", "b", "c"}), small_settings(3, 2), ctx, cb);
  EXPECT_FALSE(resumed.interrupted);
  EXPECT_EQ(resumed.skipped.size(), 1u);
  EXPECT_EQ(store->list_runs().size(), 3u);
}

TEST_F(Fixture, StopBetweenCellsStartsNoOtherCell) {
  auto ctx = context();
  std::atomic<bool> stop{false};
  BenchCallbacks cb;
  cb.stop = &stop;
  // Stop asked when cell a's last repetition is done: a stays complete, b never loads.
  cb.run_done = [&](const BenchRun& r) {
    if (r.cell.model == "a" && r.repetition == 2) stop = true;
  };
  const auto result = run_campaign(cells({"a", "b"}), small_settings(2, 2), ctx, cb);
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.interrupted_cell->model, "b");
  EXPECT_EQ(state.loads, 1);
  ASSERT_EQ(store->list_runs().size(), 1u);
  EXPECT_EQ(store->list_runs()[0].status, RunStatus::complete);
}

TEST_F(Fixture, ProgressReportsPhasesAndEta) {
  auto ctx = context();
  std::vector<std::string> phases;
  bool eta_seen = false;
  BenchCallbacks cb;
  cb.progress = [&](const BenchProgress& p) {
    phases.push_back(p.phase);
    eta_seen = eta_seen || p.eta_s.has_value();
    EXPECT_EQ(p.cell_count, 2u);
  };
  run_campaign(cells({"a", "b"}), small_settings(2, 2), ctx, cb);
  EXPECT_EQ(phases.front(), "load");
  EXPECT_NE(std::find(phases.begin(), phases.end(), "warmup"), phases.end());
  EXPECT_EQ(std::count(phases.begin(), phases.end(), "measure"), 4);
  EXPECT_TRUE(eta_seen);
}

TEST_F(Fixture, MergeCopiesRunsOnce) {
  auto ctx = context();
  run_campaign(cells({"a"}), small_settings(2, 1), ctx);
  auto other = open_store(dir / "other.db");
  BenchContext ctx2{*tracker, *other, carbon, ctx.loader, detect_machine(), 0.0, {}};
  run_campaign(cells({"b"}), small_settings(2, 1), ctx2);
  auto out = open_store(dir / "out.db");
  EXPECT_EQ(merge_stores(*store, *out), 1u);
  EXPECT_EQ(merge_stores(*other, *out), 1u);
  EXPECT_EQ(merge_stores(*other, *out), 0u);
  const auto runs = out->list_runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].windows + runs[1].windows, 2);
  // Resume against the merged store skips both.
  BenchContext ctx3{*tracker, *out, carbon, ctx.loader, detect_machine(), 0.0, {}};
  EXPECT_EQ(run_campaign(cells({"a", "b"}), small_settings(2, 1), ctx3).skipped.size(), 2u);
}

// A finished repetition of 10 inferences for render_bench_summary: `joules` of CPU energy of `kind`.
BenchRun summary_run(const std::string& model, int batch, double joules, ProvenanceKind kind) {
  BenchRun r;
  r.cell.task = Task::text_classification;
  r.cell.model = model;
  r.cell.batch = batch;
  r.inferences = 10;
  ComponentEnergy c;
  c.component = Component::cpu;
  c.energy_j = joules;
  c.provenance = {kind, kind == ProvenanceKind::estimated ? "cpu-tdp-model" : "rapl-powercap"};
  r.measurement.components = {c};
  return r;
}

// The summary table says how each figure was obtained, and an estimate is
// called one (#17: "bench never says 'estimated' in its table").
TEST(BenchSummary, SaysWhereEachFigureComesFrom) {
  auto run = [](const std::string& model, ProvenanceKind kind) { return summary_run(model, 1, 5.0, kind); };
  CampaignResult measured;
  measured.runs = {run("a", ProvenanceKind::measured), run("a", ProvenanceKind::measured)};
  const std::string m = render_bench_summary(measured);
  EXPECT_NE(m.find("source"), std::string::npos) << m;
  EXPECT_NE(m.find("measured"), std::string::npos) << m;
  EXPECT_EQ(m.find("estimated"), std::string::npos) << m;
  CampaignResult mixed;
  mixed.runs = {run("b", ProvenanceKind::measured), run("b", ProvenanceKind::estimated)};
  const std::string e = render_bench_summary(mixed);
  EXPECT_NE(e.find("  estimated\n"), std::string::npos) << "the weakest of the group: " << e;
  EXPECT_NE(e.find("source estimated: no energy counter could be read"), std::string::npos) << e;

  // An estimate's band is shown where the figure is, and in the JSON.
  CampaignResult banded;
  banded.runs = {run("c", ProvenanceKind::estimated)};
  banded.runs[0].measurement.components[0].band_factor = 2.5;
  const std::string b = render_bench_summary(banded);
  EXPECT_NE(b.find("estimated x/÷2.5\n"), std::string::npos) << b;
  const auto j = bench_run_json(banded.runs[0]);
  EXPECT_DOUBLE_EQ(j["kwh_per_1000_low"].get<double>(), j["kwh_per_1000"].get<double>() / 2.5);
  EXPECT_DOUBLE_EQ(j["kwh_per_1000_high"].get<double>(), j["kwh_per_1000"].get<double>() * 2.5);
}

// Repetitions shorter than the sensors' resolution are marked at the figure,
// with the reason and an N that would do (#17: fastText's 2 ms windows).
TEST(BenchSummary, MarksRepetitionsShorterThanTheSensorsResolution) {
  CampaignResult result;
  result.runs = {summary_run("fast", 1, 0.1, ProvenanceKind::estimated),
                 summary_run("slow", 1, 50.0, ProvenanceKind::estimated)};
  result.runs[0].measurement.duration_s = 0.002;  // 10 inferences in 2 ms
  result.runs[1].measurement.duration_s = 3.0;
  const Meter::Resolution resolution{1.0, "estimate:cpu is read every 1.00 s"};
  const std::string t = render_bench_summary(result, resolution);
  const auto line_of = [&](const std::string& model) {
    const auto at = t.find(" " + model + " ");
    return t.substr(at, t.find('\n', at) - at);
  };
  EXPECT_NE(line_of("fast").find(" ~ "), std::string::npos) << t;
  EXPECT_EQ(line_of("slow").find(" ~ "), std::string::npos) << t;
  EXPECT_NE(t.find("~ text-classification fast: a repetition lasted 2.00 ms, under the 1.00 s the sensors need "
                   "(estimate:cpu is read every 1.00 s): its figures are coarse; --n 5,000 would make one last "
                   "about 1.00 s"),
            std::string::npos)
      << t;
  EXPECT_EQ(render_bench_summary(result).find(" ~ "), std::string::npos) << "no resolution given: no mark";
}

TEST(BenchStars, LogBandsAmongFiveOrMoreModels) {
  const auto s = energy_stars({{"a", 1.0}, {"b", 10.5}, {"c", 100000.0}, {"d", 150.0}, {"e", 2000.0}});  // 5 decades: a band each
  EXPECT_EQ(s.at("a"), 5);
  EXPECT_EQ(s.at("b"), 4);
  EXPECT_EQ(s.at("d"), 3);
  EXPECT_EQ(s.at("e"), 2);
  EXPECT_EQ(s.at("c"), 1);
  // Fewer than five: no stars (with two they could only be 1 or 5).
  const auto few = energy_stars({{"x", 2.0}, {"y", 20.0}});
  EXPECT_FALSE(few.at("x"));
  EXPECT_FALSE(few.at("y"));
}

TEST(BenchSummary, StarsAreNotGivenAmongFewModelsAndNotAcrossBatchSizes) {
  auto run = [](const std::string& model, int batch, double j) {
    return summary_run(model, batch, j, ProvenanceKind::measured);
  };
  CampaignResult result;
  for (int i = 0; i < 5; ++i) result.runs.push_back(run("m" + std::to_string(i), 1, std::pow(10.0, i)));
  result.runs.push_back(run("m0", 8, 0.5));  // batch 8: its own configuration, alone in it
  const std::string t = render_bench_summary(result);
  EXPECT_NE(t.find("*****  measured"), std::string::npos) << t;
  EXPECT_NE(t.find("m0 (batch 8)"), std::string::npos) << t;
  EXPECT_NE(t.find("stars: only among 5 or more models of one task and batch size"), std::string::npos) << t;
  const auto line = t.substr(t.find("m0 (batch 8)"), t.find('\n', t.find("m0 (batch 8)")) - t.find("m0 (batch 8)"));
  EXPECT_NE(line.find(" -  measured"), std::string::npos) << "unranked, not 5 stars for being cheapest: " << line;
}

// A language identifier in text-classification is not ranked against the
// task's models (#17: fastText lid got five stars next to sentiment models).
TEST(BenchSummary, OffTaskModelsAreRankedApart) {
  CampaignResult result;
  for (int i = 0; i < 5; ++i)
    result.runs.push_back(summary_run("m" + std::to_string(i), 1, std::pow(10.0, i + 1), ProvenanceKind::measured));
  result.runs.push_back(summary_run("fasttext-lid-176", 1, 0.01, ProvenanceKind::measured));
  result.runs.back().cell.purpose = "language identification";
  const std::string t = render_bench_summary(result);
  const auto line_of = [&](const std::string& model) {
    const auto at = t.find(" " + model + " ");
    return t.substr(at, t.find('\n', at) - at);
  };
  EXPECT_NE(line_of("m0").find("*****  measured"), std::string::npos) << "the cheapest of the five ranked: " << t;
  EXPECT_NE(line_of("fasttext-lid-176").find(" -  measured"), std::string::npos) << t;
  EXPECT_NE(t.find("text-classification fasttext-lid-176: does language identification, not the task's usual job; "
                   "ranked only among models that do the same"),
            std::string::npos)
      << t;
}

TEST(BenchShard, ShardsPartitionTheCells) {
  std::vector<BenchCell> all;
  for (int i = 0; i < 7; ++i) all.push_back(BenchCell{Task::fill_mask, "m" + std::to_string(i), inputs(), 1});
  std::set<std::string> seen;
  std::size_t total = 0;
  for (int i = 1; i <= 3; ++i) {
    for (const auto& c : select_shard(all, i, 3)) seen.insert(c.model);
    total += select_shard(all, i, 3).size();
  }
  EXPECT_EQ(total, 7u);
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(select_shard(all, 1, 3)[1].model, "m3");
  EXPECT_THROW(select_shard(all, 0, 3), InputError);
  EXPECT_THROW(select_shard(all, 4, 3), InputError);
}

// ---- inputs ----

struct InputsTest : ::testing::Test {
  fs::path dir = fs::path(JOULEBENCH_TEST_BINARY_DIR) / ("inputs_" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return dir / name;
  }
};

std::size_t word_count(const std::string& s) {
  std::istringstream in(s);
  std::size_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

TEST_F(InputsTest, JsonlCsvAndPromptFiles) {
  auto jsonl = user_inputs(Task::text_classification,
                           write("a.jsonl", "{\"text\": \"good film\"}\n\n{\"text\": \"bad\", \"x\": 1}\n"));
  ASSERT_EQ(jsonl.inputs.size(), 2u);
  EXPECT_EQ(jsonl.inputs[1].text, "bad");
  EXPECT_EQ(jsonl.name, "a.jsonl");
  auto csv = user_inputs(Task::question_answering,
                         write("q.csv", "id,question,context\n1,\"Who, then?\",\"He said \"\"hi\"\"\nthere\"\n"),
                         "question");
  ASSERT_EQ(csv.inputs.size(), 1u);
  EXPECT_EQ(csv.inputs[0].text, "Who, then?");
  EXPECT_EQ(csv.inputs[0].context, "He said \"hi\"\nthere");
  auto prompts = user_inputs(Task::text_generation, write("p.txt", "# comment\n  once upon  \n\nfar away\n"));
  ASSERT_EQ(prompts.inputs.size(), 2u);
  EXPECT_EQ(prompts.inputs[0].text, "once upon");
  EXPECT_THROW(user_inputs(Task::text_classification, write("b.jsonl", "{\"body\": \"x\"}\n")), InputError);
  EXPECT_THROW(user_inputs(Task::question_answering, write("c.jsonl", "{\"text\": \"q\"}\n")), InputError);
  EXPECT_THROW(user_inputs(Task::image_classification, dir / "a.jsonl"), InputError);
  EXPECT_THROW(user_inputs(Task::text_generation, dir / "nope.txt"), InputError);
}

TEST_F(InputsTest, ImageFolder) {
  write("b.PNG", "x");
  write("a.jpg", "x");
  write("notes.txt", "x");
  auto set = user_inputs(Task::object_detection, dir);
  ASSERT_EQ(set.inputs.size(), 2u);
  EXPECT_EQ(fs::path(set.inputs[0].image_path).filename(), "a.jpg");
  EXPECT_THROW(user_inputs(Task::text_classification, dir), InputError);
}

TEST_F(InputsTest, BuiltinTextsFollowTheStudyLengths) {
  fs::create_directories(dir / "fortunes");
  std::string fortunes;
  for (int i = 0; i < 30; ++i) fortunes += "Fortune number " + std::to_string(i) + " says a few words here.\n%\n";
  std::ofstream(dir / "fortunes" / "fortunes") << fortunes;
  const auto prompts = builtin_inputs(Task::text_generation, dir);
  ASSERT_FALSE(prompts.inputs.empty());
  for (const auto& in : prompts.inputs) EXPECT_EQ(word_count(in.text), 20u);
  // IMDB: 58.7 tokens at 1.3 tokens per word.
  for (const auto& in : builtin_inputs(Task::text_classification, dir).inputs) EXPECT_EQ(word_count(in.text), 45u);
  // The study protocol: IMDB, Rotten Tomatoes (30.1 tokens), SST-2 (28.4).
  const auto sets = study_input_sets(Task::text_classification, dir);
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[1].name, "fortunes-rotten-tomatoes-length");
  EXPECT_EQ(word_count(sets[1].inputs[0].text), 23u);
  EXPECT_EQ(word_count(sets[2].inputs[0].text), 22u);
  EXPECT_EQ(study_input_sets(Task::text_generation, dir).size(), 1u);
  for (const auto& in : builtin_inputs(Task::fill_mask, dir).inputs)
    EXPECT_NE(in.text.find("[MASK]"), std::string::npos);
  EXPECT_THROW_MSG(builtin_inputs(Task::summarization, dir), InputError, "fetch_data.sh");
}

TEST_F(InputsTest, BuiltinReutersArticles) {
  fs::create_directories(dir / "reuters" / "crude");
  std::string body;
  for (int i = 0; i < 150; ++i) body += "word" + std::to_string(i) + " ";
  std::ofstream(dir / "reuters" / "crude" / "reut-00001.xml")
      << "<REUTERS><TEXT><TITLE>OIL &amp; GAS CUT</TITLE><BODY>" << body << "\n Reuter</BODY></TEXT></REUTERS>";
  const auto qa = builtin_inputs(Task::question_answering, dir);
  ASSERT_EQ(qa.inputs.size(), 1u);
  EXPECT_EQ(qa.inputs[0].text, "What happened: OIL & GAS CUT?");
  EXPECT_EQ(word_count(qa.inputs[0].context), 103u);  // 134 tokens / 1.3
  const auto sum = builtin_inputs(Task::summarization, dir);
  EXPECT_EQ(word_count(sum.inputs[0].text), 42u);  // 54 tokens / 1.3
  EXPECT_EQ(builtin_inputs(Task::token_classification, dir).inputs.size(), 5u);  // 150 words / 30
}

}  // namespace
}  // namespace joulebench
