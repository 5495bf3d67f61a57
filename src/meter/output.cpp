#include "joulebench/meter_output.h"

#include <fmt/chrono.h>
#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "joulebench/readable.h"
#include "window.h"

namespace joulebench {
namespace {

std::string_view kind_name(SensorKind k) { return k == SensorKind::power ? "power" : "energy_counter"; }

// "used", "fallback" or "unavailable", from the meter's choices.
std::string role_of(const Meter& meter, std::size_t index) {
  if (!meter.sensors()[index]->status().available) return "unavailable";
  for (const auto& choice : meter.choices())
    for (const auto& group : choice.groups)
      for (std::size_t k = 0; k < group.size(); ++k)
        if (std::find(group[k].sensors.begin(), group[k].sensors.end(), index) != group[k].sensors.end())
          return k == 0 ? "used" : "fallback";
  return "fallback";
}

nlohmann::json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// Readable units (joulebench/readable.h): "271 mJ", "75.4 µWh"; the JSON keeps joules.
std::string energy_text(double j) { return readable_joules(j); }

std::string bound_text(double s) {
  if (s <= 0.0) return "no wrap";
  if (s >= 3600.0) return fmt::format("read every <= {:.1f} h", s / 3600.0);
  if (s >= 1.0) return fmt::format("read every <= {:.0f} s", s);
  return fmt::format("read every <= {:.0f} ms", s * 1000.0);
}

}  // namespace

nlohmann::json sensors_json(const Meter& meter) {
  nlohmann::json out = nlohmann::json::array();
  const SensorList& sensors = meter.sensors();
  for (std::size_t i = 0; i < sensors.size(); ++i) {
    const SensorInfo& info = sensors[i]->info();
    const SensorStatus status = sensors[i]->status();
    out.push_back({
        {"name", info.name},
        {"backend", info.backend},
        {"component", std::string(to_string(info.component))},
        {"device", info.device},
        {"description", info.description},
        {"kind", std::string(kind_name(info.kind))},
        {"provenance", info.provenance.to_string()},
        {"available", status.available},
        {"reason", status.reason},
        {"max_read_interval_s",
         info.max_read_interval_s > 0.0 ? nlohmann::json(info.max_read_interval_s) : nlohmann::json(nullptr)},
        {"role", role_of(meter, i)},
    });
  }
  return out;
}

std::string format_sensors_table(const Meter& meter) {
  const SensorList& sensors = meter.sensors();
  std::size_t name_w = 6, comp_w = 9, prov_w = 10;
  std::size_t usable = 0;
  for (const auto& s : sensors) {
    name_w = std::max(name_w, s->info().name.size());
    prov_w = std::max(prov_w, s->info().provenance.to_string().size());
    if (s->status().available) ++usable;
  }
  std::string out = fmt::format("{} sensor{} looked for, {} usable\n\n", sensors.size(),
                                sensors.size() == 1 ? "" : "s", usable);
  out += fmt::format("{:<{}}  {:<{}}  {:<14}  {:<{}}  {:<11}  {}\n", "SENSOR", name_w, "COMPONENT", comp_w, "KIND",
                     "PROVENANCE", prov_w, "STATUS", "SAMPLING BOUND");
  for (std::size_t i = 0; i < sensors.size(); ++i) {
    const SensorInfo& info = sensors[i]->info();
    const SensorStatus status = sensors[i]->status();
    const std::string role = role_of(meter, i);
    out += fmt::format("{:<{}}  {:<{}}  {:<14}  {:<{}}  {:<11}  {}\n", info.name, name_w, to_string(info.component),
                       comp_w, kind_name(info.kind), info.provenance.to_string(), prov_w,
                       status.available ? role : "unavailable", bound_text(info.max_read_interval_s));
    std::string detail = info.device.empty() ? info.description : info.device + ": " + info.description;
    if (!detail.empty()) out += fmt::format("    {}\n", detail);
    if (!status.available) out += fmt::format("    why not: {}\n", status.reason);
  }
  out += "\nmeter:\n";
  for (const auto& note : meter.notes()) out += fmt::format("  {}\n", note);
  if (meter.choices().empty()) out += "  no usable sensor: nothing can be measured on this machine\n";
  return out;
}

nlohmann::json measurement_json(const Measurement& m) {
  nlohmann::json components = nlohmann::json::array();
  double dynamic_total = 0.0;
  bool dynamic_known = true, any_additive = false;
  for (const auto& c : m.components) {
    components.push_back({
        {"component", std::string(to_string(c.component))},
        {"additive", is_additive(c.component)},
        {"energy_j", c.energy_j},
        {"energy_kwh", c.energy_j / kJoulesPerKwh},
        {"attributed_energy_j", optional_number(c.attributed_energy_j)},
        {"dynamic_energy_j", optional_number(c.dynamic_energy_j)},
        {"energy_low_j", c.low(c.energy_j)},
        {"energy_high_j", c.high(c.energy_j)},
        {"band_factor", c.band_factor},
        {"provenance", c.provenance.to_string()},
        {"sources", c.sources},
    });
    if (is_additive(c.component)) {
      any_additive = true;
      if (c.dynamic_energy_j)
        dynamic_total += *c.dynamic_energy_j;
      else
        dynamic_known = false;
    }
  }
  return {
      {"name", m.name},
      {"start_time", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(m.start_time)))},
      {"duration_s", m.duration_s},
      {"components", std::move(components)},
      {"total_energy_j", m.total_energy_j()},
      {"total_energy_kwh", m.total_energy_j() / kJoulesPerKwh},
      {"total_energy_low_j", m.total_energy_low_j()},
      {"total_energy_high_j", m.total_energy_high_j()},
      {"total_attributed_energy_j", m.total_attributed_energy_j()},
      {"total_dynamic_energy_j",
       any_additive && dynamic_known ? nlohmann::json(dynamic_total) : nlohmann::json(nullptr)},
      {"weakest_provenance", std::string(to_string(m.weakest_provenance()))},
      {"warnings", m.warnings},
  };
}

