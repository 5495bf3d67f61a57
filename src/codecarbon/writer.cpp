// emissions.csv rows in CodeCarbon's columns, appended like CodeCarbon does.
#include <fmt/format.h>

#include <fstream>
#include <map>

#include "core/csv_reader.h"
#include "columns.h"
#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "joulebench/version.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;

std::string num(double v) { return fmt::format("{}", v); }
std::string opt(const std::optional<double>& v) { return v ? num(*v) : std::string(); }

std::map<std::string, std::string> fields_of(const CodeCarbonRecord& r) {
  return {
      {"task_name", r.task_name},
      {"timestamp", r.timestamp},
      {"project_name", r.project_name},
      {"run_id", r.run_id},
      {"experiment_id", r.experiment_id},
      {"duration", num(r.duration_s)},
      {"emissions", num(r.emissions_kg)},
      {"emissions_rate", num(r.emissions_rate_kg_per_s)},
      {"cpu_power", num(r.cpu_power_w)},
      {"gpu_power", num(r.gpu_power_w)},
      {"ram_power", num(r.ram_power_w)},
      {"cpu_energy", num(r.cpu_energy_kwh)},
      {"gpu_energy", num(r.gpu_energy_kwh)},
      {"ram_energy", num(r.ram_energy_kwh)},
      {"energy_consumed", num(r.energy_consumed_kwh)},
      {"water_consumed", opt(r.water_consumed_l)},
      {"country_name", r.country_name},
      {"country_iso_code", r.country_iso_code},
      {"region", r.region},
      {"cloud_provider", r.cloud_provider},
      {"cloud_region", r.cloud_region},
      {"os", r.os},
      {"python_version", r.python_version},
      {"codecarbon_version", r.codecarbon_version},
      {"cpu_count", std::to_string(r.cpu_count)},
      {"cpu_model", r.cpu_model},
      {"gpu_count", std::to_string(r.gpu_count)},
      {"gpu_model", r.gpu_model},
      {"longitude", opt(r.longitude)},
      {"latitude", opt(r.latitude)},
      {"ram_total_size", opt(r.ram_total_size_gb)},
      {"tracking_mode", r.tracking_mode},
      {"cpu_utilization_percent", opt(r.cpu_utilization_percent)},
      {"gpu_utilization_percent", opt(r.gpu_utilization_percent)},
      {"ram_utilization_percent", opt(r.ram_utilization_percent)},
      {"ram_used_gb", opt(r.ram_used_gb)},
      {"on_cloud", r.on_cloud},
      {"pue", opt(r.pue)},
      {"wue", opt(r.wue)},
  };
}

std::string csv_line(const std::vector<std::string>& columns, const std::map<std::string, std::string>& values) {
  std::string line;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i) line += ',';
    auto it = values.find(columns[i]);
    if (it != values.end()) line += detail::csv_escape(it->second);
  }
  return line + "\n";
}

}  // namespace

