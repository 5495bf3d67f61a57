#include "joulebench/energy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

namespace joulebench {
namespace {

constexpr std::array<std::pair<Component, std::string_view>, 7> kComponentNames{{
    {Component::cpu, "cpu"},
    {Component::dram, "dram"},
    {Component::gpu, "gpu"},
    {Component::core, "core"},
    {Component::uncore, "uncore"},
    {Component::psys, "psys"},
    {Component::other, "other"},
}};

}  // namespace

std::string_view to_string(Component c) {
  for (const auto& [value, name] : kComponentNames)
    if (value == c) return name;
  return "other";
}

std::optional<Component> component_from_string(std::string_view s) {
  for (const auto& [value, name] : kComponentNames)
    if (name == s) return value;
  return std::nullopt;
}

bool is_additive(Component c) {
  return c == Component::cpu || c == Component::dram || c == Component::gpu;
}

std::string provenance_with_band(std::string_view kind, double band_factor) {
  return band_factor > 1.0 ? fmt::format("{} x/÷{:.2g}", kind, band_factor) : std::string(kind);
}

std::string_view to_string(ProvenanceKind k) {
  switch (k) {
    case ProvenanceKind::measured: return "measured";
    case ProvenanceKind::sampled: return "sampled";
    case ProvenanceKind::estimated: return "estimated";
  }
  return "estimated";
}

std::string Provenance::to_string() const {
  return std::string(joulebench::to_string(kind)) + ":" + method;
}

std::optional<Provenance> Provenance::parse(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon + 1 == s.size()) return std::nullopt;
  const auto kind_text = s.substr(0, colon);
  for (auto k : {ProvenanceKind::measured, ProvenanceKind::sampled, ProvenanceKind::estimated}) {
    if (joulebench::to_string(k) == kind_text) return Provenance{k, std::string(s.substr(colon + 1))};
  }
  return std::nullopt;
}

double Measurement::total_energy_j() const {
  double sum = 0.0;
  for (const auto& c : components)
    if (is_additive(c.component)) sum += c.energy_j;
  return sum;
}

double Measurement::total_attributed_energy_j() const {
  double sum = 0.0;
  for (const auto& c : components)
    if (is_additive(c.component)) sum += c.attributed_energy_j.value_or(c.energy_j);
  return sum;
}

double Measurement::total_energy_low_j() const {
  double sum = 0.0;
  for (const auto& c : components)
    if (is_additive(c.component)) sum += c.low(c.energy_j);
  return sum;
}

double Measurement::total_energy_high_j() const {
  double sum = 0.0;
  for (const auto& c : components)
    if (is_additive(c.component)) sum += c.high(c.energy_j);
  return sum;
}

double Measurement::total_low_share() const {
  const double total = total_energy_j();
  return total > 0.0 ? total_energy_low_j() / total : 1.0;
}

double Measurement::total_high_share() const {
  const double total = total_energy_j();
  return total > 0.0 ? total_energy_high_j() / total : 1.0;
}

const ComponentEnergy* Measurement::find(Component c) const {
  for (const auto& e : components)
    if (e.component == c) return &e;
  return nullptr;
}

bool Measurement::any_additive() const {
  return std::any_of(components.begin(), components.end(),
                     [](const ComponentEnergy& c) { return is_additive(c.component); });
}

bool Measurement::any_attributed() const {
  return std::any_of(components.begin(), components.end(),
                     [](const ComponentEnergy& c) { return c.attributed_energy_j.has_value(); });
}

bool Measurement::is_coarse() const {
  return std::any_of(warnings.begin(), warnings.end(),
                     [](const std::string& w) { return w.find(kCoarseWindowMark) != std::string::npos; });
}

ProvenanceKind Measurement::weakest_provenance() const {
  ProvenanceKind weakest = ProvenanceKind::measured;
  bool any = false;
  for (const auto& c : components) {
    if (!is_additive(c.component)) continue;
    any = true;
    if (c.provenance.kind > weakest) weakest = c.provenance.kind;
  }
  return any ? weakest : ProvenanceKind::estimated;
}

}  // namespace joulebench
