#include "joulebench/tracker.h"

namespace joulebench {
namespace {

MeterOptions meter_options(const TrackerOptions& o) {
  MeterOptions m;
  m.interval_s = o.interval_s;
  m.procfs_root = o.sensors.paths.procfs_root;
  if (o.pid) m.attribution.pid = *o.pid;
  if (!o.sensors.gpus.empty()) m.required_components.push_back(Component::gpu);
  return m;
}

}  // namespace

Tracker::Tracker(SensorList sensors, TrackerOptions options)
    : options_(std::move(options)), meter_(std::move(sensors), meter_options(options_)) {
  if (options_.idle_baseline_s < 0.0)
    throw InputError("idle baseline duration must not be negative (got " + std::to_string(options_.idle_baseline_s) +
                     " s)");
  if (options_.pid && *options_.pid <= 0)
    throw InputError("process id to attribute to must be positive (got " + std::to_string(*options_.pid) + ")");
  meter_.start();
  if (options_.idle_baseline_s > 0.0) meter_.measure_idle(options_.idle_baseline_s);
}

void Tracker::begin_window(const std::string& name) { meter_.begin_window(name); }
Measurement Tracker::end_window(const std::string& name) { return meter_.end_window(name); }
IdleBaseline Tracker::measure_idle(double seconds) { return meter_.measure_idle(seconds); }
std::optional<IdleBaseline> Tracker::idle_baseline() const { return meter_.idle_baseline(); }

void Tracker::attribute_to(std::optional<int> pid) {
  if (pid && *pid <= 0)
    throw InputError("process id to attribute to must be positive (got " + std::to_string(*pid) + ")");
  AttributionTarget target;
  target.pid = pid.value_or(0);
  meter_.set_attribution(target);
}

const SensorList& Tracker::sensors() const { return meter_.sensors(); }
double Tracker::interval_s() const { return meter_.interval_s(); }
std::vector<std::string> Tracker::notes() const { return meter_.notes(); }

}  // namespace joulebench
