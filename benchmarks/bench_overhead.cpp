// Harness overhead of the bench protocol: one cell of N inferences through
// run_campaign (window edges, per-call timing, store writes, carbon) against
// a plain loop calling the same loaded model N times on the same inputs.
// Rounds alternate (plain, harness) and the medians are compared; wall time
// and the meter's energy (machine scope) are both reported.
//
//   build/benchmarks/bench_overhead [MODEL N ROUNDS]...   (default: the presets below)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "joulebench/bench.h"
#include "joulebench/version.h"

namespace {

using namespace joulebench;
using Clock = std::chrono::steady_clock;

// The loaded model, lent to the campaign (which must not own it).
class Borrowed final : public Model {
 public:
  explicit Borrowed(Model& m) : m_(m) {}
  const ModelInfo& info() const override { return m_.info(); }
  std::vector<InferenceOutput> infer(std::span<const InferenceInput> b) override { return m_.infer(b); }

 private:
  Model& m_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void measure(const std::string& name, int n, int rounds, Tracker& tracker, Store& store, const CarbonSettings& carbon) {
  const Task task = Task::text_classification;
  auto inputs = std::make_shared<BenchInputSet>(builtin_inputs(task, JOULEBENCH_FETCHED_DATA_DIR));
  LoadOptions load;
  load.task = task;
  auto model = load_model(name, load);
  // Warm both paths' caches once.
  for (int i = 0; i < 20; ++i) model->infer(std::span(&inputs->inputs[i % inputs->inputs.size()], 1));

  std::vector<double> plain_s, harness_s, plain_j, harness_j;
  for (int r = 0; r < rounds; ++r) {
    tracker.begin_window("plain");
    auto t0 = Clock::now();
    std::size_t offset = 0;
    for (int i = 0; i < n; ++i) model->infer(std::span(&inputs->inputs[(offset++) % inputs->inputs.size()], 1));
    plain_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    plain_j.push_back(tracker.end_window("plain").total_energy_j());

    BenchSettings settings;
    settings.n = n;
    settings.reps = 1;
    settings.warmup = 0;
    BenchContext ctx{tracker, store, carbon,
                     [&](const std::string&, const LoadOptions&) { return std::make_unique<Borrowed>(*model); },
                     MachineInfo{}, 0.0, {}};
    tracker.begin_window("harness");
    t0 = Clock::now();
    const auto result = run_campaign({BenchCell{task, fmt::format("{} round {}", name, r), inputs, 1}}, settings, ctx);  // a new cell key each round: never skipped
    harness_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    harness_j.push_back(tracker.end_window("harness").total_energy_j());
    if (result.runs.size() != 1 || result.runs[0].status != RunStatus::complete) {
      fmt::print(stderr, "bench_overhead: the campaign failed: {}\n", result.runs.empty() ? "" : result.runs[0].error);
      std::exit(1);
    }
  }
  const double ps = median(plain_s), hs = median(harness_s), pj = median(plain_j), hj = median(harness_j);
  fmt::print("| `{}` | {} | {} | {:.1f} ms ({:.3f} ms/inf) | {:.1f} ms | **{:+.2f} %** | {:.3g} J | {:.3g} J | **{:+.2f} %** |\n",
             name, n, rounds, ps * 1e3, ps * 1e3 / n, hs * 1e3, (hs / ps - 1) * 100, pj, hj, (hj / pj - 1) * 100);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  ::setenv("JOULEBENCH_ZOO_LIBRARY", JOULEBENCH_ZOO_PATH, 0);
  const std::filesystem::path db = std::filesystem::temp_directory_path() / fmt::format("bench_overhead_{}.db", ::getpid());
  {
    auto store = open_store(db);
    Tracker tracker;
    CarbonSettings carbon;
    fmt::print("| model | N | rounds | plain loop (median) | bench harness (median) | time overhead | plain energy | harness energy | energy overhead |\n");
    fmt::print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    if (argc >= 4) {
      for (int i = 1; i + 2 < argc; i += 3) measure(argv[i], std::atoi(argv[i + 1]), std::atoi(argv[i + 2]), tracker, *store, carbon);
    } else {
      measure("tiny-distilbert-sst2", 2000, 7, tracker, *store, carbon);
      measure("small-distilbert-sst2", 200, 7, tracker, *store, carbon);
    }
  }
  std::filesystem::remove(db);
  return 0;
}
