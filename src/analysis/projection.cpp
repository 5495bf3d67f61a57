// Lifecycle break-even, deployment projection and scale what-ifs: arithmetic
// on energy per request, with every input checked (nonsense is refused with
// the reason, never projected).
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "joulebench/error.h"
#include "joulebench/projection.h"

namespace joulebench {
namespace {

void require_positive(double v, std::string_view what) {
  if (!std::isfinite(v) || v <= 0.0)
    throw InputError(fmt::format("{} must be a positive number (got {})", what, v));
}
void require_non_negative(double v, std::string_view what) {
  if (!std::isfinite(v) || v < 0.0)
    throw InputError(fmt::format("{} must be zero or a positive number (got {})", what, v));
}

DeploymentPeriod period(double kwh, const CarbonSettings& settings, const std::optional<double>& price) {
  const CarbonResult c = compute_carbon(kwh, settings);
  DeploymentPeriod p;
  p.kwh = kwh;
  p.facility_kwh = c.facility_energy_kwh;
  p.kg_co2e = c.g_co2e / 1000.0;
  // The bill is for what the facility draws, PUE included.
  if (price) p.cost = c.facility_energy_kwh * *price;
  return p;
}

nlohmann::json period_json(const DeploymentPeriod& p) {
  return {{"kwh", p.kwh},
          {"facility_kwh", p.facility_kwh},
          {"kg_co2e", p.kg_co2e},
          {"cost", p.cost ? nlohmann::json(*p.cost) : nlohmann::json(nullptr)}};
}

}  // namespace

LifecycleResult compute_lifecycle(const LifecycleInput& input) {
  require_non_negative(input.training_kwh, "--training-kwh");
  require_non_negative(input.finetune_kwh, "--finetune-kwh");
  require_positive(input.kwh_per_query, "--kwh-per-query (inference energy per query)");
  if (input.queries_per_day) require_positive(*input.queries_per_day, "--queries-per-day");
  LifecycleResult r;
  r.input = input;
  r.training_total_kwh = input.training_kwh + input.finetune_kwh;
  if (r.training_total_kwh <= 0.0)
    throw InputError("--training-kwh plus --finetune-kwh must be more than 0 kWh: nothing to break even with");
  r.breakeven_queries_exact = r.training_total_kwh / input.kwh_per_query;
  // Truncate, with a relative guard so 592,569,999.99999994 (binary rounding) reads 592,570,000.
  r.breakeven_queries = std::floor(r.breakeven_queries_exact * (1.0 + 1e-12));
  if (input.queries_per_day) r.breakeven_days = r.breakeven_queries_exact / *input.queries_per_day;
  return r;
}

nlohmann::json lifecycle_json(const LifecycleResult& r) {
  return {{"training_kwh", r.input.training_kwh},
          {"finetune_kwh", r.input.finetune_kwh},
          {"training_total_kwh", r.training_total_kwh},
          {"kwh_per_query", r.input.kwh_per_query},
          {"breakeven_queries", r.breakeven_queries},
          {"breakeven_queries_exact", r.breakeven_queries_exact},
          {"queries_per_day", r.input.queries_per_day ? nlohmann::json(*r.input.queries_per_day) : nlohmann::json(nullptr)},
          {"breakeven_days", r.breakeven_days ? nlohmann::json(*r.breakeven_days) : nlohmann::json(nullptr)}};
}

double scale_requests_per_day(double users, double requests_per_user_per_day) {
  require_positive(users, "--users");
  require_positive(requests_per_user_per_day, "--requests-per-user");
  return users * requests_per_user_per_day;
}

DeploymentResult project_deployment(const DeploymentInput& input, const CarbonSettings& settings) {
  require_positive(input.kwh_per_request, "energy per request");
  require_positive(input.requests_per_day, "--requests-per-day");
  require_positive(input.days, "--days");
  if (input.price_per_kwh) require_non_negative(*input.price_per_kwh, "--price-per-kwh");
  DeploymentResult r;
  r.input = input;
  const double day_kwh = input.kwh_per_request * input.requests_per_day;
  r.per_day = period(day_kwh, settings, input.price_per_kwh);
  r.per_year = period(day_kwh * 365.0, settings, input.price_per_kwh);
  r.total = period(day_kwh * input.days, settings, input.price_per_kwh);
  // As carbon.h defines them: energy-based equivalents of facility kWh.
  r.equivalents = compute_equivalents(r.total.facility_kwh, r.total.kg_co2e * 1000.0, settings.equivalents);
  return r;
}

nlohmann::json deployment_json(const DeploymentResult& r, const CarbonSettings& settings) {
  nlohmann::json eq = nlohmann::json::array();
  for (const auto& e : r.equivalents)
    eq.push_back({{"key", e.constant.key},
                  {"value", e.value},
                  {"unit", e.constant.unit},
                  {"label", e.constant.label},
                  {"amount_per_unit", e.constant.amount_per_unit},
                  {"source", e.constant.source}});
  return {{"label", r.input.label},
          {"kwh_per_request", r.input.kwh_per_request},
          {"energy_source", r.input.energy_source},
          {"requests_per_day", r.input.requests_per_day},
          {"days", r.input.days},
          {"price_per_kwh", r.input.price_per_kwh ? nlohmann::json(*r.input.price_per_kwh) : nlohmann::json(nullptr)},
          {"currency", r.input.currency},
          {"pue", settings.pue.value},
          {"intensity_g_per_kwh", settings.intensity.g_per_kwh},
          {"per_day", period_json(r.per_day)},
          {"per_year", period_json(r.per_year)},
          {"total", period_json(r.total)},
          {"equivalents", eq}};
}

std::string render_lifecycle(const LifecycleResult& r) {
  std::string out = fmt::format("training + fine-tuning: {:.6g} + {:.6g} = {:.6g} kWh\n", r.input.training_kwh,
                                r.input.finetune_kwh, r.training_total_kwh);
  out += fmt::format("inference: {:.6g} kWh per query\n", r.input.kwh_per_query);
  out += fmt::format("inference equals training after {:.0f} queries\n", r.breakeven_queries);
  if (r.breakeven_days)
    out += fmt::format("at {:.6g} queries a day: {:.1f} days ({:.2f} years)\n", *r.input.queries_per_day,
                       *r.breakeven_days, *r.breakeven_days / 365.0);
  return out;
}

std::string render_deployment(const DeploymentResult& r, const std::vector<DeploymentResult>& alternatives,
                              const CarbonSettings& settings) {
  const auto& i = r.input;
  std::string out = fmt::format("{}: {:.6g} kWh per request ({}), {:.6g} requests a day, {:.6g} days\n", i.label,
                                i.kwh_per_request, i.energy_source, i.requests_per_day, i.days);
  out += fmt::format("grid {:.4g} g CO2e/kWh ({}), PUE {} ({})\n", settings.intensity.g_per_kwh,
                     settings.intensity.source, settings.pue.value, settings.pue.source);
  auto line = [&](const char* name, const DeploymentPeriod& p) {
    std::string s = fmt::format("  {:<10} {:>14.6g} kWh  {:>14.6g} facility kWh  {:>12.6g} kg CO2e", name, p.kwh,
                                p.facility_kwh, p.kg_co2e);
    if (p.cost) s += fmt::format("  {:>12.2f} {}", *p.cost, i.currency);
    return s + "\n";
  };
  out += line("per day", r.per_day);
  out += line("per year", r.per_year);
  out += line(fmt::format("{:g} days", i.days).c_str(), r.total);
  for (const auto& e : r.equivalents)
    out += fmt::format("  = {:.4g} {} ({} {} per {}, {})\n", e.value, e.constant.label, e.constant.amount_per_unit,
                       e.constant.basis == EquivalentBasis::energy_kwh ? "kWh" : "g CO2e", e.constant.unit,
                       e.constant.source);
  if (!alternatives.empty()) {
    out += "\nother stored models of the task, same traffic (per year):\n";
    for (const auto& a : alternatives) {
      std::string s = fmt::format("  {:<48} {:>12.6g} kWh/request  {:>12.6g} kWh  {:>12.6g} kg CO2e  x{:.3g}",
                                  a.input.label, a.input.kwh_per_request, a.per_year.kwh, a.per_year.kg_co2e,
                                  a.input.kwh_per_request / i.kwh_per_request);
      if (a.per_year.cost) s += fmt::format("  {:.2f} {}", *a.per_year.cost, i.currency);
      out += s + "\n";
    }
  }
  return out;
}

}  // namespace joulebench
