// GPT-2 (GPT2LMHeadModel) with Hugging Face names: "transformer.wte", "wpe",
// "h.N.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}", "ln_f";
// the LM head is tied to wte. With add_cross_attention (the captioning
// decoder of VisionEncoderDecoder), each block also has "crossattention.
// {q_attn, c_attn, c_proj}" and "ln_cross_attn" over encoder states.
#pragma once

#include <torch/torch.h>

#include "models/common/generation.h"
#include "models/common/hf_config.h"
#include "models/common/weights.h"

namespace joulebench::models {

struct Gpt2Config {
  std::int64_t vocab_size = 50257;
  std::int64_t max_positions = 1024;
  std::int64_t hidden = 768;
  std::int64_t layers = 12;
  std::int64_t heads = 12;
  std::int64_t inner = 3072;
  double layer_norm_eps = 1e-5;
  Activation act = Activation::gelu_tanh;
  bool add_cross_attention = false;
  std::int64_t bos_token_id = 50256;
  std::int64_t eos_token_id = 50256;
};
Gpt2Config gpt2_config_from_hf(const HfConfig& config);

class Gpt2LmImpl : public torch::nn::Module, public CausalLm, public Seq2SeqLm {
 public:
  explicit Gpt2LmImpl(const Gpt2Config& config);
  // Hidden states [B, T, E] for new ids; `attention_mask` [B, past + T];
  // `encoder_states` only with add_cross_attention.
  torch::Tensor hidden_states(const torch::Tensor& input_ids, const torch::Tensor& attention_mask, DecoderCache* cache,
                              const torch::Tensor& encoder_states = {}, const torch::Tensor& encoder_mask = {});
  torch::Tensor next_logits(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                            DecoderCache* cache) override;
  // As a decoder over encoder states (captioning): the decoder has no padding.
  torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) override { return input_ids; }
  torch::Tensor next_logits(const torch::Tensor& decoder_ids, const torch::Tensor& encoder_states,
                            const torch::Tensor& encoder_mask, DecoderCache* cache) override;
  std::int64_t decoder_start_token_id() const override { return config_.bos_token_id; }

  StateDictRules state_dict_rules() const;
  std::int64_t base_parameters() const { return count_parameters(*transformer_); }
  const Gpt2Config& config() const { return config_; }

 private:
  struct Block {
    torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr}, ln_cross{nullptr};
    Conv1D c_attn{nullptr}, c_proj{nullptr}, c_fc{nullptr}, mlp_proj{nullptr};
    Conv1D x_q{nullptr}, x_kv{nullptr}, x_proj{nullptr};
  };
  Gpt2Config config_;
  std::shared_ptr<torch::nn::Module> transformer_;
  torch::nn::Embedding wte_{nullptr}, wpe_{nullptr};
  torch::nn::LayerNorm ln_f_{nullptr};
  std::vector<Block> blocks_;
};
TORCH_MODULE(Gpt2Lm);

// Position ids for a left-padded batch: 0, 1, ... over real tokens (HF's
// generate does the same), the last `new_len` columns of `attention_mask`.
torch::Tensor positions_from_mask(const torch::Tensor& attention_mask, std::int64_t new_len);

}  // namespace joulebench::models
