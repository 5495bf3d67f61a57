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
#include "core/text_safety.h"
#include "joulebench/codecarbon.h"
#include "joulebench/error.h"
#include "joulebench/limits.h"
#include "joulebench/models.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// A task file's task_name as a phase; nullopt when the name is not known,
// so that no unknown phase is ever counted as inference.
std::optional<std::string> phase_of(std::string_view task_name, const std::map<std::string, std::string>& extra) {
  const std::string t = detail::to_lower(detail::trim(task_name));
  if (auto it = extra.find(t); it != extra.end()) return it->second;
  static const std::map<std::string, std::string, std::less<>> kPhases{
      {"load model", "load"},         {"load", "load"},           {"loading", "load"},
      {"model loading", "load"},      {"transfer model to gpu", "load"},
      {"query model", "inference"},   {"inference", "inference"}, {"query", "inference"},
      {"warmup", "warmup"},           {"warm-up", "warmup"},      {"warm up", "warmup"},
      {"idle", "idle"},
  };
  if (auto it = kPhases.find(t); it != kPhases.end()) return it->second;
  return std::nullopt;
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

// 128 bits of FNV-1a (two seeds) as 32 hex digits: a stable name for a row or a run.
std::string hash_hex(std::string_view text) {
  auto fnv = [&](std::uint64_t h) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    return h;
  };
  return fmt::format("{:016x}{:016x}", fnv(14695981039346656037ULL), fnv(0x84222325cbf29ce4ULL));
}

}  // namespace

// Printable: a reason may quote a field, which may hold terminal escapes.
std::string ImportIssue::to_string() const {
  return text::printable(fmt::format("{}:{}: {}", file, line, reason));
}

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

std::string import_run_id(std::string_view log_run_id) {
  const std::string h = hash_hex(fmt::format("codecarbon-run:{}", log_run_id));
  // Formatted as a UUID (version 8: custom, RFC 9562), so ids look alike in every listing.
  return fmt::format("{}-{}-8{}-{:x}{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(13, 3),
                     0x8 | (std::stoi(h.substr(16, 1), nullptr, 16) & 0x3), h.substr(17, 3), h.substr(20, 12));
}

