// joulebench report [--by task|model|dataset] [--json | --markdown] [--store PATH]
// [--runs] [--model-card RUN_ID]: the store's results per 1,000 inferences.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "carbon_options.h"
#include "commands.h"
#include "core/output_file.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "joulebench/projection.h"
#include "joulebench/report.h"
#include "joulebench/report_html.h"
#include "joulebench/store.h"
#include "joulebench/study.h"
#include "json_text.h"
#include "report_facts.h"

namespace joulebench::cli {
namespace {

struct Args {
  std::string by = "task";
  bool json = false, markdown = false, runs = false, include_unfinished = false, include_zero_shot = false;
  std::string task, model, model_card, training_type = "inference";
  std::vector<std::string> equivalents;
  std::string store;
  std::string html, label, label_task, output, title = "joulebench report";
  bool csv = false;
};

// The zoo's presets (parameters, multi-purpose, off-task) when its plugin is there.
std::vector<ModelInfo> zoo_models() {
  try {
    return list_models();
  } catch (const std::exception& e) {
    fmt::print(stderr, "joulebench: note: no parameter counts from the model zoo ({})\n", e.what());
    return {};
  }
}

constexpr const char* kFillTheStore = "(none: fill the store with `joulebench bench` or `joulebench import codecarbon FILES`)";

int write_label(const Args& args, Store& store) {
  const auto facts = report_facts(zoo_models()).facts;
  const auto svg = render_energy_label_svg(make_energy_label(store, args.label, args.label_task, facts));
  if (args.output.empty()) fmt::print("{}", svg);
  else write_output_file(args.output, svg);
  return 0;
}

int write_html(const Args& args, Store& store) {
  HtmlReportOptions h = report_facts(zoo_models());
  h.title = args.title;
  h.report.task = args.task;
  h.report.model = args.model;
  h.report.include_unfinished = args.include_unfinished;
  h.report.include_zero_shot = args.include_zero_shot;
  for (const auto& kv : args.equivalents) override_equivalent(h.report.equivalents, kv);
  write_output_file(args.html, render_html_report(store, h));
  fmt::print(stderr, "joulebench: wrote {}\n", args.html);
  return 0;
}

int print_model_card(const Args& args, Store& store) {
  const auto run = store.load_run(args.model_card);
  if (!run) {
    std::vector<std::string> ids;
    for (const auto& r : store.list_runs()) ids.push_back(r.id);
    throw InputError(fmt::format("no run '{}' in {}; stored runs: {} (details: `joulebench report --runs`)",
                                 args.model_card, store.location(),
                                 ids.empty() ? std::string(kFillTheStore) : fmt::format("{}", fmt::join(ids, ", "))));
  }
  fmt::print("{}", model_card_yaml(*run, {args.training_type}));
  return 0;
}

int print_runs(const Args& args, Store& store) {
  const auto runs = store.list_runs();
  if (args.json) fmt::print("{}", json_text(runs_json(runs)));
  else fmt::print("{}", render_runs_table(runs));
  return 0;
}

// docs/report.md: an empty store or a filter that matches nothing is exit 2,
// with what the store does have.
[[noreturn]] void nothing_matched(const ReportOptions& o, const Args& args, Store& store) {
  if (!o.model.empty()) {
    const auto names = stored_models(store);
    throw InputError(fmt::format("no inference windows of model '{}'{} in {}; stored models: {}", o.model,
                                 o.task.empty() ? "" : " for task " + o.task, store.location(),
                                 names.empty() ? std::string(kFillTheStore) : fmt::format("{}", fmt::join(names, ", "))));
  }
  if (o.task.empty())
    throw InputError(fmt::format("no inference measurements in {}{}: fill it with `joulebench bench` or "
                                 "`joulebench import codecarbon FILES`",
                                 display_store_location(args.store),
                                 o.include_unfinished ? "" : " (complete runs; --include-unfinished adds the others)"));
  std::vector<std::string> tasks;
  for (const auto& r : build_report(store, ReportOptions{}).rows)
    if (!r.task.empty()) tasks.push_back(r.task);
  throw InputError(fmt::format("no inference windows of task '{}' in {}; stored tasks: {}", o.task,
                               display_store_location(args.store),
                               tasks.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(tasks, ", "))));
}

int print_report(const Args& args, Store& store) {
  ReportOptions o;
  o.by = report_grouping_from_string(args.by).value_or(ReportGrouping::task);
  o.task = args.task;
  o.model = args.model;
  o.include_unfinished = args.include_unfinished;
  o.include_zero_shot = args.include_zero_shot;
  for (const auto& kv : args.equivalents) override_equivalent(o.equivalents, kv);
  const Report report = build_report(store, o);
  if (report.rows.empty()) nothing_matched(o, args, store);
  if (args.json) fmt::print("{}", json_text(report_json(report)));
  else if (args.markdown) fmt::print("{}", render_markdown(report));
  else if (args.csv) fmt::print("{}", render_csv(report));
  else fmt::print("{}", render_table(report));
  return 0;
}

int run(const Args& args) {
  if (!store_exists(args.store))
    throw InputError(fmt::format("no store at {}: run `joulebench import codecarbon` or `joulebench bench` "
                                 "first, or give --store PATH",
                                 args.store));
  auto store = open_store(args.store, StoreAccess::read);
  if (!args.label.empty()) return write_label(args, *store);
  if (!args.html.empty()) return write_html(args, *store);
  if (!args.model_card.empty()) return print_model_card(args, *store);
  if (args.runs) return print_runs(args, *store);
  return print_report(args, *store);
}

}  // namespace

