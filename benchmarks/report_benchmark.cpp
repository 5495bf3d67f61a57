// Reports: aggregation and the HTML page over a store the size of the study
// (88 models x 3 datasets x 10 runs = 2,640 windows) and ten times that.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <unistd.h>

#include "joulebench/report.h"
#include "joulebench/report_html.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

const char* kTasks[] = {"text-classification", "token-classification", "question-answering", "fill-mask",
                        "text-generation", "summarization", "image-classification", "object-detection",
                        "image-to-text", "text-to-image"};

std::vector<StoredWindow> windows(int models_per_task, int runs) {
  std::vector<StoredWindow> out;
  for (const char* task : kTasks)
    for (int m = 0; m < models_per_task; ++m)
      for (int r = 0; r < runs; ++r) {
        StoredWindow sw;
        sw.window.task = task;
        sw.window.model = std::string(task) + "-model-" + std::to_string(m);
        sw.window.dataset = "d" + std::to_string(r % 3);
        sw.window.inferences = 1000;
        for (auto c : {Component::gpu, Component::cpu, Component::dram}) {
          ComponentEnergy e;
          e.component = c;
          e.energy_j = 1000.0 * (m + 1) * (1.0 + 0.01 * r);
          sw.window.measurement.components.push_back(e);
        }
        out.push_back(std::move(sw));
      }
  return out;
}

void BM_AggregateByModel(benchmark::State& state) {
  const auto ws = windows(static_cast<int>(state.range(0)), 30);
  ReportOptions o;
  o.by = ReportGrouping::model;
  for (auto _ : state) benchmark::DoNotOptimize(aggregate_windows(ws, o));
  state.counters["windows"] = static_cast<double>(ws.size());
}
BENCHMARK(BM_AggregateByModel)->Arg(9)->Arg(90)->Unit(benchmark::kMillisecond);

void BM_HtmlPage(benchmark::State& state) {
  const fs::path path = fs::temp_directory_path() / ("jb-report-bench-" + std::to_string(::getpid()) + ".db");
  fs::remove(path);
  {
    auto store = open_store(path);
    RunRecord run;
    for (auto& sw : windows(static_cast<int>(state.range(0)), 30)) run.windows.push_back(sw.window);
    store->save_run(run);
  }
  auto store = open_store(path);
  std::size_t bytes = 0;
  for (auto _ : state) {
    const auto html = render_html_report(*store, {});
    bytes = html.size();
  }
  state.counters["html_kB"] = static_cast<double>(bytes) / 1024.0;
  store.reset();
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(path.string() + s);
}
BENCHMARK(BM_HtmlPage)->Arg(9)->Arg(90)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