CodeCarbonRecord make_codecarbon_record(const Measurement& m, const CarbonResult& carbon,
                                        const CodeCarbonRunInfo& info) {
  CodeCarbonRecord r;
  const bool process = info.tracking_mode == "process";
  auto energy_kwh = [&](Component c) {
    const ComponentEnergy* e = m.find(c);
    if (!e) return 0.0;
    const double j = process && e->attributed_energy_j ? *e->attributed_energy_j : e->energy_j;
    return joules_to_kwh(j) * carbon.pue;  // CodeCarbon's energy columns include the PUE
  };
  auto power_w = [&](Component c) {
    const ComponentEnergy* e = m.find(c);
    if (!e || m.duration_s <= 0) return 0.0;
    const double j = process && e->attributed_energy_j ? *e->attributed_energy_j : e->energy_j;
    return j / m.duration_s;
  };
  r.timestamp = format_utc(m.start_time + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                              std::chrono::duration<double>(m.duration_s)));
  if (!r.timestamp.empty() && r.timestamp.back() == 'Z') r.timestamp.pop_back();  // CodeCarbon writes no zone
  r.project_name = info.project_name;
  r.run_id = info.run_id.empty() ? make_uuid() : info.run_id;
  r.experiment_id = info.experiment_id;
  r.duration_s = m.duration_s;
  r.cpu_power_w = power_w(Component::cpu);
  r.gpu_power_w = power_w(Component::gpu);
  r.ram_power_w = power_w(Component::dram);
  r.cpu_energy_kwh = energy_kwh(Component::cpu);
  r.gpu_energy_kwh = energy_kwh(Component::gpu);
  r.ram_energy_kwh = energy_kwh(Component::dram);
  r.energy_consumed_kwh = r.cpu_energy_kwh + r.gpu_energy_kwh + r.ram_energy_kwh;
  r.emissions_kg = r.energy_consumed_kwh * carbon.intensity.g_per_kwh / 1000.0;
  r.emissions_rate_kg_per_s = m.duration_s > 0 ? r.emissions_kg / m.duration_s : 0.0;
  r.water_consumed_l = 0.0;  // CodeCarbon: energy x WUE, WUE 0 by default
  r.country_name = carbon.intensity.country_name;
  r.country_iso_code = carbon.intensity.country_iso3;
  r.cloud_provider = carbon.intensity.cloud_provider;
  r.cloud_region = carbon.intensity.cloud_region;
  r.region = carbon.intensity.cloud_region.empty() ? "" : carbon.intensity.city;
  r.os = info.machine.os;
  r.codecarbon_version = std::string("joulebench-") + JOULEBENCH_VERSION;
  r.cpu_count = info.machine.cpu_count;
  r.cpu_model = info.machine.cpu_model;
  r.gpu_count = info.machine.gpu_count;
  r.gpu_model = info.machine.gpu_model;
  r.ram_total_size_gb = info.machine.ram_total_gb;
  r.tracking_mode = info.tracking_mode;
  r.on_cloud = carbon.intensity.cloud_provider.empty() ? "N" : "Y";
  r.pue = carbon.pue;
  r.wue = 0.0;
  return r;
}

namespace {

// The columns of an existing log (empty when the file is new or empty); a
// file that is not a CodeCarbon log is refused rather than appended to.
std::vector<std::string> existing_columns(const fs::path& file, bool* needs_newline) {
  std::error_code ec;
  if (!fs::exists(file, ec) || fs::file_size(file, ec) == 0) return {};
  if (fs::is_directory(file, ec))
    throw InputError(fmt::format("{} is a folder; give a CSV file name", file.string()));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read {} to append to it", file.string()));
  detail::CsvReader reader(in, file.string());
  auto header = reader.next();
  std::vector<std::string> missing;
  for (const auto& c : codecarbon_required_columns())
    if (!header || std::find(header->fields.begin(), header->fields.end(), c) == header->fields.end())
      missing.push_back(c);
  if (!missing.empty())
    throw InputError(fmt::format("{} exists and is not a CodeCarbon emissions.csv (missing columns: {}); "
                                 "not appending to it: choose another --csv file",
                                 file.string(), fmt::join(missing, ", ")));
  if (needs_newline) {
    in.clear();
    in.seekg(-1, std::ios::end);
    char last = '\n';
    *needs_newline = in.get(last) && last != '\n';
  }
  return header->fields;
}

}  // namespace

void check_codecarbon_csv_appendable(const fs::path& file) { existing_columns(file, nullptr); }

void append_codecarbon_csv(const fs::path& file, const CodeCarbonRecord& record) {
  bool needs_newline = false;
  std::vector<std::string> columns = existing_columns(file, &needs_newline);
  const bool is_new = columns.empty();
  if (is_new) {
    if (!record.task_name.empty()) columns.push_back("task_name");
    for (const auto& c : codecarbon_columns()) columns.push_back(c);
  }
  std::ofstream out(file, std::ios::app | std::ios::binary);
  if (!out) throw Error(fmt::format("cannot open {} for writing", file.string()));
  if (needs_newline) out << '\n';
  if (is_new) {
    std::map<std::string, std::string> names;
    for (const auto& c : columns) names[c] = c;
    out << csv_line(columns, names);
  }
  out << csv_line(columns, fields_of(record));
  if (!out.flush()) throw Error(fmt::format("cannot write to {}", file.string()));
}

}  // namespace joulebench
