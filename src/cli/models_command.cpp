// joulebench models [--json] [--task T] [--size S]: every preset of the model
// zoo, with its bare-model and head parameter counts and whether real
// weights were found locally (contract: docs/models.md).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "joulebench/readable.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "json_text.h"

namespace joulebench::cli {

void register_models_command(CommandRegistry& registry) {
  struct Args {
    bool json = false;
    std::string task;
    std::string size;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "models", "list the model zoo's presets: task, parameters, head parameters, local weights");
  if (!registry.wanted(sub)) return;
  sub->add_flag("--json", args->json, "JSON array on stdout (contract: docs/models.md)");
  sub->add_option("--task", args->task, "only this task (e.g. text-generation)");
  sub->add_option("--size", args->size, "only this size class: tiny, small or study");
  registry.add(sub, [args] {
    std::optional<Task> task;
    if (!args->task.empty()) {
      task = task_from_string(args->task);
      if (!task) throw InputError(fmt::format("--task: unknown task '{}'", args->task));
    }
    if (!args->size.empty() && args->size != "tiny" && args->size != "small" && args->size != "study") {
      throw InputError(fmt::format("--size: expected tiny, small or study, got '{}'", args->size));
    }
    std::vector<ModelInfo> models;
    for (auto& m : list_models()) {
      if (task && m.task != *task) continue;
      if (!args->size.empty() && m.size_class != args->size) continue;
      models.push_back(std::move(m));
    }
    if (args->json) {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (const auto& m : models) {
        nlohmann::ordered_json parts = nlohmann::ordered_json::array();
        for (const auto& p : m.parts) parts.push_back({{"name", p.name}, {"parameters", p.parameters}});
        out.push_back({{"name", m.name},
                       {"task", std::string(to_string(m.task))},
                       {"family", m.family},
                       {"size_class", m.size_class},
                       {"multi_purpose", m.multi_purpose},
                       {"parameters", m.parameters},
                       {"head_parameters", m.head_parameters},
                       {"parts", parts},
                       {"weights_found", m.weights_found},
                       {"weights_path", m.weights_found ? nlohmann::ordered_json(m.weights_path)
                                                        : nlohmann::ordered_json(nullptr)}});
      }
      fmt::print("{}", json_text(out));
      return 0;
    }
    fmt::print("{:<50} {:<22} {:<17} {:<6} {:>14} {:>11}  {}\n", "name", "task", "family", "size", "parameters",
               "head", "weights");
    for (const auto& m : models) {
      fmt::print("{:<50} {:<22} {:<17} {:<6} {:>14} {:>11}  {}\n", m.name, to_string(m.task),
                 m.family + (m.multi_purpose ? " (multi)" : ""), m.size_class, readable_count(m.parameters),
                 readable_count(m.head_parameters),
                 m.weights_found ? "found" : "seeded random");
    }
    return 0;
  });
}

}  // namespace joulebench::cli
