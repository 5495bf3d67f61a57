// joulebench command line: parses arguments and calls the library. Errors
// become messages and exit codes here, and only here.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <clocale>
#include <cstdio>
#include <map>

#include "commands.h"
#include "joulebench/error.h"
#include "joulebench/version.h"

namespace joulebench::cli {
namespace {
std::map<CLI::App*, CommandRunner>& runners() {
  static std::map<CLI::App*, CommandRunner> r;
  return r;
}
}  // namespace

void CommandRegistry::add(CLI::App* sub, CommandRunner runner) { runners()[sub] = std::move(runner); }

// The last word: stderr may itself be on the full disk (fmt would throw
// again, and a throw here aborts); a failed write is then ignored.
void report_error(const char* what) {
  std::fputs("joulebench: error: ", stderr);
  std::fputs(what, stderr);
  std::fputs("\n", stderr);
}

}  // namespace joulebench::cli

int main(int argc, char** argv) {
  // Machine-readable output (JSON, CSV) must use '.' whatever the locale.
  std::setlocale(LC_NUMERIC, "C");
  using namespace joulebench;
  CLI::App app{"joulebench: energy and carbon cost of AI inference, measured honestly"};
  app.set_version_flag("--version", std::string("joulebench ") + JOULEBENCH_VERSION);
  app.require_subcommand(1);

  cli::CommandRegistry registry{app};
  cli::register_sensors_command(registry);
  cli::register_measure_command(registry);
  cli::register_carbon_command(registry);
  cli::register_import_command(registry);
  cli::register_report_command(registry);
  cli::register_project_command(registry);
  cli::register_compare_command(registry);
  cli::register_models_command(registry);
  cli::register_exporter_command(registry);
  cli::register_bench_command(registry);
  cli::register_merge_command(registry);
  cli::register_study_command(registry);
  cli::register_doctor_command(registry);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    for (auto* sub : app.get_subcommands()) {
      auto it = cli::runners().find(sub);
      if (it != cli::runners().end()) return it->second();
    }
    return 0;
  } catch (const InputError& e) {
    cli::report_error(e.what());
    return 2;
  } catch (const std::exception& e) {
    cli::report_error(e.what());
    return 1;
  }
}
