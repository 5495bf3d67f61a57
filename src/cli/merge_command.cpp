// joulebench merge A.db B.db ... -o OUT.db: joins the stores of a sharded
// campaign (or of several machines); either side may be a PostgreSQL URL
// (e.g. pushing bench's spool: merge joulebench-spool.db -o postgresql://...).
// Runs already in OUT (same id) are kept, except the cut-off part of a run
// that an input holds whole, which it replaces (copy_run, docs/store.md).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "commands.h"
#include "joulebench/bench.h"
#include "joulebench/error.h"
#include "joulebench/store.h"

namespace joulebench::cli {

void register_merge_command(CommandRegistry& registry) {
  struct Args {
    std::vector<std::string> inputs;
    std::string output;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand("merge", "join results stores (e.g. the shards of a bench campaign)");
  if (!registry.wanted(sub)) return;
  sub->add_option("stores", args->inputs, "stores to read")->required();
  sub->add_option("-o,--output", args->output, "store to write (created when missing)")->required();
  registry.add(sub, [args] {
    // Every input is checked before the output is created: a typo creates no empty store.
    for (const auto& in : args->inputs) {
      const std::string shown = display_store_location(in);
      if (!store_exists(in)) throw InputError(fmt::format("merge: no store at {}", shown));
      std::error_code ec;
      if (in == args->output ||
          (!is_store_url(in) && !is_store_url(args->output) && std::filesystem::equivalent(in, args->output, ec)))
        throw InputError(fmt::format("merge: {} is also the output; give another -o", shown));
    }
    auto out = open_store(args->output);
    std::size_t total = 0;
    for (const auto& in : args->inputs) {
      const std::string shown = display_store_location(in);
      auto from = open_store(in, StoreAccess::read);
      const std::size_t copied = merge_stores(*from, *out);
      fmt::print(stderr, "joulebench: {}: {} runs copied\n", shown, copied);
      total += copied;
    }
    fmt::print(stderr, "joulebench: {} runs now in {} ({} copied)\n", out->list_runs().size(), out->location(), total);
    return 0;
  });
}

}  // namespace joulebench::cli
