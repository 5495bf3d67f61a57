// The discovering constructor lives apart so that a program that gives its own
// sensors (tests, embedders) links without the sensor backends.
#include "joulebench/tracker.h"

namespace joulebench {

Tracker::Tracker(TrackerOptions options) : Tracker(discover_sensors(options.sensors), options) {}

}  // namespace joulebench
