#include "sensor_track.h"

#include <fmt/core.h>

#include <cmath>

namespace joulebench::meter {

void SensorTrack::fail(std::string why) {
  ++failures_;
  last_error_ = std::move(why);
}

void SensorTrack::apply(const SensorReading& reading) {
  ++reads_;
  last_read_ok_ = reading.ok;
  if (!reading.ok) {
    fail(reading.error.empty() ? std::string("read failed without a reason") : reading.error);
    return;
  }
  const Sample& s = reading.sample;
  if (!std::isfinite(s.value) || !std::isfinite(s.time_s)) {
    last_read_ok_ = false;  // garbage is no reading
    fail(fmt::format("non-finite reading ({} at t={})", s.value, s.time_s));
    return;
  }
  if (kind_ == SensorKind::power && s.value < 0.0) {
    last_read_ok_ = false;
    fail(fmt::format("negative power reading ({} W)", s.value));
    return;
  }
  if (!has_sample_) {
    has_sample_ = true;
    last_ = s;
    last_change_time_s_ = s.time_s;
    last_change_value_ = s.value;
    return;
  }
  if (s.time_s < last_.time_s) {
    fail(fmt::format("reading time went backwards ({} s after {} s)", s.time_s, last_.time_s));
    return;
  }

  if (kind_ == SensorKind::energy_counter) {
    const double delta = s.value - last_.value;
    if (delta < 0.0) {
      // The sensor undoes wraps; a decrease here is a reset or garbage. Count
      // nothing for this step and continue from the new value.
      fail(fmt::format("energy counter went backwards ({} J after {} J); step not counted", s.value,
                       last_.value));
      last_ = s;
      last_change_time_s_ = s.time_s;
      last_change_value_ = s.value;
      unchanged_since_change_ = false;
      return;
    }
    energy_j_ += delta;
    if (delta > 0.0) {
      const double dt = s.time_s - last_change_time_s_;
      if (dt > 0.0) recent_power_w_ = (s.value - last_change_value_) / dt;
      slow_update_period_s_ = unchanged_since_change_ ? dt : 0.0;
      unchanged_since_change_ = false;
      last_change_time_s_ = s.time_s;
      last_change_value_ = s.value;
    } else {
      unchanged_since_change_ = true;
    }
  } else {
    energy_j_ += 0.5 * (last_.value + s.value) * (s.time_s - last_.time_s);
  }
  last_ = s;
}

}  // namespace joulebench::meter
