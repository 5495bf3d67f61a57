// Planning a campaign: protocol presets, and the user's task and model names
// resolved to cells (with their inputs) before anything is measured.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "joulebench/bench.h"
#include "joulebench/error.h"

namespace joulebench {
namespace {

// The models of `zoo` serving `task` (every task when none), each once.
std::string names_of(const std::vector<ModelInfo>& zoo, std::optional<Task> task) {
  std::vector<std::string> names;
  for (const auto& m : zoo)
    if ((!task || m.task == *task) && std::find(names.begin(), names.end(), m.name) == names.end())
      names.push_back(m.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// The description of a TorchScript model: its TOML, then the flags.
TorchScriptSpec torchscript_spec(const std::string& path, const BenchRequest& request) {
  TorchScriptSpec spec = read_torchscript_spec(path, request.model_config);
  if (request.input_length) spec.input_length = *request.input_length;
  if (!request.image_size.empty()) {
    int h = 0, w = 0;
    char x = 0, extra = 0;
    const int n = std::sscanf(request.image_size.c_str(), "%d%c%d%c", &h, &x, &w, &extra);
    if (n == 1) w = h;
    else if (n != 3 || (x != 'x' && x != 'X')) h = 0;
    if (h < 1 || w < 1)
      throw InputError(fmt::format("--image-size {}: expected HEIGHTxWIDTH or one side, e.g. 224x224 or 224",
                                   request.image_size));
    spec.image_height = h;
    spec.image_width = w;
  }
  return spec;
}

struct Pairs {
  std::vector<std::pair<Task, std::string>> cells;  // (task, model) in campaign order
  std::map<std::string, TorchScriptSpec> torchscript;
};

// One named model: the tasks it serves among `tasks` (its first task when
// none is named), or a TorchScript file's.
void add_named_model(const std::string& name, const std::vector<Task>& tasks, const BenchRequest& request,
                     const std::vector<ModelInfo>& zoo, Pairs& out) {
  std::vector<Task> served;
  for (const auto& m : zoo)
    if (m.name == name) served.push_back(m.task);
  if (served.empty() && is_torchscript_path(name)) {
    TorchScriptSpec spec = torchscript_spec(name, request);
    if (tasks.empty() && !spec.task)
      throw InputError(fmt::format(
          "--model {}: which task does this TorchScript model serve? Give --task, or task = \"...\" in {}", name,
          spec.config_path.empty() ? std::filesystem::path(name).replace_extension(".toml").string()
                                   : spec.config_path));
    const std::string cell_name = spec.name.empty() ? name : spec.name;
    for (Task t : tasks.empty() ? std::vector<Task>{*spec.task} : tasks) out.cells.emplace_back(t, cell_name);
    out.torchscript.emplace(cell_name, std::move(spec));
    return;
  }
  if (served.empty()) {
    const std::optional<Task> only = tasks.size() == 1 ? std::optional(tasks[0]) : std::nullopt;
    throw InputError(fmt::format(
        "--model: unknown model '{}'; valid models{}: {} (or the path of a TorchScript file, .pt)", name,
        only ? fmt::format(" for {}", to_string(*only)) : "", names_of(zoo, only)));
  }
  bool any = false;
  for (Task t : served)
    if (tasks.empty() || std::find(tasks.begin(), tasks.end(), t) != tasks.end()) {
      out.cells.emplace_back(t, name);
      any = true;
      if (tasks.empty()) break;  // a multi-purpose model without --task: its first task
    }
  if (!any)
    throw InputError(fmt::format("--model {} does not serve {}; models for it: {}", name, to_string(tasks.front()),
                                 names_of(zoo, tasks.front())));
}

Pairs resolve_pairs(const BenchRequest& request, BenchProtocol protocol, const std::vector<ModelInfo>& zoo,
                    std::vector<Task> tasks) {
  Pairs out;
  if (!request.endpoint_url.empty()) {
    // A live server is not in the zoo: its models are whatever it serves.
    if (tasks.empty()) tasks = {Task::text_generation};
    for (Task t : tasks) out.cells.emplace_back(t, request.models.empty() ? request.endpoint_url : request.models.front());
    return out;
  }
  if (request.models.empty()) {
    if (tasks.empty()) tasks = all_tasks();
    for (Task t : tasks)
      for (auto& m : default_models(t, zoo, protocol)) out.cells.emplace_back(t, m);
    return out;
  }
  for (const auto& name : request.models) add_named_model(name, tasks, request, zoo, out);
  return out;
}

}  // namespace

std::string_view to_string(BenchProtocol protocol) {
  switch (protocol) {
    case BenchProtocol::quick: return "quick";
    case BenchProtocol::study: return "study";
    case BenchProtocol::custom: return "custom";
  }
  return "custom";
}

BenchProtocol bench_protocol(std::string_view name, bool names_nothing) {
  if (name.empty()) return names_nothing ? BenchProtocol::quick : BenchProtocol::custom;
  for (BenchProtocol p : {BenchProtocol::quick, BenchProtocol::study, BenchProtocol::custom})
    if (name == to_string(p)) return p;
  throw InputError(fmt::format("--protocol {}: expected quick, study or custom", name));
}

BenchPreset bench_preset(BenchProtocol protocol) {
  BenchPreset preset;
  preset.settings.protocol = protocol;
  if (protocol == BenchProtocol::study) {
    preset.idle_baseline_s = 30.0;
    preset.settings.cooldown_s = 5.0;
  } else if (protocol == BenchProtocol::quick) {
    // Small enough for a 2-core laptop in minutes (docs/bench.md).
    preset.settings.n = 30;
    preset.settings.reps = 3;
    preset.settings.warmup = 2;
  }
  return preset;
}

std::vector<std::string> default_models(Task task, const std::vector<ModelInfo>& models, BenchProtocol protocol) {
  auto pick = [&](const std::string& size) {
    std::vector<std::string> out;
    for (const auto& m : models)
      if (m.task == task && m.size_class == size && !m.multi_purpose &&
          std::find(out.begin(), out.end(), m.name) == out.end())
        out.push_back(m.name);
    return out;
  };
  if (protocol == BenchProtocol::study) return pick("study");
  // Text-to-image's small presets take ~13 minutes per image on a 2-core
  // CPU (docs/benchmarks.md): the quick run uses the tiny one.
  auto small = task == Task::text_to_image ? std::vector<std::string>{} : pick("small");
  if (small.empty()) small = pick("tiny");
  return small;
}

BenchPlan plan_campaign(const BenchRequest& request, BenchProtocol protocol, const std::vector<ModelInfo>& zoo,
                        const std::filesystem::path& data_dir) {
  std::vector<Task> tasks;
  for (const auto& t : request.tasks) {
    auto task = task_from_string(t);
    if (!task) throw InputError(fmt::format("--task: unknown task '{}'; valid tasks: {}", t, task_names()));
    tasks.push_back(*task);
  }
  Pairs pairs = resolve_pairs(request, protocol, zoo, std::move(tasks));
  // These describe a TorchScript file's inputs; anywhere else they would be
  // silently ignored, so say so.
  if (pairs.torchscript.empty() && (!request.model_config.empty() || request.input_length || !request.image_size.empty()))
    throw InputError("--model-config, --input-length and --image-size describe a TorchScript model's inputs: give "
                     "--model path/to/model.pt with them, or leave them out");

  BenchPlan plan;
  plan.torchscript = std::move(pairs.torchscript);
  if (!request.endpoint_url.empty() && !request.models.empty()) plan.endpoint_model = request.models.front();
  // Inputs per task, read once.
  std::map<Task, std::vector<std::shared_ptr<const BenchInputSet>>> inputs;
  for (const auto& [task, model] : pairs.cells) {
    auto& sets = inputs[task];
    if (sets.empty()) {
      if (!request.data.empty())
        sets.push_back(std::make_shared<BenchInputSet>(user_inputs(task, request.data, request.text_column)));
      else if (protocol == BenchProtocol::study)
        for (auto& s : study_input_sets(task, data_dir)) sets.push_back(std::make_shared<BenchInputSet>(std::move(s)));
      else
        sets.push_back(std::make_shared<BenchInputSet>(builtin_inputs(task, data_dir)));
    }
    std::string purpose;
    for (const auto& m : zoo)
      if (m.name == model) purpose = m.purpose;
    for (const auto& set : sets)
      for (int b : request.batches) plan.cells.push_back(BenchCell{task, model, set, b, purpose});
  }
  return plan;
}

}  // namespace joulebench
