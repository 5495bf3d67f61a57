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

#include "core/csv_reader.h"
#include "core/text_util.h"
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

// What a file's header and name say about all its rows.
struct FileContext {
  std::string name;    // the path, as given
  std::string source;  // absolute
  std::map<std::string, std::size_t> index;  // column -> position
  std::vector<std::string> columns;
  bool task_file = false;  // has task_name: one row per phase
  std::optional<StudyFileTask> from_name;
};

// Task and dataset: flag, else the study's file name, else (at merge)
// another file of the same run.
void take_task_and_dataset(const FileContext& f, const CodeCarbonImportOptions& options, CodeCarbonFileResult& result) {
  if (options.task) {
    result.task = *options.task;
    result.task_origin = "--task";
  } else if (f.from_name) {
    result.task = f.from_name->task;
    result.task_origin = "file name";
  } else {
    result.task_origin = "none";
  }
  if (options.dataset) result.dataset = normalize_dataset_name(*options.dataset);
  else if (f.from_name) result.dataset = f.from_name->dataset;
  result.zero_shot = options.zero_shot.value_or(f.from_name && f.from_name->zero_shot);
}

// A row's figures, checked against each other and the bounds of the flags.
struct RowFigures {
  Clock::time_point end;
  double duration_s = 0, cpu = 0, gpu = 0, ram = 0, total = 0, emissions_kg = 0, pue = 1.0;
};

RowFigures row_figures(const Row& row, const detail::CsvRecord& rec, const FileContext& f) {
  // Text is stored as UTF-8 (JSON, PostgreSQL and the reports need it): a
  // row that is not is refused here, with its line, not later by a report.
  for (std::size_t i = 0; i < rec.fields.size(); ++i)
    if (auto at = text::invalid_utf8_at(rec.fields[i]))
      throw std::invalid_argument(fmt::format("column {}: not valid UTF-8 (byte {} of the value); re-save "
                                              "the file as UTF-8",
                                              f.columns[i], *at + 1));
  RowFigures v;
  const auto end = parse_utc(row.text("timestamp"));
  if (!end) throw std::invalid_argument(fmt::format("column timestamp: '{}' is not a date", row.text("timestamp")));
  v.end = *end;
  v.duration_s = row.energy("duration");
  v.cpu = row.energy("cpu_energy");
  v.gpu = row.energy("gpu_energy");
  v.ram = row.energy("ram_energy");
  v.total = row.energy("energy_consumed");
  v.emissions_kg = row.energy("emissions");
  // The same bounds as the flags (include/joulebench/limits.h): a PUE of
  // 1000 would divide the energy by it, NaN would pass as 1.0.
  if (row.has("pue") && !row.text("pue").empty()) {
    const auto p = parse_number(row.text("pue"));
    if (!p) throw std::invalid_argument(fmt::format("column pue: '{}' is not a number", row.text("pue")));
    if (auto bad = limits_violation(*p, kPueLimits); !bad.empty()) throw std::invalid_argument("column pue: " + bad);
    v.pue = *p;
  }
  if (v.total > 0.0) {
    if (auto bad = limits_violation(v.emissions_kg * 1000.0 / v.total, kIntensityLimits); !bad.empty())
      throw std::invalid_argument(
          fmt::format("emissions {} kg for energy_consumed {} kWh: the intensity {}", v.emissions_kg, v.total, bad));
  } else if (v.emissions_kg > 0.0) {
    throw std::invalid_argument(
        fmt::format("emissions {} kg with energy_consumed 0 kWh: the two columns disagree", v.emissions_kg));
  }
  if (v.cpu + v.gpu + v.ram > v.total * 1.001 + 1e-12)
    throw std::invalid_argument(fmt::format("cpu_energy + gpu_energy + ram_energy = {} kWh exceeds energy_consumed = "
                                            "{} kWh",
                                            v.cpu + v.gpu + v.ram, v.total));
  return v;
}

