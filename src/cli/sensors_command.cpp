// joulebench sensors [--json]: what this machine can measure, how, and why not.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "joulebench/meter.h"
#include "joulebench/meter_output.h"
#include "json_text.h"
#include "sensor_options.h"

namespace joulebench::cli {

void register_sensors_command(CommandRegistry& registry) {
  struct Args {
    bool json = false;
    SensorOptions sensors;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "sensors", "list every energy source looked for: usable or not and why, what it covers, its provenance");
  if (!registry.wanted(sub)) return;
  sub->add_flag("--json", args->json, "JSON array on stdout (contract: docs/cli.md)");
  add_sensor_options(*sub, args->sensors);
  registry.add(sub, [args] {
    // A meter that is never started: it makes the same choices `measure` would.
    const Meter meter(discover_sensors(args->sensors));
    if (args->json) {
      fmt::print("{}", json_text(sensors_json(meter)));
    } else {
      fmt::print("{}", format_sensors_table(meter));
    }
    return 0;
  });
}

}  // namespace joulebench::cli
