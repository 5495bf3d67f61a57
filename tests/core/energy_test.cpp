#include "joulebench/energy.h"

#include <gtest/gtest.h>

namespace joulebench {
namespace {

TEST(Provenance, RoundTripsThroughText) {
  Provenance p{ProvenanceKind::sampled, "nvml-power"};
  EXPECT_EQ(p.to_string(), "sampled:nvml-power");
  auto parsed = Provenance::parse("sampled:nvml-power");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, p);
}

TEST(Provenance, RejectsMalformedText) {
  EXPECT_FALSE(Provenance::parse("guessed:foo"));
  EXPECT_FALSE(Provenance::parse("measured"));
  EXPECT_FALSE(Provenance::parse("measured:"));
}

TEST(Component, NamesRoundTrip) {
  for (auto c : {Component::cpu, Component::dram, Component::gpu, Component::core,
                 Component::uncore, Component::psys, Component::other}) {
    EXPECT_EQ(component_from_string(to_string(c)), c);
  }
  EXPECT_FALSE(component_from_string("ram"));
}

TEST(Measurement, TotalsSumOnlyAdditiveComponents) {
  Measurement m;
  m.components.push_back({Component::cpu, 10.0, 4.0, std::nullopt, {ProvenanceKind::measured, "rapl-powercap"}, {}});
  m.components.push_back({Component::core, 7.0, std::nullopt, std::nullopt, {ProvenanceKind::measured, "rapl-powercap"}, {}});
  m.components.push_back({Component::psys, 30.0, std::nullopt, std::nullopt, {ProvenanceKind::measured, "rapl-powercap"}, {}});
  m.components.push_back({Component::dram, 2.0, std::nullopt, std::nullopt, {ProvenanceKind::estimated, "ram-model"}, {}});
  EXPECT_DOUBLE_EQ(m.total_energy_j(), 12.0);
  EXPECT_DOUBLE_EQ(m.total_attributed_energy_j(), 6.0);
  EXPECT_EQ(m.weakest_provenance(), ProvenanceKind::estimated);
  ASSERT_NE(m.find(Component::core), nullptr);
  EXPECT_EQ(m.find(Component::gpu), nullptr);
}

TEST(Measurement, EmptyIsEstimatedNotMeasured) {
  Measurement m;
  EXPECT_EQ(m.weakest_provenance(), ProvenanceKind::estimated);
}

}  // namespace
}  // namespace joulebench
