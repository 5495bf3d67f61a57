// What the meter says to people (tables) and programs (JSON). The JSON field
// lists are contracts: docs/cli.md. Numbers are joules and seconds; kWh is
// added beside joules for readers.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "joulebench/carbon.h"
#include "joulebench/energy.h"
#include "joulebench/meter.h"
#include "joulebench/tracker.h"

namespace joulebench {

// Version of the `measure --json` object (docs/cli.md). Bump on any change
// that is not a pure addition.
inline constexpr int kMeasureJsonSchemaVersion = 1;

// One object per sensor of meter.sensors(), usable or not: name, backend,
// component, device, description, kind, provenance, available, reason,
// max_read_interval_s (null when the counter cannot wrap), role ("used",
// "fallback", "unavailable").
nlohmann::json sensors_json(const Meter& meter);

// Human table of the same, then the meter's choices (interval, source per
// component).
std::string format_sensors_table(const Meter& meter);

// Per component: component, additive, energy_j, energy_kwh,
// attributed_energy_j, dynamic_energy_j (null when unknown), provenance,
// sources; then totals, duration_s, start_time (UTC), warnings.
nlohmann::json measurement_json(const Measurement& m);
nlohmann::json idle_baseline_json(const IdleBaseline& b);

// The `measure --json` object of one window (docs/cli.md) without the
// command's fields: measurement_json plus schema_version, interval_s, notes,
// idle_baseline, carbon (machine scope; null when no additive component was
// measured, never a fake 0), attributed_g_co2e, g_co2e_low and g_co2e_high.
// `measure` adds command, exit_code and signal; the Python Tracker's result
// is this object.
nlohmann::json window_result_json(const Measurement& m, const Tracker& tracker, const CarbonSettings& settings);

// perf-stat-like block: one row per component (machine, attributed, dynamic,
// kWh, provenance), the additive total, then warnings.
std::string format_measurement_table(const Measurement& m);

}  // namespace joulebench
