// Vocabulary types shared by every concern: what was measured (Component),
// how (Provenance), and the result of a measurement window (Measurement).
// Energy is joules (double) inside; kWh and grams only at the edges.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench {

// What a figure covers. cpu, dram and gpu add up to the machine total; the
// others overlap them (core and uncore are inside cpu, psys contains cpu and
// more) and are reported but never summed.
enum class Component { cpu, dram, gpu, core, uncore, psys, other };

std::string_view to_string(Component c);
std::optional<Component> component_from_string(std::string_view s);
// True for the components that add up to the machine total.
bool is_additive(Component c);

// Order of trust: a hardware energy counter > power readings integrated over
// time > a model. Lower enum value = more trusted.
enum class ProvenanceKind { measured, sampled, estimated };

std::string_view to_string(ProvenanceKind k);

// What people read where a figure is: "estimated x/÷2.5" (the kind and the
// widest band of its estimates), or the kind alone when band_factor is 1.
std::string provenance_with_band(std::string_view kind, double band_factor);

struct Provenance {
  ProvenanceKind kind = ProvenanceKind::estimated;
  std::string method;  // "rapl-powercap", "nvml-power", "cpu-tdp", ...

  // "measured:rapl-powercap"
  std::string to_string() const;
  static std::optional<Provenance> parse(std::string_view s);
  bool operator==(const Provenance&) const = default;
};

// Energy of one component over one window, in three scopes.
struct ComponentEnergy {
  Component component = Component::other;
  double energy_j = 0.0;                     // whole machine
  std::optional<double> attributed_energy_j;  // share of the measured process tree
  std::optional<double> dynamic_energy_j;     // above the idle baseline
  Provenance provenance;
  std::vector<std::string> sources;  // sensor names that contributed
  // A modelled figure (and each of its scopes) lies within [x / band_factor,
  // x * band_factor]; 1 for readings. Several groups: the widest band.
  double band_factor = 1.0;

  double low(double x) const { return x / band_factor; }
  double high(double x) const { return x * band_factor; }
};

struct Measurement {
  std::string name;
  std::chrono::system_clock::time_point start_time{};
  double duration_s = 0.0;
  std::vector<ComponentEnergy> components;
  std::vector<std::string> warnings;  // e.g. "cpu energy is estimated: ..."

  // Sum over additive components (cpu + dram + gpu), machine scope.
  double total_energy_j() const;
  // Sum of attributed energy where known, else machine energy.
  double total_attributed_energy_j() const;
  // Ends of the band of total_energy_j(): sums of the components' low / high.
  double total_energy_low_j() const;
  double total_energy_high_j() const;
  // Those ends as shares of the total (1 when it is 0 or every figure is a
  // reading): the band of any figure linear in it (kWh per 1000, gCO2e).
  double total_low_share() const;
  double total_high_share() const;
  const ComponentEnergy* find(Component c) const;
  // The least trusted provenance among additive components.
  ProvenanceKind weakest_provenance() const;
  // Some additive component (cpu, dram, gpu) has a figure: else there is no
  // energy to convert to carbon or store, and none is claimed (never a fake 0).
  bool any_additive() const;
  // Some component has an attributed figure (an attribution target was set).
  bool any_attributed() const;
  // The window was shorter than its sensors' resolution (a warning ending in
  // kCoarseWindowMark says which and why): its figures are coarse. Kept with
  // the window in the store, so reports mark it too.
  bool is_coarse() const;
};

inline constexpr std::string_view kCoarseWindowMark = "its energy is coarse";

}  // namespace joulebench
