#include "rows.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "joulebench/carbon.h"
#include "schema.h"

namespace joulebench::store {
namespace {

// A JSON array of strings (warnings, sources); anything else reads as none.
std::vector<std::string> string_list(const std::string& json_text) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_array())
    for (const auto& x : j)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

// Columns 0-4 of a run row and of a run summary row alike.
template <class R>
void read_run_head(const Row& s, R& r) {
  r.id = s.text(0);
  r.kind = run_kind_from_string(s.text(1)).value_or(RunKind::measure);
  r.status = run_status_from_string(s.text(2)).value_or(RunStatus::failed);
  r.started_at = time_of(s.text(3));
  if (!s.is_null(4)) r.ended_at = time_of(s.text(4));
}

// Values in statement order; an empty optional (or name) is NULL.
class Values {
 public:
  Values& add(std::string v) { return push(std::move(v)); }
  Values& add(const char* v) { return push(std::string(v)); }
  Values& add(std::string_view v) { return push(std::string(v)); }
  Values& add(double v) { return push(v); }
  Values& add(std::int64_t v) { return push(v); }
  Values& add(int v) { return push(static_cast<std::int64_t>(v)); }
  template <typename T>
  Values& add(const std::optional<T>& v) {
    return v ? add(*v) : null();
  }
  Values& text_or_null(const std::string& v) { return v.empty() ? null() : add(v); }
  Values& null() { return push(std::monostate{}); }
  std::vector<SqlValue> take() { return std::move(values_); }

 private:
  Values& push(SqlValue v) {
    values_.push_back(std::move(v));
    return *this;
  }
  std::vector<SqlValue> values_;
};

// "INSERT INTO table (columns) VALUES (?1, ?2, ...)" for `count` columns.
std::string insert_sql(const char* table, const char* columns, std::size_t count, char placeholder) {
  std::string values;
  for (std::size_t i = 1; i <= count; ++i) values += fmt::format("{}{}{}", i == 1 ? "" : ", ", placeholder, i);
  return fmt::format("INSERT INTO {} ({}) VALUES ({})", table, columns, values);
}

}  // namespace

std::string run_ids_by_prefix_sql(char placeholder) {
  const std::string p = fmt::format("{}1", placeholder);  // as insert_sql numbers them
  return fmt::format("SELECT id FROM runs WHERE substr(id, 1, length({0})) = {0} ORDER BY id LIMIT 3", p);
}

std::optional<std::string> pick_run_id(const std::string& id_or_prefix, const std::vector<std::string>& ids) {
  if (ids.empty()) return std::nullopt;
  for (const auto& id : ids)
    if (id == id_or_prefix) return id;
  if (ids.size() > 1)
    throw InputError(fmt::format("run id prefix '{}' is ambiguous ({}, {}, ...): give more characters", id_or_prefix,
                                 ids[0], ids[1]));
  return ids.front();
}

RunRecord started_run(RunRecord run) {
  if (run.id.empty()) run.id = make_uuid();
  run.status = RunStatus::running;
  run.ended_at.reset();
  return run;
}

SqlInsert insert_run(const RunRecord& r, char placeholder) {
  Values v;
  v.add(r.id).add(to_string(r.kind)).add(to_string(r.status)).add(time_text(r.started_at));
  v.add(r.ended_at ? std::optional<std::string>(time_text(*r.ended_at)) : std::nullopt);
  v.add(r.user).add(r.machine.hostname).add(r.machine.os).add(r.machine.cpu_model);
  v.add(r.machine.cpu_count).add(r.machine.gpu_model).add(r.machine.gpu_count);
  v.add(r.machine.ram_total_gb).add(nlohmann::json(r.software).dump());
  v.add(r.intensity.country_iso3).add(r.intensity.country_name).add(r.intensity.cloud_provider);
  v.add(r.intensity.cloud_region).add(r.intensity.city).add(r.intensity.g_per_kwh);
  v.add(to_string(r.intensity.origin)).add(r.intensity.source).add(r.intensity.zone).add(r.intensity.year);
  v.add(r.pue).add(r.pue_source).add(r.config_json.empty() ? std::string("{}") : r.config_json);
  v.add(r.source).add(r.project).add(r.note);
  return {insert_sql("runs",
                     "id, kind, status, started_at, ended_at, user_name, hostname, os, cpu_model, cpu_count, "
                     "gpu_model, gpu_count, ram_total_gb, software_json, country_iso3, country_name, cloud_provider, "
                     "cloud_region, city, intensity_g_per_kwh, intensity_origin, intensity_source, intensity_zone, "
                     "intensity_year, pue, pue_source, config_json, source, project, note",
                     30, placeholder),
          v.take()};
}

