// discover_sensors: every backend tried in order of trust, disabled ones
// skipped, and on any machine a usable cpu and dram figure (estimates at worst).
#include <gtest/gtest.h>

#include <algorithm>

#include "../support/counter_ticker.h"
#include "../support/fake_tree.h"
#include "joulebench/error.h"
#include "joulebench/sensor.h"
#include "../support/expect_throw.h"

namespace joulebench {
namespace {

using testing::FakeTree;

void write_machine(const FakeTree& t) {
  t.write("sys/class/powercap/intel-rapl:0/name", "package-0\n");
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "100\n");
  t.write("sys/class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
  t.write("sys/class/hwmon/hwmon0/name", "amdgpu\n");
  t.write("sys/class/hwmon/hwmon0/power1_average", "5000000\n");
  t.write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
                          "model name\t: Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz\nstepping\t: 4\n\n");
  t.write("proc/stat", "cpu  1 0 1 100 0 0 0 0 0 0\ncpu0 1 0 1 100 0 0 0 0 0 0\n");
  t.write("proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
}

std::size_t first_of(const SensorList& list, const std::string& backend) {
  for (std::size_t i = 0; i < list.size(); ++i)
    if (list[i]->info().backend == backend) return i;
  return list.size();
}

TEST(Discover, EveryBackendInOrderOfTrust) {
  FakeTree t;
  write_machine(t);
  const auto list = discover_sensors(t.options());
  const char* order[] = {"rapl-powercap", "rapl-perf", "rapl-msr", "nvml", "hwmon", "estimate"};
  std::size_t last = 0;
  for (const char* backend : order) {
    const std::size_t i = first_of(list, backend);
    ASSERT_LT(i, list.size()) << backend << " left no entry, not even an unavailable one";
    EXPECT_GE(i, last) << backend;
    last = i;
  }
  for (const auto& s : list) {
    EXPECT_FALSE(s->info().name.empty());
    EXPECT_FALSE(s->info().backend.empty());
    if (!s->status().available) {
      EXPECT_FALSE(s->status().reason.empty()) << s->info().name;
    }
  }
  auto available = [&](const std::string& name) {
    auto it = std::find_if(list.begin(), list.end(), [&](const auto& s) { return s->info().name == name; });
    return it != list.end() && (*it)->status().available;
  };
  EXPECT_TRUE(available("rapl-powercap:package-0"));
  EXPECT_TRUE(available("hwmon:hwmon0/amdgpu/power1"));
  EXPECT_TRUE(available("estimate:cpu"));  // always there; the meter prefers the measured one
  EXPECT_TRUE(available("estimate:ram"));
}

TEST(Discover, DisabledBackendsAreSkipped) {
  FakeTree t;
  write_machine(t);
  auto options = t.options();
  options.disabled_backends = {"rapl-powercap", "nvml", "estimate"};
  const auto list = discover_sensors(options);
  for (const auto& s : list) {
    EXPECT_NE(s->info().backend, "rapl-powercap");
    EXPECT_NE(s->info().backend, "nvml");
    EXPECT_NE(s->info().backend, "estimate");
  }
  EXPECT_LT(first_of(list, "hwmon"), list.size());

  options.disabled_backends = {"rapl"};  // a typo must not silently disable nothing
  {
    const std::string message = jbtest::thrown_message<InputError>([&] { discover_sensors(options); });
    EXPECT_NE(message.find("unknown sensor backend 'rapl'"), std::string::npos) << message;
    EXPECT_NE(message.find("rapl-powercap"), std::string::npos) << message;
  }
  EXPECT_EQ(sensor_backend_names(),
            (std::vector<std::string>{"rapl-powercap", "rapl-perf", "rapl-msr", "nvml", "hwmon", "estimate"}));
}

// Whatever this machine is (the project's VM has no readable counter), cpu
// and dram end up with a usable sensor, and every sensor either reads or says why not.
TEST(Discover, ThisMachine) {
  auto list = discover_sensors();
  bool cpu = false, dram = false;
  for (auto& s : list) {
    const auto st = s->status();
    if (!st.available) {
      EXPECT_FALSE(st.reason.empty()) << s->info().name;
      EXPECT_FALSE(s->read().ok) << s->info().name;
      continue;
    }
    cpu |= s->info().component == Component::cpu;
    dram |= s->info().component == Component::dram;
    const auto r = s->read();
    EXPECT_TRUE(r.ok) << s->info().name << ": " << r.error;
  }
  EXPECT_TRUE(cpu);
  EXPECT_TRUE(dram);
}


// A counter the hardware updates every millisecond that stands still for the
// probe is stuck (a VM's perf psys): reported unavailable, never "0 J measured".
TEST(Discover, AStuckCounterIsUnavailableWithTheReason) {
  FakeTree t;
  write_machine(t);
  auto options = t.options();
  options.liveness_probe_s = 0.005;
  auto list = discover_sensors(options);
  auto find = [&](const SensorList& l, const std::string& name) -> const Sensor* {
    for (const auto& s : l)
      if (s->info().name == name) return s.get();
    return nullptr;
  };
  const Sensor* stuck = find(list, "rapl-powercap:package-0");
  ASSERT_NE(stuck, nullptr);
  EXPECT_FALSE(stuck->status().available);
  EXPECT_NE(stuck->status().reason.find("stuck: its counter did not advance in 10 ms"), std::string::npos)
      << stuck->status().reason;
  EXPECT_NE(stuck->status().reason.find("common in VMs"), std::string::npos);
  EXPECT_DOUBLE_EQ(stuck->info().update_period_s, 0.001);
  // Models and power readings are not probed.
  EXPECT_TRUE(find(list, "estimate:cpu")->status().available);
  EXPECT_TRUE(find(list, "hwmon:hwmon0/amdgpu/power1")->status().available);

  // The same counter advancing (about 1 W) passes.
  jbtest::CounterTicker ticker(t.path("sys/class/powercap/intel-rapl:0/energy_uj"), 100, 1'000);
  list = discover_sensors(options);
  EXPECT_TRUE(find(list, "rapl-powercap:package-0")->status().available)
      << find(list, "rapl-powercap:package-0")->status().reason;
}

TEST(Discover, StuckAfterIsTenUpdatePeriodsOrTwoSecondsWhenUnknown) {
  SensorInfo rapl;
  rapl.update_period_s = 0.001;
  EXPECT_DOUBLE_EQ(counter_stuck_after_s(rapl), 0.01);
  SensorInfo fast;
  fast.update_period_s = 0.0001;
  EXPECT_DOUBLE_EQ(counter_stuck_after_s(fast), 0.005);
  EXPECT_DOUBLE_EQ(counter_stuck_after_s(SensorInfo{}), 2.0);
}

}  // namespace
}  // namespace joulebench
