// RAPL through powercap sysfs, against fake /sys/class/powercap trees.
#include <gtest/gtest.h>

#include "../support/fake_tree.h"
#include "sensors/backends.h"

namespace joulebench {
namespace {

using testing::FakeTree;
using testing::find_sensor;
using testing::find_sensor_mut;

constexpr std::uint64_t kRangeUj = 262143328850;  // a real Intel package range

void write_zone(const FakeTree& t, const std::string& zone, const std::string& name, std::uint64_t energy_uj,
                std::uint64_t range_uj = kRangeUj) {
  const std::string dir = "sys/class/powercap/" + zone + "/";
  t.write(dir + "name", name + "\n");
  t.write(dir + "energy_uj", std::to_string(energy_uj) + "\n");
  t.write(dir + "max_energy_range_uj", std::to_string(range_uj) + "\n");
}

void set_energy(const FakeTree& t, const std::string& zone, const std::string& text) {
  t.write("sys/class/powercap/" + zone + "/energy_uj", text);
}

SensorList discover(const FakeTree& t) {
  SensorList out;
  sensors::discover_powercap(t.options(), out);
  return out;
}

double read_j(Sensor& s) {
  const auto r = s.read();
  EXPECT_TRUE(r.ok) << s.info().name << ": " << r.error;
  return r.sample.value;
}

// Two packages with core and dram subzones, and psys: every zone found,
// classified, and read as energy differences in joules.
TEST(Powercap, TwoPackagesSubzonesAndPsys) {
  FakeTree t;
  t.mkdir("sys/class/powercap/intel-rapl");  // the control type itself: no zone
  write_zone(t, "intel-rapl:0", "package-0", 1'000'000);
  write_zone(t, "intel-rapl:0:0", "core", 500'000);
  write_zone(t, "intel-rapl:0:1", "dram", 200'000, 65712999613);
  write_zone(t, "intel-rapl:1", "package-1", 7'000'000);
  write_zone(t, "intel-rapl:1:0", "core", 3'000'000);
  write_zone(t, "intel-rapl:2", "psys", 90'000'000);
  write_zone(t, "intel-rapl-mmio:0", "package-0", 1'000'000);  // duplicate domain: ignored

  auto sensors = discover(t);
  ASSERT_EQ(sensors.size(), 6u);
  struct Expect {
    const char* name;
    Component component;
    const char* device;
  };
  for (const Expect& e : {Expect{"rapl-powercap:package-0", Component::cpu, "package-0"},
                          Expect{"rapl-powercap:package-0/core", Component::core, "package-0"},
                          Expect{"rapl-powercap:package-0/dram", Component::dram, "package-0"},
                          Expect{"rapl-powercap:package-1", Component::cpu, "package-1"},
                          Expect{"rapl-powercap:package-1/core", Component::core, "package-1"},
                          Expect{"rapl-powercap:psys", Component::psys, "psys"}}) {
    const Sensor* s = find_sensor(sensors, e.name);
    ASSERT_NE(s, nullptr) << e.name;
    EXPECT_TRUE(s->status().available) << e.name << ": " << s->status().reason;
    EXPECT_EQ(s->info().component, e.component) << e.name;
    EXPECT_EQ(s->info().device, e.device) << e.name;
    EXPECT_EQ(s->info().backend, "rapl-powercap");
    EXPECT_EQ(s->info().kind, SensorKind::energy_counter);
    EXPECT_EQ(s->info().provenance.to_string(), "measured:rapl-powercap");
    EXPECT_GT(s->info().max_read_interval_s, 0.0);
  }
  // 262 kJ at 500 W: a read every ~524 s keeps wraps unambiguous; dram's smaller range gives less.
  EXPECT_NEAR(find_sensor(sensors, "rapl-powercap:package-0")->info().max_read_interval_s, 524.29, 0.01);
  EXPECT_NEAR(find_sensor(sensors, "rapl-powercap:package-0/dram")->info().max_read_interval_s, 131.43, 0.01);

  Sensor& pkg0 = *find_sensor_mut(sensors, "rapl-powercap:package-0");
  Sensor& pkg1 = *find_sensor_mut(sensors, "rapl-powercap:package-1");
  Sensor& dram = *find_sensor_mut(sensors, "rapl-powercap:package-0/dram");
  const double p0 = read_j(pkg0), p1 = read_j(pkg1), d0 = read_j(dram);
  set_energy(t, "intel-rapl:0", "3500000\n");   // +2.5 J
  set_energy(t, "intel-rapl:1", "7250000\n");   // +0.25 J
  set_energy(t, "intel-rapl:0:1", "1200000\n"); // +1 J
  EXPECT_NEAR(read_j(pkg0) - p0, 2.5, 1e-9);
  EXPECT_NEAR(read_j(pkg1) - p1, 0.25, 1e-9);
  EXPECT_NEAR(read_j(dram) - d0, 1.0, 1e-9);
  // Time stamps advance on the steady clock.
  const auto a = pkg0.read(), b = pkg0.read();
  EXPECT_LE(a.sample.time_s, b.sample.time_s);
}

TEST(Powercap, AmdHostWithPackageAndCore) {
  FakeTree t;
  write_zone(t, "intel-rapl:0", "package-0", 10, 65532610987);
  write_zone(t, "intel-rapl:0:0", "core", 10, 65532610987);
  auto sensors = discover(t);
  ASSERT_EQ(sensors.size(), 2u);
  EXPECT_TRUE(find_sensor(sensors, "rapl-powercap:package-0")->status().available);
  EXPECT_EQ(find_sensor(sensors, "rapl-powercap:package-0/core")->info().component, Component::core);
}

TEST(Powercap, WrapAtMaxEnergyRange) {
  FakeTree t;
  write_zone(t, "intel-rapl:0", "package-0", kRangeUj - 1'000'000);  // 1 J before the wrap
  auto sensors = discover(t);
  Sensor& s = *sensors.at(0);
  const double before = read_j(s);
  set_energy(t, "intel-rapl:0", "2000000\n");  // wrapped, then 2 J more
  const double after = read_j(s);
  // 1 J to the top (counter reaches kRangeUj, then 0 one micro-joule later), + 2 J.
  EXPECT_NEAR(after - before, 3.0 + 1e-6, 1e-9);
  set_energy(t, "intel-rapl:0", "2500000\n");
  EXPECT_NEAR(read_j(s) - after, 0.5, 1e-9);
}

// A counter that steps back by a little cannot be a wrap (it would mean
// 262 kJ in milliseconds): a reading error, never negative energy, and the
// next reads continue from the new value.
TEST(Powercap, CounterGoingBackwardsIsAnErrorNotNegativeEnergy) {
  FakeTree t;
  write_zone(t, "intel-rapl:0", "package-0", 50'000'000);
  auto sensors = discover(t);
  Sensor& s = *sensors.at(0);
  const double before = read_j(s);
  set_energy(t, "intel-rapl:0", "49000000\n");
  const auto bad = s.read();
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("backwards"), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("rapl-powercap:package-0"), std::string::npos) << bad.error;
  set_energy(t, "intel-rapl:0", "51000000\n");
  const double after = read_j(s);
  EXPECT_NEAR(after - before, 2.0, 1e-9);  // only the step after the reset counts
}

TEST(Powercap, RootOnlyEnergyFileIsExplained) {
  FakeTree t;
  write_zone(t, "intel-rapl:0", "package-0", 1000);
  write_zone(t, "intel-rapl:0:0", "core", 1000);
  t.chmod("sys/class/powercap/intel-rapl:0/energy_uj", 0000);
  t.chmod("sys/class/powercap/intel-rapl:0:0/energy_uj", 0000);
  const auto options = t.options();
  const auto result = testing::run_without_root([&] {
    SensorList out;
    sensors::discover_powercap(options, out);
    std::string text;
    for (const auto& s : out)
      text += s->info().name + "|" + (s->status().available ? "available" : s->status().reason) + "\n";
    return text;
  });
  if (!result) GTEST_SKIP() << "cannot drop root in this environment";
  EXPECT_NE(result->find("rapl-powercap:package-0|"), std::string::npos) << *result;
  EXPECT_EQ(result->find("available"), std::string::npos) << *result;
  EXPECT_NE(result->find("intel-rapl:0/energy_uj is readable by root only"), std::string::npos) << *result;
  EXPECT_NE(result->find("CVE-2020-8694"), std::string::npos) << *result;
  EXPECT_NE(result->find("chmod o+r"), std::string::npos) << *result;
  EXPECT_NE(result->find("rapl-perf"), std::string::npos) << *result;
}

TEST(Powercap, NoZonesSaysWhy) {
  FakeTree t;
  auto sensors = discover(t);
  ASSERT_EQ(sensors.size(), 1u);
  EXPECT_FALSE(sensors[0]->status().available);
  EXPECT_NE(sensors[0]->status().reason.find("does not exist"), std::string::npos);
  EXPECT_FALSE(sensors[0]->read().ok);

  t.mkdir("sys/class/powercap/dtpm");
  sensors = discover(t);
  ASSERT_EQ(sensors.size(), 1u);
  EXPECT_NE(sensors[0]->status().reason.find("has no intel-rapl zones"), std::string::npos)
      << sensors[0]->status().reason;
}

// Garbage in the files: every case unavailable with the file named, never a zero.
TEST(Powercap, GarbageValuesAtDiscovery) {
  FakeTree t;
  write_zone(t, "intel-rapl:0", "package-0", 0);
  set_energy(t, "intel-rapl:0", "not a number\n");
  write_zone(t, "intel-rapl:1", "package-1", 0);
  set_energy(t, "intel-rapl:1", "");
  write_zone(t, "intel-rapl:2", "package-2", 0);
  set_energy(t, "intel-rapl:2", "999999999999999999999999999\n");  // overflows 64 bits
  write_zone(t, "intel-rapl:3", "package-3", 0);
  set_energy(t, "intel-rapl:3", "-5\n");
  write_zone(t, "intel-rapl:4", "package-4", kRangeUj + 5);  // beyond the range
  write_zone(t, "intel-rapl:5", "package-5", 100);
  t.write("sys/class/powercap/intel-rapl:5/max_energy_range_uj", "garbage");
  write_zone(t, "intel-rapl:6", "package-6", 100);
  std::filesystem::remove(t.path("sys/class/powercap/intel-rapl:6/energy_uj"));
  write_zone(t, "intel-rapl:7", "", 100);  // empty name

  auto sensors = discover(t);
  ASSERT_EQ(sensors.size(), 8u);
  for (const auto& s : sensors) {
    EXPECT_FALSE(s->status().available) << s->info().name;
    EXPECT_NE(s->status().reason.find("intel-rapl:"), std::string::npos) << s->status().reason;
    EXPECT_FALSE(s->read().ok) << s->info().name;
  }
  EXPECT_NE(find_sensor(sensors, "rapl-powercap:package-0")->status().reason.find("not a valid number"),
            std::string::npos);
  EXPECT_NE(find_sensor(sensors, "rapl-powercap:package-1")->status().reason.find("is empty"), std::string::npos);
  EXPECT_NE(find_sensor(sensors, "rapl-powercap:package-4")->status().reason.find("outside the counter's range"),
            std::string::npos);
  EXPECT_NE(find_sensor(sensors, "rapl-powercap:package-6")->status().reason.find("No such file"),
            std::string::npos);
}

TEST(Powercap, GarbageWhileRunningIsAReadErrorThenRecovers) {
  FakeTree t;
  write_zone(t, "intel-rapl:0", "package-0", 1'000'000);
  auto sensors = discover(t);
  Sensor& s = *sensors.at(0);
  const double before = read_j(s);
  set_energy(t, "intel-rapl:0", "12ab\n");
  auto r = s.read();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("energy_uj"), std::string::npos) << r.error;
  set_energy(t, "intel-rapl:0", "1500000\n");
  EXPECT_NEAR(read_j(s) - before, 0.5, 1e-9);
}

}  // namespace
}  // namespace joulebench
