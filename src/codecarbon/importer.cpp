// Reads CodeCarbon emissions.csv files (2.x, 3.x; task files with task_name;
// with or without pue) into runs of the store: one run per file, one window
// per row, written in one transaction. Bad rows are reported as file:line and
// skipped; a file that is not CodeCarbon's says which columns are missing.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "carbon/csv_reader.h"
#include "carbon/text_util.h"
#include "columns.h"
#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "joulebench/models.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

std::string phase_of(std::string_view task_name) {
  const std::string t = detail::to_lower(task_name);
  if (t.find("load") != std::string::npos) return "load";
  if (t.find("warmup") != std::string::npos || t.find("warm-up") != std::string::npos) return "warmup";
  if (t.find("idle") != std::string::npos) return "idle";
  return "inference";
}

class Row {
 public:
  Row(const std::map<std::string, std::size_t>& index, const std::vector<std::string>& fields)
      : index_(index), fields_(fields) {}
  bool has(const std::string& col) const { return index_.count(col) > 0; }
  std::string text(const std::string& col) const {
    auto it = index_.find(col);
    return it == index_.end() ? std::string() : std::string(detail::trim(fields_[it->second]));
  }
  // A number that must be present and >= 0; throws the reason otherwise.
  double energy(const std::string& col) const {
    const std::string t = text(col);
    auto v = detail::parse_double(t);
    if (!v) throw std::invalid_argument(fmt::format("column {}: '{}' is not a number", col, t));
    if (*v < 0) throw std::invalid_argument(fmt::format("column {}: {} is negative", col, *v));
    return *v;
  }
  std::optional<double> optional_number(const std::string& col) const {
    const std::string t = text(col);
    if (t.empty() || t == "nan" || t == "NaN") return std::nullopt;
    auto v = detail::parse_double(t);
    if (!v) throw std::invalid_argument(fmt::format("column {}: '{}' is not a number", col, t));
    return v;
  }

 private:
  const std::map<std::string, std::size_t>& index_;
  const std::vector<std::string>& fields_;
};

ComponentEnergy component(Component c, double kwh, double pue, ProvenanceKind kind) {
  ComponentEnergy e;
  e.component = c;
  e.energy_j = kwh_to_joules(kwh) / pue;  // CodeCarbon's energy columns include the PUE
  e.provenance = {kind, "codecarbon-log"};
  e.sources = {"codecarbon"};
  return e;
}

}  // namespace

std::string ImportIssue::to_string() const { return fmt::format("{}:{}: {}", file, line, reason); }

std::size_t CodeCarbonImportSummary::imported() const {
  std::size_t n = 0;
  for (const auto& f : files) n += f.imported;
  return n;
}
std::size_t CodeCarbonImportSummary::skipped() const {
  std::size_t n = 0;
  for (const auto& f : files) n += f.skipped;
  return n;
}
std::size_t CodeCarbonImportSummary::duplicates() const {
  std::size_t n = 0;
  for (const auto& f : files) n += f.duplicates;
  return n;
}
std::size_t CodeCarbonImportSummary::failed_files() const {
  std::size_t n = 0;
  for (const auto& f : files) n += f.error.empty() ? 0 : 1;
  return n;
}

