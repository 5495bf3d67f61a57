#include "joulebench/meter.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "../support/fake_sensors.h"
#include "joulebench/error.h"
#include "joulebench/meter_output.h"

namespace joulebench {
namespace {

using testing::FakeRig;
using testing::make_info;
using testing::ScriptState;
using testing::ScriptedSensor;
constexpr auto kCounter = SensorKind::energy_counter;
constexpr auto kPower = SensorKind::power;

MeterOptions every(double interval_s) {
  MeterOptions o;
  o.interval_s = interval_s;
  return o;
}

bool any_warning(const Measurement& m, const std::string& needle) {
  return std::any_of(m.warnings.begin(), m.warnings.end(),
                     [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

std::string all_warnings(const Measurement& m) {
  std::string out;
  for (const auto& w : m.warnings) out += w + "\n";
  return out;
}

// A machine with RAPL package + core + psys counters, DRAM, and a GPU power sensor.
struct Machine {
  FakeRig rig;
  std::shared_ptr<ScriptState> pkg, core, psys, dram, gpu;
  Machine() {
    pkg = rig.add(make_info("rapl:package-0", "rapl-powercap", Component::cpu, "package-0", kCounter,
                            ProvenanceKind::measured));
    core = rig.add(make_info("rapl:core-0", "rapl-powercap", Component::core, "package-0", kCounter,
                             ProvenanceKind::measured));
    psys = rig.add(make_info("rapl:psys", "rapl-powercap", Component::psys, "psys", kCounter,
                             ProvenanceKind::measured));
    dram = rig.add(make_info("rapl:dram-0", "rapl-powercap", Component::dram, "package-0", kCounter,
                             ProvenanceKind::measured));
    gpu = rig.add(make_info("nvml:gpu-0", "nvml", Component::gpu, "gpu-0", kPower, ProvenanceKind::sampled));
  }
  // Every counter and the GPU's power at time t.
  void at(double t, double pkg_j, double core_j, double psys_j, double dram_j, double gpu_w) {
    pkg->set(t, pkg_j);
    core->set(t, core_j);
    psys->set(t, psys_j);
    dram->set(t, dram_j);
    gpu->set(t, gpu_w);
  }
};

TEST(Meter, WindowEnergyPerComponentWithoutSummingOverlaps) {
  Machine mc;
  Meter meter(std::move(mc.rig.sensors));
  mc.at(0.0, 100.0, 50.0, 500.0, 10.0, 100.0);
  meter.begin_window("w");
  mc.at(1.0, 130.0, 70.0, 580.0, 14.0, 200.0);
  meter.sample_now();
  mc.at(2.0, 160.0, 90.0, 660.0, 18.0, 200.0);
  const Measurement m = meter.end_window("w");
  EXPECT_EQ(m.name, "w");
  ASSERT_NE(m.find(Component::cpu), nullptr);
  EXPECT_DOUBLE_EQ(m.find(Component::cpu)->energy_j, 60.0);
  EXPECT_DOUBLE_EQ(m.find(Component::core)->energy_j, 40.0);
  EXPECT_DOUBLE_EQ(m.find(Component::psys)->energy_j, 160.0);
  EXPECT_DOUBLE_EQ(m.find(Component::dram)->energy_j, 8.0);
  EXPECT_DOUBLE_EQ(m.find(Component::gpu)->energy_j, 150.0 + 200.0);  // trapezoids
  EXPECT_EQ(m.find(Component::gpu)->provenance.to_string(), "sampled:nvml");
  EXPECT_EQ(m.find(Component::cpu)->provenance.to_string(), "measured:rapl-powercap");
  EXPECT_EQ(m.find(Component::cpu)->sources, std::vector<std::string>{"rapl:package-0"});
  // core is inside cpu and psys contains everything: only cpu + dram + gpu add up.
  EXPECT_DOUBLE_EQ(m.total_energy_j(), 60.0 + 8.0 + 350.0);
  EXPECT_FALSE(m.find(Component::cpu)->attributed_energy_j.has_value());
  EXPECT_FALSE(m.find(Component::cpu)->dynamic_energy_j.has_value());
  // The sensors' scripted time spans 2 s, the window's real one microseconds:
  // under the 10 power samples nvml needs, so coarse, and nothing else.
  ASSERT_EQ(m.warnings.size(), 1u) << all_warnings(m);
  EXPECT_TRUE(m.is_coarse()) << all_warnings(m);
}

// A power sensor whose every read costs ~0.5 ms of CPU, read every 1 ms:
// the sampler's own cost is then far above 1 % of a core, and the meter says so.
class CostlySensor final : public Sensor {
 public:
  explicit CostlySensor(std::shared_ptr<ScriptState> state)
      : inner_(make_info("costly:gpu0", "nvml", Component::gpu, "gpu0", kPower, ProvenanceKind::sampled), state) {}
  const SensorInfo& info() const override { return inner_.info(); }
  SensorStatus status() const override { return inner_.status(); }
  SensorReading read() override {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(500);
    while (std::chrono::steady_clock::now() < until) {
    }
    return inner_.read();
  }

 private:
  ScriptedSensor inner_;
};

TEST(Meter, SaysWhenTheSamplerItselfCostsOverOnePercentOfACore) {
  auto state = std::make_shared<ScriptState>();
  state->real_time = true;
  state->value = 50.0;
  SensorList sensors;
  sensors.push_back(std::make_unique<CostlySensor>(state));
  MeterOptions options;
  options.interval_s = 0.001;
  Meter meter(std::move(sensors), options);
  meter.start();
  auto costly = [&] {
    for (const auto& n : meter.notes())
      if (n.find("the sampler itself used") != std::string::npos) return true;
    return false;
  };
  EXPECT_FALSE(costly()) << "no note before there is a measured share";
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_TRUE(costly()) << ::testing::PrintToString(meter.notes());
  meter.stop();
}

TEST(Meter, NoSamplerCostNoteAtTheDefaultInterval) {
  Machine mc;
  Meter meter(std::move(mc.rig.sensors));
  meter.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  for (const auto& n : meter.notes()) EXPECT_EQ(n.find("the sampler itself used"), std::string::npos) << n;
  meter.stop();
}

TEST(Meter, NestedAndOverlappingWindows) {
  FakeRig rig;
  auto c = rig.add(make_info("c", "rapl-powercap", Component::cpu, "package-0", kCounter, ProvenanceKind::measured));
  Meter meter(std::move(rig.sensors));
  c->set(0, 0.0);
  meter.begin_window("outer");
  c->set(1, 10.0);
  meter.begin_window("inner");
  c->set(2, 25.0);
  meter.begin_window("overlap");
  c->set(3, 30.0);
  const auto inner = meter.end_window("inner");
  c->set(4, 42.0);
  const auto outer = meter.end_window("outer");
  c->set(5, 50.0);
  const auto overlap = meter.end_window("overlap");
  EXPECT_DOUBLE_EQ(inner.find(Component::cpu)->energy_j, 20.0);
  EXPECT_DOUBLE_EQ(outer.find(Component::cpu)->energy_j, 42.0);
  EXPECT_DOUBLE_EQ(overlap.find(Component::cpu)->energy_j, 25.0);
  EXPECT_FALSE(meter.window_open("outer"));
}

TEST(Meter, WindowNamesAreChecked) {
  FakeRig rig;
  auto c = rig.add(make_info("c", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  Meter meter(std::move(rig.sensors));
  meter.begin_window("a");
  EXPECT_THROW(meter.begin_window("a"), InputError);
  EXPECT_THROW(meter.end_window("b"), InputError);
  meter.end_window("a");
  EXPECT_THROW(meter.end_window("a"), InputError);
  // The name is free again.
  EXPECT_NO_THROW(meter.begin_window("a"));
}

TEST(Meter, RejectsBadInterval) {
  FakeRig rig;
  EXPECT_THROW(Meter(std::move(rig.sensors), every(0.0)), InputError);
  FakeRig rig2;
  EXPECT_THROW(Meter(std::move(rig2.sensors), every(-1.0)), InputError);
}

TEST(Meter, FailingSensorWithoutFallbackIsAWarningNotZero) {
  FakeRig rig;
  auto c = rig.add(make_info("rapl:pkg", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  auto d = rig.add(make_info("rapl:dram", "rapl-powercap", Component::dram, "p", kCounter, ProvenanceKind::measured));
  Meter meter(std::move(rig.sensors));
  c->set(0, 1.0);
  d->set(0, 1.0);
  meter.begin_window("w");
  {
    std::lock_guard lock(c->mutex);
    c->fail = true;
    c->error = "cannot read energy_uj: Input/output error";
  }
  d->set(1, 3.0);
  const auto m = meter.end_window("w");
  EXPECT_EQ(m.find(Component::cpu), nullptr) << "a component without any good read must not appear as 0 J";
  EXPECT_DOUBLE_EQ(m.find(Component::dram)->energy_j, 2.0);
  EXPECT_TRUE(any_warning(m, "cpu: no energy figure")) << all_warnings(m);
  EXPECT_TRUE(any_warning(m, "Input/output error")) << all_warnings(m);
}

// measure --gpu on a machine whose GPU cannot be read: every window says so
// with the sensor's reason, and the table's total names only what it adds.
TEST(Meter, AComponentAskedForButUnreadableIsAWarningInEveryWindow) {
  FakeRig rig;
  auto c = rig.add(make_info("rapl:pkg", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  rig.sensors.push_back(std::make_unique<UnavailableSensor>(
      make_info("nvml", "nvml", Component::gpu, "", kCounter, ProvenanceKind::measured), "libnvidia-ml.so.1 not found"));
  MeterOptions options = every(0.1);
  options.required_components = {Component::gpu, Component::cpu};
  Meter meter(std::move(rig.sensors), options);
  for (int i = 0; i < 2; ++i) {
    c->set(i, i);
    meter.begin_window("w");
    c->set(i + 1, i + 2.0);
    const auto m = meter.end_window("w");
    EXPECT_EQ(m.find(Component::gpu), nullptr);
    ASSERT_EQ(m.warnings.size(), 1u) << all_warnings(m);  // the readable cpu is not warned about
    EXPECT_EQ(m.warnings[0],
              "gpu was asked for but no sensor can read it, so it has no row and is not in the total: "
              "nvml: libnvidia-ml.so.1 not found");
    const std::string table = format_measurement_table(m);
    EXPECT_NE(table.find("cpu, weakest: measured"), std::string::npos) << table;
  }
  // Not asked for: the missing GPU is what a machine without one looks like, no warning.
  FakeRig plain;
  auto p = plain.add(make_info("rapl:pkg", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  plain.sensors.push_back(std::make_unique<UnavailableSensor>(
      make_info("nvml", "nvml", Component::gpu, "", kCounter, ProvenanceKind::measured), "libnvidia-ml.so.1 not found"));
  Meter quiet(std::move(plain.sensors));
  p->set(0, 0);
  quiet.begin_window("w");
  p->set(1, 1);
  EXPECT_TRUE(quiet.end_window("w").warnings.empty());
}

TEST(Meter, FailingSensorFallsBackToTheNextSourceAndSaysSo) {
  FakeRig rig;
  auto rapl = rig.add(make_info("rapl:pkg", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  auto est = rig.add(make_info("estimate:cpu", "estimate", Component::cpu, "cpu", kCounter, ProvenanceKind::estimated));
  Meter meter(std::move(rig.sensors));
  rapl->set(0, 0.0);
  est->set(0, 0.0);
  meter.begin_window("w");
  {
    std::lock_guard lock(rapl->mutex);
    rapl->fail = true;
  }
  est->set(1, 12.0);
  const auto m = meter.end_window("w");
  ASSERT_NE(m.find(Component::cpu), nullptr);
  EXPECT_DOUBLE_EQ(m.find(Component::cpu)->energy_j, 12.0);
  EXPECT_EQ(m.find(Component::cpu)->provenance.kind, ProvenanceKind::estimated);
  EXPECT_TRUE(any_warning(m, "more trusted source failed")) << all_warnings(m);
  EXPECT_TRUE(any_warning(m, "cpu energy is estimated")) << all_warnings(m);
}

TEST(Meter, SomeFailedReadsKeepTheCounterButWarn) {
  FakeRig rig;
  auto c = rig.add(make_info("rapl:pkg", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  Meter meter(std::move(rig.sensors));
  c->set(0, 0.0);
  meter.begin_window("w");
  {
    std::lock_guard lock(c->mutex);
    c->fail = true;
  }
  meter.sample_now();
  {
    std::lock_guard lock(c->mutex);
    c->fail = false;
  }
  c->set(2, 9.0);
  const auto m = meter.end_window("w");
  EXPECT_DOUBLE_EQ(m.find(Component::cpu)->energy_j, 9.0);
  EXPECT_TRUE(any_warning(m, "1 of 2 reads failed")) << all_warnings(m);
}

TEST(Meter, ShortWindowOnASlowCounterIsExtrapolatedWithAWarning) {
  FakeRig rig;
  auto g = rig.add(make_info("nvml:gpu-0", "nvml", Component::gpu, "gpu-0", kCounter, ProvenanceKind::measured));
  Meter meter(std::move(rig.sensors));
  g->set(0.0, 0.0);
  meter.sample_now();
  g->set(0.1, 5.0);  // 50 W
  meter.sample_now();
  // The window opens and closes before the counter updates again.
  meter.begin_window("short");
  const auto m = meter.end_window("short");
  ASSERT_NE(m.find(Component::gpu), nullptr);
  EXPECT_GT(m.find(Component::gpu)->energy_j, 0.0);
  EXPECT_NEAR(m.find(Component::gpu)->energy_j, 50.0 * m.duration_s, 1e-9);
  EXPECT_TRUE(any_warning(m, "shorter than the update period of sensor nvml:gpu-0")) << all_warnings(m);
}

// Laps add up to one window over them: nothing falls between laps, and a
// counter that did not advance within a lap is counted where it does (never
// extrapolated, which would count it twice).
TEST(Meter, LapsAddUpToTheWholeWindow) {
  FakeRig rig;
  auto g = rig.add(make_info("nvml:gpu-0", "nvml", Component::gpu, "gpu-0", kCounter, ProvenanceKind::measured));
  auto p = rig.add(make_info("hwmon:dram", "hwmon", Component::dram, "dram", kPower, ProvenanceKind::sampled));
  Meter meter(std::move(rig.sensors));
  g->set(0.0, 0.0);
  p->set(0.0, 10.0);
  meter.sample_now();
  g->set(0.1, 5.0);  // a recent power of 50 W, which a lap must not extrapolate
  p->set(0.1, 10.0);
  meter.begin_window("whole");
  meter.begin_window("lap");
  double gpu_j = 0.0, dram_j = 0.0;
  auto add = [&](const Measurement& m) {
    if (const auto* c = m.find(Component::gpu)) gpu_j += c->energy_j;
    if (const auto* c = m.find(Component::dram)) dram_j += c->energy_j;
    return m;
  };
  g->set(0.2, 5.0);  // the counter stands still over this lap
  p->set(0.2, 30.0);
  const Measurement still = add(meter.lap_window("lap"));
  ASSERT_NE(still.find(Component::gpu), nullptr);
  EXPECT_EQ(still.find(Component::gpu)->energy_j, 0.0);
  EXPECT_TRUE(any_warning(still, "counted in the lap where it does")) << all_warnings(still);
  EXPECT_TRUE(meter.window_open("lap"));
  g->set(0.3, 12.0);
  p->set(0.3, 20.0);
  add(meter.lap_window("lap"));
  g->set(0.4, 20.0);
  p->set(0.4, 0.0);
  add(meter.end_window("lap"));
  EXPECT_FALSE(meter.window_open("lap"));
  const Measurement whole = meter.end_window("whole");
  EXPECT_DOUBLE_EQ(whole.find(Component::gpu)->energy_j, 15.0);
  EXPECT_DOUBLE_EQ(gpu_j, 15.0);
  EXPECT_NEAR(whole.find(Component::dram)->energy_j, 2.0 + 2.5 + 1.0, 1e-12);
  EXPECT_NEAR(dram_j, whole.find(Component::dram)->energy_j, 1e-12);
  EXPECT_THROW(meter.lap_window("lap"), InputError);
}

TEST(Meter, CounterSlowerThanTheWindowIsFlaggedCoarse) {
  FakeRig rig;
  auto g = rig.add(make_info("hwmon:energy1", "hwmon", Component::gpu, "card0", kCounter, ProvenanceKind::measured));
  Meter meter(std::move(rig.sensors));
  g->set(0.0, 0.0);
  meter.sample_now();
  g->set(0.5, 0.0);
  meter.sample_now();
  g->set(1.0, 10.0);  // changes once a second
  meter.sample_now();
  meter.begin_window("w");
  g->set(2.0, 20.0);  // the next update, a second later in the counter's time
  const auto m = meter.end_window("w");
  EXPECT_DOUBLE_EQ(m.find(Component::gpu)->energy_j, 10.0);
  EXPECT_TRUE(any_warning(m, "coarse")) << all_warnings(m);
}

TEST(Meter, IdleBaselineIsSubtractedPerComponent) {
  FakeRig rig;
  auto c = rig.add(make_info("c", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  auto g = rig.add(make_info("g", "nvml", Component::gpu, "gpu-0", kCounter, ProvenanceKind::measured));
  Meter meter(std::move(rig.sensors));
  IdleBaseline idle;
  idle.duration_s = 1.0;
  idle.components.push_back({Component::cpu, 100.0, Provenance{ProvenanceKind::measured, "rapl-powercap"}, {"c"}});
  // gpu deliberately absent from the baseline.
  meter.set_idle_baseline(idle);
  c->set(0, 0.0);
  g->set(0, 0.0);
  meter.begin_window("w");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  c->set(1, 50.0);
  g->set(1, 7.0);
  const auto m = meter.end_window("w");
  const auto* cpu = m.find(Component::cpu);
  ASSERT_TRUE(cpu->dynamic_energy_j.has_value());
  EXPECT_GE(m.duration_s, 0.03);
  EXPECT_NEAR(*cpu->dynamic_energy_j, 50.0 - 100.0 * m.duration_s, 1e-9);
  EXPECT_LT(*cpu->dynamic_energy_j, 50.0 - 2.9);
  EXPECT_FALSE(m.find(Component::gpu)->dynamic_energy_j.has_value());
  EXPECT_TRUE(any_warning(m, "gpu: no dynamic energy")) << all_warnings(m);
}

TEST(Meter, EnergyBelowIdleIsZeroDynamicWithAWarning) {
  FakeRig rig;
  auto c = rig.add(make_info("c", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  Meter meter(std::move(rig.sensors));
  IdleBaseline idle;
  idle.components.push_back({Component::cpu, 1e9, Provenance{ProvenanceKind::measured, "rapl-powercap"}, {"c"}});
  meter.set_idle_baseline(idle);
  c->set(0, 0.0);
  meter.begin_window("w");
  c->set(1, 1.0);
  const auto m = meter.end_window("w");
  EXPECT_EQ(m.find(Component::cpu)->dynamic_energy_j, 0.0);
  EXPECT_TRUE(any_warning(m, "below the idle baseline")) << all_warnings(m);
}

TEST(Meter, MeasureIdleGivesPowerPerComponent) {
  FakeRig rig;
  auto c = rig.add(make_info("c", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  auto g = rig.add(make_info("g", "nvml", Component::gpu, "gpu-0", kPower, ProvenanceKind::sampled));
  {
    std::lock_guard l1(c->mutex);
    c->real_time = true;
    c->rate_w = 40.0;
  }
  {
    std::lock_guard l2(g->mutex);
    g->real_time = true;
    g->value = 25.0;
  }
  Meter meter(std::move(rig.sensors), every(0.01));
  meter.start();
  const IdleBaseline idle = meter.measure_idle(0.15);
  meter.stop();
  ASSERT_NE(idle.find(Component::cpu), nullptr);
  ASSERT_NE(idle.find(Component::gpu), nullptr);
  EXPECT_NEAR(idle.find(Component::cpu)->power_w, 40.0, 2.0);
  EXPECT_NEAR(idle.find(Component::gpu)->power_w, 25.0, 1.5);
  EXPECT_GE(idle.duration_s, 0.15);
  ASSERT_TRUE(meter.idle_baseline().has_value());
  EXPECT_THROW(meter.measure_idle(0.0), InputError);
}

TEST(Meter, SamplerReadsPeriodicallyFromItsOwnThreadOnly) {
  FakeRig rig;
  auto c = rig.add(make_info("c", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  {
    std::lock_guard lock(c->mutex);
    c->real_time = true;
    c->rate_w = 10.0;
  }
  Meter meter(std::move(rig.sensors), every(0.02));
  meter.start();
  meter.begin_window("w");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto m = meter.end_window("w");
  meter.stop();
  EXPECT_GE(meter.samples_taken(), 5u);  // ~10 at 20 ms, generous for a loaded machine
  EXPECT_LE(meter.samples_taken(), 30u);  // no busy loop
  std::lock_guard lock(c->mutex);
  ASSERT_EQ(c->reader_threads.size(), 1u) << "window samples must go through the sampler thread";
  EXPECT_NE(*c->reader_threads.begin(), std::this_thread::get_id());
  EXPECT_NEAR(m.find(Component::cpu)->energy_j, 10.0 * m.duration_s, 0.05);
}

TEST(Meter, FallbacksAreReadOnlyAtWindowEdges) {
  FakeRig rig;
  auto rapl = rig.add(make_info("rapl:pkg", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  auto est = rig.add(make_info("estimate:cpu", "estimate", Component::cpu, "machine", kPower, ProvenanceKind::estimated));
  {
    std::lock_guard l(rapl->mutex);
    rapl->real_time = true;
    rapl->rate_w = 5.0;
  }
  Meter meter(std::move(rig.sensors), every(0.01));
  meter.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  {
    std::lock_guard l1(rapl->mutex);
    std::lock_guard l2(est->mutex);
    EXPECT_GE(rapl->reads, 3);
    EXPECT_EQ(est->reads, 0) << "a fallback must stay off the periodic path";
  }
  est->set(0, 10.0);
  meter.begin_window("w");
  // The primary fails: the fallback (power, two readings) is used and says so.
  {
    std::lock_guard l(rapl->mutex);
    rapl->fail = true;
  }
  est->set(2, 30.0);
  const auto m = meter.end_window("w");
  meter.stop();
  {
    std::lock_guard l(est->mutex);
    EXPECT_EQ(est->reads, 2);
  }
  ASSERT_NE(m.find(Component::cpu), nullptr) << all_warnings(m);
  EXPECT_DOUBLE_EQ(m.find(Component::cpu)->energy_j, 40.0);
  EXPECT_TRUE(any_warning(m, "read only at the window's begin and end")) << all_warnings(m);
}

// A counter exact at its edges (the /proc estimates) costs nothing between
// them, and its window energy is the same.
TEST(Meter, CountersExactAtTheirEdgesAreNotReadBetweenThem) {
  FakeRig rig;
  auto info = make_info("estimate:cpu", "estimate", Component::cpu, "machine", kCounter, ProvenanceKind::estimated);
  info.exact_at_edges = true;
  auto est = rig.add(info);
  auto ram = rig.add(make_info("estimate:ram", "estimate", Component::dram, "machine", kPower, ProvenanceKind::estimated));
  est->set(0, 100.0);
  ram->set(0, 2.0);
  Meter meter(std::move(rig.sensors), every(0.01));
  meter.start();
  meter.begin_window("w");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  est->set(1, 130.0);
  ram->set(1, 2.0);
  const auto m = meter.end_window("w");
  meter.stop();
  {
    std::lock_guard l1(est->mutex);
    std::lock_guard l2(ram->mutex);
    EXPECT_LE(est->reads, 3) << "read at start and at the two edges only";
    EXPECT_GE(ram->reads, 5) << "power is still sampled";
  }
  ASSERT_NE(m.find(Component::cpu), nullptr) << all_warnings(m);
  EXPECT_DOUBLE_EQ(m.find(Component::cpu)->energy_j, 30.0);
  EXPECT_FALSE(any_warning(m, "read only at the window's begin and end")) << all_warnings(m);
}

// A model of slowly changing state is read at its own pace, not the sampler's.
TEST(Meter, SlowModelsAreReadAtTheirOwnPace) {
  FakeRig rig;
  auto fast = rig.add(make_info("rapl:pkg", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  auto info = make_info("estimate:ram", "estimate", Component::dram, "machine", kPower, ProvenanceKind::estimated);
  info.min_useful_interval_s = 0.1;
  auto slow = rig.add(info);
  Meter meter(std::move(rig.sensors), every(0.01));
  meter.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  meter.stop();
  std::lock_guard l1(fast->mutex);
  std::lock_guard l2(slow->mutex);
  EXPECT_GE(fast->reads, 20);
  EXPECT_GE(slow->reads, 3);
  EXPECT_LE(slow->reads, 8) << "read about every 0.1 s, not every 10 ms";
}

// A window shorter than the sensors' resolution says so once, in a warning
// that the store keeps (Measurement::is_coarse); a long enough one does not.
TEST(Meter, WindowsShorterThanTheResolutionAreMarkedCoarse) {
  FakeRig rig;
  auto info = make_info("estimate:cpu", "estimate", Component::cpu, "machine", kPower, ProvenanceKind::estimated);
  info.min_useful_interval_s = 0.2;
  auto slow = rig.add(info);
  slow->set(0, 10.0);
  Meter meter(std::move(rig.sensors), every(0.01));
  ASSERT_DOUBLE_EQ(meter.resolution().seconds, 0.2);
  meter.start();
  meter.begin_window("short");
  const auto short_m = meter.end_window("short");
  meter.begin_window("long");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto long_m = meter.end_window("long");
  meter.stop();
  EXPECT_TRUE(short_m.is_coarse()) << all_warnings(short_m);
  EXPECT_TRUE(any_warning(short_m, "is shorter than the 200 ms its sensors need (estimate:cpu is read every 200 ms): "
                                   "its energy is coarse"))
      << all_warnings(short_m);
  EXPECT_FALSE(long_m.is_coarse()) << all_warnings(long_m);
}

// With only slow models between edges, the sampler itself wakes at their pace;
// window edges still read everything at once.
TEST(Meter, OnlySlowModelsMeansFewWakeUps) {
  FakeRig rig;
  auto info = make_info("estimate:ram", "estimate", Component::dram, "machine", kPower, ProvenanceKind::estimated);
  info.min_useful_interval_s = 0.1;
  auto slow = rig.add(info);
  slow->set(0, 4.0);
  Meter meter(std::move(rig.sensors), every(0.01));
  meter.start();
  meter.begin_window("w");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  slow->set(2, 4.0);
  const auto m = meter.end_window("w");
  meter.stop();
  EXPECT_LE(meter.samples_taken(), 10u);
  const auto notes = meter.notes();
  EXPECT_TRUE(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
    return n.find("estimate:ram every 0.1 s") != std::string::npos;
  })) << fmt::format("{}", fmt::join(notes, "; "));
  ASSERT_NE(m.find(Component::dram), nullptr) << all_warnings(m);
  EXPECT_DOUBLE_EQ(m.find(Component::dram)->energy_j, 8.0);
}

TEST(Meter, IntervalIsShortenedToTheSensorsWrapBound) {
  FakeRig rig;
  rig.add(make_info("rapl:pkg", "rapl-msr", Component::cpu, "p", kCounter, ProvenanceKind::measured, 0.04));
  rig.add(make_info("other", "hwmon", Component::other, "x", kCounter, ProvenanceKind::measured, 0.5));
  rig.add_unavailable(make_info("unused", "rapl-powercap", Component::dram, "p", kCounter, ProvenanceKind::measured,
                                0.001),
                      "not readable");
  Meter meter(std::move(rig.sensors), every(0.1));
  EXPECT_DOUBLE_EQ(meter.interval_s(), 0.04) << "unavailable sensors do not bound the interval";
  const auto notes = meter.notes();
  EXPECT_TRUE(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
    return n.find("shortened") != std::string::npos && n.find("rapl:pkg") != std::string::npos;
  }));

  FakeRig rig2;
  rig2.add(make_info("rapl:pkg", "rapl-msr", Component::cpu, "p", kCounter, ProvenanceKind::measured, 60.0));
  Meter slow(std::move(rig2.sensors), every(0.1));
  EXPECT_DOUBLE_EQ(slow.interval_s(), 0.1);
}

TEST(Meter, StopAndRestart) {
  FakeRig rig;
  auto c = rig.add(make_info("c", "rapl-powercap", Component::cpu, "p", kCounter, ProvenanceKind::measured));
  Meter meter(std::move(rig.sensors), every(0.005));
  meter.start();
  meter.start();  // idempotent
  EXPECT_TRUE(meter.running());
  meter.stop();
  EXPECT_FALSE(meter.running());
  c->set(0, 0);
  meter.begin_window("w");  // works without the thread
  c->set(1, 3);
  EXPECT_DOUBLE_EQ(meter.end_window("w").find(Component::cpu)->energy_j, 3.0);
  meter.start();
  meter.begin_window("x");
  c->set(2, 5);
  EXPECT_DOUBLE_EQ(meter.end_window("x").find(Component::cpu)->energy_j, 2.0);
  EXPECT_GE(meter.sampler_cpu_s(), 0.0);
}

// A hardware counter that stands still over a window many of its update
// periods long is stuck: the component falls back to the next source, and
// with none there is no figure, never "0 J measured".
TEST(Meter, AStuckCounterFallsBackAndIsNeverZeroJoules) {
  for (const bool with_fallback : {true, false}) {
    FakeRig rig;
    SensorInfo info = make_info("rapl-perf:psys", "rapl-perf", Component::cpu, "p", kCounter, ProvenanceKind::measured);
    info.update_period_s = 0.001;
    auto rapl = rig.add(info);
    std::shared_ptr<ScriptState> est;
    if (with_fallback)
      est = rig.add(make_info("estimate:cpu", "estimate", Component::cpu, "cpu", kCounter, ProvenanceKind::estimated));
    Meter meter(std::move(rig.sensors));
    rapl->set(0, 5.0);
    if (est) est->set(0, 0.0);
    auto sources = [&] {
      for (const auto& n : meter.notes())
        if (n.rfind("sources: ", 0) == 0) return n;
      return std::string();
    };
    EXPECT_EQ(sources().find("(stuck)"), std::string::npos) << "not yet seen standing still: " << sources();
    meter.begin_window("w");
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // 30 update periods
    rapl->set(1, 5.0);                                            // and it did not move
    if (est) est->set(1, 3.0);
    const auto m = meter.end_window("w");
    if (with_fallback) {
      ASSERT_NE(m.find(Component::cpu), nullptr);
      EXPECT_DOUBLE_EQ(m.find(Component::cpu)->energy_j, 3.0);
      EXPECT_EQ(m.find(Component::cpu)->provenance.kind, ProvenanceKind::estimated);
      EXPECT_TRUE(any_warning(m, "more trusted source failed")) << all_warnings(m);
    } else {
      EXPECT_EQ(m.find(Component::cpu), nullptr) << "no figure rather than 0 J";
    }
    EXPECT_TRUE(any_warning(m, "rapl-perf:psys: stuck: its counter did not advance")) << all_warnings(m);
    // The sources note no longer names it as if it served (seen on an H200 VM's psys).
    EXPECT_NE(sources().find("from rapl-perf:psys (stuck)"), std::string::npos) << sources();
  }
}

// A stuck counter rests: the sampler stops reading it between edges (it cost
// ten times the sampler's budget on a VM) until an edge read sees it move.
TEST(Meter, AStuckCounterIsNotReadBetweenEdgesUntilItMoves) {
  FakeRig rig;
  SensorInfo info = make_info("rapl-perf:psys", "rapl-perf", Component::cpu, "p", kCounter, ProvenanceKind::measured);
  info.update_period_s = 0.001;
  auto rapl = rig.add(info);
  Meter meter(std::move(rig.sensors), every(0.005));
  rapl->set(0, 5.0);
  meter.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto reads = [&] {
    std::lock_guard lock(rapl->mutex);
    return rapl->reads;
  };
  const int resting = reads();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // 20 ticks
  EXPECT_EQ(reads(), resting) << "no periodic reads while it stands still";
  {
    std::lock_guard lock(rapl->mutex);  // it comes alive: 10 W from now on
    rapl->real_time = true;
    rapl->rate_w = 10.0;
    rapl->t0 = std::chrono::steady_clock::now();
  }
  meter.begin_window("w");  // the edge read sees it move
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GT(reads(), resting + 5) << "periodic reads again once it moves";
  meter.stop();
}

}  // namespace
}  // namespace joulebench

namespace joulebench {
namespace {
// The shortest window the chosen sensors measure well, and why: the slowest
// of a counter's 100 updates, a power sensor's 10 samples, a model's own pace;
// fallbacks do not count.
TEST(Meter, ResolutionIsTheSlowestChosenSensorsAndSaysWhy) {
  FakeRig rig;
  SensorInfo rapl = make_info("rapl:pkg", "rapl-powercap", Component::cpu, "package-0", SensorKind::energy_counter,
                              ProvenanceKind::measured);
  rapl.update_period_s = 0.001;
  rig.add(rapl);
  SensorInfo gpu = make_info("nvml:gpu-0", "nvml", Component::gpu, "gpu-0", SensorKind::power,
                             ProvenanceKind::sampled);
  rig.add(gpu);
  SensorInfo model = make_info("estimate:cpu", "estimate", Component::cpu, "", SensorKind::energy_counter,
                               ProvenanceKind::estimated);
  model.min_useful_interval_s = 1.0;
  rig.add(model);  // a fallback behind RAPL: not in use, so not counted
  MeterOptions o;
  o.interval_s = 0.05;
  Meter meter(std::move(rig.sensors), o);
  const Meter::Resolution r = meter.resolution();
  EXPECT_DOUBLE_EQ(r.seconds, 0.5) << r.why;  // 10 samples of 50 ms beat 100 RAPL updates of 1 ms
  EXPECT_EQ(r.why, "nvml:gpu-0 gives power, sampled every 50.0 ms");
}
}  // namespace
}  // namespace joulebench
