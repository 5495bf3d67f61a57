#include <gtest/gtest.h>

#include "../support/fake_sensors.h"
#include "joulebench/meter.h"

namespace joulebench {
namespace {

using testing::FakeRig;
using testing::make_info;
constexpr auto kCounter = SensorKind::energy_counter;
constexpr auto kPower = SensorKind::power;
constexpr auto kMeasured = ProvenanceKind::measured;
constexpr auto kSampled = ProvenanceKind::sampled;
constexpr auto kEstimated = ProvenanceKind::estimated;

const ComponentChoice* find(const std::vector<ComponentChoice>& choices, Component c) {
  for (const auto& ch : choices)
    if (ch.component == c) return &ch;
  return nullptr;
}

TEST(ChooseSensors, MostTrustedBackendFirstAndNoMixingWithinCpu) {
  FakeRig rig;
  rig.add(make_info("estimate:cpu", "estimate", Component::cpu, "cpu", kCounter, kEstimated));  // 0
  rig.add(make_info("rapl-powercap:package-0", "rapl-powercap", Component::cpu, "package-0", kCounter, kMeasured));
  rig.add(make_info("rapl-powercap:package-1", "rapl-powercap", Component::cpu, "package-1", kCounter, kMeasured));
  rig.add(make_info("rapl-msr:package-0", "rapl-msr", Component::cpu, "cpu0", kCounter, kMeasured));  // 3
  const auto choices = choose_sensors(rig.sensors);
  const auto* cpu = find(choices, Component::cpu);
  ASSERT_NE(cpu, nullptr);
  ASSERT_EQ(cpu->groups.size(), 1u) << "cpu-side components are one group: one backend covers all packages";
  const auto& candidates = cpu->groups[0];
  ASSERT_EQ(candidates.size(), 3u);
  EXPECT_EQ(candidates[0].backend, "rapl-powercap");
  EXPECT_EQ(candidates[0].sensors, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(candidates[1].backend, "rapl-msr");  // measured, later in discovery
  EXPECT_EQ(candidates[2].backend, "estimate");  // estimated last although listed first
}

TEST(ChooseSensors, GpusArePerDeviceAndCounterBeatsPower) {
  FakeRig rig;
  rig.add(make_info("nvml:gpu-0-power", "nvml", Component::gpu, "gpu-0", kPower, kSampled));
  rig.add(make_info("nvml:gpu-0", "nvml", Component::gpu, "gpu-0", kCounter, kMeasured));
  rig.add(make_info("hwmon:card1", "hwmon", Component::gpu, "hwmon2/amdgpu", kPower, kSampled));
  const auto choices = choose_sensors(rig.sensors);
  const auto* gpu = find(choices, Component::gpu);
  ASSERT_NE(gpu, nullptr);
  ASSERT_EQ(gpu->groups.size(), 2u);
  ASSERT_EQ(gpu->groups[0].size(), 2u);
  EXPECT_EQ(gpu->groups[0][0].provenance.kind, ProvenanceKind::measured);
  EXPECT_EQ(gpu->groups[0][0].sensors, std::vector<std::size_t>{1});
  EXPECT_EQ(gpu->groups[1][0].device, "hwmon2/amdgpu");
}

TEST(ChooseSensors, UnavailableSensorsAreNeverChosen) {
  FakeRig rig;
  rig.add_unavailable(make_info("rapl-powercap:dram-0", "rapl-powercap", Component::dram, "package-0", kCounter,
                                kMeasured),
                      "permission denied");
  rig.add(make_info("estimate:dram", "estimate", Component::dram, "memory", kCounter, kEstimated));
  const auto choices = choose_sensors(rig.sensors);
  const auto* dram = find(choices, Component::dram);
  ASSERT_NE(dram, nullptr);
  ASSERT_EQ(dram->groups[0].size(), 1u);
  EXPECT_EQ(dram->groups[0][0].backend, "estimate");
}

TEST(ChooseSensors, ComponentsComeInComponentOrder) {
  FakeRig rig;
  rig.add(make_info("p", "rapl-powercap", Component::psys, "psys", kCounter, kMeasured));
  rig.add(make_info("g", "nvml", Component::gpu, "gpu-0", kCounter, kMeasured));
  rig.add(make_info("c", "rapl-powercap", Component::cpu, "package-0", kCounter, kMeasured));
  const auto choices = choose_sensors(rig.sensors);
  ASSERT_EQ(choices.size(), 3u);
  EXPECT_EQ(choices[0].component, Component::cpu);
  EXPECT_EQ(choices[1].component, Component::gpu);
  EXPECT_EQ(choices[2].component, Component::psys);
}

}  // namespace
}  // namespace joulebench