CodeCarbonFileResult read_codecarbon_file(const fs::path& file, const CodeCarbonImportOptions& options,
                                          RunRecord* run) {
  CodeCarbonFileResult result;
  result.file = file;
  const std::string name = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    result.error = fmt::format("{}: cannot read the file", name);
    return result;
  }
  try {
    detail::CsvReader reader(in, name);
    auto header = reader.next();
    if (!header) {
      result.error = fmt::format("{}: empty file, not a CodeCarbon emissions.csv", name);
      return result;
    }
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < header->fields.size(); ++i) index[std::string(detail::trim(header->fields[i]))] = i;
    std::vector<std::string> missing;
    for (const auto& c : codecarbon_required_columns())
      if (!index.count(c)) missing.push_back(c);
    if (!missing.empty()) {
      result.error = fmt::format("{}: not a CodeCarbon emissions.csv: missing column{} {}", name,
                                 missing.size() > 1 ? "s" : "", fmt::join(missing, ", "));
      return result;
    }
    std::vector<std::string> columns;
    for (const auto& f : header->fields) columns.emplace_back(detail::trim(f));
    result.column_set = detail::describe_column_set(columns);
    const bool task_file = index.count("task_name") > 0;

    // Task and dataset: flag, else the study's file name, else none.
    std::optional<StudyFileTask> from_name = study_task_from_file_name(file.stem().string());
    if (options.task) {
      result.task = *options.task;
      result.task_origin = "--task";
    } else if (from_name) {
      result.task = from_name->task;
      result.task_origin = "file name";
    } else {
      result.task_origin = "none";
    }
    if (options.dataset) result.dataset = *options.dataset;
    else if (from_name) result.dataset = from_name->dataset;

    RunRecord r;
    r.kind = RunKind::import;
    r.status = RunStatus::complete;
    r.source = fs::absolute(file).lexically_normal().string();
    std::set<std::string> seen_ids;
    double total_g = 0.0, total_kwh = 0.0;
    std::optional<double> first_pue;
    bool mixed_pue = false;
    std::optional<Clock::time_point> first_start, last_end;

    while (auto rec = reader.next()) {
      ++result.rows;
      auto issue = [&](std::string reason) {
        result.issues.push_back({name, rec->line, std::move(reason)});
        ++result.skipped;
      };
      if (rec->fields.size() != header->fields.size()) {
        issue(fmt::format("{} fields where the header has {}", rec->fields.size(), header->fields.size()));
        continue;
      }
      Row row(index, rec->fields);
      try {
        const auto end = parse_utc(row.text("timestamp"));
        if (!end) throw std::invalid_argument(fmt::format("column timestamp: '{}' is not a date", row.text("timestamp")));
        const double duration_s = row.energy("duration");
        const double cpu = row.energy("cpu_energy"), gpu = row.energy("gpu_energy"), ram = row.energy("ram_energy");
        const double total = row.energy("energy_consumed");
        const double emissions_kg = row.energy("emissions");
        double pue = 1.0;
        if (auto p = row.optional_number("pue")) {
          if (*p < 1.0) throw std::invalid_argument(fmt::format("column pue: {} is below 1.0", *p));
          pue = *p;
        }
        if (cpu + gpu + ram > total * 1.001 + 1e-12)
          throw std::invalid_argument(fmt::format(
              "cpu_energy + gpu_energy + ram_energy = {} kWh exceeds energy_consumed = {} kWh", cpu + gpu + ram, total));
        const std::string run_id = row.text("run_id");
        const std::string task_name = task_file ? row.text("task_name") : std::string();
        const std::string external = task_name.empty() ? run_id : run_id + "/" + task_name;
        if (!external.empty() && !seen_ids.insert(external).second) {
          issue(fmt::format("run_id {} appears twice in this file", external));
          continue;
        }
        if (first_pue && *first_pue != pue) mixed_pue = true;
        if (!first_pue) first_pue = pue;

        WindowRecord w;
        w.external_id = external;
        w.task = result.task;
        w.dataset = result.dataset;
        w.model = row.text("project_name");
        w.phase = task_file ? phase_of(task_name) : "inference";
        if (w.phase == "inference") w.inferences = options.inferences;
        w.g_co2e = emissions_kg * 1000.0;
        Measurement& m = w.measurement;
        m.name = task_name.empty() ? w.model : task_name;
        m.duration_s = duration_s;
        m.start_time = *end - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration_s));
        // CodeCarbon's log does not say how each figure was obtained: GPU from
        // NVML power samples, CPU and RAM often from its fixed models (the
        // study's 42.5 W CPU and 3 W per 8 GB RAM). Marked accordingly.
        m.components = {component(Component::cpu, cpu, pue, ProvenanceKind::estimated),
                        component(Component::gpu, gpu, pue, ProvenanceKind::sampled),
                        component(Component::dram, ram, pue, ProvenanceKind::estimated)};
        const double other = total - (cpu + gpu + ram);
        if (other > 1e-9 * std::max(total, 1e-12)) {
          ComponentEnergy o = component(Component::other, other, pue, ProvenanceKind::estimated);
          m.components.push_back(o);  // energy_consumed covers more than the three parts
          m.warnings.push_back("energy_consumed exceeds cpu + gpu + ram; the rest is kept as 'other'");
        }
        total_g += w.g_co2e.value();
        total_kwh += total;
        if (!first_start || m.start_time < *first_start) first_start = m.start_time;
        if (!last_end || *end > *last_end) last_end = *end;
        if (r.windows.empty()) {
          r.project = row.text("project_name");
          r.machine.os = row.text("os");
          r.machine.cpu_model = row.text("cpu_model");
          r.machine.gpu_model = row.text("gpu_model");
          if (auto n = detail::parse_double(row.text("cpu_count"))) r.machine.cpu_count = static_cast<int>(*n);
          if (auto n = detail::parse_double(row.text("gpu_count"))) r.machine.gpu_count = static_cast<int>(*n);
          if (auto n = detail::parse_double(row.text("ram_total_size"))) r.machine.ram_total_gb = *n;
          r.software["codecarbon"] = row.text("codecarbon_version");
          if (!row.text("python_version").empty()) r.software["python"] = row.text("python_version");
          result.version = row.text("codecarbon_version");
          r.intensity.country_iso3 = row.text("country_iso_code");
          r.intensity.country_name = row.text("country_name");
          r.intensity.cloud_provider = row.text("cloud_provider");
          r.intensity.cloud_region = row.text("cloud_region");
          r.intensity.city = row.text("region");
        }
        r.windows.push_back(std::move(w));
      } catch (const std::invalid_argument& e) {
        issue(e.what());
      }
    }
    if (r.windows.empty() && result.rows == 0) result.issues.push_back({name, 1, "header only, no rows"});
    r.started_at = first_start.value_or(Clock::now());
    r.ended_at = last_end;
    r.pue = first_pue.value_or(1.0);
    r.pue_source = !index.count("pue") ? "no pue column: 1.0 (CodeCarbon's default before 2.2.3)"
                   : mixed_pue         ? "pue column (rows differ; each row's energy is divided by its own)"
                                       : "pue column of the log";
    r.intensity.origin = IntensityOrigin::logged;
    r.intensity.g_per_kwh = total_kwh > 0 ? total_g / total_kwh : 0.0;
    r.intensity.source = "CodeCarbon log: emissions / energy_consumed";
    r.intensity.zone = r.intensity.country_iso3;
    nlohmann::json config{{"importer", "codecarbon"},
                          {"inferences_per_row", options.inferences},
                          {"task", result.task},
                          {"task_origin", result.task_origin},
                          {"dataset", result.dataset},
                          {"column_set", result.column_set}};
    r.config_json = config.dump();
    if (run) *run = std::move(r);
  } catch (const InputError& e) {
    result.error = e.what();  // malformed CSV (file:line) from the reader
  }
  return result;
}

