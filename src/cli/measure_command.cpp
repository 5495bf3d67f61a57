// joulebench measure [options] -- CMD ARGS: runs CMD (no shell), prints its
// energy to stderr like `perf stat`, and returns its exit code. Contracts of
// --json and --csv: docs/cli.md.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
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
#include "core/output_file.h"
#include "joulebench/carbon.h"
#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "joulebench/meter_output.h"
#include "joulebench/models.h"
#include "joulebench/readable.h"
#include "joulebench/store.h"
#include "joulebench/tracker.h"
#include "joulebench/version.h"
#include "json_text.h"
#include "option_checks.h"
#include "sensor_options.h"

namespace joulebench::cli {
namespace {

struct Args {
  double interval_ms = 100.0;
  double idle_baseline_s = 0.0;
  std::string json_file;
  std::string csv_file;
  bool quiet = false;
  std::vector<std::string> command;
  SensorOptions sensors;
  CarbonRequest carbon;
  // --store [DB]: the run goes to the results store (docs/store.md), with
  // what it was: project, tags, and for an inference job task, model and N.
  std::optional<std::string> store;
  std::string project;  // --project, else [run] project of joulebench.toml, else "measure"
  std::vector<std::string> tags;  // KEY=VALUE
  std::string task, model;
  std::optional<std::int64_t> inferences;
};

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a.find_first_of(" \t'\"") == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

// KEY=VALUE tags as a JSON object; a tag without '=' or with an empty key is bad input.
nlohmann::json tags_json(const std::vector<std::string>& tags) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& t : tags) {
    const auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("--tag {}: expected KEY=VALUE, e.g. --tag batch=8", t));
    out[t.substr(0, eq)] = t.substr(eq + 1);
  }
  return out;
}

// Output files and the store's options are checked before the command runs;
// nothing is created yet.
void check_before_running(const Args& args) {
  if (!args.json_file.empty()) check_output_file(args.json_file, "--json");
  if (!args.csv_file.empty()) {
    check_output_file(args.csv_file, "--csv");
    check_codecarbon_csv_appendable(args.csv_file);
  }
  if (!args.store) {
    if (!args.tags.empty() || !args.task.empty() || !args.model.empty() || args.inferences)
      throw InputError("--tag, --task, --model and --inferences describe a stored run: give --store too");
    return;
  }
  tags_json(args.tags);
  if (!args.task.empty() && !task_from_string(args.task))
    throw InputError(fmt::format("--task {}: unknown task; the tasks: {}", args.task, task_names()));
}

// What the command cost: the measurement and, when anything additive was
// measured, its carbon (no figure rather than a fake 0).
struct Outcome {
  CommandResult result;
  std::optional<CarbonResult> carbon, attributed_carbon;
};

Outcome measure_command(const Args& args, Tracker& tracker, const CarbonSettings& settings) {
  Outcome o;
  o.result = run_command(tracker, args.command);
  const Measurement& m = o.result.measurement;
  if (m.any_additive()) o.carbon = compute_carbon_j(m.total_energy_j(), settings);
  if (m.any_attributed()) o.attributed_carbon = compute_carbon_j(m.total_attributed_energy_j(), settings);
  return o;
}

// The perf-stat-like summary on stderr.
std::string summary_text(const Args& args, const Outcome& o, const Tracker& tracker) {
  const Measurement& m = o.result.measurement;
  std::string text = fmt::format("\n Energy of: {}\n\n", command_line(args.command));
  text += fmt::format("  duration   {:.3f} s, exit code {}{}\n\n", m.duration_s, o.result.exit_code,
                      o.result.term_signal ? fmt::format(" (killed by signal {})", o.result.term_signal) : "");
  text += format_measurement_table(m);
  if (const auto& carbon = o.carbon) {
    // Carbon is linear in energy: the energy band carries over as is.
    const double low_share = m.total_low_share(), high_share = m.total_high_share();
    text += fmt::format("\n  carbon     {} CO2e machine", readable_grams(carbon->g_co2e));
    if (low_share != 1.0 || high_share != 1.0)
      text += fmt::format(" (range {} .. {})", readable_grams(carbon->g_co2e * low_share),
                          readable_grams(carbon->g_co2e * high_share));
    if (o.attributed_carbon) text += fmt::format(", {} CO2e attributed", readable_grams(o.attributed_carbon->g_co2e));
    text += fmt::format(" ({:.0f} g/kWh, {}; PUE {:g})\n", carbon->intensity.g_per_kwh, carbon->intensity.source,
                        carbon->pue);
    for (const auto& w : carbon->warnings) text += fmt::format("  warning: {}\n", w);
  } else {
    text += "\n  carbon     none: no energy was measured\n";
  }
  for (const auto& n : tracker.notes()) text += fmt::format("  note: {}\n", n);
  return text;
}

void write_json(const Args& args, const Outcome& o, const Tracker& tracker, const CarbonSettings& settings) {
  nlohmann::json j = window_result_json(o.result.measurement, tracker, settings);
  j["command"] = args.command;
  j["exit_code"] = o.result.exit_code;
  j["signal"] = o.result.term_signal ? nlohmann::json(o.result.term_signal) : nlohmann::json(nullptr);
  write_output_file(args.json_file, json_text(j));
}

void append_csv(const Args& args, const Outcome& o) {
  if (!o.carbon) throw Error("no energy was measured (see the warnings); no row written");
  CodeCarbonRunInfo info;
  info.project_name = args.project;  // re-imported, it is the project, not a model (docs/codecarbon.md)
  info.machine = detect_machine(args.sensors.paths.procfs_root);
  append_codecarbon_csv(args.csv_file, make_codecarbon_record(o.result.measurement, *o.carbon, info));
}

