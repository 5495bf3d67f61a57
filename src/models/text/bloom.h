// BLOOM (BloomForCausalLM) with Hugging Face names: "transformer.
// word_embeddings", "word_embeddings_layernorm", "h.N.{input_layernorm,
// self_attention.query_key_value, self_attention.dense,
// post_attention_layernorm, mlp.dense_h_to_4h, mlp.dense_4h_to_h}", "ln_f";
// ALiBi position biases instead of position embeddings; LM head tied.
#pragma once

#include <torch/torch.h>

#include "models/common/blocks.h"
#include "models/common/generation.h"
#include "models/common/hf_config.h"
#include "models/common/weights.h"

namespace joulebench::models {

struct BloomConfig {
  std::int64_t vocab_size = 250880;
  std::int64_t hidden = 1024;
  std::int64_t layers = 24;
  std::int64_t heads = 16;
  double layer_norm_eps = 1e-5;
  std::int64_t eos_token_id = 2;
  std::int64_t pad_token_id = 3;
};
BloomConfig bloom_config_from_hf(const HfConfig& config);

class BloomLmImpl : public torch::nn::Module, public CausalLm {
 public:
  explicit BloomLmImpl(const BloomConfig& config);
  torch::Tensor next_logits(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                            DecoderCache* cache) override;
  StateDictRules state_dict_rules() const;
  std::int64_t base_parameters() const { return count_parameters(*transformer_); }

 private:
  struct Block {
    torch::nn::LayerNorm input_norm{nullptr}, post_norm{nullptr};
    Linear qkv{nullptr}, dense{nullptr}, up{nullptr}, down{nullptr};
  };
  BloomConfig config_;
  std::shared_ptr<torch::nn::Module> transformer_;
  torch::nn::Embedding embeddings_{nullptr};
  torch::nn::LayerNorm embed_norm_{nullptr}, ln_f_{nullptr};
  std::vector<Block> blocks_;
};
TORCH_MODULE(BloomLm);

}  // namespace joulebench::models