// The window: its identity, what ran, and its energy per component.
// CodeCarbon's log does not say how each figure was obtained: GPU from NVML
// power samples, CPU and RAM often from its fixed models (the study's 42.5 W
// CPU and 3 W per 8 GB RAM). Marked accordingly.
WindowRecord row_window(const Row& row, const RowFigures& v, const FileContext& f, const CodeCarbonFileResult& result,
                        const CodeCarbonImportOptions& options, const std::string& task_name, const std::string& phase) {
  WindowRecord w;
  w.task = result.task;
  w.dataset = result.dataset;
  w.zero_shot = result.zero_shot;
  const std::string project_name = row.text("project_name");
  // auto: the study's logs and most inference logs name the model there;
  // joulebench measure --csv writes its --project, and "codecarbon" is
  // CodeCarbon's default project name.
  const bool written_by_joulebench = row.text("codecarbon_version").rfind("joulebench-", 0) == 0;
  const bool names_model =
      options.project_name_is == "model" ||
      (options.project_name_is == "auto" &&
       (f.from_name || (!written_by_joulebench && !project_name.empty() && project_name != "codecarbon")));
  w.model = names_model ? project_name : std::string();
  w.phase = phase;
  if (w.phase == "inference") w.inferences = options.inferences;
  w.g_co2e = v.emissions_kg * 1000.0;
  Measurement& m = w.measurement;
  m.name = task_name.empty() ? w.model : task_name;
  m.duration_s = v.duration_s;
  m.start_time = v.end - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(v.duration_s));
  m.components = {component(Component::cpu, v.cpu, v.pue, ProvenanceKind::estimated),
                  component(Component::gpu, v.gpu, v.pue, ProvenanceKind::sampled),
                  component(Component::dram, v.ram, v.pue, ProvenanceKind::estimated)};
  const double other = v.total - (v.cpu + v.gpu + v.ram);
  if (other > 1e-9 * std::max(v.total, 1e-12)) {
    m.components.push_back(component(Component::other, other, v.pue, ProvenanceKind::estimated));
    m.warnings.push_back("energy_consumed exceeds cpu + gpu + ram; the rest is kept as 'other'");
  }
  return w;
}

// The run's context: machine, software, location.
RunRecord row_run(const Row& row, const FileContext& f) {
  RunRecord r;
  r.kind = RunKind::import;
  r.status = RunStatus::complete;
  r.project = row.text("project_name");
  r.machine.os = row.text("os");
  r.machine.cpu_model = row.text("cpu_model");
  r.machine.gpu_model = row.text("gpu_model");
  if (auto n = detail::parse_double(row.text("cpu_count"))) r.machine.cpu_count = static_cast<int>(*n);
  if (auto n = detail::parse_double(row.text("gpu_count"))) r.machine.gpu_count = static_cast<int>(*n);
  if (auto n = detail::parse_double(row.text("ram_total_size"))) r.machine.ram_total_gb = *n;
  r.software["codecarbon"] = row.text("codecarbon_version");
  if (!row.text("python_version").empty()) r.software["python"] = row.text("python_version");
  r.intensity.country_iso3 = row.text("country_iso_code");
  r.intensity.country_name = row.text("country_name");
  r.intensity.cloud_provider = row.text("cloud_provider");
  r.intensity.cloud_region = row.text("cloud_region");
  r.intensity.city = row.text("region");
  r.pue_source = !f.index.count("pue") ? "no pue column: 1.0 (CodeCarbon's default before 2.2.3)"
                                       : "pue column of the log";
  return r;
}

