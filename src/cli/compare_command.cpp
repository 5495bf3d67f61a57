// joulebench compare A B: two models or runs side by side (energy, emissions,
// latency, ratios, Welch's t-test against the run-to-run spread).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "carbon_options.h"
#include "commands.h"
#include "joulebench/compare.h"
#include "joulebench/error.h"
#include "joulebench/store.h"
#include "json_text.h"

namespace joulebench::cli {

void register_compare_command(CommandRegistry& registry) {
  struct Args {
    std::string a, b, task, store;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "compare", "two stored models or runs side by side: energy, emissions, latency, ratios, and whether the "
                 "difference exceeds the run-to-run spread");
  if (!registry.wanted(sub)) return;
  sub->add_option("A", args->a, "a model name, or a run id (or unique prefix)")->required();
  sub->add_option("B", args->b, "a model name, or a run id (or unique prefix)")->required();
  sub->add_option("--task", args->task, "only windows of this task");
  sub->add_flag("--json", args->json, "JSON object on stdout (contract: docs/report.md)");
  add_store_option(*sub, args->store);
  registry.add(sub, [args] {
    if (!store_exists(args->store))
      throw InputError(fmt::format("no store at {}: fill one with `joulebench bench` or `joulebench import "
                                   "codecarbon FILES`, or give --store PATH",
                                   args->store));
    auto store = open_store(args->store, StoreAccess::read);
    const auto c = compare(*store, args->a, args->b, args->task);
    if (args->json) fmt::print("{}", json_text(comparison_json(c)));
    else fmt::print("{}", render_comparison(c));
    return 0;
  });
}

}  // namespace joulebench::cli
