#include "sensor_options.h"

#include <CLI/CLI.hpp>

namespace joulebench::cli {

void add_sensor_options(CLI::App& app, SensorOptions& options) {
  const std::string group = "Sensor sources (containers, tests)";
  app.add_option("--sysfs-root", options.paths.sysfs_root, "where sysfs is (powercap, hwmon, perf events)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--procfs-root", options.paths.procfs_root, "where procfs is (CPU times, memory, attribution)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--dev-root", options.paths.dev_root, "where /dev is (cpu/N/msr)")->group(group)->capture_default_str();
  app.add_option("--nvml-library", options.paths.nvml_library, "NVML shared library to dlopen")
      ->group(group)
      ->capture_default_str();
  app.add_option("--disable-sensor", options.disabled_backends,
                 "skip a backend: rapl-powercap, rapl-perf, rapl-msr, nvml, hwmon, estimate (repeatable)")
      ->group(group)
      ->type_name("BACKEND")
      ->allow_extra_args(false);  // one value per flag, so `--` after it still starts the command
  app.add_option("--gpu", options.gpus, "use only this GPU, by index or UUID (repeatable; default: all visible)")
      ->group(group)
      ->type_name("ID")
      ->allow_extra_args(false);
}

}  // namespace joulebench::cli