CodeCarbonImportSummary import_codecarbon(Store& store, const std::vector<fs::path>& paths,
                                          const CodeCarbonImportOptions& options) {
  if (options.task && !task_from_string(*options.task)) {
    std::string tasks;
    for (auto t : all_tasks()) tasks += (tasks.empty() ? "" : ", ") + std::string(to_string(t));
    throw InputError(fmt::format("--task '{}' is not one of the study's tasks: {}", *options.task, tasks));
  }
  if (options.inferences <= 0)
    throw InputError(fmt::format("--inferences must be positive, got {}", options.inferences));
  CodeCarbonImportSummary summary;
  summary.inferences_per_row = options.inferences;
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec))
        if (e.is_regular_file() && e.path().extension() == ".csv") found.push_back(e.path());
      std::sort(found.begin(), found.end());
      if (found.empty()) {
        CodeCarbonFileResult none;
        none.file = p;
        none.error = fmt::format("{}: folder holds no .csv file", p.string());
        summary.files.push_back(none);
      }
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(p);
    }
  }
  for (const auto& f : files) {
    RunRecord run;
    CodeCarbonFileResult result;
    std::error_code ec;
    if (!fs::exists(f, ec)) {
      result.file = f;
      result.error = fmt::format("{}: no such file", f.string());
      summary.files.push_back(std::move(result));
      continue;
    }
    result = read_codecarbon_file(f, options, &run);
    if (result.error.empty()) {
      std::vector<WindowRecord> fresh;
      for (auto& w : run.windows) {
        if (!w.external_id.empty() && store.has_external_id(w.external_id)) ++result.duplicates;
        else fresh.push_back(std::move(w));
      }
      run.windows = std::move(fresh);
      if (!run.windows.empty() && !options.dry_run) {
        try {
          result.run_id = store.save_run(run);
          result.imported = run.windows.size();
        } catch (const Error& e) {
          result.error = fmt::format("{}: nothing imported: {}", f.string(), e.what());
        }
      } else if (options.dry_run) {
        result.imported = run.windows.size();
      }
    }
    summary.files.push_back(std::move(result));
  }
  return summary;
}

}  // namespace joulebench
