// The exporter's collector (scripted sensors, fake /proc), exposition
// (golden files and format rules) and HTTP agent (token, negotiation).
#include <httplib.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <fstream>
#include <regex>
#include <sstream>

#include "export/shares.h"
#include "joulebench/error.h"
#include "joulebench/exporter.h"
#include "joulebench/meter.h"
#include "../support/fake_sensors.h"
#include "../support/fake_tree.h"

extern char** environ;

namespace joulebench {
namespace {

using testing::ScriptState;
using testing::ScriptedSensor;
using testing::make_info;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CollectorOptions no_proc_options() {
  CollectorOptions o;
  o.procfs_root = "/nonexistent-joulebench-proc";
  o.carbon.intensity = intensity_from_user(500.0);
  return o;
}

const ExportedComponent* find(const ExporterSnapshot& s, Component c) {
  for (const auto& x : s.components)
    if (x.component == c) return &x;
  return nullptr;
}

TEST(Collector, CounterDeltasPowerAndEmissions) {
  auto st = std::make_shared<ScriptState>();
  SensorList list;
  list.push_back(std::make_unique<ScriptedSensor>(
      make_info("fake:package-0", "rapl-powercap", Component::cpu, "package-0", SensorKind::energy_counter,
                ProvenanceKind::measured),
      st));
  EnergyCollector c(std::move(list), no_proc_options());
  st->set(10.0, 100.0);
  c.sample();
  st->set(11.0, 150.0);
  c.sample();
  st->set(12.0, 250.0);
  c.sample();
  const auto s = c.snapshot();
  const auto* cpu = find(s, Component::cpu);
  ASSERT_NE(cpu, nullptr);
  EXPECT_DOUBLE_EQ(cpu->energy_j, 150.0);  // from the first read, not from 0
  EXPECT_EQ(cpu->provenance, "measured:rapl-powercap");
  ASSERT_EQ(s.sensors.size(), 1u);
  EXPECT_TRUE(s.sensors[0].up);
  ASSERT_TRUE(s.sensors[0].power_w.has_value());
  EXPECT_DOUBLE_EQ(*s.sensors[0].power_w, 100.0);
  // 150 J = 150 / 3.6e6 kWh at 500 g/kWh.
  EXPECT_NEAR(s.emissions_g, 150.0 / 3.6e6 * 500.0, 1e-12);
  // A counter reading has no band: its ends are the figure.
  EXPECT_DOUBLE_EQ(cpu->energy_low_j, 150.0);
  EXPECT_DOUBLE_EQ(cpu->energy_high_j, 150.0);
  EXPECT_NEAR(s.emissions_high_g, s.emissions_g, 1e-15);
  EXPECT_EQ(s.samples, 3u);
  EXPECT_FALSE(s.attribution_ok);
}

TEST(Collector, AnEstimateCarriesItsBandToEnergyAndEmissions) {
  auto cpu_state = std::make_shared<ScriptState>();
  auto ram_state = std::make_shared<ScriptState>();
  SensorList list;
  SensorInfo cpu_info = make_info("estimate:cpu", "estimate", Component::cpu, "machine", SensorKind::energy_counter,
                                  ProvenanceKind::estimated);
  cpu_info.band_factor = 2.5;
  SensorInfo ram_info = make_info("rapl:dram", "rapl-powercap", Component::dram, "dram", SensorKind::energy_counter,
                                  ProvenanceKind::measured);
  list.push_back(std::make_unique<ScriptedSensor>(cpu_info, cpu_state));
  list.push_back(std::make_unique<ScriptedSensor>(ram_info, ram_state));
  EnergyCollector c(std::move(list), no_proc_options());
  cpu_state->set(10.0, 0.0);
  ram_state->set(10.0, 0.0);
  c.sample();
  cpu_state->set(11.0, 100.0);
  ram_state->set(11.0, 20.0);
  c.sample();
  const auto s = c.snapshot();
  const auto* cpu = find(s, Component::cpu);
  ASSERT_NE(cpu, nullptr);
  EXPECT_DOUBLE_EQ(cpu->energy_j, 100.0);
  EXPECT_DOUBLE_EQ(cpu->energy_low_j, 40.0);
  EXPECT_DOUBLE_EQ(cpu->energy_high_j, 250.0);
  EXPECT_DOUBLE_EQ(find(s, Component::dram)->energy_high_j, 20.0) << "a reading's band is itself";
  const double g_per_j = 500.0 / 3.6e6;
  EXPECT_NEAR(s.emissions_g, 120.0 * g_per_j, 1e-12);
  EXPECT_NEAR(s.emissions_low_g, 60.0 * g_per_j, 1e-12);
  EXPECT_NEAR(s.emissions_high_g, 270.0 * g_per_j, 1e-12);
  const std::string text = render_metrics(s, MetricsFormat::prometheus_text);
  EXPECT_NE(text.find("joulebench_energy_high_joules_total{component=\"cpu\"} 250"), std::string::npos) << text;
}

TEST(Collector, SensorDownThenRestartedStaysMonotonic) {
  auto st = std::make_shared<ScriptState>();
  SensorList list;
  list.push_back(std::make_unique<ScriptedSensor>(
      make_info("fake:gpu-0", "nvml", Component::gpu, "gpu-0", SensorKind::energy_counter, ProvenanceKind::measured),
      st));
  EnergyCollector c(std::move(list), no_proc_options());
  st->set(1.0, 1000.0);
  c.sample();
  st->set(2.0, 1300.0);
  c.sample();
  EXPECT_DOUBLE_EQ(c.snapshot().sensors[0].energy_j, 300.0);
  {
    std::lock_guard lock(st->mutex);
    st->fail = true;  // GPU reset: reads fail
  }
  c.sample();
  auto s = c.snapshot();
  EXPECT_FALSE(s.sensors[0].up);
  EXPECT_DOUBLE_EQ(s.sensors[0].energy_j, 300.0);
  EXPECT_DOUBLE_EQ(find(s, Component::gpu)->energy_j, 300.0);
  EXPECT_FALSE(find(s, Component::gpu)->power_w.has_value());
  {
    std::lock_guard lock(st->mutex);
    st->fail = false;
  }
  // Back, with its counter restarted from a low value: re-based, not subtracted.
  st->set(5.0, 20.0);
  c.sample();
  st->set(6.0, 70.0);
  c.sample();
  s = c.snapshot();
  EXPECT_TRUE(s.sensors[0].up);
  EXPECT_DOUBLE_EQ(s.sensors[0].energy_j, 350.0);
  EXPECT_DOUBLE_EQ(find(s, Component::gpu)->energy_j, 350.0);
  // A counter that goes backwards without a failed read is re-based too.
  st->set(7.0, 10.0);
  c.sample();
  st->set(8.0, 15.0);
  c.sample();
  EXPECT_DOUBLE_EQ(c.snapshot().sensors[0].energy_j, 355.0);
}

TEST(Collector, PowerSensorIntegratedAndFallbackWhenBestFails) {
  auto counter = std::make_shared<ScriptState>();
  auto power = std::make_shared<ScriptState>();
  SensorList list;
  list.push_back(std::make_unique<ScriptedSensor>(
      make_info("fake:gpu-0-energy", "nvml", Component::gpu, "gpu-0", SensorKind::energy_counter,
                ProvenanceKind::measured),
      counter));
  list.push_back(std::make_unique<ScriptedSensor>(
      make_info("fake:gpu-0-power", "hwmon", Component::gpu, "gpu-0", SensorKind::power, ProvenanceKind::sampled),
      power));
  EnergyCollector c(std::move(list), no_proc_options());
  counter->set(0.0, 0.0);
  power->set(0.0, 100.0);
  c.sample();
  counter->set(1.0, 100.0);
  power->set(1.0, 100.0);
  c.sample();
  EXPECT_DOUBLE_EQ(find(c.snapshot(), Component::gpu)->energy_j, 100.0);  // the counter, not both
  {
    std::lock_guard lock(counter->mutex);
    counter->fail = true;
  }
  power->set(2.0, 300.0);  // trapezoid 1 s x (100 + 300) / 2
  c.sample();
  const auto s = c.snapshot();
  EXPECT_DOUBLE_EQ(find(s, Component::gpu)->energy_j, 300.0);
  EXPECT_EQ(find(s, Component::gpu)->provenance, "sampled:hwmon");
}

// One engine: the same readings through `measure`'s meter (one window over
// the span) and through the exporter (one lap per tick) give the same joules
// per component and per sensor. The script has what the two used to treat
// differently: a counter's transient failure, a counter that restarts, a
// power sensor's failed read, and a counter that stands still for a tick.
TEST(Collector, AgreesWithMeasureOnTheSameReadings) {
  struct Rig {
    testing::FakeRig rig;
    std::shared_ptr<ScriptState> cpu, gpu, dram;
    Rig() {
      cpu = rig.add(make_info("fake:package-0", "rapl-powercap", Component::cpu, "package-0",
                              SensorKind::energy_counter, ProvenanceKind::measured));
      gpu = rig.add(make_info("fake:gpu-0", "nvml", Component::gpu, "gpu-0", SensorKind::energy_counter,
                              ProvenanceKind::measured));
      dram = rig.add(make_info("fake:dram", "hwmon", Component::dram, "dram", SensorKind::power,
                               ProvenanceKind::sampled));
    }
  };
  struct Tick {
    double t, cpu_j, gpu_j, dram_w;
    bool cpu_fails, dram_fails;
  };
  const std::vector<Tick> script = {
      {0.0, 100.0, 5000.0, 4.0, false, false},  {1.0, 160.0, 5200.0, 6.0, false, false},
      {2.0, 0.0, 5200.0, 8.0, true, false},      {3.0, 290.0, 5450.0, 0.0, false, true},
      {4.0, 330.0, 40.0, 2.0, false, false},     {5.0, 400.0, 90.0, 2.0, false, false},
      {6.0, 400.0, 90.0, 3.0, false, false},     {7.0, 455.0, 170.0, 5.0, false, false},
  };
  auto apply = [](Rig& r, const Tick& k) {
    r.cpu->set(k.t, k.cpu_j);
    r.gpu->set(k.t, k.gpu_j);
    r.dram->set(k.t, k.dram_w);
    std::lock_guard lock_cpu(r.cpu->mutex);
    r.cpu->fail = k.cpu_fails;
    std::lock_guard lock_dram(r.dram->mutex);
    r.dram->fail = k.dram_fails;
  };

  Rig measured, exported;
  Meter meter(std::move(measured.rig.sensors));  // as `measure` does, one window over the span
  EnergyCollector collector(std::move(exported.rig.sensors), no_proc_options());
  for (std::size_t i = 0; i < script.size(); ++i) {
    apply(measured, script[i]);
    apply(exported, script[i]);
    if (i == 0) meter.begin_window("span");
    else if (i + 1 < script.size()) meter.sample_now();
    collector.sample();
  }
  const Measurement m = meter.end_window("span");
  const ExporterSnapshot s = collector.snapshot();
  // By hand: cpu 60 + 130 (across the failure) + 40 + 70 + 55; gpu 200 + 250,
  // the restart step dropped, + 50 + 80; dram trapezoids, linear across the
  // failed read at t = 3.
  const std::map<Component, double> expected = {
      {Component::cpu, 355.0}, {Component::gpu, 580.0}, {Component::dram, 5.0 + 7.0 + 10.0 + 2.0 + 2.5 + 4.0}};
  for (const auto& [component, joules] : expected) {
    SCOPED_TRACE(std::string(to_string(component)));
    ASSERT_NE(m.find(component), nullptr);
    ASSERT_NE(find(s, component), nullptr);
    EXPECT_NEAR(m.find(component)->energy_j, joules, 1e-9);
    EXPECT_NEAR(find(s, component)->energy_j, m.find(component)->energy_j, 1e-9);
    EXPECT_EQ(find(s, component)->provenance, m.find(component)->provenance.to_string());
  }
  ASSERT_EQ(s.sensors.size(), 3u);
  EXPECT_NEAR(s.sensors[0].energy_j, 355.0, 1e-9);
  EXPECT_NEAR(s.sensors[1].energy_j, 580.0, 1e-9);
}

// A counter that stands still at start-up (a VM's psys): served down with the
// reason, and no energy line for it (never "0 J").
TEST(Collector, AStuckCounterIsDownWithItsReasonAndServesNoEnergy) {
  testing::FakeTree tree;
  const std::string dir = "sys/class/powercap/intel-rapl:0/";
  tree.write(dir + "name", "psys\n");
  tree.write(dir + "energy_uj", "1000000\n");
  tree.write(dir + "max_energy_range_uj", "262143328850\n");
  SensorOptions so = tree.options();
  so.liveness_probe_s = 0.005;
  so.disabled_backends = {"rapl-perf", "rapl-msr", "nvml", "hwmon", "estimate"};
  EnergyCollector c(discover_sensors(so), no_proc_options());
  c.sample();
  const auto s = c.snapshot();
  ASSERT_EQ(s.sensors.size(), 1u);
  EXPECT_FALSE(s.sensors[0].up);
  EXPECT_NE(s.sensors[0].reason.find("stuck"), std::string::npos) << s.sensors[0].reason;
  const std::string text = render_metrics(s, MetricsFormat::prometheus_text);
  EXPECT_TRUE(std::regex_search(
      text, std::regex(R"(joulebench_sensor_up\{sensor="rapl-powercap:psys",backend="rapl-powercap",component="psys",)"
                       R"(reason="stuck: its counter did not advance[^"]*"\} 0)")))
      << text;
  EXPECT_EQ(text.find("joulebench_sensor_energy_joules_total{sensor=\"rapl-powercap:psys\""), std::string::npos)
      << text;
}

// The real powercap backend on a fake tree: a zone whose counter cannot be
// read (garbage in energy_uj, as a driver mid-reload gives) is marked down,
// its counter holds, and it continues when it reads again.
TEST(Collector, PowercapZoneDisappearsAndComesBack) {
  testing::FakeTree tree;
  const std::string dir = "sys/class/powercap/intel-rapl:0/";
  tree.write(dir + "name", "package-0\n");
  tree.write(dir + "energy_uj", "1000000\n");
  tree.write(dir + "max_energy_range_uj", "262143328850\n");
  SensorOptions so = tree.options();
  so.disabled_backends = {"rapl-perf", "rapl-msr", "nvml", "hwmon", "estimate"};
  EnergyCollector c(discover_sensors(so), no_proc_options());
  c.sample();
  tree.write(dir + "energy_uj", "3000000\n");
  c.sample();
  auto s = c.snapshot();
  ASSERT_EQ(s.sensors.size(), 1u);
  EXPECT_EQ(s.sensors[0].name, "rapl-powercap:package-0");
  EXPECT_TRUE(s.sensors[0].up);
  EXPECT_NEAR(find(s, Component::cpu)->energy_j, 2.0, 1e-9);
  tree.write(dir + "energy_uj", "12ab\n");
  c.sample();
  s = c.snapshot();
  EXPECT_FALSE(s.sensors[0].up);
  EXPECT_NEAR(s.sensors[0].energy_j, 2.0, 1e-9);
  EXPECT_NEAR(find(s, Component::cpu)->energy_j, 2.0, 1e-9);
  EXPECT_NE(render_metrics(s, MetricsFormat::prometheus_text)
                .find("joulebench_sensor_up{sensor=\"rapl-powercap:package-0\",backend=\"rapl-powercap\",component=\"cpu\"} 0"),
            std::string::npos);
  tree.write(dir + "energy_uj", "4500000\n");
  c.sample();
  s = c.snapshot();
  EXPECT_TRUE(s.sensors[0].up);
  EXPECT_NEAR(find(s, Component::cpu)->energy_j, 3.5, 1e-9);
}

TEST(ShareTable, BoundedAndMonotonic) {
  exporter::ShareTable t(2);
  t.add("1", "a", 5.0);
  t.add("2", "b", 1.0);
  t.add("3", "c", 3.0);
  t.end_tick();
  auto tracked = t.tracked();
  ASSERT_EQ(tracked.size(), 2u);
  EXPECT_EQ(tracked[0].id, "1");
  EXPECT_EQ(tracked[1].id, "3");
  EXPECT_DOUBLE_EQ(t.other_j(), 1.0);
  // A bigger newcomer does not take a slot from a live key.
  t.add("1", "a", 1.0);
  t.add("3", "c", 1.0);
  t.add("4", "d", 50.0);
  t.end_tick();
  EXPECT_DOUBLE_EQ(t.other_j(), 51.0);
  EXPECT_DOUBLE_EQ(t.tracked()[0].energy_j, 6.0);
  // Key 3 is gone: its slot goes to the largest untracked key of the tick.
  t.add("1", "a", 1.0);
  t.add("4", "d", 2.0);
  t.add("5", "e", 1.0);
  t.end_tick();
  tracked = t.tracked();
  ASSERT_EQ(tracked.size(), 2u);
  EXPECT_EQ(tracked[1].id, "4");
  EXPECT_DOUBLE_EQ(tracked[1].energy_j, 2.0);
  EXPECT_DOUBLE_EQ(t.other_j(), 52.0);
}

// Attribution from a fake /proc: two processes in two cgroups share the
// cpu energy by their CPU time.
TEST(Collector, AttributesByCpuTimeToProcessesAndCgroups) {
  testing::FakeTree tree;
  // Tick counts: the parser divides by CLK_TCK, which cancels out in the shares.
  auto write_proc = [&](long busy_ticks, long a_ticks, long b_ticks) {
    tree.write("proc/stat", "cpu  " + std::to_string(busy_ticks) + " 0 0 100000 0 0 0 0 0 0\n");
    tree.write("proc/100/stat", "100 (worker a) R 1 100 100 0 -1 0 0 0 0 0 " + std::to_string(a_ticks) +
                                    " 0 0 0 20 0 1 0 1 1 1\n");
    tree.write("proc/200/stat", "200 (b) S 1 200 200 0 -1 0 0 0 0 0 " + std::to_string(b_ticks) +
                                    " 0 0 0 20 0 1 0 1 1 1\n");
  };
  const std::string id(64, 'a');
  tree.write("proc/100/cgroup", "0::/system.slice/docker-" + id + ".scope\n");
  tree.write("proc/200/cgroup", "12:cpu,cpuacct:/batch\n11:memory:/other\n");
  write_proc(1000, 0, 0);
  auto st = std::make_shared<ScriptState>();
  SensorList list;
  list.push_back(std::make_unique<ScriptedSensor>(
      make_info("fake:package-0", "rapl-powercap", Component::cpu, "package-0", SensorKind::energy_counter,
                ProvenanceKind::measured),
      st));
  CollectorOptions o = no_proc_options();
  o.procfs_root = tree.path("proc");
  o.top_k = 5;
  EnergyCollector c(std::move(list), o);
  st->set(0.0, 0.0);
  c.sample();
  // 400 busy ticks: a used 300, b 100; the package used 80 J.
  write_proc(1400, 300, 100);
  st->set(1.0, 80.0);
  c.sample();
  const auto s = c.snapshot();
  ASSERT_TRUE(s.attribution_ok);
  ASSERT_EQ(s.processes.size(), 2u);
  EXPECT_EQ(s.processes[0].id, "100");
  EXPECT_EQ(s.processes[0].name, "worker a");
  EXPECT_NEAR(s.processes[0].energy_j, 60.0, 1e-9);
  EXPECT_NEAR(s.processes[1].energy_j, 20.0, 1e-9);
  ASSERT_EQ(s.containers.size(), 2u);
  EXPECT_EQ(s.containers[0].id, "/batch");
  EXPECT_EQ(s.containers[0].name, "");
  EXPECT_NEAR(s.containers[0].energy_j, 20.0, 1e-9);
  EXPECT_EQ(s.containers[1].id, "/system.slice/docker-" + id + ".scope");
  EXPECT_EQ(s.containers[1].name, id);
  EXPECT_NEAR(s.containers[1].energy_j, 60.0, 1e-9);
}

// GPU energy goes to the processes the driver lists on the device, split
// evenly; cpu energy by CPU time as before.
TEST(Collector, GpuEnergySplitAmongTheProcessesOnTheDevice) {
  testing::FakeTree tree;
  auto write_proc = [&](long busy_ticks, long a_ticks) {
    tree.write("proc/stat", "cpu  " + std::to_string(busy_ticks) + " 0 0 100000 0 0 0 0 0 0\n");
    for (int pid : {100, 200, 300})
      tree.write("proc/" + std::to_string(pid) + "/stat",
                 std::to_string(pid) + " (p" + std::to_string(pid) + ") S 1 1 1 0 -1 0 0 0 0 0 " +
                     std::to_string(pid == 100 ? a_ticks : 0) + " 0 0 0 20 0 1 0 1 1 1\n");
  };
  write_proc(1000, 0);
  auto cpu = std::make_shared<ScriptState>();
  auto gpu = std::make_shared<ScriptState>();
  SensorList list;
  list.push_back(std::make_unique<ScriptedSensor>(
      make_info("fake:package-0", "rapl-powercap", Component::cpu, "package-0", SensorKind::energy_counter,
                ProvenanceKind::measured),
      cpu));
  list.push_back(std::make_unique<ScriptedSensor>(
      make_info("fake:gpu-0", "nvml", Component::gpu, "gpu-0", SensorKind::energy_counter, ProvenanceKind::measured),
      gpu));
  gpu->pids = std::vector<int>{200, 300};
  CollectorOptions o = no_proc_options();
  o.procfs_root = tree.path("proc");
  EnergyCollector c(std::move(list), o);
  cpu->set(0.0, 0.0);
  gpu->set(0.0, 0.0);
  c.sample();
  write_proc(1100, 100);  // all the busy CPU time is pid 100's
  cpu->set(1.0, 30.0);
  gpu->set(1.0, 300.0);
  c.sample();
  const auto s = c.snapshot();
  ASSERT_TRUE(s.attribution_ok);
  std::map<std::string, double> by_pid;
  for (const auto& p : s.processes) by_pid[p.id] = p.energy_j;
  EXPECT_NEAR(by_pid["100"], 30.0, 1e-9);
  EXPECT_NEAR(by_pid["200"], 150.0, 1e-9);
  EXPECT_NEAR(by_pid["300"], 150.0, 1e-9);
}

ExporterSnapshot golden_snapshot() {
  ExporterSnapshot s;
  s.components.push_back({Component::cpu, "measured:rapl-powercap", 1234.5, 42.25, 1234.5, 1234.5});
  s.components.push_back({Component::gpu, "measured:nvml-energy", 10.0, std::nullopt, 10.0, 10.0});
  s.components.push_back({Component::dram, "estimated:ram-model", 8.0, 0.5, 4.0, 16.0});
  s.sensors.push_back({"rapl-powercap:package-0", "rapl-powercap", Component::cpu, true, 1234.5, 42.25, {}});
  s.sensors.push_back({"nvml:gpu-0", "nvml", Component::gpu, false, 10.0, std::nullopt, {}});
  s.processes.push_back({"4242", "python \"serve\"\\x", 7.5});
  s.processes_other_j = 0.25;
  s.containers.push_back({"/kubepods/pod1", "", 3.0});
  s.containers_other_j = 1.0;
  s.attribution_ok = true;
  s.intensity_g_per_kwh = 56.0;
  s.intensity_zone = "FRA";
  s.pue = 1.1;
  s.emissions_g = 0.02;
  s.emissions_low_g = 0.015;
  s.emissions_high_g = 0.03;
  s.self_cpu_s = 1.5;
  s.self_energy_j = 0.125;
  s.self_rss_bytes = 4096;
  s.samples = 7;
  s.scrapes = 3;
  s.interval_s = 1.0;
  return s;
}

// JOULEBENCH_UPDATE_GOLDEN=1 rewrites the file (review the diff before committing).
void check_golden(const std::string& name, const std::string& text) {
  const std::string path = std::string(JOULEBENCH_TEST_SOURCE_DIR) + "/data/" + name;
  if (std::getenv("JOULEBENCH_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << text;
  const std::string golden = read_text(path);
  ASSERT_FALSE(golden.empty()) << path;
  EXPECT_EQ(text, golden) << path;
}

TEST(Render, GoldenPrometheusText) {
  check_golden("golden_0.0.4.txt", render_metrics(golden_snapshot(), MetricsFormat::prometheus_text));
}

TEST(Render, GoldenOpenMetrics) {
  check_golden("golden_openmetrics.txt", render_metrics(golden_snapshot(), MetricsFormat::openmetrics));
}

// Format rules checked line by line, independent of the golden files.
TEST(Render, EveryLineFollowsTheFormat) {
  for (auto format : {MetricsFormat::prometheus_text, MetricsFormat::openmetrics}) {
    const std::string text = render_metrics(golden_snapshot(), format);
    const bool om = format == MetricsFormat::openmetrics;
    std::istringstream in(text);
    std::string line, last, family, type;
    const std::regex sample(R"(^(joulebench_[a-z_]+)(\{[a-z_]+="([^"\\]|\\.)*"(,[a-z_]+="([^"\\]|\\.)*")*\})? [-+0-9.eEInfa]+$)");
    int samples = 0;
    while (std::getline(in, line)) {
      last = line;
      if (line == "# EOF") continue;
      std::smatch m;
      if (line.rfind("# TYPE ", 0) == 0) {
        std::istringstream t(line.substr(7));
        t >> family >> type;
        EXPECT_EQ(family.rfind("joulebench_", 0), 0u) << line;
        if (type == "counter") {
          EXPECT_EQ(family.ends_with("_total"), !om) << line;
        }
      } else if (line.rfind("# UNIT ", 0) == 0) {
        EXPECT_TRUE(om) << "0.0.4 has no UNIT lines: " << line;
        std::istringstream t(line.substr(7));
        std::string name, unit;
        t >> name >> unit;
        EXPECT_TRUE(name.ends_with("_" + unit)) << line;
      } else if (line.rfind("# HELP ", 0) == 0) {
        EXPECT_EQ(line.find('\n'), std::string::npos);
      } else {
        ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
        const std::string expected = type == "counter" && om ? family + "_total" : family;
        EXPECT_EQ(m[1].str(), expected) << line;
        ++samples;
      }
    }
    EXPECT_GT(samples, 15);
    EXPECT_EQ(last == "# EOF", om);
  }
}

// deploy/grafana/joulebench.json: every metric a panel queries is one the
// exporter serves.
TEST(Deploy, DashboardQueriesOnlyServedMetrics) {
  const std::string text = read_text(std::string(JOULEBENCH_TEST_SOURCE_DIR) + "/../../deploy/grafana/joulebench.json");
  const auto dash = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(dash.is_discarded());
  const std::string served = render_metrics(golden_snapshot(), MetricsFormat::prometheus_text);
  const std::regex name(R"(joulebench_[a-z_]+)");
  int exprs = 0;
  for (const auto& panel : dash.at("panels")) {
    for (const auto& target : panel.at("targets")) {
      const std::string expr = target.at("expr").get<std::string>();
      ++exprs;
      for (std::sregex_iterator it(expr.begin(), expr.end(), name), end; it != end; ++it)
        EXPECT_TRUE(served.find("\n" + it->str() + "{") != std::string::npos ||
                    served.find("\n" + it->str() + " ") != std::string::npos)
            << it->str() << " in " << expr;
    }
  }
  EXPECT_GE(exprs, 8);
}

TEST(Render, Negotiation) {
  EXPECT_EQ(negotiate_metrics_format("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
            MetricsFormat::openmetrics);
  EXPECT_EQ(negotiate_metrics_format("text/plain"), MetricsFormat::prometheus_text);
  EXPECT_EQ(negotiate_metrics_format(""), MetricsFormat::prometheus_text);
  EXPECT_EQ(metrics_content_type(MetricsFormat::prometheus_text), "text/plain; version=0.0.4; charset=utf-8");
}

TEST(Listen, Parse) {
  std::string host;
  int port = 0;
  parse_listen_address("0.0.0.0:9100", host, port);
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 9100);
  parse_listen_address("[::1]:8080", host, port);
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
  parse_listen_address(":9464", host, port);
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_THROW(parse_listen_address("localhost", host, port), InputError);
  EXPECT_THROW(parse_listen_address("localhost:99999", host, port), InputError);
  EXPECT_THROW(parse_listen_address("::1:80", host, port), InputError);
  EXPECT_THROW(parse_listen_address("host:12ab", host, port), InputError);
}

TEST(Server, TokenRequiredAndNeverEchoed) {
  testing::FakeTree tree;
  tree.write("token", "s3cret-token-value\n");
  ExporterOptions o;
  o.port = 0;
  o.token = read_token_file(tree.path("token"));
  EXPECT_EQ(o.token, "s3cret-token-value");
  o.collector = no_proc_options();
  auto st = std::make_shared<ScriptState>();
  SensorList list;
  list.push_back(std::make_unique<ScriptedSensor>(
      make_info("fake:package-0", "rapl-powercap", Component::cpu, "package-0", SensorKind::energy_counter,
                ProvenanceKind::measured),
      st));
  Exporter exporter(std::move(list), o);
  EXPECT_EQ(o.host, "127.0.0.1");
  exporter.start();
  httplib::Client client("127.0.0.1", exporter.port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->body.find("s3cret"), std::string::npos);
  res = client.Get("/metrics", {{"Authorization", "Bearer s3cret-token-valuX"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  res = client.Get("/metrics", {{"Authorization", "Bearer s3cret-token-value"},
                                {"Accept", "application/openmetrics-text; version=1.0.0"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_NE(res->body.find("joulebench_energy_joules_total{component=\"cpu\"}"), std::string::npos);
  EXPECT_TRUE(res->body.ends_with("# EOF\n"));
  EXPECT_EQ(res->body.find("s3cret"), std::string::npos);
  exporter.stop();
}

// Runs argv without a shell; true when it exited 0.
bool run_quietly(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(Server, ServesHttpsWithTheGivenCertificate) {
  testing::FakeTree tree;
  if (!run_quietly({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", tree.path("key.pem"), "-out", tree.path("cert.pem"), "-days", "1", "-subj",
                    "/CN=127.0.0.1"}))
    GTEST_SKIP() << "the openssl command could not make a test certificate";
  ExporterOptions o;
  o.port = 0;
  o.collector = no_proc_options();
  o.tls_cert_file = tree.path("cert.pem");
  o.tls_key_file = tree.path("key.pem");
  Exporter exporter(SensorList{}, o);
  EXPECT_TRUE(exporter.tls());
  exporter.start();
  httplib::SSLClient tls("127.0.0.1", exporter.port());
  tls.set_ca_cert_path(tree.path("cert.pem").c_str());
  tls.enable_server_certificate_verification(true);
  auto res = tls.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("# TYPE joulebench_energy_joules_total counter"), std::string::npos);
  // Plain HTTP to the TLS port gets no metrics.
  httplib::Client plain("127.0.0.1", exporter.port());
  plain.set_read_timeout(2);
  auto bad = plain.Get("/metrics");
  EXPECT_TRUE(!bad || bad->status != 200);
  exporter.stop();
}

TEST(Server, BadTokenFileAndTlsFilesAreInputErrors) {
  testing::FakeTree tree;
  tree.write("empty", "\n");
  EXPECT_THROW(read_token_file(tree.path("empty")), InputError);
  EXPECT_THROW(read_token_file(tree.path("missing")), InputError);
  ExporterOptions o;
  o.port = 0;
  o.collector = no_proc_options();
  o.tls_cert_file = tree.path("cert.pem");
  EXPECT_THROW(Exporter(SensorList{}, o), InputError);  // key missing
  o.tls_key_file = tree.path("key.pem");
  EXPECT_THROW(Exporter(SensorList{}, o), InputError);  // files missing
  tree.write("cert.pem", "not a certificate\n");
  tree.write("key.pem", "not a key\n");
  EXPECT_THROW(Exporter(SensorList{}, o), InputError);
}

}  // namespace
}  // namespace joulebench
