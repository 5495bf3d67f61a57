// Internal: the built-in backends. discover.cpp calls them in order of trust;
// each appends usable sensors and UnavailableSensor entries (what it looked
// for and could not use, with the reason) to `out`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "joulebench/sensor.h"

struct perf_event_attr;

namespace joulebench::sensors {

// RAPL through /sys/class/powercap (intel-rapl zones; AMD uses them too).
void discover_powercap(const SensorOptions& options, SensorList& out);

// The system calls the perf backend makes, replaceable in tests (no test
// machine lets perf_event_open succeed on a fake PMU).
struct PerfSyscalls {
  // perf_event_open(attr, pid, cpu, group_fd, flags): an fd, or -1 with errno set.
  std::function<int(perf_event_attr& attr, int pid, int cpu)> open;
  // Reads the 64-bit count of an event: "" or an error message.
  std::function<std::string(int fd, std::uint64_t& count)> read;
  std::function<void(int fd)> close;
  // The real ones.
  static PerfSyscalls system();
};

// RAPL through the perf `power` PMU (perf_event_open, one event per package).
void discover_perf(const SensorOptions& options, SensorList& out);
void discover_perf(const SensorOptions& options, const PerfSyscalls& syscalls, SensorList& out);

// RAPL through /dev/cpu/N/msr (pread at the register address).
void discover_msr(const SensorOptions& options, SensorList& out);

// NVIDIA GPUs through NVML loaded with dlopen.
void discover_nvml(const SensorOptions& options, SensorList& out);

// hwmon energy and power channels (amdgpu, Intel GPUs, zenpower, BMCs, ...).
void discover_hwmon(const SensorOptions& options, SensorList& out);

// Models for cpu and dram, from /proc (always looked for; the meter uses
// them only where no measured or sampled sensor covers the component).
void discover_estimate(const SensorOptions& options, SensorList& out);

}  // namespace joulebench::sensors
