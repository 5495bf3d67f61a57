// The single place that registers the built-in backends, in order of trust
// (docs/measurement.md): energy counters (RAPL via powercap, perf, MSR; NVML energy;
// hwmon energy) before power readings, before models. No static
// self-registration: linkers drop unreferenced objects from static libraries.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/sensor.h"
#include "sensors/backends.h"

namespace joulebench {
namespace {

struct Backend {
  const char* name;
  void (*discover)(const SensorOptions&, SensorList&);
};

// discover_perf is overloaded (a test seam); this picks the real system calls.
void discover_perf_system(const SensorOptions& options, SensorList& out) { sensors::discover_perf(options, out); }

constexpr Backend kBackends[] = {
    {"rapl-powercap", sensors::discover_powercap},
    {"rapl-perf", discover_perf_system},
    {"rapl-msr", sensors::discover_msr},
    {"nvml", sensors::discover_nvml},
    {"hwmon", sensors::discover_hwmon},
    {"estimate", sensors::discover_estimate},
};

}  // namespace

std::vector<std::string> sensor_backend_names() {
  std::vector<std::string> names;
  for (const auto& backend : kBackends) names.emplace_back(backend.name);
  return names;
}

double counter_stuck_after_s(const SensorInfo& info) {
  return info.update_period_s > 0 ? std::max(10.0 * info.update_period_s, 0.005) : 2.0;
}

namespace {

// Hardware counters that the hardware updates every few milliseconds must
// have moved after a short wait; one that has not is stuck (a VM's perf power
// PMU or psys that the hypervisor exposes and never updates: it would read as
// "0 J measured"). One wait for all of them.
void drop_stuck_counters(SensorList& sensors, double probe_s) {
  if (probe_s <= 0) return;
  std::vector<std::pair<std::size_t, double>> probed;  // index, first cumulative joules
  double wait_s = probe_s;
  for (std::size_t i = 0; i < sensors.size(); ++i) {
    const Sensor& s = *sensors[i];
    const SensorInfo& info = s.info();
    if (!s.status().available || !is_hardware_counter(info) || info.update_period_s <= 0) continue;
    const SensorReading r = sensors[i]->read();
    if (!r.ok) continue;  // read errors are reported by the meter as they happen
    probed.emplace_back(i, r.sample.value);
    wait_s = std::max(wait_s, counter_stuck_after_s(info));
  }
  if (probed.empty()) return;
  std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
  for (const auto& [i, first_j] : probed) {
    const SensorReading r = sensors[i]->read();
    if (!r.ok || r.sample.value != first_j) continue;
    const SensorInfo info = sensors[i]->info();
    sensors[i] = std::make_unique<UnavailableSensor>(
        info, fmt::format("stuck: its counter did not advance in {:.0f} ms ({} update periods of about {:.0f} ms); "
                          "common in VMs, whose hypervisor exposes the counter without updating it",
                          wait_s * 1000.0, static_cast<int>(wait_s / info.update_period_s + 0.5),
                          info.update_period_s * 1000.0));
  }
}

}  // namespace

SensorList discover_sensors(const SensorOptions& options) {
  const auto known = sensor_backend_names();
  for (const auto& name : options.disabled_backends) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw InputError(fmt::format("unknown sensor backend '{}' (known: {})", name, fmt::join(known, ", ")));
    }
  }
  SensorList out;
  for (const auto& backend : kBackends) {
    const auto& disabled = options.disabled_backends;
    if (std::find(disabled.begin(), disabled.end(), backend.name) != disabled.end()) continue;
    try {
      backend.discover(options, out);
    } catch (const std::exception& e) {
      // A backend that fails in an unforeseen way must not hide the others.
      SensorInfo info;
      info.name = backend.name;
      info.backend = backend.name;
      out.push_back(std::make_unique<UnavailableSensor>(std::move(info), std::string("discovery failed: ") + e.what()));
    }
  }
  drop_stuck_counters(out, options.liveness_probe_s);
  return out;
}

}  // namespace joulebench
