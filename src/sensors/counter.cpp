#include "sensors/counter.h"

#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace joulebench::sensors {

SensorInfo rapl_sensor_info(const std::string& backend, const std::string& device, const std::string& domain,
                            Component component) {
  SensorInfo info;
  info.backend = backend;
  info.provenance = {ProvenanceKind::measured, backend};
  info.component = component;
  info.update_period_s = kRaplUpdatePeriodS;
  info.device = device;
  info.name = backend + ":" + device + (domain.empty() ? "" : "/" + domain);
  return info;
}

double steady_now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

EnergyCounter::EnergyCounter(double joules_per_unit, std::uint64_t wrap_units, double max_power_w)
    : joules_per_unit_(joules_per_unit), wrap_units_(wrap_units), max_power_w_(max_power_w) {}

double EnergyCounter::max_read_interval_s() const {
  if (wrap_units_ == 0 || max_power_w_ <= 0) return 0.0;
  return static_cast<double>(wrap_units_) * joules_per_unit_ / max_power_w_;
}

std::string EnergyCounter::update(const std::string& name, std::uint64_t raw, double time_s,
                                  double& cumulative_j) {
  if (wrap_units_ != 0 && raw >= wrap_units_) {
    have_last_ = false;  // re-base on the next good value
    return fmt::format("{}: raw value {} is outside the counter's range [0, {})", name, raw, wrap_units_);
  }
  if (!have_last_) {
    have_last_ = true;
    last_raw_ = raw;
    last_time_s_ = time_s;
    cumulative_j = cumulative_j_;
    return {};
  }
  const double elapsed_s = std::max(0.0, time_s - last_time_s_);
  double delta_j = 0.0;
  if (raw >= last_raw_) {
    delta_j = static_cast<double>(raw - last_raw_) * joules_per_unit_;
  } else {
    const std::uint64_t back = last_raw_ - raw;
    if (wrap_units_ == 0) {  // 64-bit counters never wrap in practice
      const std::uint64_t was = last_raw_;
      last_raw_ = raw;
      last_time_s_ = time_s;
      return fmt::format("{}: counter went backwards from {} to {} (reset?); interval not counted", name, was,
                         raw);
    }
    const double wrapped_j = static_cast<double>(wrap_units_ - last_raw_ + raw) * joules_per_unit_;
    const double plausible_j = 2.0 * max_power_w_ * (elapsed_s + 0.1);
    if (wrapped_j > plausible_j) {
      const std::uint64_t was = last_raw_;
      last_raw_ = raw;
      last_time_s_ = time_s;
      return fmt::format(
          "{}: counter went backwards from {} to {} ({:.6g} J back) after {:.3g} s; a wrap would mean "
          "{:.6g} J, more than {:.0f} W could use: treated as a counter reset, interval not counted",
          name, was, raw, static_cast<double>(back) * joules_per_unit_, elapsed_s, wrapped_j, 2.0 * max_power_w_);
    }
    delta_j = wrapped_j;
  }
  cumulative_j_ += delta_j;
  last_raw_ = raw;
  last_time_s_ = time_s;
  cumulative_j = cumulative_j_;
  return {};
}

CounterSensor::CounterSensor(SensorInfo info, std::vector<Part> parts)
    : info_(std::move(info)), parts_(std::move(parts)), part_j_(parts_.size(), 0.0) {
  for (const auto& part : parts_)
    labels_.push_back(part.source.empty() ? info_.name : info_.name + " (" + part.source + ")");
}

std::unique_ptr<Sensor> CounterSensor::make(SensorInfo info, std::vector<Part> parts) {
  if (parts.empty()) return std::make_unique<UnavailableSensor>(std::move(info), "no counter to read");
  double bound = 0.0;
  for (const auto& part : parts) {
    const double b = part.counter.max_read_interval_s();
    if (b > 0 && (bound == 0.0 || b < bound)) bound = b;
  }
  info.max_read_interval_s = bound;
  std::unique_ptr<CounterSensor> sensor(new CounterSensor(std::move(info), std::move(parts)));
  // The baseline read doubles as the availability probe.
  const SensorReading first = sensor->read();
  if (!first.ok) return std::make_unique<UnavailableSensor>(sensor->info(), first.error);
  return sensor;
}

SensorReading CounterSensor::read() {
  const double now = steady_now_s();
  double total_j = 0.0;
  std::string error;
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    std::uint64_t raw = 0;
    std::string part_error = parts_[i].reader(raw);
    if (part_error.empty()) part_error = parts_[i].counter.update(labels_[i], raw, now, part_j_[i]);
    // Keep reading the other parts so each one's baseline stays current.
    if (!part_error.empty() && error.empty()) error = std::move(part_error);
    total_j += part_j_[i];
  }
  if (!error.empty()) return SensorReading::failure(std::move(error));
  return SensorReading::success({now, total_j});
}

SensorReading PowerSensor::read() {
  double power_w = 0.0;
  if (auto error = reader_(power_w); !error.empty()) return SensorReading::failure(std::move(error));
  if (!std::isfinite(power_w) || power_w < 0 || power_w > kMaxPlausiblePowerW)
    return SensorReading::failure(fmt::format("{}: implausible power {} W", info_.name, power_w));
  return SensorReading::success({steady_now_s(), power_w});
}

}  // namespace joulebench::sensors