SqlInsert insert_window(const std::string& run_id, const WindowRecord& w, char placeholder) {
  const Measurement& m = w.measurement;
  std::optional<double> attributed, dynamic;
  for (const auto& c : m.components) {
    if (!is_additive(c.component)) continue;
    if (c.attributed_energy_j) attributed = attributed.value_or(0.0) + *c.attributed_energy_j;
    if (c.dynamic_energy_j) dynamic = dynamic.value_or(0.0) + *c.dynamic_energy_j;
  }
  Values v;
  v.add(run_id).add(w.seq).add(m.name).text_or_null(w.task).text_or_null(w.model).text_or_null(w.dataset);
  v.add(w.phase).add(w.repetition).add(time_text(m.start_time)).add(m.duration_s);
  v.add(w.inferences).add(w.input_tokens).add(w.output_tokens).add(w.latency_p50_s).add(w.latency_p95_s);
  v.add(m.total_energy_j()).add(attributed).add(dynamic).add(w.g_co2e);
  v.add(to_string(m.weakest_provenance())).text_or_null(w.external_id).add(nlohmann::json(m.warnings).dump());
  v.add(w.batch_size).add(w.threads).text_or_null(w.dtype).text_or_null(w.device);
  v.add(w.zero_shot ? 1 : 0).add(w.includes_loading ? 1 : 0).add(w.loading_share);
  return {insert_sql("windows",
                     "run_id, seq, name, task, model, dataset, phase, repetition, started_at, duration_s, inferences, "
                     "input_tokens, output_tokens, latency_p50_s, latency_p95_s, energy_j, attributed_energy_j, "
                     "dynamic_energy_j, g_co2e, weakest_provenance, external_id, warnings_json, batch_size, threads, "
                     "dtype, device, zero_shot, includes_loading, loading_share",
                     29, placeholder),
          v.take()};
}

SqlInsert insert_component(const std::string& run_id, int seq, int idx, const ComponentEnergy& c, char placeholder) {
  Values v;
  v.add(run_id).add(seq).add(idx).add(to_string(c.component)).add(c.energy_j);
  v.add(c.attributed_energy_j).add(c.dynamic_energy_j).add(c.provenance.to_string());
  v.add(nlohmann::json(c.sources).dump()).add(c.band_factor);
  return {insert_sql("component_energy",
                     "run_id, seq, idx, component, energy_j, attributed_energy_j, dynamic_energy_j, provenance, "
                     "sources_json, band_factor",
                     10, placeholder),
          v.take()};
}

const char* const kSelectRunSql = R"sql(
SELECT id, kind, status, started_at, ended_at, user_name, hostname, os, cpu_model, cpu_count, gpu_model,
       gpu_count, ram_total_gb, software_json, country_iso3, country_name, cloud_provider, cloud_region, city,
       intensity_g_per_kwh, intensity_origin, intensity_source, intensity_zone, intensity_year, pue, pue_source,
       config_json, source, project, note
FROM runs)sql";

const char* const kSelectWindowSql = R"sql(
SELECT w.run_id, r.kind, r.status, r.intensity_g_per_kwh, r.pue,
       w.seq, w.name, COALESCE(w.task, ''), COALESCE(w.model, ''), COALESCE(w.dataset, ''), w.phase,
       w.repetition, w.started_at, w.duration_s, w.inferences, w.input_tokens, w.output_tokens,
       w.latency_p50_s, w.latency_p95_s, w.g_co2e, COALESCE(w.external_id, ''), w.warnings_json,
       w.batch_size, w.threads, COALESCE(w.dtype, ''), COALESCE(w.device, ''), w.zero_shot, w.includes_loading,
       w.loading_share
FROM windows w JOIN runs r ON r.id = w.run_id
)sql";

const char* const kSelectComponentSql = R"sql(
SELECT component, energy_j, attributed_energy_j, dynamic_energy_j, provenance, sources_json, band_factor
FROM component_energy
)sql";

