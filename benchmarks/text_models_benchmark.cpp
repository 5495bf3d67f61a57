// Text zoo speed: seconds per batch for one preset, on the workload that
// benchmarks/python/text_eager.py runs in PyTorch eager (same config, shapes,
// thread count): encoders one forward of `--seq` tokens; decoders `--seq`
// prompt tokens then exactly `--new-tokens` greedy tokens with the KV cache;
// encoder-decoders encode `--seq` tokens then decode `--new-tokens`.
// One process per preset, so that peak RSS is the preset's own.
//
//   text_models_benchmark --preset gpt2 --batch 8 --threads 2 --seq 32 --new-tokens 10
//   text_models_benchmark --preset gpt2 --print-config     (the config JSON for the Python side)
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "models/common/generation.h"
#include "models/text/presets.h"
#include "models/text/text_model.h"

using namespace joulebench;
using namespace joulebench::models;

int main(int argc, char** argv) {
  std::string preset_name, task_name;
  int batch = 1, threads = 2, seq = 128, new_tokens = 0, min_runs = 3;
  double min_time_s = 3.0;
  bool print_config = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--preset") preset_name = next();
    else if (a == "--batch") batch = std::stoi(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--seq") seq = std::stoi(next());
    else if (a == "--new-tokens") new_tokens = std::stoi(next());
    else if (a == "--min-time") min_time_s = std::stod(next());
    else if (a == "--min-runs") min_runs = std::stoi(next());
    else if (a == "--task") task_name = next();
    else if (a == "--print-config") print_config = true;
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  std::optional<Task> task;
  if (!task_name.empty()) task = task_from_string(task_name);
  const auto* preset = find_text_preset(preset_name, task);
  if (!preset) {
    std::cerr << "unknown text preset '" << preset_name << "'\n";
    return 2;
  }
  if (print_config) {
    std::cout << preset->config.dump() << "\n";
    return 0;
  }
  LoadOptions options;
  options.threads = threads;
  options.task = preset->task;
  TextModel model(*preset, options);
  const auto vocab = preset->config.at("vocab_size").get<std::int64_t>();
  torch::manual_seed(0);
  auto ids = torch::randint(8, std::min<std::int64_t>(vocab, 30000), {batch, seq}, torch::kLong);
  auto mask = torch::ones_like(ids);
  GenerationConfig gen = model.generation();
  gen.min_new_tokens = gen.max_new_tokens = new_tokens;  // exactly new_tokens, as the Python side
  gen.use_cache = true;

  auto run = [&] {
    c10::InferenceMode guard;
    // One element back, as the eager side returns the tensor untouched: a sum
    // over fill-mask's [batch, seq, vocab] logits alone took 2-20 ms.
    if (auto* enc = model.encoder()) return enc->forward(ids, mask).flatten()[0].item<float>();
    if (auto* lm = model.causal()) return static_cast<float>(greedy_generate(*lm, ids, mask, gen).tokens.sum().item<std::int64_t>());
    return static_cast<float>(greedy_generate(*model.seq2seq(), ids, mask, gen).tokens.sum().item<std::int64_t>());
  };
  run();  // warm-up
  std::vector<double> times;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [](auto t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  while (static_cast<int>(times.size()) < min_runs || elapsed(start) < min_time_s) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    times.push_back(elapsed(t0));
  }
  const double best = *std::min_element(times.begin(), times.end());
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  nlohmann::json out = {{"impl", "joulebench-cpp"},      {"preset", preset->name},
                        {"family", preset->family},      {"task", std::string(to_string(preset->task))},
                        {"batch", batch},                {"threads", at::get_num_threads()},
                        {"seconds_per_batch", best},     {"items_per_s", batch / best},
                        {"runs", times.size()},          {"peak_rss_mb", static_cast<double>(ru.ru_maxrss) / 1024.0}};
  std::cout << out.dump() << "\n";
  return 0;
}
