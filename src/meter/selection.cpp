// Which sensors serve each component. The rule (docs/measurement.md, "Meter"):
// - cpu-side components (cpu, dram, core, uncore, psys): one backend serves
//   the whole component, summed over its packages. Backends may name the same
//   package differently, so mixing two backends could count a package twice.
// - gpu and other: one group per device (an NVIDIA GPU via NVML and an AMD GPU
//   via hwmon are different devices and add up).
// Within a group, candidates are ordered measured > sampled > estimated, ties
// by discovery order (discover_sensors lists backends in order of trust).
#include <algorithm>
#include <map>
#include <tuple>

#include "joulebench/meter.h"

namespace joulebench {
namespace {

bool whole_machine_component(Component c) {
  return c == Component::cpu || c == Component::dram || c == Component::core || c == Component::uncore ||
         c == Component::psys;
}

struct CandidateBuild {
  ComponentChoice::Candidate candidate;
  std::size_t first_index = 0;
};

struct GroupBuild {
  std::vector<CandidateBuild> candidates;
  std::size_t first_index = 0;
};

}  // namespace

std::vector<ComponentChoice> choose_sensors(const SensorList& sensors) {
  // component -> group key (device or "") -> candidate key (backend + provenance)
  std::map<Component, std::map<std::string, GroupBuild>> by_component;
  for (std::size_t i = 0; i < sensors.size(); ++i) {
    const Sensor& sensor = *sensors[i];
    if (!sensor.status().available) continue;
    const SensorInfo& info = sensor.info();
    const bool whole = whole_machine_component(info.component);
    const std::string group_key = whole ? std::string() : info.device;
    auto [group_it, new_group] = by_component[info.component].try_emplace(group_key);
    GroupBuild& group = group_it->second;
    if (new_group) group.first_index = i;
    auto it = std::find_if(group.candidates.begin(), group.candidates.end(), [&](const CandidateBuild& c) {
      return c.candidate.backend == info.backend && c.candidate.provenance == info.provenance;
    });
    if (it == group.candidates.end()) {
      CandidateBuild build;
      build.candidate.backend = info.backend;
      build.candidate.device = group_key;
      build.candidate.provenance = info.provenance;
      build.first_index = i;
      group.candidates.push_back(std::move(build));
      it = group.candidates.end() - 1;
    }
    it->candidate.sensors.push_back(i);
  }

  std::vector<ComponentChoice> out;
  for (auto& [component, groups] : by_component) {  // std::map: Component enum order
    std::vector<GroupBuild*> ordered;
    for (auto& [key, group] : groups) ordered.push_back(&group);
    std::sort(ordered.begin(), ordered.end(),
              [](const GroupBuild* a, const GroupBuild* b) { return a->first_index < b->first_index; });
    ComponentChoice choice;
    choice.component = component;
    for (GroupBuild* group : ordered) {
      std::stable_sort(group->candidates.begin(), group->candidates.end(),
                       [](const CandidateBuild& a, const CandidateBuild& b) {
                         return std::tie(a.candidate.provenance.kind, a.first_index) <
                                std::tie(b.candidate.provenance.kind, b.first_index);
                       });
      std::vector<ComponentChoice::Candidate> candidates;
      for (auto& c : group->candidates) candidates.push_back(std::move(c.candidate));
      choice.groups.push_back(std::move(candidates));
    }
    out.push_back(std::move(choice));
  }
  return out;
}

}  // namespace joulebench
