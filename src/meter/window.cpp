#include "window.h"

#include <fmt/core.h>
#include <fmt/format.h>

namespace joulebench::meter {
namespace {

std::string ms(double seconds) { return fmt::format("{:.1f} ms", seconds * 1000.0); }

struct SensorResult {
  bool usable = false;
  double energy_j = 0.0;
  std::string why_not;
};

// One sensor over the window. Warnings go to `warnings` only if the caller
// keeps the candidate this sensor belongs to.
SensorResult evaluate(const SensorWindowView& v, const WindowInput& in, std::vector<std::string>& warnings) {
  const std::string& name = v.info->name;
  if (!v.end.has_sample || v.end.good_reads == v.begin.good_reads) {
    return {false, 0.0,
            v.last_error.empty() ? std::string("no successful read in the window")
                                 : "no successful read in the window (last error: " + v.last_error + ")"};
  }
  double energy_j = v.end.energy_j - v.begin.energy_j;
  if (!v.begin.has_sample)
    warnings.push_back(fmt::format("window '{}': sensor {}: no successful read before the window began; "
                                   "energy before its first good read is missing",
                                   in.name, name));
  const auto failed = v.end.failures - v.begin.failures;
  if (failed > 0) {
    const auto total = failed + (v.end.good_reads - v.begin.good_reads);
    warnings.push_back(fmt::format(
        "window '{}': sensor {}: {} of {} reads failed (last error: {}); {}", in.name, name, failed, total,
        v.last_error,
        v.kind == SensorKind::energy_counter ? "the counter's energy across the failed reads is still counted"
                                             : "power was interpolated linearly across the failed reads"));
  }
  if (v.edges_only && v.kind == SensorKind::power)
    warnings.push_back(fmt::format("window '{}': sensor {} is a fallback read only at the window's begin and end: "
                                   "its energy is the mean of two power readings times the duration",
                                   in.name, name));
  if (v.kind == SensorKind::energy_counter && in.duration_s > 0.0) {
    // A hardware counter that stood still over many of its update periods is
    // stuck, not idle (every component draws power): never "0 J measured".
    if (energy_j == 0.0 && is_hardware_counter(*v.info) && in.duration_s >= counter_stuck_after_s(*v.info))
      return {false, 0.0,
              fmt::format("stuck: its counter did not advance in {}{}; common in VMs, whose hypervisor exposes the "
                          "counter without updating it",
                          ms(in.duration_s),
                          v.info->update_period_s > 0
                              ? fmt::format(" (about {:.0f} update periods)", in.duration_s / v.info->update_period_s)
                              : std::string())};
    if (energy_j == 0.0 && in.lap) {
      // Extrapolating would count this energy twice: the next lap sees the
      // counter's whole advance.
      warnings.push_back(fmt::format("window '{}' ({}) ended before sensor {} advanced: its energy is counted in "
                                     "the lap where it does",
                                     in.name, ms(in.duration_s), name));
    } else if (energy_j == 0.0) {
      if (v.recent_power_w >= 0.0) {
        energy_j = v.recent_power_w * in.duration_s;
        warnings.push_back(fmt::format(
            "window '{}' ({}) is shorter than the update period of sensor {}: its counter did not advance; "
            "energy extrapolated from its recent power ({:.3f} W)",
            in.name, ms(in.duration_s), name, v.recent_power_w));
      } else {
        warnings.push_back(fmt::format(
            "window '{}' ({}) is shorter than the update period of sensor {}: its counter did not advance and "
            "no recent power is known; 0 J is only a lower bound",
            in.name, ms(in.duration_s), name));
      }
    } else if (v.slow_update_period_s > in.duration_s) {
      warnings.push_back(fmt::format(
          "window '{}' ({}) is shorter than the update period of sensor {} (about {}): {}", in.name,
          ms(in.duration_s), name, ms(v.slow_update_period_s), kCoarseWindowMark));
    }
  }
  return {true, energy_j, {}};
}

bool attributed_by_cpu_share(Component c) {
  // DRAM traffic follows the CPU work that causes it; we use the same share
  // (a stated approximation). psys covers the whole platform: not attributed.
  return c == Component::cpu || c == Component::dram || c == Component::core || c == Component::uncore;
}

struct UsedGroup {
  const ComponentChoice::Candidate* candidate = nullptr;
  std::string label;
  double energy_j = 0.0;
};

// A GPU's whole energy goes to the tree when one of the tree's processes was
// seen on it during the window, none otherwise. Unknown (nullopt) when a
// used GPU sensor cannot list its processes.
std::optional<double> gpu_attributed_j(const WindowInput& in, const std::vector<UsedGroup>& groups,
                                       std::vector<std::string>& warnings) {
  double attributed_j = 0.0;
  for (const auto& g : groups) {
    std::uint64_t checks = 0, tree = 0, others = 0;
    for (std::size_t index : g.candidate->sensors) {
      const auto& v = in.sensors[index];
      checks += v.end.process_checks - v.begin.process_checks;
      tree += v.end.tree_seen - v.begin.tree_seen;
      others += v.end.others_seen - v.begin.others_seen;
    }
    if (checks == 0) {
      warnings.push_back(fmt::format(
          "window '{}': {}: no attributed energy: its sensor cannot list the processes using it, or the window "
          "had no sample while the process tree was set",
          in.name, g.label));
      return std::nullopt;
    }
    if (tree > 0) {
      attributed_j += g.energy_j;
      if (others > 0)
        warnings.push_back(fmt::format("window '{}': {}: other processes used it too; all its energy is attributed "
                                       "to the process tree",
                                       in.name, g.label));
    } else if (checks < 3) {
      warnings.push_back(fmt::format(
          "window '{}': {}: none of the tree's processes seen in {} check(s) of its process list; a short use "
          "between samples would be missed (attributed 0 J)",
          in.name, g.label, checks));
    }
  }
  return attributed_j;
}

}  // namespace

std::string estimated_warning(std::string_view component, const Provenance& provenance) {
  return fmt::format("{} energy is estimated ({}): no hardware reading was available", component,
                     provenance.to_string());
}

namespace {

// One device group: its first candidate whose sensors all give a figure.
// Warnings of the sensors of that candidate go to `warnings`; the candidates
// passed over are named, with why, in the result.
struct GroupFigure {
  const ComponentChoice::Candidate* used = nullptr;
  double energy_j = 0.0;
  std::vector<std::string> skipped;  // "provenance (sensor: why not)"
};

GroupFigure evaluate_group(const std::vector<ComponentChoice::Candidate>& group, const WindowInput& in,
                           std::vector<std::string>& warnings) {
  GroupFigure out;
  for (const auto& candidate : group) {
    std::vector<std::string> candidate_warnings;
    double energy_j = 0.0;
    std::string why_not;
    for (std::size_t index : candidate.sensors) {
      const SensorResult r = evaluate(in.sensors[index], in, candidate_warnings);
      if (!r.usable) {
        why_not = in.sensors[index].info->name + ": " + r.why_not;
        break;
      }
      energy_j += r.energy_j;
    }
    if (!why_not.empty()) {
      out.skipped.push_back(fmt::format("{} ({})", candidate.provenance.to_string(), why_not));
      continue;
    }
    out.used = &candidate;
    out.energy_j = energy_j;
    for (auto& w : candidate_warnings) warnings.push_back(std::move(w));
    break;
  }
  return out;
}

// The attributed and dynamic scopes of a component's figure.
void add_scopes(ComponentEnergy& ce, const WindowInput& in, const std::vector<UsedGroup>& used,
                std::vector<std::string>& warnings) {
  const std::string component(to_string(ce.component));
  if (in.attribution_enabled) {
    if (attributed_by_cpu_share(ce.component)) {
      if (in.cpu_share) ce.attributed_energy_j = ce.energy_j * *in.cpu_share;
    } else if (ce.component == Component::gpu) {
      ce.attributed_energy_j = gpu_attributed_j(in, used, warnings);
    }
  }
  if (!in.idle) return;
  const IdlePower* idle = in.idle->find(ce.component);
  if (!idle) {
    warnings.push_back(
        fmt::format("window '{}': {}: no dynamic energy: the idle baseline has no figure for it", in.name, component));
    return;
  }
  double dynamic_j = ce.energy_j - idle->power_w * in.duration_s;
  if (idle->provenance != ce.provenance)
    warnings.push_back(fmt::format("window '{}': {}: idle baseline came from {}, the window from {}", in.name,
                                   component, idle->provenance.to_string(), ce.provenance.to_string()));
  if (dynamic_j < 0.0) {
    warnings.push_back(fmt::format("window '{}': {}: energy {:.3f} J is below the idle baseline ({:.3f} W x {:.3f} "
                                   "s); dynamic energy reported as 0",
                                   in.name, component, ce.energy_j, idle->power_w, in.duration_s));
    dynamic_j = 0.0;
  }
  ce.dynamic_energy_j = dynamic_j;
}

// A component's figure over the window: the sum of its device groups, each
// from its most trusted source that read; nullopt when no group had one.
std::optional<ComponentEnergy> component_figure(const ComponentChoice& choice, const WindowInput& in,
                                                std::vector<std::string>& warnings) {
  const std::string component(to_string(choice.component));
  ComponentEnergy ce;
  ce.component = choice.component;
  std::vector<UsedGroup> used_per_group;
  for (const auto& group : choice.groups) {
    GroupFigure figure = evaluate_group(group, in, warnings);
    const std::string label =
        group.empty() || group.front().device.empty() ? component : component + " " + group.front().device;
    if (!figure.used) {
      warnings.push_back(
          fmt::format("window '{}': {}: no energy figure: {}", in.name, label, fmt::join(figure.skipped, "; ")));
      continue;
    }
    if (!figure.skipped.empty())
      warnings.push_back(fmt::format("window '{}': {}: used {} because a more trusted source failed: {}", in.name,
                                     label, figure.used->provenance.to_string(), fmt::join(figure.skipped, "; ")));
    ce.energy_j += figure.energy_j;
    for (std::size_t index : figure.used->sensors) {
      ce.sources.push_back(in.sensors[index].info->name);
      ce.band_factor = std::max(ce.band_factor, in.sensors[index].info->band_factor);
    }
    if (used_per_group.empty() || figure.used->provenance.kind > ce.provenance.kind)
      ce.provenance = figure.used->provenance;
    used_per_group.push_back({figure.used, label, figure.energy_j});
  }
  if (used_per_group.empty()) return std::nullopt;
  add_scopes(ce, in, used_per_group, warnings);
  if (ce.provenance.kind == ProvenanceKind::estimated && is_additive(choice.component))
    warnings.push_back(estimated_warning(component, ce.provenance));
  return ce;
}

}  // namespace

Measurement compose_measurement(const WindowInput& in, std::vector<std::string> warnings) {
  Measurement m;
  m.name = in.name;
  m.start_time = in.start_time;
  m.duration_s = in.duration_s;
  m.warnings = std::move(warnings);
  if (in.attribution_enabled && in.cpu_share)
    m.warnings.push_back(fmt::format(
        "window '{}': attributed energy = the process tree's share of the machine's CPU time ({:.1f} %); dram, "
        "core and uncore get the same share, an approximation (no counter splits them per process)",
        in.name, *in.cpu_share * 100.0));
  for (const ComponentChoice& choice : *in.choices)
    if (auto ce = component_figure(choice, in, m.warnings)) m.components.push_back(std::move(*ce));
  // Shorter than the sensors' resolution (Meter::resolution: 100 counter
  // updates, 10 power samples, a model's own pace): said once, with why.
  if (in.duration_s > 0.0 && in.duration_s < in.resolution.seconds && !m.components.empty() && !m.is_coarse())
    m.warnings.push_back(fmt::format("window '{}' ({}) is shorter than the {} its sensors need ({}): {}", in.name,
                                     ms(in.duration_s), readable_seconds(in.resolution.seconds), in.resolution.why,
                                     kCoarseWindowMark));
  return m;
}

}  // namespace joulebench::meter
