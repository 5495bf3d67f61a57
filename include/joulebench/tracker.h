// The library entry point: discover this machine's sensors, sample them, and
// measure named windows.
//
//   joulebench::Tracker tracker;            // discovers sensors, starts sampling
//   tracker.begin_window("inference");
//   run_my_model();
//   joulebench::Measurement m = tracker.end_window("inference");
//   double joules = m.total_energy_j();     // cpu + dram + gpu, machine scope
//
// Windows may nest and overlap. Errors are joulebench::Error / InputError
// (error.h); a sensor that cannot be read is a warning in the Measurement,
// never a fake 0 J.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy.h"
#include "joulebench/error.h"
#include "joulebench/meter.h"
#include "joulebench/sensor.h"

namespace joulebench {

struct TrackerOptions {
  // Sampling interval (shortened automatically for counter wrap).
  double interval_s = 0.1;
  // Where sensors are looked for (sysfs/procfs/dev roots, NVML library),
  // which GPUs, which backends to skip. paths.procfs_root also serves
  // attribution.
  SensorOptions sensors;
  // Attribute windows to this process tree (its CPU time share); none if unset.
  std::optional<int> pid;
  // > 0: measure idle power for this long when the tracker starts, and
  // report dynamic energy above it.
  double idle_baseline_s = 0.0;
};

class Tracker {
 public:
  // Discovers sensors (discover_sensors(options.sensors)) and starts sampling.
  explicit Tracker(TrackerOptions options = {});
  // Uses the given sensors instead of discovering them (tests, custom sensors).
  Tracker(SensorList sensors, TrackerOptions options);

  void begin_window(const std::string& name);
  Measurement end_window(const std::string& name);

  IdleBaseline measure_idle(double seconds);
  std::optional<IdleBaseline> idle_baseline() const;
  // Attribute to the tree rooted at `pid` (std::nullopt: no attribution).
  void attribute_to(std::optional<int> pid);

  const SensorList& sensors() const;
  double interval_s() const;
  std::vector<std::string> notes() const;
  Meter& meter() { return meter_; }
  const Meter& meter() const { return meter_; }

 private:
  TrackerOptions options_;
  Meter meter_;
};

// A command that could not be started (not found, not executable). The CLI
// maps it to exit code 127.
class CommandStartError : public Error {
 public:
  using Error::Error;
};

struct CommandResult {
  std::vector<std::string> argv;
  // The command's exit status, or 128 + the signal that killed it.
  int exit_code = 0;
  int term_signal = 0;  // 0 when it exited
  Measurement measurement;
};

// Runs argv (no shell; PATH searched) inside a window named after the
// command, attributing to its process tree. SIGINT, SIGTERM and SIGHUP sent to
// this process by another process are forwarded to the command while it runs
// (a terminal's Ctrl-C already reaches it through the process group, so those
// are not sent twice). Throws CommandStartError when it cannot be started and
// InputError when argv is empty.
CommandResult run_command(Tracker& tracker, const std::vector<std::string>& argv);

// Throws CommandStartError (the message run_command would give) unless
// argv[0] names an executable file, as posix_spawnp would find it in PATH:
// checked before an idle baseline, so that a typo does not wait for it.
void check_command_startable(const std::vector<std::string>& argv);

}  // namespace joulebench