namespace {

// One row of a log, read: the window it becomes and its run's context.
struct LoggedRow {
  std::size_t file_index = 0;  // into the summary's files
  std::size_t line = 0;
  std::string log_run_id;  // CodeCarbon's run_id (or "row:HASH" for a row without one)
  bool whole_run = false;  // a row without task_name: the whole run
  bool study_file = false;  // from a file named as the study's complete/ files: its whole run includes loading
  double pue = 1.0;
  std::string source;       // the file, absolute
  std::string task_origin;  // "--task", "file name", "none"
  WindowRecord window;
  RunRecord run;  // machine, software, location (no windows)
};

CodeCarbonFileResult read_codecarbon_file(const fs::path& file, const CodeCarbonImportOptions& options,
                                          std::vector<LoggedRow>* rows) {
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

    // Task and dataset: flag, else the study's file name, else (at merge) another file of the same run.
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
    if (options.dataset) result.dataset = normalize_dataset_name(*options.dataset);
    else if (from_name) result.dataset = from_name->dataset;
    result.zero_shot = options.zero_shot.value_or(from_name && from_name->zero_shot);
    const std::string source = fs::absolute(file).lexically_normal().string();

    std::set<std::string> seen_ids;
    std::set<std::string> log_runs;
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
        // Text is stored as UTF-8 (JSON, PostgreSQL and the reports need it): a
        // row that is not is refused here, with its line, not later by a report.
        for (std::size_t i = 0; i < rec->fields.size(); ++i)
          if (auto at = text::invalid_utf8_at(rec->fields[i]))
            throw std::invalid_argument(fmt::format("column {}: not valid UTF-8 (byte {} of the value); re-save "
                                                    "the file as UTF-8",
                                                    columns[i], *at + 1));
        const auto end = parse_utc(row.text("timestamp"));
        if (!end) throw std::invalid_argument(fmt::format("column timestamp: '{}' is not a date", row.text("timestamp")));
        const double duration_s = row.energy("duration");
        const double cpu = row.energy("cpu_energy"), gpu = row.energy("gpu_energy"), ram = row.energy("ram_energy");
        const double total = row.energy("energy_consumed");
        const double emissions_kg = row.energy("emissions");
        // The same bounds as the flags (include/joulebench/limits.h): a PUE of
        // 1000 would divide the energy by it, NaN would pass as 1.0.
        double pue = 1.0;
        if (row.has("pue") && !row.text("pue").empty()) {
          const auto p = parse_number(row.text("pue"));
          if (!p) throw std::invalid_argument(fmt::format("column pue: '{}' is not a number", row.text("pue")));
          if (auto bad = limits_violation(*p, kPueLimits); !bad.empty())
            throw std::invalid_argument("column pue: " + bad);
          pue = *p;
        }
        if (total > 0.0) {
          if (auto bad = limits_violation(emissions_kg * 1000.0 / total, kIntensityLimits); !bad.empty())
            throw std::invalid_argument(fmt::format(
                "emissions {} kg for energy_consumed {} kWh: the intensity {}", emissions_kg, total, bad));
        } else if (emissions_kg > 0.0) {
          throw std::invalid_argument(
              fmt::format("emissions {} kg with energy_consumed 0 kWh: the two columns disagree", emissions_kg));
        }
        if (cpu + gpu + ram > total * 1.001 + 1e-12)
          throw std::invalid_argument(fmt::format(
              "cpu_energy + gpu_energy + ram_energy = {} kWh exceeds energy_consumed = {} kWh", cpu + gpu + ram, total));
        const std::string task_name = task_file ? row.text("task_name") : std::string();
        std::string phase = "inference";
        if (task_file) {
          auto known = phase_of(task_name, options.phases);
          if (!known)
            throw std::invalid_argument(fmt::format(
                "task_name '{}' is not a phase joulebench knows (load model, transfer model to GPU, query model, "
                "warm-up, idle): map it with --phase '{}=inference|load|warmup|idle'",
                task_name, detail::to_lower(detail::trim(task_name))));
          phase = *known;
        }
        // A row without run_id is its own run, known by its content (so a re-import finds it).
        std::string run_id = row.text("run_id");
        if (run_id.empty()) run_id = "row:" + hash_hex(fmt::format("{}", fmt::join(rec->fields, "\x1f")));
        const std::string external = task_name.empty() ? run_id : run_id + "/" + task_name;
        if (!seen_ids.insert(external).second) {
          issue(fmt::format("run_id {} appears twice in this file", external));
          continue;
        }

        LoggedRow out;
        out.line = rec->line;
        out.log_run_id = run_id;
        out.whole_run = !task_file;
        out.study_file = from_name.has_value();
        out.pue = pue;
        out.source = source;
        out.task_origin = result.task_origin;
        WindowRecord& w = out.window;
        w.external_id = external;
        w.task = result.task;
        w.dataset = result.dataset;
        w.zero_shot = result.zero_shot;
        const std::string project_name = row.text("project_name");
        // auto: the study's logs and most inference logs name the model
        // there; joulebench measure --csv writes its --project, and
        // "codecarbon" is CodeCarbon's default project name.
        const bool written_by_joulebench = row.text("codecarbon_version").rfind("joulebench-", 0) == 0;
        const bool names_model =
            options.project_name_is == "model" ||
            (options.project_name_is == "auto" &&
             (from_name || (!written_by_joulebench && !project_name.empty() && project_name != "codecarbon")));
        w.model = names_model ? project_name : std::string();
        w.phase = phase;
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
        RunRecord& r = out.run;
        r.kind = RunKind::import;
        r.status = RunStatus::complete;
        r.project = project_name;
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
        r.pue_source = !index.count("pue") ? "no pue column: 1.0 (CodeCarbon's default before 2.2.3)"
                                           : "pue column of the log";
        log_runs.insert(run_id);
        if (rows) rows->push_back(std::move(out));
      } catch (const std::invalid_argument& e) {
        issue(e.what());
      }
    }
    if (result.rows == 0) result.error = fmt::format("{}: the header only, no rows: nothing to import", name);
    result.runs = log_runs.size();
  } catch (const InputError& e) {
    result.error = e.what();  // malformed CSV (file:line) from the reader
  }
  return result;
}

