// Exposition: the Prometheus text format 0.0.4 and OpenMetrics 1.0.0 from
// one list of families. The two differ in the TYPE name of counters
// (OpenMetrics names the family without _total), # UNIT lines (OpenMetrics
// only: 0.0.4 has none) and the final # EOF.
#include <fmt/format.h>

#include <cmath>

#include "joulebench/exporter.h"

namespace joulebench {
namespace {

enum class Type { counter, gauge };

struct Family {
  std::string name;  // without _total
  Type type;
  std::string unit;  // "" for none
  std::string help;
};

void escape_label(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) out += "NaN";
  else if (std::isinf(v)) out += v > 0 ? "+Inf" : "-Inf";
  else fmt::format_to(std::back_inserter(out), "{}", v);
}

class Writer {
 public:
  explicit Writer(MetricsFormat f) : format_(f) { out_.reserve(4096); }

  void family(const Family& f) {
    current_ = f;
    const bool om = format_ == MetricsFormat::openmetrics;
    // 0.0.4 names a counter family by its sample name (with _total).
    const std::string type_name = f.type == Type::counter && !om ? f.name + "_total" : f.name;
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n", type_name, f.help);
    fmt::format_to(std::back_inserter(out_), "# TYPE {} {}\n", type_name, f.type == Type::counter ? "counter" : "gauge");
    if (om && !f.unit.empty()) fmt::format_to(std::back_inserter(out_), "# UNIT {} {}\n", f.name, f.unit);
  }

  void sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels, double value) {
    out_ += current_.name;
    if (current_.type == Type::counter) out_ += "_total";
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        escape_label(out_, v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    append_value(out_, value);
    out_ += '\n';
  }

  std::string finish() {
    if (format_ == MetricsFormat::openmetrics) out_ += "# EOF\n";
    return std::move(out_);
  }

 private:
  MetricsFormat format_;
  Family current_;
  std::string out_;
};

}  // namespace

MetricsFormat negotiate_metrics_format(std::string_view accept) {
  return accept.find("application/openmetrics-text") != std::string_view::npos ? MetricsFormat::openmetrics
                                                                                : MetricsFormat::prometheus_text;
}

std::string_view metrics_content_type(MetricsFormat format) {
  return format == MetricsFormat::openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                              : "text/plain; version=0.0.4; charset=utf-8";
}

