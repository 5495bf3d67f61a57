// joulebench measure [options] -- CMD ARGS: runs CMD (no shell), prints its
// energy to stderr like `perf stat`, and returns its exit code. Contracts of
// --json and --csv: docs/cli.md.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "carbon_options.h"
#include "commands.h"
#include "joulebench/carbon.h"
#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "joulebench/meter_output.h"
#include "joulebench/store.h"
#include "joulebench/tracker.h"
#include "sensor_options.h"

namespace joulebench::cli {
namespace {

constexpr int kCannotStart = 127;

struct Args {
  double interval_ms = 100.0;
  double idle_baseline_s = 0.0;
  std::string json_file;
  std::string csv_file;
  bool quiet = false;
  std::vector<std::string> command;
  SensorOptions sensors;
  CarbonRequest carbon;
};

// Fails before the command runs if an output file cannot be written.
void check_writable(const std::string& file, const char* option) {
  if (file.empty()) return;
  std::ofstream probe(file, std::ios::app);
  if (!probe) throw InputError(fmt::format("{} {}: cannot open for writing: {}", option, file, std::strerror(errno)));
}

// Write to a temporary beside the target, then rename: no half-written file.
void write_atomically(const std::string& file, const std::string& text) {
  const std::string tmp = file + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw Error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw Error(fmt::format("cannot rename {} to {}: {}", tmp, file, ec.message()));
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a.find_first_of(" \t'\"") == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

int run(const Args& args) {
  check_writable(args.json_file, "--json");
  check_writable(args.csv_file, "--csv");
  // Carbon settings (flags > environment > config > time zone, docs/carbon.md)
  // are resolved before the run so that a bad value stops us early.
  const CarbonSettings carbon_settings = resolve_carbon_settings(args.carbon);

  TrackerOptions options;
  options.interval_s = args.interval_ms / 1000.0;
  options.sensors = args.sensors;
  // No liveness probe at start (it waits 5 ms on RAPL hosts): every window
  // checks its counters instead, and a stuck one falls back to the next source.
  options.sensors.liveness_probe_s = 0.0;
  if (args.idle_baseline_s > 0.0 && !args.quiet)
    fmt::print(stderr, "joulebench: measuring the idle baseline for {:g} s; keep the machine quiet\n",
               args.idle_baseline_s);
  options.idle_baseline_s = args.idle_baseline_s;
  Tracker tracker(options);

  CommandResult result;
  try {
    result = run_command(tracker, args.command);
  } catch (const CommandStartError& e) {
    fmt::print(stderr, "joulebench: error: {}\n", e.what());
    return kCannotStart;
  }
  const Measurement& m = result.measurement;
  // No additive component measured (every sensor failed or was disabled):
  // no carbon figure and no CSV row rather than a fake 0.
  const bool measured = std::any_of(m.components.begin(), m.components.end(),
                                    [](const ComponentEnergy& c) { return is_additive(c.component); });
  const std::optional<CarbonResult> carbon =
      measured ? std::optional(compute_carbon_j(m.total_energy_j(), carbon_settings)) : std::nullopt;
  const bool attributed = std::any_of(m.components.begin(), m.components.end(),
                                      [](const ComponentEnergy& c) { return c.attributed_energy_j.has_value(); });
  const std::optional<CarbonResult> attributed_carbon =
      attributed ? std::optional(compute_carbon_j(m.total_attributed_energy_j(), carbon_settings)) : std::nullopt;

  if (!args.quiet) {
    std::string text = fmt::format("\n Energy of: {}\n\n", command_line(args.command));
    text += fmt::format("  duration   {:.3f} s, exit code {}{}\n\n", m.duration_s, result.exit_code,
                        result.term_signal ? fmt::format(" (killed by signal {})", result.term_signal) : "");
    text += format_measurement_table(m);
    if (carbon) {
      text += fmt::format("\n  carbon     {:.4g} gCO2e machine", carbon->g_co2e);
      if (attributed_carbon) text += fmt::format(", {:.4g} gCO2e attributed", attributed_carbon->g_co2e);
      text += fmt::format(" ({:.0f} g/kWh, {}; PUE {:g})\n", carbon->intensity.g_per_kwh,
                          carbon->intensity.source, carbon->pue);
      for (const auto& w : carbon->warnings) text += fmt::format("  warning: {}\n", w);
    } else {
      text += "\n  carbon     none: no energy was measured\n";
    }
    for (const auto& n : tracker.notes()) text += fmt::format("  note: {}\n", n);
    fmt::print(stderr, "{}\n", text);
  }

  int failure = 0;
  auto report = [&](const std::string& what, const std::exception& e) {
    fmt::print(stderr, "joulebench: error: {}: {}\n", what, e.what());
    failure = 1;
  };
  if (!args.json_file.empty()) {
    try {
      nlohmann::json j = measurement_json(m);
      j["schema_version"] = kMeasureJsonSchemaVersion;
      j["command"] = args.command;
      j["exit_code"] = result.exit_code;
      j["signal"] = result.term_signal ? nlohmann::json(result.term_signal) : nlohmann::json(nullptr);
      j["interval_s"] = tracker.interval_s();
      j["notes"] = tracker.notes();
      const auto idle = tracker.idle_baseline();
      j["idle_baseline"] = idle ? idle_baseline_json(*idle) : nlohmann::json(nullptr);
      j["carbon"] = carbon ? carbon_result_json(*carbon) : nlohmann::json(nullptr);
      j["attributed_g_co2e"] = attributed_carbon ? nlohmann::json(attributed_carbon->g_co2e) : nlohmann::json(nullptr);
      write_atomically(args.json_file, j.dump(2) + "\n");
    } catch (const std::exception& e) {
      report("--json " + args.json_file, e);
    }
  }
  if (!args.csv_file.empty()) {
    try {
      if (!carbon) throw Error("no energy was measured (see the warnings); no row written");
      CodeCarbonRunInfo info;
      info.machine = detect_machine(args.sensors.paths.procfs_root);
      append_codecarbon_csv(args.csv_file, make_codecarbon_record(m, *carbon, info));
    } catch (const std::exception& e) {
      report("--csv " + args.csv_file, e);
    }
  }
  // The command's own status wins; a lost output file turns success into 1.
  return result.exit_code != 0 ? result.exit_code : failure;
}

// CLI11's own range checks print the whole range of double; say it plainly.
CLI::Validator number_check(bool zero_ok, const std::string& what) {
  return CLI::Validator(
      [zero_ok, what](std::string& text) -> std::string {
        try {
          std::size_t used = 0;
          const double v = std::stod(text, &used);
          if (used == text.size() && std::isfinite(v) && (v > 0.0 || (zero_ok && v == 0.0))) return {};
        } catch (const std::exception&) {
        }
        return "'" + text + "' is not " + what;
      },
      "");
}

}  // namespace

void register_measure_command(CommandRegistry& registry) {
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "measure", "run a command and report its energy and carbon on stderr (like perf stat); returns its exit code");
  sub->add_option("--interval", args->interval_ms, "sampling interval in milliseconds")
      ->check(number_check(false, "a number of milliseconds above 0"))
      ->type_name("MS")
      ->capture_default_str();
  sub->add_option("--idle-baseline", args->idle_baseline_s,
                  "measure idle power for SECONDS before the run and report dynamic energy above it")
      ->check(number_check(true, "a number of seconds, 0 or more"))
      ->type_name("SECONDS");
  sub->add_option("--json", args->json_file, "write the result as JSON to FILE (docs/cli.md)")->type_name("FILE");
  sub->add_option("--csv", args->csv_file, "append a CodeCarbon-compatible emissions.csv row to FILE")
      ->type_name("FILE");
  sub->add_flag("--quiet,-q", args->quiet, "print nothing (use with --json or --csv)");
  add_sensor_options(*sub, args->sensors);
  add_carbon_options(*sub, args->carbon);
  // Repeatable options take one value per flag, so that `--` after one still
  // starts the command (CLI11 would otherwise let the vector eat it).
  for (CLI::Option* opt : sub->get_options())
    if (opt->get_items_expected_max() > 1) opt->allow_extra_args(false);
  sub->add_option("command", args->command, "the command and its arguments, after --")->required();
  registry.add(sub, [args] { return run(*args); });
}

}  // namespace joulebench::cli