// One data row. Throws std::invalid_argument with the reason a row is skipped.
LoggedRow read_row(const detail::CsvRecord& rec, const FileContext& f, const CodeCarbonImportOptions& options,
                   const CodeCarbonFileResult& result) {
  Row row(f.index, rec.fields);
  const RowFigures v = row_figures(row, rec, f);
  const std::string task_name = f.task_file ? row.text("task_name") : std::string();
  std::string phase = "inference";
  if (f.task_file) {
    auto known = phase_of(task_name, options.phases);
    if (!known)
      throw std::invalid_argument(fmt::format(
          "task_name '{}' is not a phase joulebench knows (load model, transfer model to GPU, query model, "
          "warm-up, idle): map it with --phase '{}=inference|load|warmup|idle'",
          task_name, detail::to_lower(detail::trim(task_name))));
    phase = *known;
  }
  LoggedRow out;
  out.line = rec.line;
  // A row without run_id is its own run, known by its content (so a re-import finds it).
  out.log_run_id = row.text("run_id");
  if (out.log_run_id.empty()) out.log_run_id = "row:" + hash_hex(fmt::format("{}", fmt::join(rec.fields, "\x1f")));
  out.whole_run = !f.task_file;
  out.study_file = f.from_name.has_value();
  out.pue = v.pue;
  out.source = f.source;
  out.task_origin = result.task_origin;
  out.window = row_window(row, v, f, result, options, task_name, phase);
  out.window.external_id = task_name.empty() ? out.log_run_id : out.log_run_id + "/" + task_name;
  out.run = row_run(row, f);
  return out;
}

// The header: every column CodeCarbon always writes must be there.
std::optional<FileContext> read_header(detail::CsvReader& reader, const fs::path& file, CodeCarbonFileResult& result) {
  FileContext f;
  f.name = file.string();
  auto header = reader.next();
  if (!header) {
    result.error = fmt::format("{}: empty file, not a CodeCarbon emissions.csv", f.name);
    return std::nullopt;
  }
  for (std::size_t i = 0; i < header->fields.size(); ++i) f.index[std::string(detail::trim(header->fields[i]))] = i;
  std::vector<std::string> missing;
  for (const auto& c : codecarbon_required_columns())
    if (!f.index.count(c)) missing.push_back(c);
  if (!missing.empty()) {
    result.error = fmt::format("{}: not a CodeCarbon emissions.csv: missing column{} {}", f.name,
                               missing.size() > 1 ? "s" : "", fmt::join(missing, ", "));
    return std::nullopt;
  }
  for (const auto& c : header->fields) f.columns.emplace_back(detail::trim(c));
  result.column_set = detail::describe_column_set(f.columns);
  f.task_file = f.index.count("task_name") > 0;
  f.from_name = study_task_from_file_name(file.stem().string());
  f.source = fs::absolute(file).lexically_normal().string();
  return f;
}

CodeCarbonFileResult read_codecarbon_file(const fs::path& file, const CodeCarbonImportOptions& options,
                                          std::vector<LoggedRow>* rows) {
  CodeCarbonFileResult result;
  result.file = file;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    result.error = fmt::format("{}: cannot read the file", file.string());
    return result;
  }
  try {
    detail::CsvReader reader(in, file.string());
    const auto f = read_header(reader, file, result);
    if (!f) return result;
    take_task_and_dataset(*f, options, result);
    std::set<std::string> seen_ids, log_runs;
    while (auto rec = reader.next()) {
      ++result.rows;
      auto issue = [&](std::string reason) {
        result.issues.push_back({f->name, rec->line, std::move(reason)});
        ++result.skipped;
      };
      if (rec->fields.size() != f->columns.size()) {
        issue(fmt::format("{} fields where the header has {}", rec->fields.size(), f->columns.size()));
        continue;
      }
      try {
        LoggedRow out = read_row(*rec, *f, options, result);
        if (!seen_ids.insert(out.window.external_id).second) {
          issue(fmt::format("run_id {} appears twice in this file", out.window.external_id));
          continue;
        }
        result.version = out.run.software["codecarbon"];
        log_runs.insert(out.log_run_id);
        if (rows) rows->push_back(std::move(out));
      } catch (const std::invalid_argument& e) {
        issue(e.what());
      }
    }
    if (result.rows == 0) result.error = fmt::format("{}: the header only, no rows: nothing to import", f->name);
    result.runs = log_runs.size();
  } catch (const InputError& e) {
    result.error = e.what();  // malformed CSV (file:line) from the reader
  }
  return result;
}

// A window from a row without task_name: the whole CodeCarbon run (a study
// complete/ row). Task-file rows carry "<run_id>/<task_name>" as external id.
bool is_whole_run_row(const WindowRecord& w) { return w.external_id.find('/') == std::string::npos; }

