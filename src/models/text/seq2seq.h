// Encoder-decoder models with Hugging Face names: T5 / Flan-T5
// (T5ForConditionalGeneration: "shared", "encoder.block.N.layer.M...",
// relative position buckets, RMS norms, relu or gated-gelu feed-forward) and
// BART / DistilBART (BartForConditionalGeneration: "model.shared",
// "model.encoder.layers.N...", learned positions offset by 2, post-LN).
#pragma once

#include <torch/torch.h>

#include "models/common/blocks.h"
#include "models/common/generation.h"
#include "models/common/hf_config.h"
#include "models/common/weights.h"

namespace joulebench::models {

struct T5Config {
  std::int64_t vocab_size = 32128;
  std::int64_t d_model = 512;
  std::int64_t d_kv = 64;
  std::int64_t d_ff = 2048;
  std::int64_t encoder_layers = 6;
  std::int64_t decoder_layers = 6;
  std::int64_t heads = 8;
  std::int64_t buckets = 32;
  std::int64_t max_distance = 128;
  double eps = 1e-6;
  bool gated = false;  // feed_forward_proj "gated-gelu" (Flan-T5)
  Activation act = Activation::relu;
  bool tied = true;  // tie_word_embeddings (T5 v1.0); Flan-T5 has its own lm_head
  std::int64_t decoder_start_token_id = 0;
  std::int64_t eos_token_id = 1;
  std::int64_t pad_token_id = 0;
};
T5Config t5_config_from_hf(const HfConfig& config);

class T5LmImpl : public torch::nn::Module, public Seq2SeqLm {
 public:
  explicit T5LmImpl(const T5Config& config);
  torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) override;
  torch::Tensor next_logits(const torch::Tensor& decoder_ids, const torch::Tensor& encoder_states,
                            const torch::Tensor& encoder_mask, DecoderCache* cache) override;
  std::int64_t decoder_start_token_id() const override { return config_.decoder_start_token_id; }
  StateDictRules state_dict_rules() const;
  // T5Model's count: shared embeddings, encoder, decoder (no untied lm_head).
  std::int64_t base_parameters() const;

 private:
  torch::Tensor position_bias(torch::nn::Embedding& table, std::int64_t q_len, std::int64_t k_len, bool bidirectional,
                              torch::Device device) const;
  T5Config config_;
  torch::nn::Embedding shared_{nullptr}, enc_rel_{nullptr}, dec_rel_{nullptr};
  struct Layer {
    Attention self_attn{nullptr}, cross_attn{nullptr};
    RmsNorm self_norm{nullptr}, cross_norm{nullptr}, ff_norm{nullptr};
    Linear wi{nullptr}, wi_1{nullptr}, wo{nullptr};
  };
  std::vector<Layer> enc_layers_, dec_layers_;
  RmsNorm enc_final_{nullptr}, dec_final_{nullptr};
  Linear lm_head_{nullptr};
  torch::Tensor feed_forward(Layer& l, const torch::Tensor& x) const;
};
TORCH_MODULE(T5Lm);

struct BartConfig {
  std::int64_t vocab_size = 50265;
  std::int64_t d_model = 1024;
  std::int64_t encoder_layers = 12;
  std::int64_t decoder_layers = 12;
  std::int64_t encoder_heads = 16;
  std::int64_t decoder_heads = 16;
  std::int64_t encoder_ffn = 4096;
  std::int64_t decoder_ffn = 4096;
  std::int64_t max_positions = 1024;
  bool scale_embedding = false;
  Activation act = Activation::gelu;
  std::int64_t decoder_start_token_id = 2;
  std::int64_t eos_token_id = 2;
  std::int64_t pad_token_id = 1;
};
BartConfig bart_config_from_hf(const HfConfig& config);

class BartLmImpl : public torch::nn::Module, public Seq2SeqLm {
 public:
  explicit BartLmImpl(const BartConfig& config);
  torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) override;
  torch::Tensor next_logits(const torch::Tensor& decoder_ids, const torch::Tensor& encoder_states,
                            const torch::Tensor& encoder_mask, DecoderCache* cache) override;
  std::int64_t decoder_start_token_id() const override { return config_.decoder_start_token_id; }
  StateDictRules state_dict_rules() const;
  std::int64_t base_parameters() const { return count_parameters(*model_); }

 private:
  struct Layer {
    Attention self_attn{nullptr}, cross_attn{nullptr};
    torch::nn::LayerNorm self_norm{nullptr}, cross_norm{nullptr}, final_norm{nullptr};
    Linear fc1{nullptr}, fc2{nullptr};
  };
  BartConfig config_;
  std::shared_ptr<torch::nn::Module> model_;
  torch::nn::Embedding shared_{nullptr}, enc_pos_{nullptr}, dec_pos_{nullptr};
  torch::nn::LayerNorm enc_embed_norm_{nullptr}, dec_embed_norm_{nullptr};
  std::vector<Layer> enc_layers_, dec_layers_;
  torch::Tensor final_logits_bias_;
};
TORCH_MODULE(BartLm);

}  // namespace joulebench::models