// A window from a row without task_name: the whole CodeCarbon run (a study
// complete/ row). Task-file rows carry "<run_id>/<task_name>" as external id.
bool is_whole_run_row(const WindowRecord& w) { return w.external_id.find('/') == std::string::npos; }

// The run of `rows` (all of one log run, none stored yet) joined with what the
// store holds of it: model, phases, task and dataset settled over all its
// windows. A new row naming another model than the run's gets a note in
// `files` (by its file_index) and a warning on its window.
RunRecord merge_log_run(std::optional<RunRecord> stored, std::vector<LoggedRow> rows, std::int64_t inferences,
                        std::vector<CodeCarbonFileResult>& files) {
  const std::string log_run_id = rows.front().log_run_id;
  RunRecord run;
  std::vector<WindowRecord> windows;
  if (stored) {
    run = std::move(*stored);
    windows = std::move(run.windows);
    run.windows.clear();
  } else {
    run = rows.front().run;  // machine, software, location: the first row's
    run.id = import_run_id(log_run_id);
    run.pue = rows.front().pue;
    for (const auto& r : rows)
      if (r.pue != run.pue) run.pue_source = "pue column (rows differ; each row's energy is divided by its own)";
  }
  auto config = nlohmann::json::parse(run.config_json.empty() ? "{}" : run.config_json, nullptr, false);
  if (!config.is_object()) config = nlohmann::json::object();
  std::set<std::string> sources;
  if (config.contains("files") && config["files"].is_array())
    for (const auto& f : config["files"])
      if (f.is_string()) sources.insert(f.get<std::string>());
  if (config.value("inferences_per_row", 0) > 0) inferences = config["inferences_per_row"];
  // A study complete/ row is model loading + queries; a plain CodeCarbon row's content is not known.
  bool whole_includes_loading = config.value("whole_row_includes_loading", false);
  for (const auto& r : rows) whole_includes_loading = whole_includes_loading || (r.whole_run && r.study_file);

  // One model per run: its whole-run row's (the file the study's tables are
  // built from). The study's logs name another model in a few task files
  // (summarize_cnn_15: distilbart-xsum-12-6 there, distilbart-cnn-6-6 in
  // base/): said, kept under the run's model, never dropped.
  std::string model;
  for (const auto& w : windows)
    if (is_whole_run_row(w)) model = w.model;
  for (const auto& r : rows)
    if (model.empty() && r.whole_run) model = r.window.model;
  // One model per run, named as its project too; where project_name named a
  // project rather than a model (CodeCarbonImportOptions::project_name_is),
  // the project stays and the model is unknown.
  const bool rows_name_models =
      std::any_of(rows.begin(), rows.end(), [](const auto& r) { return !r.window.model.empty(); });
  if (rows_name_models) {
    if (model.empty()) model = run.project;
    run.project = model;
  }
  auto rename = [&](WindowRecord& w) {
    w.measurement.warnings.push_back(
        fmt::format("the log names model '{}' for this row; the run's whole-run row names '{}'", w.model, model));
    w.model = model;
  };
  for (auto& w : windows)
    if (w.model != model) rename(w);

  std::set<std::string> have;
  for (const auto& w : windows) have.insert(w.external_id);
  std::string task_origin;
  for (auto& r : rows) {
    sources.insert(r.source);
    if (!have.insert(r.window.external_id).second) continue;
    if (r.window.model != model) {
      auto& fr = files[r.file_index];
      fr.notes.push_back({fr.file.string(), r.line,
                          fmt::format("run_id {} is run of model '{}' (its whole-run row); this row names '{}': "
                                      "stored under the run's model",
                                      log_run_id, model, r.window.model)});
      rename(r.window);
    }
    if (task_origin.empty() && !r.window.task.empty()) task_origin = r.task_origin;
    windows.push_back(std::move(r.window));
  }
  // One task, dataset and zero-shot mark for the run: the whole-run row's file
  // names them (the study's complete/ files); a task file takes them from it.
  std::string task, dataset;
  bool zero_shot = false;
  for (const bool whole_pass : {true, false})
    for (const auto& w : windows) {
      if (is_whole_run_row(w) != whole_pass) continue;
      if (task.empty()) task = w.task;
      if (dataset.empty()) dataset = w.dataset;
      zero_shot = zero_shot || w.zero_shot;
    }
  // The run's inference energy is its query row when it has one; its
  // whole-run row (load + query) is then kept as phase "whole".
  const bool has_query = std::any_of(windows.begin(), windows.end(), [](const WindowRecord& w) {
    return !is_whole_run_row(w) && w.phase == "inference";
  });
  double load_j = 0.0;
  bool has_load = false;
  for (const auto& w : windows)
    if (w.phase == "load") {
      load_j += w.measurement.total_energy_j();
      has_load = true;
    }
  whole_includes_loading = whole_includes_loading || has_load;
  double g = 0.0, kwh = 0.0;
  std::optional<std::chrono::system_clock::time_point> first, last;
  for (auto& w : windows) {
    if (w.task.empty()) w.task = task;
    if (w.dataset.empty()) w.dataset = dataset;
    w.zero_shot = zero_shot;
    const bool whole = is_whole_run_row(w);
    if (whole) {
      w.includes_loading = !has_query && whole_includes_loading;
      w.phase = has_query ? "whole" : "inference";
      w.inferences = has_query ? std::nullopt : std::optional<std::int64_t>(inferences);
      w.loading_share.reset();
      const double total = w.measurement.total_energy_j();
      if (!has_query && has_load && total > 0) w.loading_share = std::clamp(load_j / total, 0.0, 1.0);
    }
    if (!whole || !has_query) {  // the run's energy, counted once
      g += w.g_co2e.value_or(0.0);
      kwh += joules_to_kwh(w.measurement.total_energy_j()) * run.pue;  // as the log's energy_consumed
    }
    const auto start = w.measurement.start_time;
    const auto end = start + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 std::chrono::duration<double>(w.measurement.duration_s));
    if (!first || start < *first) first = start;
    if (!last || end > *last) last = end;
  }
  // Windows in time order: load, then query; the whole-run row last.
  std::stable_sort(windows.begin(), windows.end(), [](const WindowRecord& a, const WindowRecord& b) {
    const bool wa = a.phase == "whole", wb = b.phase == "whole";
    if (wa != wb) return wb;
    return a.measurement.start_time < b.measurement.start_time;
  });
  run.windows = std::move(windows);
  run.started_at = first.value_or(std::chrono::system_clock::now());
  run.ended_at = last;
  run.intensity.origin = IntensityOrigin::logged;
  run.intensity.g_per_kwh = kwh > 0 ? g / kwh : 0.0;
  run.intensity.source = "CodeCarbon log: emissions / energy_consumed";
  run.intensity.zone = run.intensity.country_iso3;
  run.source = fmt::format("{}", fmt::join(sources, "; "));
  config["importer"] = "codecarbon";
  config["codecarbon_run_id"] = log_run_id;
  config["inferences_per_row"] = inferences;
  config["task"] = task;
  if (!task_origin.empty() || !config.contains("task_origin")) config["task_origin"] = task_origin;
  config["dataset"] = dataset;
  config["zero_shot"] = zero_shot;
  config["whole_row_includes_loading"] = whole_includes_loading;
  config["files"] = sources;
  run.config_json = config.dump();
  return run;
}

}  // namespace

