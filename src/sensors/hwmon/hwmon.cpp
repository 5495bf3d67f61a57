// hwmon channels that measure energy or power:
//   /sys/class/hwmon/hwmonN/name                  driver ("amdgpu", "zenpower", "amd_energy", ...)
//   /sys/class/hwmon/hwmonN/energyK_input         cumulative microjoules  -> measured:hwmon-energy
//   /sys/class/hwmon/hwmonN/powerK_average|_input microwatts              -> sampled:hwmon-power
//   /sys/class/hwmon/hwmonN/{energy,power}K_label what the channel covers
// Old drivers keep the attributes in hwmonN/device/ instead.
#include <cctype>
#include <cerrno>
#include <map>

#include <fmt/format.h>

#include "sensors/backends.h"
#include "sensors/counter.h"
#include "sensors/sysfs.h"

namespace joulebench::sensors {
namespace {

constexpr const char* kBackend = "hwmon";

using detail::to_lower;

// What a channel covers, from its driver and label.
Component classify(const std::string& driver, const std::string& label) {
  if (driver == "amdgpu" || driver == "i915" || driver == "xe") return Component::gpu;
  if (driver == "zenpower" || driver == "amd_energy") {
    const std::string l = to_lower(label);
    if (l.find("socket") != std::string::npos) return Component::cpu;
    if (l.find("soc") != std::string::npos) return Component::uncore;  // SVI2_P_SoC: the SoC rail only
    if (l.find("core") != std::string::npos) return Component::core;   // a core rail / one core's counter
    return Component::cpu;
  }
  return Component::other;
}

std::string permission_reason(const std::string& file, const std::string& driver) {
  return file + " is readable by root only" +
         (driver == "amd_energy" ? std::string(" (amd_energy since Linux 5.10, CVE-2020-12912)") : std::string()) +
         "; run as root or `chmod o+r " + file + "`";
}

struct Channel {
  std::string kind;  // "energy" or "power"
  int number = 0;
  std::string file;  // energyK_input, powerK_average or powerK_input
};

// The measuring channels of one hwmon directory, one per (kind, number):
// for power, the _average attribute when there is one, else _input.
std::vector<Channel> channels_of(const std::string& dir) {
  std::map<std::pair<std::string, int>, Channel> found;
  for (const auto& entry : list_dir(dir)) {
    for (const char* kind : {"energy", "power"}) {
      const std::string prefix = kind;
      if (entry.rfind(prefix, 0) != 0) continue;
      const auto underscore = entry.find('_');
      if (underscore == std::string::npos) continue;
      const auto number = parse_u64(std::string_view(entry).substr(prefix.size(), underscore - prefix.size()));
      const std::string suffix = entry.substr(underscore);
      if (!number) continue;
      const bool wanted = (prefix == "energy" && suffix == "_input") ||
                          (prefix == "power" && (suffix == "_average" || suffix == "_input"));
      if (!wanted) continue;
      auto key = std::make_pair(prefix, static_cast<int>(*number));
      auto it = found.find(key);
      if (it == found.end() || suffix == "_average") found[key] = Channel{prefix, static_cast<int>(*number), entry};
    }
  }
  std::vector<Channel> out;
  for (auto& [key, c] : found) out.push_back(std::move(c));
  return out;
}

}  // namespace

void discover_hwmon(const SensorOptions& options, SensorList& out) {
  const std::string base = options.paths.sysfs_root + "/class/hwmon";
  auto unavailable_backend = [&](const std::string& why) {
    SensorInfo info;
    info.name = kBackend;
    info.backend = kBackend;
    info.component = Component::other;
    info.description = "hwmon energy and power channels";
    info.provenance = {ProvenanceKind::measured, "hwmon-energy"};
    out.push_back(std::make_unique<UnavailableSensor>(std::move(info), why));
  };
  if (!is_directory(base)) {
    unavailable_backend(base + " does not exist (kernel without hwmon, or a container without /sys)");
    return;
  }
  const auto devices = list_dir(base, "hwmon");
  std::size_t channels_found = 0;
  for (const auto& hwmon : devices) {
    std::string dir = base + "/" + hwmon;
    std::string driver;
    if (read_text(dir + "/name", driver) != 0) {
      if (read_text(dir + "/device/name", driver) != 0) continue;
      dir += "/device";
    }
    const std::string device = hwmon + "/" + driver;
    for (const Channel& ch : channels_of(dir)) {
      ++channels_found;
      const std::string channel_id = ch.kind + std::to_string(ch.number);
      std::string label;
      read_text(dir + "/" + channel_id + "_label", label);
      SensorInfo info;
      info.backend = kBackend;
      info.name = std::string(kBackend) + ":" + device + "/" + channel_id;
      info.device = device;
      info.component = classify(driver, label);
      const std::string path = dir + "/" + ch.file;
      const std::string covers = label.empty() ? driver : driver + " '" + label + "'";

      auto file = std::make_shared<AttributeFile>(path);
      if (const int err = file->open(); err != 0) {
        info.provenance = {ch.kind == "energy" ? ProvenanceKind::measured : ProvenanceKind::sampled,
                           "hwmon-" + ch.kind};
        out.push_back(std::make_unique<UnavailableSensor>(
            std::move(info), (err == EACCES || err == EPERM) ? permission_reason(path, driver)
                                                            : "cannot read " + path + ": " + errno_text(err)));
        continue;
      }
      if (ch.kind == "energy") {
        info.kind = SensorKind::energy_counter;
        info.provenance = {ProvenanceKind::measured, "hwmon-energy"};
        info.description = fmt::format("{}: cumulative energy counter (µJ) in {}", covers, path);
        std::vector<CounterSensor::Part> parts;
        // hwmon energy attributes are 64-bit accumulations: no wrap.
        parts.push_back({[file](std::uint64_t& raw) { return file->read_u64(raw); },
                         EnergyCounter(1e-6, 0, kAssumedRaplPeakPowerW), path});
        out.push_back(CounterSensor::make(std::move(info), std::move(parts)));
      } else {
        info.kind = SensorKind::power;
        info.provenance = {ProvenanceKind::sampled, "hwmon-power"};
        info.description = fmt::format("{}: power readings (µW) in {}, integrated over time", covers, path);
        auto reader = [file](double& power_w) -> std::string {
          std::uint64_t uw = 0;
          if (auto error = file->read_u64(uw); !error.empty()) return error;
          power_w = static_cast<double>(uw) * 1e-6;
          return {};
        };
        auto sensor = std::make_unique<PowerSensor>(std::move(info), reader);
        if (auto probe = sensor->read(); !probe.ok) {
          out.push_back(std::make_unique<UnavailableSensor>(sensor->info(), probe.error));
          continue;
        }
        out.push_back(std::move(sensor));
      }
    }
  }
  if (channels_found == 0)
    unavailable_backend(fmt::format("no energy*_input or power*_average/_input channel in the {} device(s) under {}",
                                    devices.size(), base));
}

}  // namespace joulebench::sensors
