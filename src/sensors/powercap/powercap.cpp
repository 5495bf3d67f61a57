// RAPL through the powercap sysfs class:
//   /sys/class/powercap/intel-rapl:N      name = package-N (or psys), energy_uj, max_energy_range_uj
//   /sys/class/powercap/intel-rapl:N:M    name = core / uncore / dram, inside package N
// AMD Zen hosts use the same intel-rapl zones (package and core only).
#include <cerrno>
#include <fmt/format.h>

#include "sensors/backends.h"
#include "sensors/counter.h"
#include "sensors/sysfs.h"

namespace joulebench::sensors {
namespace {

constexpr const char* kBackend = "rapl-powercap";

struct ZoneKind {
  Component component;
  const char* what;
};

// What a zone's `name` says it covers.
ZoneKind classify(const std::string& zone_name) {
  if (zone_name.rfind("package", 0) == 0) return {Component::cpu, "whole socket: cores, caches, uncore"};
  if (zone_name == "core") return {Component::core, "CPU cores only (inside the package)"};
  if (zone_name == "uncore") return {Component::uncore, "uncore / integrated GPU (inside the package)"};
  if (zone_name == "dram") return {Component::dram, "memory attached to the socket"};
  if (zone_name == "psys") return {Component::psys, "whole platform (SoC and more; contains the packages)"};
  return {Component::other, "unknown RAPL domain"};
}

bool is_rapl_zone(const std::string& entry) {
  // intel-rapl-mmio:* duplicates the package domain through MMIO on client
  // CPUs; counting it too would count the package twice.
  return entry.rfind("intel-rapl:", 0) == 0 || entry.rfind("amd-rapl:", 0) == 0;
}

std::string permission_reason(const std::string& file) {
  return file +
         " is readable by root only (Linux >= 5.10, CVE-2020-8694 'Platypus'); run as root, or "
         "`chmod o+r " + file + "` (lets every local user read power, the side channel the CVE is about), "
         "or use the perf (rapl-perf) or MSR (rapl-msr) backend";
}

// A named zone's counter: its wrap range and energy_uj, or why it cannot be read.
std::unique_ptr<Sensor> zone_sensor(SensorInfo info, const std::string& dir) {
  std::uint64_t range_uj = 0;
  if (auto error = read_u64(dir + "/max_energy_range_uj", range_uj); !error.empty())
    return std::make_unique<UnavailableSensor>(std::move(info), error);
  if (range_uj == 0) return std::make_unique<UnavailableSensor>(std::move(info), dir + "/max_energy_range_uj is 0");
  const std::string energy_path = dir + "/energy_uj";
  auto file = std::make_shared<AttributeFile>(energy_path);
  if (const int err = file->open(); err != 0) {
    const std::string why = (err == EACCES || err == EPERM) ? permission_reason(energy_path)
                                                             : "cannot read " + energy_path + ": " + errno_text(err);
    return std::make_unique<UnavailableSensor>(std::move(info), why);
  }
  info.description += fmt::format("; counter wraps at {:.0f} J, at most one wrap between reads assumed at <= {:.0f} W",
                                  static_cast<double>(range_uj) * 1e-6, kAssumedRaplPeakPowerW);
  std::vector<CounterSensor::Part> parts;
  // Values run 0..max_energy_range_uj inclusive, so the period is range + 1.
  parts.push_back({[file](std::uint64_t& raw) { return file->read_u64(raw); },
                   EnergyCounter(1e-6, range_uj + 1, kAssumedRaplPeakPowerW), energy_path});
  return CounterSensor::make(std::move(info), std::move(parts));
}

}  // namespace

void discover_powercap(const SensorOptions& options, SensorList& out) {
  const std::string base = options.paths.sysfs_root + "/class/powercap";
  std::vector<std::string> zones;
  for (const auto& entry : list_dir(base))
    if (is_rapl_zone(entry)) zones.push_back(entry);

  if (zones.empty()) {
    SensorInfo info;
    info.name = kBackend;
    info.backend = kBackend;
    info.component = Component::cpu;
    info.description = "RAPL energy counters through powercap sysfs";
    info.provenance = {ProvenanceKind::measured, kBackend};
    const std::string why = is_directory(base)
        ? base + " has no intel-rapl zones (not an Intel/AMD host, the intel_rapl_msr module is not loaded, or a VM)"
        : base + " does not exist (kernel without powercap, not an Intel/AMD host, or a VM)";
    out.push_back(std::make_unique<UnavailableSensor>(std::move(info), why));
    return;
  }

  for (const auto& zone : zones) {
    const std::string dir = base + "/" + zone;
    // "intel-rapl:0:2" -> parent "intel-rapl:0"
    const auto first_colon = zone.find(':');
    const auto second_colon = zone.find(':', first_colon + 1);
    const bool subzone = second_colon != std::string::npos;

    SensorInfo info;
    info.backend = kBackend;
    info.provenance = {ProvenanceKind::measured, kBackend};
    info.update_period_s = kRaplUpdatePeriodS;

    std::string zone_name;
    const int name_err = read_text(dir + "/name", zone_name);
    std::string parent_name;
    if (subzone) {
      const std::string parent_dir = base + "/" + zone.substr(0, second_colon);
      if (read_text(parent_dir + "/name", parent_name) != 0 || parent_name.empty())
        parent_name = zone.substr(0, second_colon);
    }
    if (name_err != 0 || zone_name.empty()) {
      info.name = std::string(kBackend) + ":" + zone;
      info.device = subzone ? parent_name : zone;
      out.push_back(std::make_unique<UnavailableSensor>(
          std::move(info), name_err != 0 ? "cannot read " + dir + "/name: " + errno_text(name_err)
                                         : dir + "/name is empty"));
      continue;
    }
    const ZoneKind kind = classify(zone_name);
    info.component = kind.component;
    info.device = subzone ? parent_name : zone_name;
    info.name = std::string(kBackend) + ":" + (subzone ? parent_name + "/" + zone_name : zone_name);
    info.description = fmt::format("RAPL {} ({}) via {}", subzone ? parent_name + "/" + zone_name : zone_name,
                                   kind.what, dir);

    out.push_back(zone_sensor(std::move(info), dir));
  }
}

}  // namespace joulebench::sensors
