// One small sensor interface (as energymon): every backend (RAPL powercap,
// perf, MSR, NVML, hwmon, estimation) implements it in its own folder under
// src/sensors/. The meter samples sensors; it never knows which backend.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy.h"

namespace joulebench {

enum class SensorKind {
  energy_counter,  // read() gives cumulative joules since open (wraps handled inside)
  power,           // read() gives instantaneous watts; the meter integrates
};

struct SensorInfo {
  std::string name;         // unique and stable: "rapl-powercap:package-0", "nvml:gpu-0"
  std::string backend;      // "rapl-powercap", "rapl-perf", "rapl-msr", "nvml", "hwmon", "estimate"
  Component component = Component::other;
  std::string device;       // "package-0", "gpu-0 (NVIDIA H100, GPU-uuid)", "hwmon3/amdgpu"
  std::string description;  // what it covers, in words
  SensorKind kind = SensorKind::energy_counter;
  Provenance provenance;
  // Longest interval between two reads for which at most one counter wrap can
  // occur at the component's peak power; 0 when there is no wrap to fear.
  double max_read_interval_s = 0.0;
  // An energy counter computed from counters that never wrap or reset (the
  // estimates, from the kernel's CPU time): its reads at window edges alone
  // are exact, so the sampler does not read it between edges.
  bool exact_at_edges = false;
  // A model of slowly changing state (the RAM estimate, from memory in use):
  // reading it more often than this adds cost and no information, so the
  // sampler reads it at most this often between window edges. 0: every tick.
  double min_useful_interval_s = 0.0;
  // How often the hardware updates the counter (RAPL: about every 1 ms); 0
  // when not known. A hardware counter that does not advance while time
  // passes is stuck (counter_stuck_after_s) and never read as 0 J measured.
  double update_period_s = 0.0;
  // A model's figures lie within [x / band_factor, x * band_factor] (the band
  // of include/joulebench/power_model.h); 1 for readings.
  double band_factor = 1.0;
};

// A measured energy counter (RAPL, NVML energy, hwmon energy): the kind of
// sensor that can be stuck. Models and power readings cannot.
inline bool is_hardware_counter(const SensorInfo& info) {
  return info.kind == SensorKind::energy_counter && info.provenance.kind == ProvenanceKind::measured;
}

// How long a measured energy counter may stay unchanged before it counts as
// stuck: 10 update periods, at least 5 ms; 2 s when the period is not known
// (every component draws power, so a live counter always advances).
double counter_stuck_after_s(const SensorInfo& info);

struct SensorStatus {
  bool available = false;
  std::string reason;  // why not, and what to do; empty when available
};

struct Sample {
  double time_s = 0.0;  // steady clock, seconds
  double value = 0.0;   // joules (energy_counter, cumulative) or watts (power)
};

// Result of one read: a sample, or why there is none. Never a fake zero.
struct SensorReading {
  bool ok = false;
  Sample sample;
  std::string error;

  static SensorReading success(Sample s) { return {true, s, {}}; }
  static SensorReading failure(std::string why) { return {false, {}, std::move(why)}; }
};

class Sensor {
 public:
  virtual ~Sensor() = default;
  virtual const SensorInfo& info() const = 0;
  virtual SensorStatus status() const = 0;
  // Called from the sampler thread only; need not be thread-safe.
  virtual SensorReading read() = 0;
  // For attribution of a device's energy by process: the PIDs (as the host
  // kernel numbers them) that hold a context on the device now. std::nullopt
  // when the sensor cannot tell (every non-GPU sensor; a driver without the
  // query); an empty vector when nothing runs there. Same thread as read().
  virtual std::optional<std::vector<int>> device_process_ids() { return std::nullopt; }
};

using SensorList = std::vector<std::unique_ptr<Sensor>>;

// A sensor that was looked for and cannot be used: kept so that `joulebench
// sensors` can say why. read() always fails with the reason.
class UnavailableSensor final : public Sensor {
 public:
  UnavailableSensor(SensorInfo info, std::string reason)
      : info_(std::move(info)), reason_(std::move(reason)) {}
  const SensorInfo& info() const override { return info_; }
  SensorStatus status() const override { return {false, reason_}; }
  SensorReading read() override { return SensorReading::failure(reason_); }

 private:
  SensorInfo info_;
  std::string reason_;
};

// Where backends look. Tests point these at fake trees; a fake NVML library
// built in the test tree replaces libnvidia-ml.so.1.
struct SensorPaths {
  std::string sysfs_root = "/sys";
  std::string procfs_root = "/proc";
  std::string dev_root = "/dev";
  std::string nvml_library = "libnvidia-ml.so.1";
};

struct SensorOptions {
  SensorPaths paths;
  // GPUs to use, by index or UUID; empty = all visible (CUDA_VISIBLE_DEVICES honoured).
  std::vector<std::string> gpus;
  // Disable backends by name ("rapl-msr", "nvml", ...).
  std::vector<std::string> disabled_backends;
  // After discovery, hardware counters with a known update period are read
  // again after this long; one that has not advanced is reported unavailable
  // ("stuck"). 0: no probe (windows still check, see counter_stuck_after_s).
  double liveness_probe_s = 0.005;
};

// Discovers every backend once, in order of trust. Returns usable sensors and
// UnavailableSensor entries for what was looked for and could not be used.
// Throws InputError for an unknown name in options.disabled_backends.
SensorList discover_sensors(const SensorOptions& options = {});

// The built-in backends, in discovery (trust) order: "rapl-powercap",
// "rapl-perf", "rapl-msr", "nvml", "hwmon", "estimate".
std::vector<std::string> sensor_backend_names();

}  // namespace joulebench
