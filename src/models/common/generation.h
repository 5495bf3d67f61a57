// Greedy decoding with a KV cache, shared by decoder-only models (GPT-2,
// BLOOM), encoder-decoders (T5, BART) and the captioning decoder of the
// vision part. Batches are left-padded for decoder-only models (so that every
// row's next token sits in the last column) with an attention mask.
#pragma once

#include <torch/torch.h>

#include "models/common/blocks.h"

namespace joulebench::models {

// A decoder-only language model.
class CausalLm {
 public:
  virtual ~CausalLm() = default;
  // Logits of the last position [B, V] for `input_ids` [B, T]. `attention_mask`
  // [B, past + T] covers the cached positions and the new ones. With `cache`
  // null, `input_ids` is the whole sequence (no cache).
  virtual torch::Tensor next_logits(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                    DecoderCache* cache) = 0;
};

// An encoder-decoder language model (or a decoder with cross-attention on an
// image encoder's output).
class Seq2SeqLm {
 public:
  virtual ~Seq2SeqLm() = default;
  // Encoder states [B, S, E] for input_ids [B, S] (right-padded) and mask.
  virtual torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) = 0;
  // Logits of the last position [B, V] for decoder ids [B, T] (all of them
  // when `cache` is null, else only the new ones).
  virtual torch::Tensor next_logits(const torch::Tensor& decoder_ids, const torch::Tensor& encoder_states,
                                    const torch::Tensor& encoder_mask, DecoderCache* cache) = 0;
  virtual std::int64_t decoder_start_token_id() const = 0;
};

struct GenerationConfig {
  int min_new_tokens = 0;
  int max_new_tokens = 20;
  std::int64_t eos_token_id = -1;  // -1: none
  std::int64_t pad_token_id = 0;   // written after a row's EOS
  bool use_cache = true;
};

struct GenerationResult {
  torch::Tensor tokens;               // [B, N] new tokens, pad after a row's EOS
  std::vector<std::int64_t> lengths;  // new tokens per row, EOS included
};

GenerationResult greedy_generate(CausalLm& lm, const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                 const GenerationConfig& config);
GenerationResult greedy_generate(Seq2SeqLm& lm, const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                 const GenerationConfig& config);
// Same, starting from encoder states computed elsewhere (image captioning).
GenerationResult greedy_generate_from_states(Seq2SeqLm& lm, const torch::Tensor& encoder_states,
                                             const torch::Tensor& encoder_mask, const GenerationConfig& config);

}  // namespace joulebench::models
