// Cost-benefit projections the study left to its readers: what a model costs
// when deployed (requests a day x energy per request -> kWh, kg CO2e and money
// per day and per year, for it and for the other stored models of its task),
// when inference outweighs training (lifecycle break-even), and what-ifs at
// scale (N users x M requests a day). Contract: docs/project.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "joulebench/carbon.h"
#include "joulebench/store.h"

namespace joulebench {

// ---- Lifecycle: queries until inference energy equals training + fine-tuning

struct LifecycleInput {
  double training_kwh = 0.0;    // pre-training (>= 0)
  double finetune_kwh = 0.0;    // fine-tuning (>= 0); training + fine-tuning must be > 0
  double kwh_per_query = 0.0;   // inference energy per query (> 0)
  std::optional<double> queries_per_day;  // (> 0) gives days until break-even
};

struct LifecycleResult {
  LifecycleInput input;
  double training_total_kwh = 0.0;     // training + fine-tuning
  double breakeven_queries_exact = 0.0;  // training_total_kwh / kwh_per_query
  // Whole queries, truncated as the study printed them (292,467,741.9 -> 292,467,741).
  double breakeven_queries = 0.0;
  std::optional<double> breakeven_days;  // exact queries / queries_per_day
};

// Throws InputError naming the argument for negative, zero or non-finite inputs.
LifecycleResult compute_lifecycle(const LifecycleInput& input);
nlohmann::json lifecycle_json(const LifecycleResult& r);

// ---- Deployment projection

struct DeploymentInput {
  std::string label;               // model name or "given"
  double kwh_per_request = 0.0;    // IT energy per request (> 0)
  double requests_per_day = 0.0;   // (> 0)
  double days = 365.0;             // horizon of the "total" figures (> 0)
  std::optional<double> price_per_kwh;  // of facility energy (>= 0)
  std::string currency = "USD";
  std::string energy_source;       // where kwh_per_request came from
};

struct DeploymentPeriod {
  double kwh = 0.0;           // IT energy
  double facility_kwh = 0.0;  // x PUE
  double kg_co2e = 0.0;
  std::optional<double> cost;  // facility_kwh x price
};

struct DeploymentResult {
  DeploymentInput input;
  DeploymentPeriod per_day, per_year, total;  // total: over input.days
  std::vector<EquivalentValue> equivalents;   // of the total
};

// Settings give the PUE, intensity and equivalents. Throws InputError on
// nonsense (negative requests, zero energy per request, zero days, ...).
DeploymentResult project_deployment(const DeploymentInput& input, const CarbonSettings& settings);

// Requests a day of a what-if at scale, users x requests per user a day
// (both > 0; throws InputError naming them otherwise).
double scale_requests_per_day(double users, double requests_per_user_per_day);

// Energy per request from the store: the mean over a model's inference
// windows (optionally of one task), or over one run's. Throws InputError
// listing the stored models / runs when none match, or saying how to fill an
// empty store.
struct EnergyPerRequest {
  double kwh = 0.0;
  std::string task;    // the task of the windows ("" when mixed or unknown)
  std::string source;  // "mean of 30 inference windows of model X in joulebench.db"
  int windows = 0;
};
EnergyPerRequest energy_per_request_of_model(Store& store, const std::string& model, const std::string& task = {});
EnergyPerRequest energy_per_request_of_run(Store& store, const std::string& run_id_or_prefix);
// Total energy (kWh, machine scope, every phase) of a stored run: a measured training job.
double run_energy_kwh(Store& store, const std::string& run_id_or_prefix);

// Per model of `task` in the store: mean kWh per request (cheapest first).
struct ModelEnergy {
  std::string model;
  double kwh_per_request = 0.0;
  int windows = 0;
};
std::vector<ModelEnergy> models_of_task(Store& store, const std::string& task);

// The stored models (sorted), for "unknown model" messages.
std::vector<std::string> stored_models(Store& store);

nlohmann::json deployment_json(const DeploymentResult& r, const CarbonSettings& settings);
std::string render_deployment(const DeploymentResult& r, const std::vector<DeploymentResult>& alternatives,
                              const CarbonSettings& settings);
std::string render_lifecycle(const LifecycleResult& r);

}  // namespace joulebench
