// hwmon energy and power channels against fake /sys/class/hwmon trees.
#include <gtest/gtest.h>

#include "../support/fake_tree.h"
#include "sensors/backends.h"

namespace joulebench {
namespace {

using testing::FakeTree;
using testing::find_sensor;
using testing::find_sensor_mut;

SensorList discover(const FakeTree& t) {
  SensorList out;
  sensors::discover_hwmon(t.options(), out);
  return out;
}

const std::string kHw = "sys/class/hwmon/";

TEST(Hwmon, GpuCpuAndOtherChannels) {
  FakeTree t;
  t.write(kHw + "hwmon0/name", "coretemp\n");
  t.write(kHw + "hwmon0/temp1_input", "45000\n");
  // amdgpu: both an average and an instantaneous power attribute: the average is used.
  t.write(kHw + "hwmon2/name", "amdgpu\n");
  t.write(kHw + "hwmon2/power1_average", "95000000\n");
  t.write(kHw + "hwmon2/power1_input", "1\n");
  t.write(kHw + "hwmon2/power1_label", "PPT\n");
  t.write(kHw + "hwmon2/power1_cap", "300000000\n");  // not a measurement
  // amd_energy: a socket counter and a per-core counter.
  t.write(kHw + "hwmon10/name", "amd_energy\n");
  t.write(kHw + "hwmon10/energy1_input", "1000000\n");
  t.write(kHw + "hwmon10/energy1_label", "Esocket0\n");
  t.write(kHw + "hwmon10/energy2_input", "500000\n");
  t.write(kHw + "hwmon10/energy2_label", "Ecore000\n");
  // zenpower: core and SoC rails.
  t.write(kHw + "hwmon3/name", "zenpower\n");
  t.write(kHw + "hwmon3/power1_input", "40000000\n");
  t.write(kHw + "hwmon3/power1_label", "SVI2_P_Core\n");
  t.write(kHw + "hwmon3/power2_input", "12000000\n");
  t.write(kHw + "hwmon3/power2_label", "SVI2_P_SoC\n");
  // Intel discrete GPU (xe): an energy counter.
  t.write(kHw + "hwmon4/name", "xe\n");
  t.write(kHw + "hwmon4/energy1_input", "42\n");
  // A BMC-like platform power meter, old layout (attributes under device/).
  t.write(kHw + "hwmon5/device/name", "power_meter\n");
  t.write(kHw + "hwmon5/device/power1_average", "310000000\n");

  auto list = discover(t);
  ASSERT_EQ(list.size(), 7u);
  for (const auto& s : list) EXPECT_TRUE(s->status().available) << s->info().name << ": " << s->status().reason;

  struct Expect {
    const char* name;
    Component component;
    SensorKind kind;
    const char* provenance;
  };
  for (const Expect& e : {
           Expect{"hwmon:hwmon2/amdgpu/power1", Component::gpu, SensorKind::power, "sampled:hwmon-power"},
           Expect{"hwmon:hwmon10/amd_energy/energy1", Component::cpu, SensorKind::energy_counter,
                  "measured:hwmon-energy"},
           Expect{"hwmon:hwmon10/amd_energy/energy2", Component::core, SensorKind::energy_counter,
                  "measured:hwmon-energy"},
           Expect{"hwmon:hwmon3/zenpower/power1", Component::core, SensorKind::power, "sampled:hwmon-power"},
           Expect{"hwmon:hwmon3/zenpower/power2", Component::uncore, SensorKind::power, "sampled:hwmon-power"},
           Expect{"hwmon:hwmon4/xe/energy1", Component::gpu, SensorKind::energy_counter, "measured:hwmon-energy"},
           Expect{"hwmon:hwmon5/power_meter/power1", Component::other, SensorKind::power, "sampled:hwmon-power"},
       }) {
    const Sensor* s = find_sensor(list, e.name);
    ASSERT_NE(s, nullptr) << e.name;
    EXPECT_EQ(s->info().component, e.component) << e.name;
    EXPECT_EQ(s->info().kind, e.kind) << e.name;
    EXPECT_EQ(s->info().provenance.to_string(), e.provenance) << e.name;
  }
  EXPECT_EQ(find_sensor(list, "hwmon:hwmon2/amdgpu/power1")->info().device, "hwmon2/amdgpu");
  EXPECT_NE(find_sensor(list, "hwmon:hwmon2/amdgpu/power1")->info().description.find("PPT"), std::string::npos);

  Sensor& gpu = *find_sensor_mut(list, "hwmon:hwmon2/amdgpu/power1");
  EXPECT_DOUBLE_EQ(gpu.read().sample.value, 95.0);
  EXPECT_DOUBLE_EQ(find_sensor_mut(list, "hwmon:hwmon5/power_meter/power1")->read().sample.value, 310.0);

  Sensor& socket = *find_sensor_mut(list, "hwmon:hwmon10/amd_energy/energy1");
  const double before = socket.read().sample.value;
  t.write(kHw + "hwmon10/energy1_input", "3500000\n");
  const auto after = socket.read();
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_NEAR(after.sample.value - before, 2.5, 1e-12);
  t.write(kHw + "hwmon10/energy1_input", "3400000\n");  // backwards: no wrap for hwmon counters
  EXPECT_FALSE(socket.read().ok);
}

TEST(Hwmon, NothingToMeasureSaysWhy) {
  FakeTree t;
  auto list = discover(t);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]->info().name, "hwmon");
  EXPECT_NE(list[0]->status().reason.find("does not exist"), std::string::npos);

