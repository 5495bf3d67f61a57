// joulebench estimate [--cpu NAME --threads N] [--sockets S] --load L [--ram-gb G] [--json]:
// what the power models (include/joulebench/power_model.h) give for a machine,
// with their band. The same models `measure` falls back to where no counter
// can be read. Without --cpu: this machine, from /proc/cpuinfo.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "joulebench/error.h"
#include "joulebench/power_model.h"
#include "json_text.h"
#include "option_checks.h"

namespace joulebench::cli {
namespace {

nlohmann::json estimate_json(const PowerEstimate& e) {
  return {{"power_w", e.power_w}, {"low_w", e.low_w}, {"high_w", e.high_w}, {"model", e.model},
          {"source", e.source}};
}

// Three significant digits for people; JSON keeps full precision.
std::string watts_text(double w) {
  if (w >= 100) return fmt::format("{:.0f} W", w);
  if (w >= 10) return fmt::format("{:.1f} W", w);
  return fmt::format("{:.2f} W", w);
}

}  // namespace

void register_estimate_command(CommandRegistry& registry) {
  struct Args {
    std::string cpu;
    int threads = 0;
    int sockets = 0;
    double load = 0.0;
    std::optional<double> ram_gb;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "estimate", "the power models' figure and band for a CPU at a load (and memory): what measure uses where "
                  "no counter can be read");
  if (!registry.wanted(sub)) return;
  auto* cpu = sub->add_option("--cpu", args->cpu,
                              "CPU model name as /proc/cpuinfo gives it, e.g. \"Intel(R) Xeon(R) Gold 6148 CPU @ "
                              "2.40GHz\" (default: this machine's)");
  sub->add_option("--threads", args->threads, "hardware threads the load is counted over (default with no --cpu: "
                                              "this machine's)")
      ->check(within(kThreadsLimits));
  sub->add_option("--sockets", args->sockets, "CPU packages (default 1, or this machine's)")
      ->check(within(kSocketsLimits));
  sub->add_option("--load", args->load, "CPU load from 0 (idle) to 1 (every thread busy)")
      ->required()
      ->check(within(kLoadLimits));
  sub->add_option("--ram-gb", args->ram_gb, "also estimate memory with this many GB in use")
      ->check(within(kMemoryGbLimits));
  sub->add_flag("--json", args->json, "JSON on stdout: {power_w, low_w, high_w, model, source, ...} (docs/cli.md)");
  registry.add(sub, [args, cpu] {
    CpuIdentity identity;
    if (cpu->count() > 0) {
      if (args->threads == 0)
        throw InputError("estimate: --cpu needs --threads (the hardware threads of that machine): the model "
                         "counts power per thread where the CPU's TDP is unknown");
      identity.model_name = args->cpu;
      identity.threads = args->threads;
      identity.sockets = args->sockets > 0 ? args->sockets : 1;
    } else {
      identity = read_cpu_identity();
      if (args->threads > 0) identity.threads = args->threads;
      if (args->sockets > 0) identity.sockets = args->sockets;
    }
    const CpuPowerModel model = CpuPowerModel::for_cpu(identity);
    const PowerEstimate e = model.estimate(args->load);
    std::optional<PowerEstimate> ram;
    if (args->ram_gb) ram = estimate_ram_power(*args->ram_gb);
    if (args->json) {
      nlohmann::json out = estimate_json(e);
      out["description"] = model.description();
      out["fallback"] = model.fallback();
      out["band_factor"] = model.band_factor();
      out["cpu"] = identity.model_name;
      out["threads"] = identity.threads;
      out["sockets"] = identity.sockets;
      out["load"] = args->load;
      out["ram"] = ram ? estimate_json(*ram) : nlohmann::json(nullptr);
      fmt::print("{}", json_text(out));
      return 0;
    }
    fmt::print("cpu at load {:g}: {} (range {} .. {}), estimated by {}\n  {}\n", args->load, watts_text(e.power_w),
               watts_text(e.low_w), watts_text(e.high_w), e.model, model.description());
    if (model.fallback())
      fmt::print("  this CPU is unknown to both tables: the figure is a fallback; give its model name with --cpu "
                 "if /proc/cpuinfo hides it (as VMs often do)\n");
    if (ram)
      fmt::print("ram with {:g} GB in use: {} (range {} .. {}): {}, band x/÷ {:g} (an assumption, not "
                 "calibrated)\n",
                 *args->ram_gb, watts_text(ram->power_w), watts_text(ram->low_w), watts_text(ram->high_w),
                 ram->source, kRamBandFactor);
    return 0;
  });
}

}  // namespace joulebench::cli