// What an imported run's config remembers between imports.
struct ImportMemory {
  nlohmann::json config;
  std::set<std::string> sources;  // the files its rows came from
  std::int64_t inferences = 0;
  bool whole_includes_loading = false;
};

ImportMemory read_memory(const RunRecord& run, const std::vector<LoggedRow>& rows, std::int64_t inferences) {
  ImportMemory m;
  m.config = nlohmann::json::parse(run.config_json.empty() ? "{}" : run.config_json, nullptr, false);
  if (!m.config.is_object()) m.config = nlohmann::json::object();
  if (m.config.contains("files") && m.config["files"].is_array())
    for (const auto& f : m.config["files"])
      if (f.is_string()) m.sources.insert(f.get<std::string>());
  m.inferences = inferences;
  if (m.config.value("inferences_per_row", 0) > 0) m.inferences = m.config["inferences_per_row"].get<std::int64_t>();
  // A study complete/ row is model loading + queries; a plain CodeCarbon row's content is not known.
  m.whole_includes_loading = m.config.value("whole_row_includes_loading", false);
  for (const auto& r : rows) m.whole_includes_loading = m.whole_includes_loading || (r.whole_run && r.study_file);
  return m;
}

// One model per run: its whole-run row's (the file the study's tables are
// built from). The study's logs name another model in a few task files
// (summarize_cnn_15: distilbart-xsum-12-6 there, distilbart-cnn-6-6 in
// base/): said, kept under the run's model, never dropped. Where
// project_name named a project rather than a model
// (CodeCarbonImportOptions::project_name_is), the project stays and the
// model is unknown. The new rows join `windows`; returns the task origin of
// the first that has a task.
std::string add_rows_under_one_model(RunRecord& run, std::vector<WindowRecord>& windows, std::vector<LoggedRow>& rows,
                                     ImportMemory& memory, std::vector<CodeCarbonFileResult>& files) {
  std::string model;
  for (const auto& w : windows)
    if (is_whole_run_row(w)) model = w.model;
  for (const auto& r : rows)
    if (model.empty() && r.whole_run) model = r.window.model;
  if (std::any_of(rows.begin(), rows.end(), [](const auto& r) { return !r.window.model.empty(); })) {
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
    memory.sources.insert(r.source);
    if (!have.insert(r.window.external_id).second) continue;
    if (r.window.model != model) {
      auto& fr = files[r.file_index];
      fr.notes.push_back({fr.file.string(), r.line,
                          fmt::format("run_id {} is run of model '{}' (its whole-run row); this row names '{}': "
                                      "stored under the run's model",
                                      r.log_run_id, model, r.window.model)});
      rename(r.window);
    }
    if (task_origin.empty() && !r.window.task.empty()) task_origin = r.task_origin;
    windows.push_back(std::move(r.window));
  }
  return task_origin;
}

// What every window of the run shares, and the run's energy.
struct RunTotals {
  std::string task, dataset;
  bool zero_shot = false;
  double g = 0.0, kwh = 0.0;
  std::optional<std::chrono::system_clock::time_point> first, last;
};

