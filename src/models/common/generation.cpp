#include "models/common/generation.h"

namespace joulebench::models {
namespace {

// Chooses the next tokens, keeping EOS out before min_new_tokens and writing
// pad for rows that have finished. Returns true when every row is done.
bool choose_next(torch::Tensor logits, int step, const GenerationConfig& config, torch::Tensor& finished,
                 torch::Tensor& next) {
  if (config.eos_token_id >= 0 && step < config.min_new_tokens) {
    logits = logits.clone();
    logits.select(1, config.eos_token_id).fill_(-std::numeric_limits<float>::infinity());
  }
  next = greedy_next(logits);
  next = torch::where(finished, torch::full_like(next, config.pad_token_id), next);
  if (config.eos_token_id >= 0) finished = finished | next.eq(config.eos_token_id);
  return finished.all().item<bool>();
}

GenerationResult finish(std::vector<torch::Tensor>& steps, const GenerationConfig& config, std::int64_t batch) {
  GenerationResult r;
  if (steps.empty()) {
    r.tokens = torch::empty({batch, 0}, torch::kLong);
    r.lengths.assign(static_cast<std::size_t>(batch), 0);
    return r;
  }
  r.tokens = torch::stack(steps, 1).to(torch::kCPU);
  auto acc = r.tokens.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < batch; ++b) {
    std::int64_t n = acc.size(1);
    if (config.eos_token_id >= 0) {
      for (std::int64_t i = 0; i < acc.size(1); ++i) {
        if (acc[b][i] == config.eos_token_id) {
          n = i + 1;
          break;
        }
      }
    }
    r.lengths.push_back(n);
  }
  return r;
}

// The loop every decoder shares: `logits(input, cache)` gives the next
// token's logits from the newest tokens and the cache, or from the whole
// sequence without one (config.use_cache); `appended()` follows each new token.
template <class Logits, class Appended>
GenerationResult greedy_loop(torch::Tensor ids, const GenerationConfig& config, Logits&& logits, Appended&& appended) {
  const auto batch = ids.size(0);
  DecoderCache cache;
  auto finished = torch::zeros({batch}, torch::TensorOptions().dtype(torch::kBool).device(ids.device()));
  std::vector<torch::Tensor> steps;
  auto step_input = ids;
  for (int step = 0; step < config.max_new_tokens; ++step) {
    auto next_logits = config.use_cache ? logits(step_input, &cache) : logits(ids, nullptr);
    torch::Tensor next;
    const bool done = choose_next(next_logits, step, config, finished, next);
    steps.push_back(next);
    if (done || step + 1 == config.max_new_tokens) break;
    step_input = next.unsqueeze(1);
    ids = torch::cat({ids, step_input}, 1);
    appended();
  }
  return finish(steps, config, batch);
}

}  // namespace

GenerationResult greedy_generate(CausalLm& lm, const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                 const GenerationConfig& config) {
  auto mask = attention_mask;
  return greedy_loop(
      input_ids, config,
      [&](const torch::Tensor& input, DecoderCache* cache) { return lm.next_logits(input, mask, cache); },
      [&] { mask = torch::cat({mask, torch::ones({mask.size(0), 1}, mask.options())}, 1); });
}

GenerationResult greedy_generate_from_states(Seq2SeqLm& lm, const torch::Tensor& states,
                                             const torch::Tensor& encoder_mask, const GenerationConfig& config) {
  auto start = torch::full({states.size(0), 1}, lm.decoder_start_token_id(),
                           torch::TensorOptions().dtype(torch::kLong).device(states.device()));
  return greedy_loop(
      start, config,
      [&](const torch::Tensor& input, DecoderCache* cache) {
        return lm.next_logits(input, states, encoder_mask, cache);
      },
      [] {});
}

GenerationResult greedy_generate(Seq2SeqLm& lm, const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                 const GenerationConfig& config) {
  return greedy_generate_from_states(lm, lm.encode(input_ids, attention_mask), attention_mask, config);
}

}  // namespace joulebench::models
