// joulebench study [--store DB] [--json]: the paper's tables beside what the
// store's imported study logs give under the paper's rules (docs/study.md).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "carbon_options.h"
#include "commands.h"
#include "joulebench/error.h"
#include "joulebench/study.h"
#include "json_text.h"

namespace joulebench::cli {

void register_study_command(CommandRegistry& registry) {
  struct Args {
    bool json = false;
    std::string store;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "study", "the study's published tables (Power Hungry Processing, FAccT 2024) beside the store's imported logs");
  if (!registry.wanted(sub)) return;
  sub->add_flag("--json", args->json,
                "JSON array of {table, row, metric, published, reproduced, ratio, runs, ...} (docs/study.md)");
  add_store_option(*sub, args->store);
  registry.add(sub, [args] {
    if (!store_exists(args->store))
      throw InputError(fmt::format("no store at {}: import the study's logs first, e.g. `joulebench import "
                                   "codecarbon study-logs/complete study-logs/base`, or give --store PATH",
                                   args->store));
    auto store = open_store(args->store, StoreAccess::read);
    const StudyReport report = reproduce_study(*store);
    if (args->json) fmt::print("{}", json_text(study_json(report)));
    else fmt::print("{}", render_study_table(report));
    return 0;
  });
}

}  // namespace joulebench::cli