// One task, dataset and zero-shot mark for the run: the whole-run row's file
// names them (the study's complete/ files); a task file takes them from it.
// The run's inference energy is its query row when it has one; its whole-run
// row (load + query) is then kept as phase "whole".
RunTotals settle_windows(std::vector<WindowRecord>& windows, ImportMemory& memory, double pue) {
  RunTotals t;
  for (const bool whole_pass : {true, false})
    for (const auto& w : windows) {
      if (is_whole_run_row(w) != whole_pass) continue;
      if (t.task.empty()) t.task = w.task;
      if (t.dataset.empty()) t.dataset = w.dataset;
      t.zero_shot = t.zero_shot || w.zero_shot;
    }
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
  memory.whole_includes_loading = memory.whole_includes_loading || has_load;
  for (auto& w : windows) {
    if (w.task.empty()) w.task = t.task;
    if (w.dataset.empty()) w.dataset = t.dataset;
    w.zero_shot = t.zero_shot;
    const bool whole = is_whole_run_row(w);
    if (whole) {
      w.includes_loading = !has_query && memory.whole_includes_loading;
      w.phase = has_query ? "whole" : "inference";
      w.inferences = has_query ? std::nullopt : std::optional<std::int64_t>(memory.inferences);
      w.loading_share.reset();
      const double total = w.measurement.total_energy_j();
      if (!has_query && has_load && total > 0) w.loading_share = std::clamp(load_j / total, 0.0, 1.0);
    }
    if (!whole || !has_query) {  // the run's energy, counted once
      t.g += w.g_co2e.value_or(0.0);
      t.kwh += joules_to_kwh(w.measurement.total_energy_j()) * pue;  // as the log's energy_consumed
    }
    const auto start = w.measurement.start_time;
    const auto end = start + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 std::chrono::duration<double>(w.measurement.duration_s));
    if (!t.first || start < *t.first) t.first = start;
    if (!t.last || end > *t.last) t.last = end;
  }
  // Windows in time order: load, then query; the whole-run row last.
  std::stable_sort(windows.begin(), windows.end(), [](const WindowRecord& a, const WindowRecord& b) {
    const bool wa = a.phase == "whole", wb = b.phase == "whole";
    if (wa != wb) return wb;
    return a.measurement.start_time < b.measurement.start_time;
  });
  return t;
}

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
  ImportMemory memory = read_memory(run, rows, inferences);
  const std::string task_origin = add_rows_under_one_model(run, windows, rows, memory, files);
  const RunTotals t = settle_windows(windows, memory, run.pue);
  run.windows = std::move(windows);
  run.started_at = t.first.value_or(std::chrono::system_clock::now());
  run.ended_at = t.last;
  run.intensity.origin = IntensityOrigin::logged;
  run.intensity.g_per_kwh = t.kwh > 0 ? t.g / t.kwh : 0.0;
  run.intensity.source = "CodeCarbon log: emissions / energy_consumed";
  run.intensity.zone = run.intensity.country_iso3;
  run.source = fmt::format("{}", fmt::join(memory.sources, "; "));
  nlohmann::json& config = memory.config;
  config["importer"] = "codecarbon";
  config["codecarbon_run_id"] = log_run_id;
  config["inferences_per_row"] = memory.inferences;
  config["task"] = t.task;
  if (!task_origin.empty() || !config.contains("task_origin")) config["task_origin"] = task_origin;
  config["dataset"] = t.dataset;
  config["zero_shot"] = t.zero_shot;
  config["whole_row_includes_loading"] = memory.whole_includes_loading;
  config["files"] = memory.sources;
  run.config_json = config.dump();
  return run;
}

// The files to read: directories expanded to their *.csv files, sorted,
// recursively (a folder without one is a failed file).
std::vector<fs::path> expand_paths(const std::vector<fs::path>& paths, CodeCarbonImportSummary& summary) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      files.push_back(p);
      continue;
    }
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
  }
  return files;
}

// Every file read first, so the rows of one CodeCarbon run (a complete/ row
// and its base/ file) are written together, once: rows by log run, and the
// runs in the order first seen.
struct RowsByRun {
  std::map<std::string, std::vector<LoggedRow>> rows;
  std::vector<std::string> order;
};

RowsByRun read_all(const std::vector<fs::path>& files, const CodeCarbonImportOptions& options,
                   CodeCarbonImportSummary& summary) {
  RowsByRun out;
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
      auto& group = out.rows[r.log_run_id];
      if (group.empty()) out.order.push_back(r.log_run_id);
      group.push_back(std::move(r));
    }
  }
  return out;
}

