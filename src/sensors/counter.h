// Internal: turning raw hardware energy counters into cumulative joules, and
// the two generic Sensor implementations most backends share.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "joulebench/sensor.h"

namespace joulebench::sensors {

// Seconds on the steady clock (the time base of every Sample).
double steady_now_s();

// Peak power assumed for one RAPL domain (package, dram, ...) when the
// hardware does not say: 500 W is above the TDP of every x86 server CPU sold
// up to 2024 (AMD EPYC 9965: 500 W, Intel Xeon 6980P: 500 W). It bounds how
// long a counter can go unread (at most one wrap) and which backward steps
// can be a wrap at all.
inline constexpr double kAssumedRaplPeakPowerW = 500.0;

// RAPL energy status registers are updated about every millisecond (Intel
// SDM vol. 3B 15.10.3: "approximately 1 millisecond"; AMD the same): the
// liveness probe and the window check use it.
inline constexpr double kRaplUpdatePeriodS = 0.001;

// A RAPL domain read by `backend` (rapl-perf, rapl-msr): measured, updated
// every kRaplUpdatePeriodS, named "backend:device" or "backend:device/domain".
SensorInfo rapl_sensor_info(const std::string& backend, const std::string& device, const std::string& domain,
                            Component component);

// Accumulates a raw counter that wraps from `wrap_units - 1` back to 0.
//  - forward steps add energy;
//  - a backward step is a wrap only if the wrapped distance is plausible
//    (at most twice max_power_w over the time since the last read, plus 0.1 s
//    of slack); otherwise it is an error (counter reset, garbage), the
//    counter re-bases on the new value and no energy is invented;
//  - without a wrap (wrap_units == 0) every backward step is an error.
class EnergyCounter {
 public:
  EnergyCounter(double joules_per_unit, std::uint64_t wrap_units, double max_power_w);

  // First call sets the baseline (cumulative 0). Returns "" and sets
  // `cumulative_j`, or an error message (with `name` in it).
  std::string update(const std::string& name, std::uint64_t raw, double time_s, double& cumulative_j);

  // Seconds between reads within which at most one wrap can happen at
  // max_power_w; 0 when the counter does not wrap.
  double max_read_interval_s() const;
  double joules_per_unit() const { return joules_per_unit_; }

 private:
  double joules_per_unit_;
  std::uint64_t wrap_units_;
  double max_power_w_;
  bool have_last_ = false;
  std::uint64_t last_raw_ = 0;
  double last_time_s_ = 0.0;
  double cumulative_j_ = 0.0;
};

// Reads one raw value: returns "" and sets `raw`, or an error message.
using RawReader = std::function<std::string(std::uint64_t& raw)>;
// Reads instantaneous power: returns "" and sets `power_w`, or an error message.
using PowerReader = std::function<std::string(double& power_w)>;

// An energy_counter sensor over one or more raw counters (e.g. the per-core
// counters of an AMD package), each with its own wrap handling, summed.
class CounterSensor : public Sensor {
 public:
  struct Part {
    RawReader reader;
    EnergyCounter counter;
    std::string source;  // the file / register / call, named in error messages
  };
  // Reads every part once as the baseline. If one fails, returns an
  // UnavailableSensor with that error. Sets info.max_read_interval_s to the
  // shortest of the parts' bounds.
  static std::unique_ptr<Sensor> make(SensorInfo info, std::vector<Part> parts);

  const SensorInfo& info() const override { return info_; }
  SensorStatus status() const override { return {true, {}}; }
  SensorReading read() override;

 private:
  CounterSensor(SensorInfo info, std::vector<Part> parts);
  SensorInfo info_;
  std::vector<Part> parts_;
  std::vector<std::string> labels_;  // "<sensor> (<source>)", built once
  std::vector<double> part_j_;
};

// No single component of one machine draws this much: a reading above it is
// garbage (a unit mix-up, a corrupt attribute), reported as an error.
inline constexpr double kMaxPlausiblePowerW = 100'000.0;

// A power sensor: read() gives watts; the meter integrates.
class PowerSensor : public Sensor {
 public:
  PowerSensor(SensorInfo info, PowerReader reader) : info_(std::move(info)), reader_(std::move(reader)) {}
  const SensorInfo& info() const override { return info_; }
  SensorStatus status() const override { return {true, {}}; }
  SensorReading read() override;

 private:
  SensorInfo info_;
  PowerReader reader_;
};

}  // namespace joulebench::sensors
