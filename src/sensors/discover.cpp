// The single place that registers the built-in backends, in order of trust
// (DESIGN.md): energy counters (RAPL via powercap, perf, MSR; NVML energy;
// hwmon energy) before power readings, before models. No static
// self-registration: linkers drop unreferenced objects from static libraries.
#include <algorithm>

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

SensorList discover_sensors(const SensorOptions& options) {
  const auto known = sensor_backend_names();
  for (const auto& name : options.disabled_backends) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw InputError("unknown sensor backend '" + name + "' (known: " + list + ")");
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
  return out;
}

}  // namespace joulebench
