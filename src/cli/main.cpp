// joulebench command line: parses arguments and calls the library. Errors
// become messages and exit codes here, and only here.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/text_util.h"
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
bool CommandRegistry::wanted(const CLI::App* sub) const { return sub->get_name() == chosen; }

// "did you mean": the closest of `names` to a mistyped `word`, when it is close
// (a prefix, or at most a third of its letters off).
std::string suggestion(const std::string& word, const std::vector<std::string>& names) {
  const auto best = detail::closest_matches(word, names, 1);
  if (best.empty()) return {};
  const bool prefix = best.front().rfind(word, 0) == 0;
  if (!prefix && detail::edit_distance(word, best.front()) > std::max<std::size_t>(2, word.size() / 3)) return {};
  return best.front();
}

// A typo in a command or an option name gets the name it was probably meant
// to be; CLI11 alone says "A subcommand is required" or "not expected".
void suggest_names(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> commands;
  for (const auto* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  const CLI::App* chosen = nullptr;
  for (const auto* sub : app.get_subcommands()) chosen = sub;
  if (!chosen) {
    for (int i = 1; i < argc; ++i) {
      const std::string word = argv[i];
      if (word.empty() || word[0] == '-') continue;
      const std::string best = suggestion(word, commands);
      fmt::print(stderr, "joulebench: '{}' is not a command{} The commands: {}.\n", word,
                 best.empty() ? "." : fmt::format("; did you mean '{}'?", best), fmt::join(commands, ", "));
      return;
    }
    return;
  }
  std::vector<std::string> options;
  for (const auto* opt : chosen->get_options())
    for (const auto& name : opt->get_lnames()) options.push_back("--" + name);
  for (const auto& extra : chosen->remaining()) {
    if (extra.rfind("--", 0) != 0) continue;
    const std::string word = extra.substr(0, extra.find('='));
    const std::string best = suggestion(word, options);
    if (!best.empty())
      fmt::print(stderr, "joulebench {}: unknown option {}; did you mean {}?\n", chosen->get_name(), word, best);
  }
}

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

  cli::CommandRegistry registry{app, {}};
  // The command is the first word that is not an option (the program itself
  // has only --help and --version).
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] != '-') {
      registry.chosen = argv[i];
      break;
    }
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
  cli::register_estimate_command(registry);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (dynamic_cast<const CLI::ExtrasError*>(&e) || dynamic_cast<const CLI::RequiredError*>(&e))
      cli::suggest_names(app, argc, argv);
    const int code = app.exit(e);
    return exit_status(code == 0 ? ExitCode::ok : ExitCode::bad_input);
  }
  // JOULEBENCH_PARSE_ONLY=1: the command line is parsed and its options
  // checked, and nothing is run. Deployment manifests and scripts check their
  // joulebench invocations with it offline (tests/deploy).
  if (const char* p = std::getenv("JOULEBENCH_PARSE_ONLY"); p != nullptr && *p != '\0' && std::string(p) != "0") {
    for (auto* sub : app.get_subcommands())
      fmt::print("joulebench {}: arguments accepted (JOULEBENCH_PARSE_ONLY is set: nothing was run)\n",
                 sub->get_name());
    return 0;
  }
  try {
    for (auto* sub : app.get_subcommands()) {
      auto it = cli::runners().find(sub);
      if (it != cli::runners().end()) return it->second();
    }
    return 0;
  } catch (const InputError& e) {
    cli::report_error(e.what());
    return exit_status(ExitCode::bad_input);
  } catch (const std::exception& e) {
    cli::report_error(e.what());
    return exit_status(ExitCode::failure);
  }
}
