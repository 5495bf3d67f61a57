// joulebench project: deployment projection (energy per request x requests a
// day -> kWh, kg CO2e and cost per day and year, beside the other stored
// models of the task), lifecycle break-even against training + fine-tuning,
// and users x requests what-ifs. Arithmetic lives in joulebench_analysis.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "carbon_options.h"
#include "commands.h"
#include "joulebench/readable.h"
#include "joulebench/error.h"
#include "joulebench/projection.h"
#include "joulebench/store.h"
#include "json_text.h"
#include "option_checks.h"

namespace joulebench::cli {
namespace {

struct Args {
  std::optional<double> training_kwh, finetune_kwh, kwh_per_request, wh_per_request, requests_per_day, users,
      requests_per_user, price_per_kwh;
  std::string training_run, finetune_run, model, task, run;
  double days = 365.0;
  std::string currency = "USD";
  bool json = false, no_alternatives = false;
  std::string store;
  CarbonRequest carbon;
};

std::unique_ptr<Store> open_existing(const std::string& path) {
  if (!store_exists(path))
    throw InputError(fmt::format("no store at {}: fill one with `joulebench bench` or `joulebench import "
                                 "codecarbon FILES`, or give --store PATH (or the energy with --kwh-per-request)",
                                 path));
  return open_store(path, StoreAccess::read);
}

// The energy per request: given (kWh or Wh), a stored model's, or a stored run's.
EnergyPerRequest energy_per_request(const Args& a, const std::function<Store&()>& need_store) {
  const int energy_sources = (a.kwh_per_request ? 1 : 0) + (a.wh_per_request ? 1 : 0) + (a.model.empty() ? 0 : 1) +
                             (a.run.empty() ? 0 : 1);
  if (energy_sources > 1)
    throw InputError("give the energy per request once: --kwh-per-request, --wh-per-request, --model or --run");
  if (energy_sources == 0)
    throw InputError("no energy per request: give --kwh-per-request KWH (alias --kwh-per-query), "
                     "--wh-per-request WH, --model NAME or --run RUN_ID");
  EnergyPerRequest energy;
  if (a.kwh_per_request) {
    energy.kwh = *a.kwh_per_request;
    energy.source = "given";
  } else if (a.wh_per_request) {
    energy.kwh = *a.wh_per_request / 1000.0;
    energy.source = "given";
  } else if (!a.model.empty()) {
    energy = energy_per_request_of_model(need_store(), a.model, a.task);
  } else {
    energy = energy_per_request_of_run(need_store(), a.run);
  }
  if (!a.task.empty() && energy.task.empty()) energy.task = a.task;
  return energy;
}

// Requests a day: given, or users x requests per user (a what-if at scale).
std::optional<double> requests_per_day(const Args& a) {
  if (!a.users && !a.requests_per_user) return a.requests_per_day;
  if (a.requests_per_day) throw InputError("give either --requests-per-day or --users with --requests-per-user, not both");
  if (!a.users || !a.requests_per_user)
    throw InputError("a what-if at scale needs both --users N and --requests-per-user M");
  return scale_requests_per_day(*a.users, *a.requests_per_user);
}

void project_lifecycle(const Args& a, const EnergyPerRequest& energy, std::optional<double> per_day,
                       const std::function<Store&()>& need_store, nlohmann::json& out, std::string& text) {
  if (a.training_kwh && !a.training_run.empty()) throw InputError("give --training-kwh or --training-run, not both");
  if (a.finetune_kwh && !a.finetune_run.empty()) throw InputError("give --finetune-kwh or --finetune-run, not both");
  LifecycleInput in;
  in.training_kwh = a.training_run.empty() ? a.training_kwh.value_or(0.0) : run_energy_kwh(need_store(), a.training_run);
  in.finetune_kwh = a.finetune_run.empty() ? a.finetune_kwh.value_or(0.0) : run_energy_kwh(need_store(), a.finetune_run);
  in.kwh_per_query = energy.kwh;
  in.queries_per_day = per_day;
  const auto r = compute_lifecycle(in);
  out.update(lifecycle_json(r));
  text += render_lifecycle(r);
}

// The deployment, beside the other stored models of the task when the
// energy came from the store.
void project_deployment_at_scale(const Args& a, const EnergyPerRequest& energy, double per_day, bool have_store,
                                 const std::function<Store&()>& need_store, nlohmann::json& out, std::string& text) {
  const CarbonSettings settings = resolve_carbon_settings(a.carbon);
  DeploymentInput in;
  in.label = !a.model.empty() ? a.model : (!a.run.empty() ? "run " + a.run : "given");
  in.kwh_per_request = energy.kwh;
  in.energy_source = energy.source;
  in.requests_per_day = per_day;
  in.days = a.days;
  in.price_per_kwh = a.price_per_kwh;
  in.currency = a.currency;
  const auto main = project_deployment(in, settings);
  print_carbon_warnings(settings);  // after the inputs were accepted
  std::vector<DeploymentResult> alternatives;
  if (!a.no_alternatives && !energy.task.empty() && have_store) {
    for (const auto& m : models_of_task(need_store(), energy.task)) {
      if (m.model == a.model) continue;
      DeploymentInput alt = in;
      alt.label = m.model;
      alt.kwh_per_request = m.kwh_per_request;
      alt.energy_source = fmt::format("mean of {} inference window(s) in {}", m.windows, a.store);
      alternatives.push_back(project_deployment(alt, settings));
    }
  }
  out["deployment"] = deployment_json(main, settings);
  out["carbon"] = {{"intensity", grid_intensity_json(settings.intensity)},
                   {"pue", settings.pue.value},
                   {"pue_source", settings.pue.source},
                   {"location_origin", settings.location_origin}};
  out["task"] = energy.task.empty() ? nlohmann::json(nullptr) : nlohmann::json(energy.task);
  auto alts = nlohmann::json::array();
  for (const auto& alt : alternatives) alts.push_back(deployment_json(alt, settings));
  out["alternatives"] = alts;
  if (a.users) {
    out["users"] = *a.users;
    out["requests_per_user_per_day"] = *a.requests_per_user;
  }
  if (!text.empty()) text += "\n";
  if (a.users)
    text += fmt::format("what-if: {} users x {} requests a day = {} requests a day\n", readable_number(*a.users),
                        readable_number(*a.requests_per_user), readable_number(per_day));
  text += render_deployment(main, alternatives, settings);
}

int run_project(const Args& a) {
  std::unique_ptr<Store> store;
  const std::function<Store&()> need_store = [&]() -> Store& {
    if (!store) store = open_existing(a.store);
    return *store;
  };
  const EnergyPerRequest energy = energy_per_request(a, need_store);
  const std::optional<double> per_day = requests_per_day(a);
  const bool lifecycle = a.training_kwh || a.finetune_kwh || !a.training_run.empty() || !a.finetune_run.empty();
  if (!lifecycle && !per_day)
    throw InputError("nothing to project: give --requests-per-day N (or --users and --requests-per-user) for a "
                     "deployment, or --training-kwh / --finetune-kwh for the lifecycle break-even");
  nlohmann::json out = nlohmann::json::object();
  std::string text;
  if (lifecycle) project_lifecycle(a, energy, per_day, need_store, out, text);
  if (per_day)
    project_deployment_at_scale(a, energy, *per_day, store || std::filesystem::exists(a.store), need_store, out, text);
  if (a.json) fmt::print("{}", json_text(out));
  else fmt::print("{}", text);
  return 0;
}

}  // namespace

void register_project_command(CommandRegistry& registry) {
  auto a = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "project", "deployment projection (kWh, kg CO2e, cost per day/year), lifecycle break-even against training, "
                 "users x requests what-ifs");
  if (!registry.wanted(sub)) return;
  sub->add_option("--kwh-per-request,--kwh-per-query", a->kwh_per_request, "inference energy per request, kWh")
      ->check(within(kEnergyKwhLimits));
  sub->add_option("--wh-per-request", a->wh_per_request, "inference energy per request, Wh")
      ->check(within(kEnergyWhLimits));
  sub->add_option("--model", a->model, "energy per request: mean of this stored model's inference windows");
  sub->add_option("--task", a->task, "with --model: only this task's windows (also names the task for alternatives)");
  sub->add_option("--run", a->run, "energy per request: mean of this stored run's inference windows");
  sub->add_option("--requests-per-day,--queries-per-day", a->requests_per_day, "requests a day")
      ->check(within({"requests a day", 0, 1e15, "", false, ""}));
  sub->add_option("--users", a->users, "what-if at scale: number of users (with --requests-per-user)")
      ->check(within({"users", 0, 1e11, "", false, ""}));
  sub->add_option("--requests-per-user", a->requests_per_user, "what-if at scale: requests per user a day")
      ->check(within({"requests per user a day", 0, 1e6, "", false, ""}));
  sub->add_option("--days", a->days, "horizon of the total (default 365)")
      ->check(within({"days", 0, 36500, "", false, "100 years"}));
  sub->add_option("--price-per-kwh", a->price_per_kwh, "electricity price per facility kWh (PUE included)")
      ->check(within({"price per kWh", 0, 1e6, "", false, ""}));
  sub->add_option("--currency", a->currency, "currency of --price-per-kwh (default USD; only a label)");
  sub->add_option("--training-kwh", a->training_kwh, "lifecycle: training energy, kWh")
      ->check(within(kEnergyKwhLimits));
  sub->add_option("--finetune-kwh", a->finetune_kwh, "lifecycle: fine-tuning energy, kWh")
      ->check(within(kEnergyKwhLimits));
  sub->add_option("--training-run", a->training_run, "lifecycle: training energy of a stored `measure` run");
  sub->add_option("--finetune-run", a->finetune_run, "lifecycle: fine-tuning energy of a stored `measure` run");
  sub->add_flag("--no-alternatives", a->no_alternatives, "leave out the other stored models of the task");
  sub->add_flag("--json", a->json, "JSON object on stdout (contract: docs/project.md)");
  add_carbon_options(*sub, a->carbon);
  add_store_option(*sub, a->store);
  registry.add(sub, [a] { return run_project(*a); });
}

}  // namespace joulebench::cli