nlohmann::json idle_baseline_json(const IdleBaseline& b) {
  nlohmann::json components = nlohmann::json::array();
  for (const auto& c : b.components)
    components.push_back({{"component", std::string(to_string(c.component))},
                          {"power_w", c.power_w},
                          {"provenance", c.provenance.to_string()},
                          {"sources", c.sources}});
  return {{"duration_s", b.duration_s}, {"components", std::move(components)}, {"warnings", b.warnings}};
}

nlohmann::json window_result_json(const Measurement& m, const Tracker& tracker, const CarbonSettings& settings) {
  nlohmann::json j = measurement_json(m);
  j["schema_version"] = kMeasureJsonSchemaVersion;
  j["interval_s"] = tracker.interval_s();
  j["notes"] = tracker.notes();
  const auto idle = tracker.idle_baseline();
  j["idle_baseline"] = idle ? idle_baseline_json(*idle) : nlohmann::json(nullptr);
  if (m.any_additive()) {
    const CarbonResult carbon = compute_carbon_j(m.total_energy_j(), settings);
    j["carbon"] = carbon_result_json(carbon);
    // Carbon is linear in energy: the energy band carries over as is.
    j["g_co2e_low"] = carbon.g_co2e * m.total_low_share();
    j["g_co2e_high"] = carbon.g_co2e * m.total_high_share();
  } else {
    j["carbon"] = j["g_co2e_low"] = j["g_co2e_high"] = nullptr;
  }
  j["attributed_g_co2e"] =
      m.any_attributed() ? nlohmann::json(compute_carbon_j(m.total_attributed_energy_j(), settings).g_co2e) : nullptr;
  return j;
}