  t.write(kHw + "hwmon0/name", "coretemp\n");
  t.write(kHw + "hwmon0/temp1_input", "45000\n");
  t.write(kHw + "hwmon1/name", "nvme\n");
  list = discover(t);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_NE(list[0]->status().reason.find("no energy*_input or power*_average/_input channel in the 2 device(s)"),
            std::string::npos)
      << list[0]->status().reason;
}

TEST(Hwmon, GarbageValuesAreUnavailableOrReadErrors) {
  FakeTree t;
  t.write(kHw + "hwmon0/name", "amdgpu\n");
  t.write(kHw + "hwmon0/power1_average", "lots\n");
  t.write(kHw + "hwmon1/name", "amdgpu\n");
  t.write(kHw + "hwmon1/power1_average", "");
  t.write(kHw + "hwmon2/name", "amdgpu\n");
  t.write(kHw + "hwmon2/power1_average", "999999999999999999\n");  // 10^12 W
  t.write(kHw + "hwmon3/name", "xe\n");
  t.write(kHw + "hwmon3/energy1_input", "-12\n");
  t.write(kHw + "hwmon4/name", "xe\n");
  t.write(kHw + "hwmon4/energy1_input", "100\n");
  auto list = discover(t);
  ASSERT_EQ(list.size(), 5u);
  for (const char* name : {"hwmon:hwmon0/amdgpu/power1", "hwmon:hwmon1/amdgpu/power1", "hwmon:hwmon2/amdgpu/power1",
                           "hwmon:hwmon3/xe/energy1"}) {
    const Sensor* s = find_sensor(list, name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_FALSE(s->status().available) << name;
    EXPECT_FALSE(s->status().reason.empty());
  }
  EXPECT_NE(find_sensor(list, "hwmon:hwmon2/amdgpu/power1")->status().reason.find("implausible"), std::string::npos);
  Sensor& ok = *find_sensor_mut(list, "hwmon:hwmon4/xe/energy1");
  ASSERT_TRUE(ok.status().available);
  t.write(kHw + "hwmon4/energy1_input", "nonsense\n");
  const auto r = ok.read();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("energy1_input"), std::string::npos) << r.error;
}

TEST(Hwmon, RootOnlyCounterIsExplained) {
  FakeTree t;
  t.write(kHw + "hwmon0/name", "amd_energy\n");
  t.write(kHw + "hwmon0/energy1_input", "1000\n");
  t.write(kHw + "hwmon0/energy1_label", "Esocket0\n");
  t.chmod(kHw + "hwmon0/energy1_input", 0000);
  const auto options = t.options();
  const auto reason = testing::run_without_root([&] {
    SensorList out;
    sensors::discover_hwmon(options, out);
    return out.size() == 1 && !out[0]->status().available ? out[0]->status().reason : std::string("available?");
  });
  if (!reason) GTEST_SKIP() << "cannot drop root in this environment";
  EXPECT_NE(reason->find("readable by root only"), std::string::npos) << *reason;
  EXPECT_NE(reason->find("CVE-2020-12912"), std::string::npos) << *reason;
}

}  // namespace
}  // namespace joulebench
