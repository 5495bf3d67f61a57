#include <cmath>

#include "models/text/seq2seq.h"

namespace joulebench::models {

namespace {
constexpr std::int64_t kPositionOffset = 2;  // BartLearnedPositionalEmbedding's offset
}  // namespace

BartConfig bart_config_from_hf(const HfConfig& c) {
  BartConfig b;
  b.vocab_size = c.integer({"vocab_size"});
  b.d_model = c.integer({"d_model"});
  b.encoder_layers = c.integer({"encoder_layers"});
  b.decoder_layers = c.integer({"decoder_layers"});
  b.encoder_heads = c.integer({"encoder_attention_heads"});
  b.decoder_heads = c.integer({"decoder_attention_heads"});
  b.encoder_ffn = c.integer({"encoder_ffn_dim"});
  b.decoder_ffn = c.integer({"decoder_ffn_dim"});
  b.max_positions = c.integer("max_position_embeddings", 1024);
  b.scale_embedding = c.boolean("scale_embedding", false);
  b.act = activation_from_hf(c.string("activation_function", "gelu"));
  b.decoder_start_token_id = c.integer("decoder_start_token_id", 2);
  b.eos_token_id = c.integer("eos_token_id", 2);
  b.pad_token_id = c.integer("pad_token_id", 1);
  return b;
}

BartLmImpl::BartLmImpl(const BartConfig& config) : config_(config) {
  const auto d = config.d_model;
  model_ = add_container(*this, "model");
  shared_ = model_->register_module("shared", torch::nn::Embedding(config.vocab_size, d));
  auto make_stack = [&](const char* name, std::int64_t n_layers, std::int64_t heads, std::int64_t ffn, bool decoder,
                        std::vector<Layer>& layers, torch::nn::Embedding& pos, torch::nn::LayerNorm& embed_norm) {
    auto stack = add_container(*model_, name);
    pos = stack->register_module("embed_positions",
                                 torch::nn::Embedding(config.max_positions + kPositionOffset, d));
    auto list = add_container(*stack, "layers");
    for (std::int64_t i = 0; i < n_layers; ++i) {
      auto layer = add_container(*list, std::to_string(i));
      AttentionSpec spec;
      spec.embed_dim = d;
      spec.n_heads = heads;
      Layer l;
      l.self_attn = layer->register_module("self_attn", Attention(spec));
      l.self_norm = layer->register_module("self_attn_layer_norm", layer_norm(d, 1e-5));
      if (decoder) {
        l.cross_attn = layer->register_module("encoder_attn", Attention(spec));
        l.cross_norm = layer->register_module("encoder_attn_layer_norm", layer_norm(d, 1e-5));
      }
      l.fc1 = layer->register_module("fc1", linear(d, ffn));
      l.fc2 = layer->register_module("fc2", linear(ffn, d));
      l.final_norm = layer->register_module("final_layer_norm", layer_norm(d, 1e-5));
      layers.push_back(l);
    }
    embed_norm = stack->register_module("layernorm_embedding", layer_norm(d, 1e-5));
  };
  make_stack("encoder", config.encoder_layers, config.encoder_heads, config.encoder_ffn, false, enc_layers_, enc_pos_,
             enc_embed_norm_);
  make_stack("decoder", config.decoder_layers, config.decoder_heads, config.decoder_ffn, true, dec_layers_, dec_pos_,
             dec_embed_norm_);
  final_logits_bias_ = register_buffer("final_logits_bias", torch::zeros({1, config.vocab_size}));
}

torch::Tensor BartLmImpl::encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  const auto t = input_ids.size(1);
  const double scale = config_.scale_embedding ? std::sqrt(static_cast<double>(config_.d_model)) : 1.0;
  auto positions = torch::arange(kPositionOffset, t + kPositionOffset, input_ids.options());
  auto x = enc_embed_norm_->forward(shared_->forward(input_ids) * scale + enc_pos_->forward(positions));
  auto bias = padding_bias(attention_mask, t, x.scalar_type());
  for (auto& l : enc_layers_) {
    x = l.self_norm->forward(l.self_attn->forward(x, bias).add_(x));
    x = l.final_norm->forward(linear_forward(activate_(linear_forward(x, l.fc1), config_.act), l.fc2).add_(x));
  }
  return x;
}

torch::Tensor BartLmImpl::next_logits(const torch::Tensor& decoder_ids, const torch::Tensor& encoder_states,
                                      const torch::Tensor& encoder_mask, DecoderCache* cache) {
  const auto b = decoder_ids.size(0), t = decoder_ids.size(1);
  if (cache && cache->self.empty()) {
    cache->self.resize(dec_layers_.size());
    cache->cross.resize(dec_layers_.size());
  }
  const auto past = cache ? cache->length() : 0;
  const double scale = config_.scale_embedding ? std::sqrt(static_cast<double>(config_.d_model)) : 1.0;
  auto positions = torch::arange(past + kPositionOffset, past + t + kPositionOffset, decoder_ids.options());
  auto x = dec_embed_norm_->forward(shared_->forward(decoder_ids) * scale + dec_pos_->forward(positions));
  const auto dtype = x.scalar_type();
  auto self_bias = attention_bias(torch::ones({b, past + t}, decoder_ids.options()), t, true, dtype);
  auto cross_bias = padding_bias(encoder_mask, t, dtype);
  for (std::size_t i = 0; i < dec_layers_.size(); ++i) {
    auto& l = dec_layers_[i];
    x = l.self_norm->forward(l.self_attn->forward(x, self_bias, cache ? &cache->self[i] : nullptr).add_(x));
    x = l.cross_norm->forward(
        l.cross_attn->forward(x, cross_bias, cache ? &cache->cross[i] : nullptr, encoder_states).add_(x));
    x = l.final_norm->forward(linear_forward(activate_(linear_forward(x, l.fc1), config_.act), l.fc2).add_(x));
  }
  return linear_forward(x.select(1, t - 1), shared_->weight, final_logits_bias_[0]);
}

StateDictRules BartLmImpl::state_dict_rules() const {
  StateDictRules r;
  r.base_prefix = "model.";
  for (const char* p : {"embed_tokens\\.weight$", "^lm_head\\.weight$"}) r.ignore_unexpected.emplace_back(p);
  r.allow_missing.emplace_back("^final_logits_bias$");
  return r;
}

}  // namespace joulebench::models
