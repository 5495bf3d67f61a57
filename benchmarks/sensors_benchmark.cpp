// Cost of one read() per sensor type, through the real reading code.
// Counters on fake sysfs/devfs trees in a temporary directory (no test machine
// exposes RAPL, MSRs or GPUs); the estimates on this machine's real /proc,
// which is what they read in use. Results: docs/benchmarks.md, "Sensors".
//
// A fake file costs what the page cache costs; on real hardware add the
// kernel's work behind the attribute (powercap energy_uj and the msr device
// read an MSR on the target CPU, an IPI when it is not the current one).
#include <fcntl.h>
#include <linux/perf_event.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "joulebench/sensor.h"
#include "sensors/backends.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;

// A fake machine written once for the whole program.
class FakeMachine {
 public:
  FakeMachine() {
    root_ = fs::temp_directory_path() / ("joulebench-sensors-bench-" + std::to_string(::getpid()));
    fs::create_directories(root_);
    write("sys/class/powercap/intel-rapl:0/name", "package-0\n");
    write("sys/class/powercap/intel-rapl:0/energy_uj", "123456789\n");
    write("sys/class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
    write("sys/class/hwmon/hwmon0/name", "amdgpu\n");
    write("sys/class/hwmon/hwmon0/power1_average", "95000000\n");
    write("sys/class/hwmon/hwmon1/name", "amd_energy\n");
    write("sys/class/hwmon/hwmon1/energy1_input", "123456789\n");
    write("sys/devices/system/cpu/cpu0/topology/physical_package_id", "0\n");
    write("sys/devices/system/cpu/cpu0/topology/core_id", "0\n");
    write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\n");
    write_msr(0x606, 0xA0E03);
    write_msr(0x611, 12345);
    write_msr(0x619, 12345);
    write_msr(0x639, 12345);
    write("nvml-script", "count 1\n0.name Fake\n0.uuid GPU-0\n0.energy_mj 1000\n0.power_mw 250000\n");
    ::setenv("FAKE_NVML_SCRIPT", (root_ / "nvml-script").c_str(), 1);
  }
  ~FakeMachine() { fs::remove_all(root_); }

  SensorOptions options() const {
    SensorOptions o;
    o.paths.sysfs_root = (root_ / "sys").string();
    o.paths.procfs_root = (root_ / "proc").string();
    o.paths.dev_root = (root_ / "dev").string();
    return o;
  }

 private:
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  void write_msr(std::uint32_t reg, std::uint64_t value) {
    const auto path = root_ / "dev/cpu/0/msr";
    fs::create_directories(path.parent_path());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || ::pwrite(fd, &value, sizeof value, reg) != 8) throw std::runtime_error("cannot write fake msr");
    ::close(fd);
  }
  fs::path root_;
};

const FakeMachine& machine() {
  static const FakeMachine m;
  return m;
}

// Reads the named sensor in a loop; skips when it is not available.
void read_loop(benchmark::State& state, SensorList list, const std::string& name) {
  Sensor* sensor = nullptr;
  for (auto& s : list)
    if (s->info().name == name) sensor = s.get();
  if (!sensor || !sensor->status().available) {
    state.SkipWithError((name + " not available").c_str());
    return;
  }
  for (auto _ : state) {
    auto r = sensor->read();
    benchmark::DoNotOptimize(r);
    if (!r.ok) {
      state.SkipWithError(r.error.c_str());
      break;
    }
  }
}

template <void (*Discover)(const SensorOptions&, SensorList&)>
SensorList discover_with(const SensorOptions& options) {
  SensorList list;
  Discover(options, list);
  return list;
}

void BM_PowercapRead(benchmark::State& state) {
  read_loop(state, discover_with<sensors::discover_powercap>(machine().options()), "rapl-powercap:package-0");
}
BENCHMARK(BM_PowercapRead);

void BM_MsrRead(benchmark::State& state) {
  read_loop(state, discover_with<sensors::discover_msr>(machine().options()), "rapl-msr:package-0");
}
BENCHMARK(BM_MsrRead);

// The perf backend's own work around read(2) of the event fd (the system
// call is replaced: no RAPL PMU here). A perf read(2) itself costs ~1 µs.
void BM_PerfReadWrapper(benchmark::State& state) {
  auto options = machine().options();
  std::filesystem::path pmu = std::filesystem::path(options.paths.sysfs_root) / "bus/event_source/devices/power";
  std::filesystem::create_directories(pmu / "events");
  std::ofstream(pmu / "type") << "23\n";
  std::ofstream(pmu / "events/energy-pkg") << "event=0x02\n";
  std::ofstream(pmu / "events/energy-pkg.scale") << "2.3283064365386962890625e-10\n";
  std::uint64_t count = 1;
  sensors::PerfSyscalls fake;
  fake.open = [](perf_event_attr&, int, int) { return 99; };
  fake.read = [&count](int, std::uint64_t& c) -> std::string {
    c = count += 1000;
    return {};
  };
  fake.close = [](int) {};
  SensorList list;
  sensors::discover_perf(options, fake, list);
  read_loop(state, std::move(list), "rapl-perf:package-0");
}
BENCHMARK(BM_PerfReadWrapper);

void BM_HwmonPowerRead(benchmark::State& state) {
  read_loop(state, discover_with<sensors::discover_hwmon>(machine().options()), "hwmon:hwmon0/amdgpu/power1");
}
BENCHMARK(BM_HwmonPowerRead);

void BM_HwmonEnergyRead(benchmark::State& state) {
  read_loop(state, discover_with<sensors::discover_hwmon>(machine().options()),
            "hwmon:hwmon1/amd_energy/energy1");
}
BENCHMARK(BM_HwmonEnergyRead);

#ifdef FAKE_NVML_PATH
// Through the fake library, which re-reads its script file on each call: an
// upper bound on our side; a real nvmlDeviceGetTotalEnergyConsumption is a
// driver ioctl (tens of µs on current drivers).
void BM_NvmlFakeRead(benchmark::State& state) {
  auto options = machine().options();
  options.paths.nvml_library = FAKE_NVML_PATH;
  read_loop(state, discover_with<sensors::discover_nvml>(options), "nvml:gpu-0");
}
BENCHMARK(BM_NvmlFakeRead);
#endif

// The estimates read the real /proc/stat and /proc/meminfo of this machine.
void BM_EstimateCpuRead(benchmark::State& state) {
  read_loop(state, discover_with<sensors::discover_estimate>(SensorOptions{}), "estimate:cpu");
}
BENCHMARK(BM_EstimateCpuRead);

void BM_EstimateRamRead(benchmark::State& state) {
  read_loop(state, discover_with<sensors::discover_estimate>(SensorOptions{}), "estimate:ram");
}
BENCHMARK(BM_EstimateRamRead);

// Discovery of every backend on this machine (done once per run).
void BM_DiscoverThisMachine(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(discover_sensors());
}
BENCHMARK(BM_DiscoverThisMachine)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace joulebench

BENCHMARK_MAIN();