std::string format_measurement_table(const Measurement& m) {
  bool any_attributed = false, any_dynamic = false, any_band = false;
  for (const auto& c : m.components) {
    any_band |= c.band_factor > 1.0;
    any_attributed |= c.attributed_energy_j.has_value();
    any_dynamic |= c.dynamic_energy_j.has_value();
  }
  auto opt = [](const std::optional<double>& v) { return v ? energy_text(*v) : std::string("-"); };
  std::string out;
  out += fmt::format("  {:<10} {:>14} {:>12}", "component", "joules", "watt-hours");
  if (any_attributed) out += fmt::format(" {:>14}", "attributed");
  if (any_dynamic) out += fmt::format(" {:>14}", "dynamic");
  // Estimates carry their model's band (machine scope; other scopes scale alike).
  if (any_band) out += fmt::format(" {:>25}", "range (estimates)");
  out += "  provenance\n";
  auto row = [&](const std::string& label, double e, const std::optional<double>& a, const std::optional<double>& d,
                 const std::string& tail, double low, double high) {
    out += fmt::format("  {:<10} {} {}", label, pad_left(energy_text(e), 14), pad_left(readable_kwh(e / kJoulesPerKwh), 12));
    if (any_attributed) out += " " + pad_left(opt(a), 14);
    if (any_dynamic) out += " " + pad_left(opt(d), 14);
    if (any_band)
      out += " " + pad_left(low == high ? std::string("-") : energy_text(low) + " .. " + energy_text(high), 25);
    out += "  " + tail + "\n";
  };
  double dynamic_total = 0.0;
  bool dynamic_known = true;
  std::vector<std::string_view> added;  // what the total adds: only rows shown above it
  for (const auto& c : m.components) {
    if (!is_additive(c.component)) continue;
    added.push_back(to_string(c.component));
    row(std::string(to_string(c.component)), c.energy_j, c.attributed_energy_j, c.dynamic_energy_j,
        c.provenance.to_string(), c.low(c.energy_j), c.high(c.energy_j));
    if (c.dynamic_energy_j)
      dynamic_total += *c.dynamic_energy_j;
    else
      dynamic_known = false;
  }
  row("total", m.total_energy_j(), any_attributed ? std::optional(m.total_attributed_energy_j()) : std::nullopt,
      any_dynamic && dynamic_known ? std::optional(dynamic_total) : std::nullopt,
      fmt::format("{}, weakest: {}", fmt::join(added, " + "), to_string(m.weakest_provenance())), m.total_energy_low_j(),
      m.total_energy_high_j());
  for (const auto& c : m.components) {
    if (is_additive(c.component)) continue;
    const char* why = c.component == Component::psys ? "(platform, contains cpu; not added)"
                                                      : "(inside cpu; not added)";
    if (c.component == Component::other) why = "(not added)";
    row(std::string(to_string(c.component)), c.energy_j, c.attributed_energy_j, c.dynamic_energy_j,
        c.provenance.to_string() + " " + why, c.low(c.energy_j), c.high(c.energy_j));
  }
  if (m.components.empty()) out += "  no energy figure: see the warnings\n";
  // The estimated components' warnings in one line: the provenance and range
  // columns already say it per component.
  std::vector<std::string> estimated;
  for (const auto& w : m.warnings) {
    const auto c = std::find_if(m.components.begin(), m.components.end(), [&](const ComponentEnergy& c) {
      return w == meter::estimated_warning(to_string(c.component), c.provenance);
    });
    if (c != m.components.end()) estimated.push_back(std::string(to_string(c->component)));
    else out += fmt::format("  warning: {}\n", w);
  }
  if (!estimated.empty())
    out += fmt::format("  warning: {} estimated: no hardware reading was available (`joulebench doctor` says why); "
                       "the real figure lies in the range column\n",
                       fmt::join(estimated, ", "));
  return out;
}

}  // namespace joulebench