namespace {

// Energy and power per component, and each sensor's counter and state.
void write_energy(Writer& w, const ExporterSnapshot& s) {

  w.family({"joulebench_energy_joules", Type::counter, "joules",
            "Energy used by each component since the exporter started (cpu, dram and gpu add up to the machine; "
            "core, uncore and psys overlap them)."});
  for (const auto& c : s.components) w.sample({{"component", to_string(c.component)}}, c.energy_j);

  w.family({"joulebench_energy_low_joules", Type::counter, "joules",
            "Low end of the band of joulebench_energy_joules: equal to it where the figure is read from a counter, "
            "the model's figure divided by its band factor where it is estimated (docs/measurement.md)."});
  for (const auto& c : s.components) w.sample({{"component", to_string(c.component)}}, c.energy_low_j);
  w.family({"joulebench_energy_high_joules", Type::counter, "joules",
            "High end of the band of joulebench_energy_joules (the estimate times its band factor)."});
  for (const auto& c : s.components) w.sample({{"component", to_string(c.component)}}, c.energy_high_j);

  w.family({"joulebench_power_watts", Type::gauge, "watts", "Mean power of each component over the last sampling interval."});
  for (const auto& c : s.components)
    if (c.power_w) w.sample({{"component", to_string(c.component)}}, *c.power_w);

  w.family({"joulebench_component_info", Type::gauge, "",
            "Where each component's figure comes from (measured > sampled > estimated); value 1."});
  for (const auto& c : s.components)
    if (!c.provenance.empty()) w.sample({{"component", to_string(c.component)}, {"provenance", c.provenance}}, 1.0);

  w.family({"joulebench_sensor_energy_joules", Type::counter, "joules",
            "Energy read by each sensor since the exporter started; kept while the sensor is down."});
  for (const auto& x : s.sensors)  // a sensor that was never usable has no energy to serve, not 0 J
    if (x.reason.empty())
      w.sample({{"sensor", x.name}, {"backend", x.backend}, {"component", to_string(x.component)}}, x.energy_j);

  w.family({"joulebench_sensor_up", Type::gauge, "", "1 when the sensor's last read succeeded, 0 when it is down."});
  for (const auto& x : s.sensors) {
    if (x.reason.empty())
      w.sample({{"sensor", x.name}, {"backend", x.backend}, {"component", to_string(x.component)}}, x.up ? 1.0 : 0.0);
    else
      w.sample({{"sensor", x.name}, {"backend", x.backend}, {"component", to_string(x.component)}, {"reason", x.reason}},
               0.0);
  }
}

// Intensity, PUE and the emissions of the machine's energy.
void write_carbon(Writer& w, const ExporterSnapshot& s) {
  w.family({"joulebench_carbon_intensity_grams_per_kilowatt_hour", Type::gauge, "grams_per_kilowatt_hour",
            "Grid carbon intensity used for emissions (gCO2e per kWh)."});
  w.sample({{"zone", s.intensity_zone}}, s.intensity_g_per_kwh);

  w.family({"joulebench_pue_ratio", Type::gauge, "ratio", "Power usage effectiveness applied to emissions."});
  w.sample({}, s.pue);

  w.family({"joulebench_emissions_grams", Type::counter, "grams",
            "Emissions (gCO2e) of the machine's energy (cpu + dram + gpu) times PUE since the exporter started."});
  w.sample({}, s.emissions_g);
  w.family({"joulebench_emissions_low_grams", Type::counter, "grams",
            "Low end of the band of joulebench_emissions_grams (estimated energy divided by its band factor)."});
  w.sample({}, s.emissions_low_g);
  w.family({"joulebench_emissions_high_grams", Type::counter, "grams",
            "High end of the band of joulebench_emissions_grams (estimated energy times its band factor)."});
  w.sample({}, s.emissions_high_g);
}

// Energy by process and by cgroup (bounded: the top ones and "other").
void write_attribution(Writer& w, const ExporterSnapshot& s) {
  w.family({"joulebench_process_energy_joules", Type::counter, "joules",
            "Energy attributed to processes: cpu + dram by CPU time share, gpu split among the processes on the GPU; "
            "the top processes by pid, the rest as pid=\"other\"."});
  if (s.attribution_ok) {
    for (const auto& p : s.processes) w.sample({{"pid", p.id}, {"comm", p.name}}, p.energy_j);
    w.sample({{"pid", "other"}, {"comm", ""}}, s.processes_other_j);
  }

  w.family({"joulebench_container_energy_joules", Type::counter, "joules",
            "Energy attributed to cgroups (from /proc/PID/cgroup): the sum over their processes; the top cgroups, "
            "the rest as cgroup=\"other\"."});
  if (s.attribution_ok) {
    for (const auto& c : s.containers) w.sample({{"cgroup", c.id}, {"container_id", c.name}}, c.energy_j);
    w.sample({{"cgroup", "other"}, {"container_id", ""}}, s.containers_other_j);
  }
}

// The exporter's own cost.
void write_self(Writer& w, const ExporterSnapshot& s) {
  w.family({"joulebench_exporter_cpu_seconds", Type::counter, "seconds", "CPU time used by the exporter itself."});
  w.sample({}, s.self_cpu_s);
  w.family({"joulebench_exporter_energy_joules", Type::counter, "joules",
            "cpu + dram energy attributed to the exporter itself by CPU time share."});
  w.sample({}, s.self_energy_j);
  w.family({"joulebench_exporter_resident_memory_bytes", Type::gauge, "bytes", "Resident memory of the exporter."});
  w.sample({}, static_cast<double>(s.self_rss_bytes));
  w.family({"joulebench_exporter_samples", Type::counter, "", "Sensor sampling rounds done."});
  w.sample({}, static_cast<double>(s.samples));
  w.family({"joulebench_exporter_scrapes", Type::counter, "", "Scrapes of /metrics answered."});
  w.sample({}, static_cast<double>(s.scrapes));
  w.family({"joulebench_exporter_interval_seconds", Type::gauge, "seconds", "Sensor sampling interval."});
  w.sample({}, s.interval_s);
}

}  // namespace

std::string render_metrics(const ExporterSnapshot& s, MetricsFormat format) {
  Writer w(format);
  write_energy(w, s);
  write_carbon(w, s);
  write_attribution(w, s);
  write_self(w, s);
  return w.finish();
}

}  // namespace joulebench