void register_report_command(CommandRegistry& registry) {
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "report", "results from the store: per task, model or dataset, energy and gCO2e per 1,000 inferences");
  if (!registry.wanted(sub)) return;
  sub->add_option("--by", args->by, "grouping: task (default), model or dataset")
      ->check(CLI::IsMember({"task", "model", "dataset"}));
  auto* json = sub->add_flag("--json", args->json, "JSON array on stdout (contract: docs/store.md)");
  auto* md = sub->add_flag("--markdown", args->markdown, "Markdown table on stdout");
  json->excludes(md);
  auto* csv = sub->add_flag("--csv", args->csv, "CSV on stdout: the JSON fields, one column per equivalent");
  csv->excludes(json)->excludes(md);
  sub->add_option("--html", args->html, "write a self-contained HTML page with charts to FILE (docs/report.md)");
  sub->add_option("--title", args->title, "title of the HTML page");
  sub->add_option("--label", args->label, "energy label of MODEL as SVG (with -o FILE; else on stdout)");
  sub->add_option("--label-task", args->label_task, "with --label: the task, when the model has several");
  sub->add_option("-o,--output", args->output, "with --label: the SVG file to write");
  sub->add_option("--task", args->task, "only this task");
  sub->add_option("--model", args->model, "only this model");
  sub->add_flag("--include-unfinished", args->include_unfinished,
                "also runs still marked running or failed (their committed windows)");
  sub->add_flag("--include-zero-shot", args->include_zero_shot,
                "count multi-purpose models' zero-shot runs in --by task / dataset (the study leaves them out)");
  sub->add_option("--equivalent", args->equivalents, "override an equivalent's constant, KEY=AMOUNT; repeatable");
  sub->add_flag("--runs", args->runs, "list the stored runs instead");
  sub->add_option("--model-card", args->model_card,
                  "print the Hugging Face model-card co2_eq_emissions block of run RUN_ID (or a unique prefix)");
  sub->add_option("--training-type", args->training_type,
                  "training_type written in the model card (default inference; pre-training, fine-tuning)");
  add_store_option(*sub, args->store);
  registry.add(sub, [args] { return run(*args); });
}

}  // namespace joulebench::cli