// Stores one log run's rows: those already stored (in this run, or by an
// older joulebench in another) are counted, not added; the rest complete the
// stored run or make a new one.
void store_fresh_rows(Store& store, const std::string& id, const std::vector<LoggedRow>& rows,
                      const CodeCarbonImportOptions& options, CodeCarbonImportSummary& summary) {
  // The run as stored now, read before the rows are checked: a row another
  // process stores in between is then seen by the check, or makes our write
  // fail (and the caller look again); it is never stored twice.
  std::optional<RunRecord> stored = options.dry_run ? std::nullopt : store.load_run(id);
  if (stored && stored->id != id) stored.reset();  // a prefix of another run's id
  std::set<std::string> in_stored;
  if (stored)
    for (const auto& w : stored->windows) in_stored.insert(w.external_id);
  std::vector<LoggedRow> fresh;
  std::vector<std::size_t> duplicate_files, fresh_files;
  for (const auto& r : rows) {
    if (in_stored.count(r.window.external_id) || store.has_external_id(r.window.external_id)) {
      duplicate_files.push_back(r.file_index);
    } else {
      fresh.push_back(r);
      fresh_files.push_back(r.file_index);
    }
  }
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
      if (std::find(fr.run_ids.begin(), fr.run_ids.end(), run.id) == fr.run_ids.end()) fr.run_ids.push_back(run.id);
    }
  }
  for (std::size_t i : duplicate_files) ++summary.files[i].duplicates;
}

// One log run into the store. Another import may store the same run between
// our check and our write (the store refuses the second copy): the rows are
// then checked again, and count as already stored, or complete the run the
// other one wrote.
void import_log_run(Store& store, const std::vector<LoggedRow>& rows, const CodeCarbonImportOptions& options,
                    CodeCarbonImportSummary& summary) {
  const std::string id = import_run_id(rows.front().log_run_id);
  for (int attempt = 1;; ++attempt) {
    try {
      store_fresh_rows(store, id, rows, options, summary);
      return;
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
      for (const auto& r : rows) {
        auto& fr = summary.files[r.file_index];
        fr.issues.push_back({fr.file.string(), r.line, fmt::format("not stored: {}", e.what())});
        ++fr.skipped;
      }
      return;
    }
  }
}

}  // namespace

void check_import_options(const CodeCarbonImportOptions& options) {
  if (options.task && !task_from_string(*options.task))
    throw InputError(fmt::format("--task '{}' is not one of the study's tasks: {}", *options.task, task_names()));
  if (options.inferences <= 0)
    throw InputError(fmt::format("--inferences must be positive, got {}", options.inferences));
  for (const auto& [name, phase] : options.phases)
    if (phase != "inference" && phase != "load" && phase != "warmup" && phase != "idle")
      throw InputError(fmt::format("--phase '{}={}': the phase must be inference, load, warmup or idle", name, phase));
}

nlohmann::json import_summary_json(const CodeCarbonImportSummary& s, const std::string& store_location,
                                   bool dry_run) {
  auto files = nlohmann::json::array();
  for (const auto& f : s.files) {
    auto issues = nlohmann::json::array();
    for (const auto& i : f.issues) issues.push_back(i.to_string());
    auto notes = nlohmann::json::array();
    for (const auto& i : f.notes) notes.push_back(i.to_string());
    files.push_back({{"file", f.file.string()},
                     {"run_ids", f.run_ids},
                     {"runs", f.runs},
                     {"zero_shot", f.zero_shot},
                     {"codecarbon_version", f.version},
                     {"column_set", f.column_set},
                     {"task", f.task},
                     {"task_origin", f.task_origin},
                     {"dataset", f.dataset},
                     {"rows", f.rows},
                     {"imported", f.imported},
                     {"skipped", f.skipped},
                     {"duplicates", f.duplicates},
                     {"issues", issues},
                     {"notes", notes},
                     {"error", f.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.error)}});
  }
  return {{"store", store_location},
          {"dry_run", dry_run},
          {"inferences_per_row", s.inferences_per_row},
          {"imported", s.imported()},
          {"skipped", s.skipped()},
          {"duplicates", s.duplicates()},
          {"failed_files", s.failed_files()},
          {"files", files}};
}

CodeCarbonImportSummary import_codecarbon(Store& store, const std::vector<fs::path>& paths,
                                          const CodeCarbonImportOptions& options) {
  check_import_options(options);
  CodeCarbonImportSummary summary;
  summary.inferences_per_row = options.inferences;
  const std::vector<fs::path> files = expand_paths(paths, summary);
  const RowsByRun by_run = read_all(files, options, summary);
  for (const auto& log_run_id : by_run.order) import_log_run(store, by_run.rows.at(log_run_id), options, summary);
  return summary;
}

}  // namespace joulebench
