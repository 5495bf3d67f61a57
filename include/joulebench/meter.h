// The meter: a sampler thread that reads every usable sensor, turns readings
// into energy (counter deltas; trapezoids for power), and answers named
// windows that may nest and overlap (as Zeus's begin_window/end_window).
//
// Per component it uses the most trusted source (measured > sampled >
// estimated) and never sums overlapping zones: cpu, dram and gpu add up to
// the machine; core, uncore and psys are reported beside them.
//
// Scopes of every figure: machine total; attributed to a process tree (its
// share of the machine's CPU time, from /proc); dynamic (above an idle
// baseline). Policy details: docs/measurement.md, section "Meter".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/energy.h"
#include "joulebench/sensor.h"

namespace joulebench {

// Idle power of one component, measured before a run.
struct IdlePower {
  Component component = Component::other;
  double power_w = 0.0;
  Provenance provenance;
  std::vector<std::string> sources;
};

// Idle power per component: dynamic energy = energy - power_w x duration.
struct IdleBaseline {
  double duration_s = 0.0;
  std::vector<IdlePower> components;
  std::vector<std::string> warnings;

  const IdlePower* find(Component c) const;
};

// Which process tree the attributed scope covers.
struct AttributionTarget {
  // Root of the tree; 0 = none.
  int pid = 0;
  // Also count this process's own children that exited and were waited for
  // (getrusage(RUSAGE_CHILDREN)): a command started by this process keeps its
  // CPU time after it is reaped and its /proc entry is gone.
  bool include_reaped_children = false;

  bool enabled() const { return pid > 0 || include_reaped_children; }
};

struct MeterOptions {
  // Sampling interval; shortened automatically to the smallest
  // SensorInfo::max_read_interval_s of the sensors in use (see Meter::notes()).
  double interval_s = 0.1;
  // Where /proc is (attribution); tests point it at a fake tree.
  std::string procfs_root = "/proc";
  AttributionTarget attribution;
  // Components the caller asked for by name (measure --gpu): one that no
  // usable sensor covers gets a warning in every window, with the reasons its
  // sensors gave, rather than a row that is silently missing.
  std::vector<Component> required_components;
};

// Which sensors one component's figure comes from, in order of preference.
// The first candidate whose reads succeed in a window is used; the others
// are fallbacks (reported with a warning when used).
struct ComponentChoice {
  Component component = Component::other;
  // For cpu-side components one backend covers every package; for gpu and
  // other one entry per device. Each candidate: indices into Meter::sensors().
  struct Candidate {
    std::string backend;
    std::string device;  // empty for a whole-machine candidate
    Provenance provenance;
    std::vector<std::size_t> sensors;
  };
  // One group per device (gpu, other) or a single group (cpu-side); each group's
  // candidates best first.
  std::vector<std::vector<Candidate>> groups;
};

// Chooses sources per component from `sensors` (only available ones count):
// measured > sampled > estimated, ties broken by discovery order.
std::vector<ComponentChoice> choose_sensors(const SensorList& sensors);

// Thread-safe: windows may be begun and ended from any thread.
class Meter {
 public:
  explicit Meter(SensorList sensors, MeterOptions options = {});
  ~Meter();
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;

  // Starts / stops the sampler thread (idempotent). Without it, windows still
  // work: begin and end take a sample each (exact for energy counters; power
  // sensors then get a single trapezoid).
  void start();
  void stop();
  bool running() const;

  // The interval in effect, after shortening for counter wrap.
  double interval_s() const;
  // The shortest window the chosen sensors measure to about 1 %, and why:
  // a hardware counter 100 of its update periods (RAPL: 0.1 s), a power
  // reading 10 samples, a model its own pace (the CPU estimate: 1 s).
  // Shorter windows are coarse; bench marks them and suggests N.
  struct Resolution {
    double seconds = 0.0;
    std::string why;  // "estimate:cpu is read once a second"
  };
  Resolution resolution() const;
  // Choices the meter made that a reader should know (interval shortened,
  // which backend serves each component).
  std::vector<std::string> notes() const;
  const SensorList& sensors() const;
  const std::vector<ComponentChoice>& choices() const;

  // Throws InputError if a window of that name is already open.
  void begin_window(const std::string& name);
  // Takes a final sample and returns the window's energy. Throws InputError
  // if no window of that name is open.
  Measurement end_window(const std::string& name);
  // Ends the window and begins it again at the same reading: consecutive laps
  // add up to the whole span, nothing falls between them (the exporter's
  // ticks). A counter that did not advance within a lap counts 0 J there and
  // its energy in the lap where it advances: no extrapolation, so the sum of
  // the laps equals one window over them. Throws as end_window.
  Measurement lap_window(const std::string& name);
  bool window_open(const std::string& name) const;

  // Reads every sensor now (through the sampler thread when it runs).
  void sample_now();

  // Each sensor's running total since the meter was made (indexed like
  // sensors()), for agents that serve per-sensor counters. Energy never
  // decreases: a counter that restarts is re-based, never subtracted.
  struct SensorTotal {
    double energy_j = 0.0;
    bool has_sample = false;
    bool last_read_ok = false;    // the latest read succeeded
    double last_time_s = 0.0;     // of the latest good reading
    std::uint64_t failures = 0;   // reads not counted (failed, went backwards)
  };
  std::vector<SensorTotal> sensor_totals() const;

  // Measures idle power for `seconds` (the caller should keep the machine
  // quiet), stores it as the baseline for dynamic energy, and returns it.
  IdleBaseline measure_idle(double seconds);
  void set_idle_baseline(std::optional<IdleBaseline> baseline);
  std::optional<IdleBaseline> idle_baseline() const;

  // Sets the process tree that windows attribute to. A window reads the
  // tree's CPU time with the target in effect at its begin and at its end; a
  // tree that did not exist at begin counts from 0, which is right for a
  // command started just after begin_window (as `joulebench measure` does),
  // and wrong for a process that already ran before (set the target first).
  void set_attribution(AttributionTarget target);
  AttributionTarget attribution() const;

  // For benchmarks: samples taken and CPU time the sampler thread used.
  std::uint64_t samples_taken() const;
  double sampler_cpu_s() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench
