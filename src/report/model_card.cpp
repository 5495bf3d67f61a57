// The Hugging Face model-card `co2_eq_emissions` block of a stored run.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "joulebench/report.h"
#include "joulebench/version.h"

namespace joulebench {
namespace {

std::string yaml_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string model_card_yaml(const RunRecord& run, const ModelCardOptions& options) {
  double grams = 0.0, kwh = 0.0;
  std::set<std::string> provenance;
  // A whole-run window beside its parts (an imported study run: load + query
  // rows and the complete row) is the same energy again: counted once.
  const bool has_parts = std::any_of(run.windows.begin(), run.windows.end(),
                                     [](const WindowRecord& w) { return w.phase != "whole"; });
  for (const auto& w : run.windows) {
    if (has_parts && w.phase == "whole") continue;
    const double window_kwh = joules_to_kwh(w.measurement.total_energy_j());
    kwh += window_kwh;
    grams += w.g_co2e ? *w.g_co2e : window_kwh * run.pue * run.intensity.g_per_kwh;
    for (const auto& c : w.measurement.components)
      if (is_additive(c.component))
        provenance.insert(fmt::format("{} {}", to_string(c.component), c.provenance.to_string()));
  }
  std::string location;
  const auto& g = run.intensity;
  if (!g.cloud_provider.empty()) location = fmt::format("{} {}", g.cloud_provider, g.cloud_region);
  if (!g.city.empty()) location += (location.empty() ? "" : ", ") + g.city;
  if (!g.country_name.empty() || !g.country_iso3.empty())
    location += (location.empty() ? "" : ", ") +
                (g.country_name.empty() ? g.country_iso3 : fmt::format("{} ({})", g.country_name, g.country_iso3));
  if (location.empty()) location = g.origin == IntensityOrigin::world_average ? "unknown (world average used)" : "unknown";

  std::string hardware;
  if (!run.machine.gpu_model.empty()) hardware = run.machine.gpu_model;
  if (!run.machine.cpu_model.empty())
    hardware += (hardware.empty() ? "" : ", ") +
                (run.machine.cpu_count > 0 ? fmt::format("{} ({} CPUs)", run.machine.cpu_model, run.machine.cpu_count)
                                           : run.machine.cpu_model);
  if (run.machine.ram_total_gb) hardware += fmt::format(", {:.0f} GB RAM", *run.machine.ram_total_gb);
  if (hardware.empty()) hardware = "unknown";

  std::string how;
  for (const auto& p : provenance) how += (how.empty() ? "" : "; ") + p;
  const std::string source = fmt::format(
      "joulebench {} {} run {}: {:.6g} kWh measured ({}), PUE {}, {:.4g} g CO2e/kWh ({}{})", JOULEBENCH_VERSION,
      to_string(run.kind), run.id, kwh, how.empty() ? "no component data" : how, run.pue, g.g_per_kwh, g.source,
      g.year ? fmt::format(", {}", *g.year) : "");

  std::string out = "co2_eq_emissions:\n";
  out += fmt::format("  emissions: {:.6g}\n", grams);
  out += "  source: " + yaml_quoted(source) + "\n";
  out += "  training_type: " + yaml_quoted(options.training_type) + "\n";
  out += "  geographical_location: " + yaml_quoted(location) + "\n";
  out += "  hardware_used: " + yaml_quoted(hardware) + "\n";
  return out;
}

}  // namespace joulebench
