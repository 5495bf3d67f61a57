// The options that say where sensors are looked for, shared by every command
// that reads sensors (sensors, measure, ...): one place, one spelling.
#pragma once

#include "joulebench/sensor.h"

namespace CLI {
class App;
}

namespace joulebench::cli {

// Adds --sysfs-root, --procfs-root, --dev-root, --nvml-library,
// --disable-sensor BACKEND (repeatable) and --gpu ID (repeatable) to `app`,
// writing into `options` (which must outlive parsing).
void add_sensor_options(CLI::App& app, SensorOptions& options);

}  // namespace joulebench::cli
