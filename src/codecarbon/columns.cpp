// CodeCarbon's emissions.csv column sets, by version (docs/codecarbon.md).
#include "columns.h"

#include <algorithm>

#include "joulebench/codecarbon.h"

namespace joulebench {

const std::vector<std::string>& codecarbon_columns() {
  // CodeCarbon 3.x EmissionsData field order.
  static const std::vector<std::string> cols{
      "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate",
      "cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed",
      "water_consumed", "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os",
      "python_version", "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude",
      "latitude", "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
      "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue"};
  return cols;
}

const std::vector<std::string>& codecarbon_required_columns() {
  // Present in every CodeCarbon version since 2.0; enough to import a row.
  static const std::vector<std::string> cols{"timestamp", "project_name", "run_id",       "duration",
                                             "emissions", "cpu_energy",   "gpu_energy",   "ram_energy",
                                             "energy_consumed"};
  return cols;
}

namespace detail {

std::string describe_column_set(const std::vector<std::string>& header) {
  auto has = [&](const char* c) { return std::find(header.begin(), header.end(), c) != header.end(); };
  std::string what;
  if (has("water_consumed") || has("wue") || has("cpu_utilization_percent"))
    what = "3.x";
  else if (has("experiment_id"))
    what = "2.x (with experiment_id, 2.4 and later)";
  else if (has("codecarbon_version"))
    what = "2.x (2.3, without experiment_id)";
  else
    what = "2.x (before 2.3)";
  if (has("task_name")) what += ", task file (task_name)";
  if (!has("pue")) what += ", no pue column";
  return what + fmt::format(", {} columns", header.size());
}

}  // namespace detail
}  // namespace joulebench
