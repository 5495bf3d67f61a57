// Internal: turning one window's begin and end views of every sensor into a
// Measurement (choice of source per component, short-window and failure
// warnings, attribution and idle scopes). No threads, no clocks: the meter
// hands it the views (Meter::end_window, Meter::lap_window).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "joulebench/meter.h"
#include "joulebench/readable.h"
#include "sensor_track.h"

namespace joulebench::meter {

struct SensorWindowView {
  const SensorInfo* info = nullptr;
  SensorKind kind = SensorKind::energy_counter;
  TrackSnapshot begin, end;
  double recent_power_w = -1.0;
  double slow_update_period_s = 0.0;
  std::string last_error;
  bool edges_only = false;  // a fallback read only at window begin and end
};

struct WindowInput {
  std::string name;
  std::chrono::system_clock::time_point start_time{};
  double duration_s = 0.0;
  const std::vector<ComponentChoice>* choices = nullptr;
  std::vector<SensorWindowView> sensors;  // indexed like Meter::sensors()
  std::optional<double> cpu_share;        // tree's share of machine CPU time
  bool attribution_enabled = false;
  const IdleBaseline* idle = nullptr;
  Meter::Resolution resolution;  // a shorter window is marked coarse
  bool lap = false;              // Meter::lap_window: the next lap continues at its end
};

// The warning of an additive component that is estimated (one per component
// in Measurement::warnings; the human table folds them into one line).
std::string estimated_warning(std::string_view component, const Provenance& provenance);

// `warnings` comes first in the result (e.g. attribution warnings).
Measurement compose_measurement(const WindowInput& input, std::vector<std::string> warnings);

}  // namespace joulebench::meter