CodeCarbonImportSummary import_codecarbon(Store& store, const std::vector<fs::path>& paths,
                                          const CodeCarbonImportOptions& options) {
  if (options.task && !task_from_string(*options.task)) {
    std::string tasks;
    for (auto t : all_tasks()) tasks += (tasks.empty() ? "" : ", ") + std::string(to_string(t));
    throw InputError(fmt::format("--task '{}' is not one of the study's tasks: {}", *options.task, tasks));
  }
  if (options.inferences <= 0)
    throw InputError(fmt::format("--inferences must be positive, got {}", options.inferences));
  for (const auto& [name, phase] : options.phases)
    if (phase != "inference" && phase != "load" && phase != "warmup" && phase != "idle")
      throw InputError(fmt::format("--phase '{}={}': the phase must be inference, load, warmup or idle", name, phase));
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
  // Every file is read first, so the rows of one CodeCarbon run (a complete/
  // row and its base/ file) are written together, once.
  std::map<std::string, std::vector<LoggedRow>> by_run;
  std::vector<std::string> order;  // runs in the order first seen
  for (const auto& f : files) {
    CodeCarbonFileResult result;
    std::error_code ec;
    if (!fs::exists(f, ec)) {
      result.file = f;
      result.error = fmt::format("{}: no such file", f.string());
      summary.files.push_back(std::move(result));
      continue;
    }
    std::vector<LoggedRow> rows;
    result = read_codecarbon_file(f, options, &rows);
    const std::size_t index = summary.files.size();
    summary.files.push_back(std::move(result));
    for (auto& r : rows) {
      r.file_index = index;
      auto& group = by_run[r.log_run_id];
      if (group.empty()) order.push_back(r.log_run_id);
      group.push_back(std::move(r));
    }
  }
  for (const auto& log_run_id : order) {
    auto& rows = by_run[log_run_id];
    const std::string id = import_run_id(log_run_id);
    std::vector<std::pair<std::size_t, std::size_t>> placed;  // (file, line) of each row
    for (const auto& r : rows) placed.emplace_back(r.file_index, r.line);
    // Another import may store the same run between our check and our write
    // (the store refuses the second copy): the rows are then checked again,
    // and count as already stored, or complete the run the other one wrote.
    for (int attempt = 1;; ++attempt) {
      try {
        // The run as stored now, read before the rows are checked: a row another
        // process stores in between is then seen by the check, or makes our
        // write fail (and this loop look again); it is never stored twice.
        std::optional<RunRecord> stored = options.dry_run ? std::nullopt : store.load_run(id);
        if (stored && stored->id != id) stored.reset();  // a prefix of another run's id
        std::set<std::string> in_stored;
        if (stored)
          for (const auto& w : stored->windows) in_stored.insert(w.external_id);
        // Stored already (in this run, or by an older joulebench in another): counted, not added.
        std::vector<LoggedRow> fresh;
        std::vector<std::size_t> duplicate_files;
        for (const auto& r : rows) {
          if (in_stored.count(r.window.external_id) || store.has_external_id(r.window.external_id))
            duplicate_files.push_back(r.file_index);
          else
            fresh.push_back(r);
        }
        std::vector<std::size_t> fresh_files;
        for (const auto& r : fresh) fresh_files.push_back(r.file_index);
        if (!fresh.empty()) {
          const bool completing = stored.has_value();
          RunRecord run = merge_log_run(std::move(stored), std::move(fresh), options.inferences, summary.files);
          if (!options.dry_run) {
            if (completing) store.replace_run(run);
            else store.save_run(run);
          }
          for (std::size_t i : fresh_files) {
            auto& fr = summary.files[i];
            ++fr.imported;
            if (std::find(fr.run_ids.begin(), fr.run_ids.end(), run.id) == fr.run_ids.end())
              fr.run_ids.push_back(run.id);
          }
        }
        for (std::size_t i : duplicate_files) ++summary.files[i].duplicates;
        break;
      } catch (const Error& e) {
        std::optional<RunRecord> now;
        if (attempt < 3 && !options.dry_run) {
          try {
            now = store.load_run(id);
          } catch (const Error&) {
          }
        }
        if (now && now->id == id) continue;  // written meanwhile by another process: look again
        // The store itself failing (a full disk, an I/O error), not a refused
        // value: every further run would fail the same way. Stop; what was
        // stored stays, and importing the same files again adds only the rest.
        if (!dynamic_cast<const InputError*>(&e)) {
          std::size_t stored = 0;
          for (const auto& f : summary.files) stored += f.imported;
          throw Error(fmt::format("{} ({} rows were stored before it; import the same files again once it is "
                                  "fixed: stored rows are skipped)",
                                  e.what(), stored));
        }
        // Nothing of this run was written (one transaction): the files can be imported again.
        for (const auto& [file_index, line] : placed) {
          auto& fr = summary.files[file_index];
          fr.issues.push_back({fr.file.string(), line, fmt::format("not stored: {}", e.what())});
          ++fr.skipped;
        }
        break;
      }
    }
  }
  return summary;
}

}  // namespace joulebench
