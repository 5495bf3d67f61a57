// Internal: what the meter keeps per sensor between reads. Turning readings
// into cumulative energy is here, apart from threads and windows, so tests
// can drive it with scripted readings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "joulebench/sensor.h"

namespace joulebench::meter {

// A window's view of one sensor at its begin or end.
struct TrackSnapshot {
  double energy_j = 0.0;
  bool has_sample = false;
  std::uint64_t good_reads = 0;
  std::uint64_t failures = 0;
  // GPU-by-process attribution: checks of the device's process list, and how
  // many saw a process of the attributed tree / some other process.
  std::uint64_t process_checks = 0;
  std::uint64_t tree_seen = 0;
  std::uint64_t others_seen = 0;
};

class SensorTrack {
 public:
  explicit SensorTrack(SensorKind kind) : kind_(kind) {}

  // Folds one reading into the running energy. Energy counters: the delta
  // since the last good read (the sensor already undid wraps). Power: the
  // trapezoid between the last good read and this one. A failed read, a
  // counter going backwards, a negative power or a clock going backwards is
  // counted as a failure and never adds energy.
  void apply(const SensorReading& reading);

  // One look at the device's process list (GPU attribution).
  void record_process_check(bool tree_seen, bool others_seen) {
    ++process_checks_;
    tree_seen_ += tree_seen ? 1 : 0;
    others_seen_ += others_seen ? 1 : 0;
  }

  TrackSnapshot snapshot() const {
    return {energy_j_, has_sample_, reads_ - failures_, failures_, process_checks_, tree_seen_, others_seen_};
  }

  SensorKind kind() const { return kind_; }
  double energy_j() const { return energy_j_; }
  bool has_sample() const { return has_sample_; }
  bool last_read_ok() const { return last_read_ok_; }
  const Sample& last_sample() const { return last_; }
  std::uint64_t reads() const { return reads_; }
  std::uint64_t failures() const { return failures_; }
  const std::string& last_error() const { return last_error_; }
  // Counters only: power between the last two changes of the value; < 0
  // when unknown.
  double recent_power_w() const { return recent_power_w_; }
  // Counters only: time between the last two changes of the value when at
  // least one read in between saw no change (the counter updates more
  // slowly than we sample); 0 when every read saw a change.
  double slow_update_period_s() const { return slow_update_period_s_; }

 private:
  void fail(std::string why);

  SensorKind kind_;
  bool has_sample_ = false;
  bool last_read_ok_ = false;
  Sample last_{};
  double energy_j_ = 0.0;
  std::uint64_t reads_ = 0;
  std::uint64_t failures_ = 0;
  std::string last_error_;
  double last_change_time_s_ = 0.0;
  double last_change_value_ = 0.0;
  bool unchanged_since_change_ = false;
  double recent_power_w_ = -1.0;
  double slow_update_period_s_ = 0.0;
  std::uint64_t process_checks_ = 0;
  std::uint64_t tree_seen_ = 0;
  std::uint64_t others_seen_ = 0;
};

}  // namespace joulebench::meter
