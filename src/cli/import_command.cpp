// joulebench import codecarbon FILES/DIRS... [--task T] [--dataset D] [--inferences N]:
// CodeCarbon logs into the store, one run per file, bad rows reported as file:line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <set>
#include <nlohmann/json.hpp>

#include "carbon_options.h"
#include "commands.h"
#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "joulebench/store.h"
#include "json_text.h"
#include "option_checks.h"

namespace joulebench::cli {

namespace {

struct Args {
  std::vector<std::string> paths;
  std::string task, dataset;
  std::int64_t inferences = 1000;
  std::string project_name_is = "auto";
  std::vector<std::string> phases;
  bool dry_run = false, json = false, zero_shot = false;
  std::string store;
};

CodeCarbonImportOptions import_options(const Args& args) {
  CodeCarbonImportOptions o;
  if (!args.task.empty()) o.task = args.task;
  if (!args.dataset.empty()) o.dataset = args.dataset;
  if (args.zero_shot) o.zero_shot = true;
  for (const auto& kv : args.phases) {
    const auto eq = kv.rfind('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("--phase '{}': give NAME=PHASE, e.g. --phase 'generate=inference'", kv));
    std::string name = kv.substr(0, eq);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    o.phases[name] = kv.substr(eq + 1);
  }
  o.inferences = args.inferences;
  o.dry_run = args.dry_run;
  o.project_name_is = args.project_name_is;
  return o;
}

// A line per file (only those with something to say when there are many:
// the study's base/ folder has thousands), then the totals.
void print_summary(const Args& args, const CodeCarbonImportSummary& s) {
  const bool every_file = s.files.size() <= 20;
  for (const auto& f : s.files) {
    if (!f.error.empty()) continue;
    if (!every_file && f.skipped == 0) continue;
    fmt::print("{}: {} of {} rows {}{}{} ({} run{}); task {} ({}), dataset {}{}; CodeCarbon {}\n", f.file.string(),
               f.imported, f.rows, args.dry_run ? "readable" : "imported",
               f.skipped ? fmt::format(", {} skipped", f.skipped) : "",
               f.duplicates ? fmt::format(", {} already stored", f.duplicates) : "", f.runs, f.runs == 1 ? "" : "s",
               f.task.empty() ? "unknown" : f.task,
               f.task.empty() ? "taken from another file of the same run, if any" : f.task_origin,
               f.dataset.empty() ? "unknown" : f.dataset, f.zero_shot ? ", zero-shot" : "",
               f.version.empty() ? "?" : f.version);
  }
  std::set<std::string> runs;
  for (const auto& f : s.files) runs.insert(f.run_ids.begin(), f.run_ids.end());
  fmt::print("{} rows {} into {}{} ({} skipped, {} already stored, {} file(s) failed); each inference row counted "
             "as {} inferences{}\n",
             s.imported(), args.dry_run ? "readable (dry run, nothing stored)" : "imported",
             display_store_location(args.store), args.dry_run ? "" : fmt::format(", {} run(s) written", runs.size()),
             s.skipped(), s.duplicates(), s.failed_files(), s.inferences_per_row,
             args.inferences == 1000 ? " (the study's protocol; change with --inferences N)" : "");
}

int run(const Args& args) {
  const CodeCarbonImportOptions o = import_options(args);
  check_import_options(o);  // before a store file is created
  // A dry run creates no store: it reads the existing one (to count what is stored already), if any.
  auto store = !args.dry_run                ? open_store(args.store)
               : store_exists(args.store) ? open_store(args.store, StoreAccess::read)
                                          : open_store(":memory:");
  std::vector<std::filesystem::path> paths(args.paths.begin(), args.paths.end());
  const auto s = import_codecarbon(*store, paths, o);
  // Issues go to stderr as file:line: reason, whatever the output format.
  for (const auto& f : s.files) {
    if (!f.error.empty()) fmt::print(stderr, "joulebench: error: {}\n", f.error);
    for (const auto& i : f.issues) fmt::print(stderr, "joulebench: skipped: {}\n", i.to_string());
    for (const auto& i : f.notes) fmt::print(stderr, "joulebench: note: {}\n", i.to_string());
  }
  if (args.json) fmt::print("{}", json_text(import_summary_json(s, display_store_location(args.store), args.dry_run)));
  else print_summary(args, s);
  if (s.failed_files() == 0 && s.skipped() == 0) return exit_status(ExitCode::ok);
  if (s.imported() == 0 && s.duplicates() == 0) return exit_status(ExitCode::bad_input);  // nothing usable
  return exit_status(ExitCode::partial);
}

}  // namespace

void register_import_command(CommandRegistry& registry) {
  auto args = std::make_shared<Args>();
  CLI::App* import = registry.app.add_subcommand("import", "read other tools' logs into the store");
  if (!registry.wanted(import)) return;
  import->require_subcommand(1);
  CLI::App* sub = import->add_subcommand(
      "codecarbon", "CodeCarbon emissions.csv files (2.x, 3.x, task files), the study's logs among them");
  sub->add_option("paths", args->paths, "CSV files or folders (searched for *.csv)")->required();
  sub->add_option("--task", args->task,
                  "task of every row (text-classification, ...); default: from the study's file names");
  sub->add_option("--dataset", args->dataset, "dataset of every row; default: from the study's file names");
  sub->add_flag("--zero-shot", args->zero_shot,
                "the rows are a multi-purpose model on another task's data (default: from the study's file names)");
  sub->add_option("--phase", args->phases,
                  "task files: NAME=PHASE maps a task_name to inference, load, warmup or idle; repeatable");
  sub->add_option("--inferences", args->inferences,
                  "inferences per logged row (default 1000, the study's protocol)")
      ->check(within(kInferencesLimits));
  sub->add_option("--project-name", args->project_name_is,
                  "what a row's project_name is: model, project, or auto (the model, except in rows joulebench "
                  "measure --csv wrote and CodeCarbon's default 'codecarbon')")
      ->check(CLI::IsMember({"auto", "model", "project"}))
      ->capture_default_str();
  sub->add_flag("--dry-run", args->dry_run, "read and report, store nothing");
  sub->add_flag("--json", args->json, "summary as JSON on stdout (contract: docs/codecarbon.md)");
  add_store_option(*sub, args->store);
  // main() runs the top-level subcommand's runner: `import` dispatches to its importers.
  registry.add(import, [args, sub] {
    if (!sub->parsed()) return exit_status(ExitCode::bad_input);
    return run(*args);
  });
}

}  // namespace joulebench::cli
