// Energy per request read from the store, with messages that say what is
// stored when a name does not match and how to fill an empty store.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "joulebench/error.h"
#include "joulebench/projection.h"

namespace joulebench {
namespace {

void require_filled(Store& store) {
  if (store.list_runs().empty())
    throw InputError(fmt::format("the store {} holds no runs: fill it with `joulebench bench` or "
                                 "`joulebench import codecarbon FILES`",
                                 store.location()));
}

std::string joined(const std::vector<std::string>& names, std::size_t max = 30) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += fmt::format(", ... ({} in all)", names.size());
  return out.empty() ? "(none)" : out;
}

// Per-inference kWh of each inference window with a count.
struct Sum {
  double kwh = 0.0;
  double inferences = 0.0;
  int windows = 0;
  std::set<std::string> tasks;
};
Sum sum_windows(const std::vector<StoredWindow>& windows) {
  Sum s;
  for (const auto& sw : windows) {
    if (!sw.window.inferences || *sw.window.inferences <= 0) continue;
    // Mean of per-window figures (as the report), not a pooled ratio.
    s.kwh += joules_to_kwh(sw.window.measurement.total_energy_j()) / static_cast<double>(*sw.window.inferences);
    s.inferences += static_cast<double>(*sw.window.inferences);
    ++s.windows;
    s.tasks.insert(sw.window.task);
  }
  return s;
}

}  // namespace

std::vector<std::string> stored_models(Store& store) {
  WindowQuery q;
  std::set<std::string> names;
  for (const auto& sw : store.query_windows(q))
    if (!sw.window.model.empty()) names.insert(sw.window.model);
  return {names.begin(), names.end()};
}

EnergyPerRequest energy_per_request_of_model(Store& store, const std::string& model, const std::string& task) {
  require_filled(store);
  WindowQuery q;
  q.model = model;
  q.task = task;
  const Sum s = sum_windows(store.query_windows(q));
  if (s.windows == 0)
    throw InputError(fmt::format("no inference windows of model '{}'{} in {}; stored models: {}", model,
                                 task.empty() ? "" : fmt::format(" for task '{}'", task), store.location(),
                                 joined(stored_models(store))));
  // A multi-purpose model's tasks cost differently: a mean across them would describe no deployment.
  if (s.tasks.size() > 1) {
    std::vector<std::string> names;
    for (const auto& t : s.tasks) names.push_back(t.empty() ? "(no task: a run stored without one)" : t);
    throw InputError(fmt::format("model '{}' has results for several tasks ({}): choose one with --task TASK",
                                 model, joined(names)));
  }
  EnergyPerRequest e;
  e.kwh = s.kwh / s.windows;
  e.windows = s.windows;
  e.task = *s.tasks.begin();
  e.source = fmt::format("mean of {} inference window(s) of {} in {}", s.windows, model, store.location());
  return e;
}

EnergyPerRequest energy_per_request_of_run(Store& store, const std::string& run_id_or_prefix) {
  require_filled(store);
  auto run = store.load_run(run_id_or_prefix);
  if (!run) {
    std::vector<std::string> ids;
    for (const auto& r : store.list_runs()) ids.push_back(r.id);
    throw InputError(fmt::format("no run '{}' in {}; stored runs: {} (see `joulebench report --runs`)",
                                 run_id_or_prefix, store.location(), joined(ids, 10)));
  }
  WindowQuery q;
  q.run_id = run->id;
  q.include_unfinished = true;
  const Sum s = sum_windows(store.query_windows(q));
  if (s.windows == 0)
    throw InputError(fmt::format("run {} has no inference window with an inference count: give --kwh-per-request",
                                 run->id));
  EnergyPerRequest e;
  e.kwh = s.kwh / s.windows;
  e.windows = s.windows;
  e.task = s.tasks.size() == 1 ? *s.tasks.begin() : "";
  e.source = fmt::format("mean of {} inference window(s) of run {}", s.windows, run->id);
  return e;
}

double run_energy_kwh(Store& store, const std::string& run_id_or_prefix) {
  require_filled(store);
  auto run = store.load_run(run_id_or_prefix);
  if (!run) {
    std::vector<std::string> ids;
    for (const auto& r : store.list_runs()) ids.push_back(r.id);
    throw InputError(fmt::format("no run '{}' in {}; stored runs: {}", run_id_or_prefix, store.location(),
                                 joined(ids, 10)));
  }
  double kwh = 0.0;
  for (const auto& w : run->windows) kwh += joules_to_kwh(w.measurement.total_energy_j());
  if (kwh <= 0.0) throw InputError(fmt::format("run {} has no energy recorded", run->id));
  return kwh;
}

std::vector<ModelEnergy> models_of_task(Store& store, const std::string& task) {
  WindowQuery q;
  q.task = task;
  std::map<std::string, std::vector<StoredWindow>> by_model;
  for (auto& sw : store.query_windows(q))
    if (!sw.window.model.empty()) by_model[sw.window.model].push_back(std::move(sw));
  std::vector<ModelEnergy> out;
  for (const auto& [model, windows] : by_model) {
    const Sum s = sum_windows(windows);
    if (s.windows) out.push_back({model, s.kwh / s.windows, s.windows});
  }
  std::sort(out.begin(), out.end(),
            [](const ModelEnergy& a, const ModelEnergy& b) { return a.kwh_per_request < b.kwh_per_request; });
  return out;
}

}  // namespace joulebench