RunRecord run_from_row(const Row& s) {
  RunRecord r;
  read_run_head(s, r);
  r.user = s.text(5);
  r.machine.hostname = s.text(6);
  r.machine.os = s.text(7);
  r.machine.cpu_model = s.text(8);
  r.machine.cpu_count = static_cast<int>(s.integer(9));
  r.machine.gpu_model = s.text(10);
  r.machine.gpu_count = static_cast<int>(s.integer(11));
  r.machine.ram_total_gb = s.opt_real(12);
  auto software = nlohmann::json::parse(s.text(13), nullptr, false);
  if (software.is_object())
    for (auto& [k, v] : software.items())
      if (v.is_string()) r.software[k] = v.get<std::string>();
  r.intensity.country_iso3 = s.text(14);
  r.intensity.country_name = s.text(15);
  r.intensity.cloud_provider = s.text(16);
  r.intensity.cloud_region = s.text(17);
  r.intensity.city = s.text(18);
  r.intensity.g_per_kwh = s.real(19);
  if (auto origin = intensity_origin_from_string(s.text(20))) r.intensity.origin = *origin;
  r.intensity.source = s.text(21);
  r.intensity.zone = s.text(22);
  if (auto y = s.opt_integer(23)) r.intensity.year = static_cast<int>(*y);
  r.pue = s.real(24);
  r.pue_source = s.text(25);
  r.config_json = s.text(26);
  r.source = s.text(27);
  r.project = s.text(28);
  r.note = s.text(29);
  return r;
}

RunSummary run_summary_from_row(const Row& s) {
  RunSummary r;
  read_run_head(s, r);
  r.hostname = s.text(5);
  r.source = s.text(6);
  r.project = s.text(7);
  r.windows = static_cast<int>(s.integer(8));
  r.energy_j = s.real(9);
  r.g_co2e = s.real(10);
  r.note = s.text(11);
  r.task = s.text(12) == s.text(13) ? s.text(12) : "(several)";
  r.model = s.text(14) == s.text(15) ? s.text(14) : "(several)";
  if (!s.is_null(16) && s.integer(16) == s.integer(17)) r.batch_size = static_cast<int>(s.integer(16));
  return r;
}

StoredWindow window_from_row(const Row& s) {
  StoredWindow sw;
  sw.run_id = s.text(0);
  sw.kind = run_kind_from_string(s.text(1)).value_or(RunKind::measure);
  sw.status = run_status_from_string(s.text(2)).value_or(RunStatus::failed);
  sw.intensity_g_per_kwh = s.real(3);
  sw.pue = s.real(4);
  WindowRecord& w = sw.window;
  w.seq = static_cast<int>(s.integer(5));
  w.measurement.name = s.text(6);
  w.task = s.text(7);
  w.model = s.text(8);
  w.dataset = s.text(9);
  w.phase = s.text(10);
  if (auto r = s.opt_integer(11)) w.repetition = static_cast<int>(*r);
  w.measurement.start_time = time_of(s.text(12));
  w.measurement.duration_s = s.real(13);
  w.inferences = s.opt_integer(14);
  w.input_tokens = s.opt_integer(15);
  w.output_tokens = s.opt_integer(16);
  w.latency_p50_s = s.opt_real(17);
  w.latency_p95_s = s.opt_real(18);
  w.g_co2e = s.opt_real(19);
  w.external_id = s.text(20);
  w.measurement.warnings = string_list(s.text(21));
  if (auto b = s.opt_integer(22)) w.batch_size = static_cast<int>(*b);
  if (auto t = s.opt_integer(23)) w.threads = static_cast<int>(*t);
  w.dtype = s.text(24);
  w.device = s.text(25);
  w.zero_shot = s.integer(26) != 0;
  w.includes_loading = s.integer(27) != 0;
  w.loading_share = s.opt_real(28);
  return sw;
}

ComponentEnergy component_from_row(const Row& s) {
  ComponentEnergy c;
  c.component = component_from_string(s.text(0)).value_or(Component::other);
  c.energy_j = s.real(1);
  c.attributed_energy_j = s.opt_real(2);
  c.dynamic_energy_j = s.opt_real(3);
  c.provenance = Provenance::parse(s.text(4)).value_or(Provenance{});
  c.sources = string_list(s.text(5));
  c.band_factor = s.opt_real(6).value_or(1.0);
  return c;
}

}  // namespace joulebench::store
