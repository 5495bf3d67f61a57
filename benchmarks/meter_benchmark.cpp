// Meter overhead (results: docs/benchmarks.md, section "Meter"):
// - CPU time of the sampler thread per second of wall time, with every
//   sensor this machine offers, at 10 Hz and 100 Hz (targets: < 0.1 % and
//   < 1 % of one core); the same with 8 scripted sensors, to isolate the
//   meter's own cost from the sensors' read cost;
// (The cost of one read per sensor type is the sensors' own benchmark.)
// - a window's begin + end with the sampler running;
// - `joulebench measure -q -- true` against `true` (target: < 5 ms added).
#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "joulebench/meter.h"
#include "joulebench/sensor.h"

extern char** environ;

namespace {

using namespace joulebench;

MeterOptions every(double interval_s) {
  MeterOptions o;
  o.interval_s = interval_s;
  return o;
}

// A sensor whose read costs next to nothing: what remains is the meter.
class CheapSensor final : public Sensor {
 public:
  CheapSensor(int i, SensorKind kind) {
    info_.name = fmt::format("bench:{}", i);
    info_.backend = "bench";
    info_.component = i == 0 ? Component::cpu : Component::other;
    info_.device = fmt::format("d{}", i);  // (not "d" + ...: GCC 12 -Wrestrict false positive)
    info_.kind = kind;
    info_.provenance = {kind == SensorKind::power ? ProvenanceKind::sampled : ProvenanceKind::measured, "bench"};
  }
  const SensorInfo& info() const override { return info_; }
  SensorStatus status() const override { return {true, {}}; }
  SensorReading read() override {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    value_ += 0.5;
    return SensorReading::success({t, info_.kind == SensorKind::power ? 100.0 : value_});
  }

 private:
  SensorInfo info_;
  double value_ = 0.0;
};

SensorList cheap_sensors(int n) {
  SensorList out;
  for (int i = 0; i < n; ++i)
    out.push_back(std::make_unique<CheapSensor>(i, i % 2 ? SensorKind::power : SensorKind::energy_counter));
  return out;
}

// Steady state: the sampler's CPU time over 3 s after a 0.5 s warm-up (its
// first reads, cold caches and thread start are reported apart, start_us).
void measure_sampler(benchmark::State& state, SensorList sensors) {
  const double hz = static_cast<double>(state.range(0));
  for (auto _ : state) {
    Meter meter(std::move(sensors), every(1.0 / hz));
    meter.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const double cpu0_s = meter.sampler_cpu_s();
    const auto samples0 = meter.samples_taken();
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const double cpu_s = meter.sampler_cpu_s() - cpu0_s;
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto samples = meter.samples_taken() - samples0;
    meter.stop();
    state.SetIterationTime(wall_s);
    state.counters["core_pct"] = 100.0 * cpu_s / wall_s;
    state.counters["us_per_sample"] = samples ? 1e6 * cpu_s / static_cast<double>(samples) : 0.0;
    state.counters["samples"] = static_cast<double>(samples);
    state.counters["start_us"] = 1e6 * cpu0_s;
    state.counters["sensors"] = static_cast<double>(meter.sensors().size());
  }
}

void BM_SamplerOverheadMachine(benchmark::State& state) { measure_sampler(state, discover_sensors()); }
BENCHMARK(BM_SamplerOverheadMachine)->Arg(10)->Arg(100)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

void BM_SamplerOverheadEightCheapSensors(benchmark::State& state) { measure_sampler(state, cheap_sensors(8)); }
BENCHMARK(BM_SamplerOverheadEightCheapSensors)->Arg(10)->Arg(100)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

void BM_WindowBeginEnd(benchmark::State& state) {
  Meter meter(cheap_sensors(8), every(0.1));
  meter.start();
  for (auto _ : state) {
    meter.begin_window("w");
    benchmark::DoNotOptimize(meter.end_window("w"));
  }
}
BENCHMARK(BM_WindowBeginEnd)->Unit(benchmark::kMicrosecond);

// The exporter's tick: one lap of a window on a meter without a sampler
// thread (every usable sensor read, then the components composed as a
// `measure` window). On this machine's sensors, and on eight cheap ones
// (the composition's own cost).
void BM_ExporterLapMachine(benchmark::State& state) {
  Meter meter(discover_sensors(), every(1.0));
  meter.begin_window("tick");
  for (auto _ : state) benchmark::DoNotOptimize(meter.lap_window("tick"));
}
BENCHMARK(BM_ExporterLapMachine)->Unit(benchmark::kMicrosecond);

void BM_ExporterLapEightCheapSensors(benchmark::State& state) {
  Meter meter(cheap_sensors(8), every(1.0));
  meter.begin_window("tick");
  for (auto _ : state) benchmark::DoNotOptimize(meter.lap_window("tick"));
}
BENCHMARK(BM_ExporterLapEightCheapSensors)->Unit(benchmark::kMicrosecond);

double run_wall_ms(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1.0;
  int status = 0;
  waitpid(pid, &status, 0);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void BM_CommandTrue(benchmark::State& state) {
  for (auto _ : state) state.SetIterationTime(run_wall_ms({"true"}) / 1000.0);
}
BENCHMARK(BM_CommandTrue)->UseManualTime()->Unit(benchmark::kMillisecond);

#ifdef JOULEBENCH_BINARY
void BM_MeasureTrue(benchmark::State& state) {
  for (auto _ : state) state.SetIterationTime(run_wall_ms({JOULEBENCH_BINARY, "measure", "-q", "--", "true"}) / 1000.0);
}
BENCHMARK(BM_MeasureTrue)->UseManualTime()->Unit(benchmark::kMillisecond);
#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
