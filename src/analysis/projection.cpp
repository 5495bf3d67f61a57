// Lifecycle break-even, deployment projection and scale what-ifs: arithmetic
// on energy per request, with every input checked (nonsense is refused with
// the reason, never projected).
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "joulebench/error.h"
#include "joulebench/projection.h"
#include "joulebench/readable.h"

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
  const nlohmann::json eq = equivalents_json(r.equivalents);
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

// Readable units (joulebench/readable.h): "5,060 t CO2e", not 5.06089e+06 kg;
// the --json contract keeps kWh and kg.
std::string render_lifecycle(const LifecycleResult& r) {
  std::string out = fmt::format("training + fine-tuning: {} + {} = {}\n", readable_kwh(r.input.training_kwh),
                                readable_kwh(r.input.finetune_kwh), readable_kwh(r.training_total_kwh));
  out += fmt::format("inference: {} per query\n", readable_kwh(r.input.kwh_per_query));
  out += fmt::format("inference equals training after {} queries\n", readable_number(r.breakeven_queries));
  if (r.breakeven_days)
    out += fmt::format("at {} queries a day: {} days ({} years)\n", readable_number(*r.input.queries_per_day),
                       readable_number(*r.breakeven_days), readable_number(*r.breakeven_days / 365.0));
  return out;
}

std::string render_deployment(const DeploymentResult& r, const std::vector<DeploymentResult>& alternatives,
                              const CarbonSettings& settings) {
  const auto& i = r.input;
  std::string out = fmt::format("{}: {} per request ({}), {} requests a day, {} days\n", i.label,
                                readable_kwh(i.kwh_per_request), i.energy_source, readable_number(i.requests_per_day),
                                readable_number(i.days));
  out += fmt::format("grid {} g CO2e/kWh ({}), PUE {} ({})\n", readable_number(settings.intensity.g_per_kwh),
                     settings.intensity.source, settings.pue.value, settings.pue.source);
  out += fmt::format("  {:<10} {:>14} {:>16} {:>14}{}\n", "", "energy", "at the facility", "CO2e",
                     r.per_day.cost ? fmt::format(" {:>14}", "cost") : "");
  auto line = [&](const std::string& name, const DeploymentPeriod& p) {
    std::string s = fmt::format("  {:<10} {} {} {}", name, pad_left(readable_kwh(p.kwh), 14),
                                pad_left(readable_kwh(p.facility_kwh), 16), pad_left(readable_grams(p.kg_co2e * 1000.0), 14));
    if (p.cost) s += " " + pad_left(readable_number(*p.cost) + " " + i.currency, 14);
    return s + "\n";
  };
  out += line("per day", r.per_day);
  out += line("per year", r.per_year);
  out += line(fmt::format("{} days", readable_number(i.days)), r.total);
  for (const auto& e : r.equivalents)
    out += fmt::format("  = {} {} ({} {} per {}, {})\n", readable_number(e.value), e.constant.label,
                       e.constant.amount_per_unit, e.constant.basis == EquivalentBasis::energy_kwh ? "kWh" : "g CO2e",
                       e.constant.unit, e.constant.source);
  if (!alternatives.empty()) {
    out += "\nother stored models of the task, same traffic (per year):\n";
    for (const auto& a : alternatives) {
      std::string s = fmt::format("  {:<48} {} {} {}  x{}", a.input.label,
                                  pad_left(readable_kwh(a.input.kwh_per_request) + "/request", 18),
                                  pad_left(readable_kwh(a.per_year.kwh), 12),
                                  pad_left(readable_grams(a.per_year.kg_co2e * 1000.0) + " CO2e", 16),
                                  readable_number(a.input.kwh_per_request / i.kwh_per_request));
      if (a.per_year.cost) s += fmt::format("  {} {}", readable_number(*a.per_year.cost), i.currency);
      out += s + "\n";
    }
  }
  return out;
}

}  // namespace joulebench