std::string store_run(const Args& args, const Outcome& o, const CarbonSettings& settings, Store& store) {
  if (!o.carbon) throw Error("no energy was measured (see the warnings); no run stored");
  MeasuredRunInfo info;
  info.project = args.project;
  info.task = args.task;
  info.model = args.model;
  info.inferences = args.inferences;
  info.source = "joulebench measure -- " + command_line(args.command);
  info.config_json = nlohmann::json{{"command", args.command}, {"tags", tags_json(args.tags)},
                                    {"exit_code", o.result.exit_code}}
                         .dump();
  if (o.result.exit_code != 0) info.note = fmt::format("the command exited with status {}", o.result.exit_code);
  info.procfs_root = args.sensors.paths.procfs_root;
  return store.save_run(measured_run_record(o.result.measurement, settings, o.carbon->g_co2e, info));
}

int run(Args args) {
  check_before_running(args);
  // Carbon settings (flags > environment > config > time zone, docs/carbon.md)
  // are resolved before the run so that a bad value stops us early.
  const CarbonSettings carbon_settings = resolve_carbon_settings(args.carbon);
  if (args.project.empty()) args.project = carbon_settings.config_project.value_or("measure");
  // The store is opened (created) before the run: one that cannot be is said now.
  std::unique_ptr<Store> store;
  if (args.store) store = open_store(args.store->empty() ? std::string(kDefaultStorePath) : *args.store);
  TrackerOptions options;
  options.interval_s = args.interval_ms / 1000.0;
  options.sensors = args.sensors;
  // No liveness probe at start (it waits 5 ms on RAPL hosts): every window
  // checks its counters instead, and a stuck one falls back to the next source.
  options.sensors.liveness_probe_s = 0.0;
  options.idle_baseline_s = args.idle_baseline_s;
  Outcome o;
  try {
    if (args.idle_baseline_s > 0.0) {
      check_command_startable(args.command);  // a typo must not wait for the baseline first
      if (!args.quiet)
        fmt::print(stderr, "joulebench: measuring the idle baseline for {:g} s; keep the machine quiet\n",
                   args.idle_baseline_s);
    }
    Tracker tracker(options);
    o = measure_command(args, tracker, carbon_settings);
    if (!args.quiet) fmt::print(stderr, "{}\n", summary_text(args, o, tracker));
    // What is measured is kept: each output is tried, a failed one said and
    // the others still written.
    int status = exit_status(ExitCode::ok);
    auto attempt = [&](const std::string& what, const auto& write) {
      try {
        write();
      } catch (const std::exception& e) {
        fmt::print(stderr, "joulebench: error: {}: {}\n", what, e.what());
        status = exit_status(ExitCode::failure);
      }
    };
    if (!args.json_file.empty())
      attempt("--json " + args.json_file, [&] { write_json(args, o, tracker, carbon_settings); });
    if (!args.csv_file.empty()) attempt("--csv " + args.csv_file, [&] { append_csv(args, o); });
    if (store)
      attempt("--store " + store->location(), [&] {
        const std::string id = store_run(args, o, carbon_settings, *store);
        if (!args.quiet)
          fmt::print(stderr,
                     "joulebench: stored as run {} in {} (project {}); see `joulebench report --runs --store {}`\n",
                     id.substr(0, 8), store->location(), args.project, store->location());
      });
    // The command's own status wins; a lost output file turns success into 1.
    return o.result.exit_code != 0 ? o.result.exit_code : status;
  } catch (const CommandStartError& e) {
    fmt::print(stderr, "joulebench: error: {}\n", e.what());
    return exit_status(ExitCode::cannot_start);
  }
}

}  // namespace

void register_measure_command(CommandRegistry& registry) {
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "measure", "run a command and report its energy and carbon on stderr (like perf stat); returns its exit code");
  if (!registry.wanted(sub)) return;
  sub->add_option("--interval", args->interval_ms, "sampling interval in milliseconds")
      ->check(within(kIntervalMsLimits))
      ->type_name("MS")
      ->capture_default_str();
  sub->add_option("--idle-baseline", args->idle_baseline_s,
                  "measure idle power for SECONDS before the run and report dynamic energy above it")
      ->check(within(kWaitSecondsLimits))
      ->type_name("SECONDS");
  sub->add_option("--json", args->json_file, "write the result as JSON to FILE (docs/cli.md)")->type_name("FILE");
  sub->add_option("--csv", args->csv_file, "append a CodeCarbon-compatible emissions.csv row to FILE")
      ->type_name("FILE");
  sub->add_flag("--quiet,-q", args->quiet, "print nothing (use with --json, --csv or --store)");
  sub->add_option("--store", args->store,
                  "record the run in the results store DB (default ./joulebench.db; a postgresql:// URL too)")
      ->expected(0, 1)
      ->type_name("[DB]");
  sub->add_option("--project", args->project,
                  "the run's project, in the store and the --csv row (default: [run] project of joulebench.toml, "
                  "else measure)");
  sub->add_option("--tag", args->tags, "KEY=VALUE kept with the stored run; repeatable");
  sub->add_option("--task", args->task, "with --store: the task the command ran (" + task_names() + ")");
  sub->add_option("--model", args->model, "with --store: the model the command ran");
  sub->add_option("--inferences", args->inferences,
                  "with --store: how many inferences the command did (reports then give energy per 1,000)")
      ->check(within(kInferencesLimits));
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
