// Each `joulebench` subcommand lives in its own <name>_command.cpp and is
// registered here, in one place (no static self-registration).
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace joulebench::cli {

// A subcommand's callback returns the process exit code (see docs/cli.md):
// 0 success, 1 runtime failure, 2 bad input, 3 partial success.
using CommandRunner = std::function<int()>;

// Registers the subcommands on `app`; add() keeps, for the one chosen on the
// command line, what main() calls to run it.
struct CommandRegistry {
  CLI::App& app;
  // The command named on the command line ("" when none). Only its options
  // are built; the others stay a name and a description, enough for the
  // command list and "did you mean" (building every command's options cost
  // `measure` about a millisecond at each start).
  std::string chosen;
  bool wanted(const CLI::App* sub) const;
  void add(CLI::App* sub, CommandRunner runner);
};

void register_sensors_command(CommandRegistry& registry);
void register_measure_command(CommandRegistry& registry);
void register_carbon_command(CommandRegistry& registry);
void register_import_command(CommandRegistry& registry);
void register_report_command(CommandRegistry& registry);
void register_project_command(CommandRegistry& registry);
void register_compare_command(CommandRegistry& registry);
void register_models_command(CommandRegistry& registry);
void register_exporter_command(CommandRegistry& registry);
void register_bench_command(CommandRegistry& registry);
void register_merge_command(CommandRegistry& registry);
void register_study_command(CommandRegistry& registry);
void register_doctor_command(CommandRegistry& registry);
void register_estimate_command(CommandRegistry& registry);

}  // namespace joulebench::cli
