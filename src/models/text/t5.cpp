#include <cmath>

#include "models/text/seq2seq.h"

namespace joulebench::models {

T5Config t5_config_from_hf(const HfConfig& c) {
  T5Config t;
  t.vocab_size = c.integer({"vocab_size"});
  t.d_model = c.integer({"d_model"});
  t.d_kv = c.integer({"d_kv"});
  t.d_ff = c.integer({"d_ff"});
  t.encoder_layers = c.integer({"num_layers"});
  t.decoder_layers = c.integer("num_decoder_layers", t.encoder_layers);
  t.heads = c.integer({"num_heads"});
  t.buckets = c.integer("relative_attention_num_buckets", 32);
  t.max_distance = c.integer("relative_attention_max_distance", 128);
  t.eps = c.number("layer_norm_epsilon", 1e-6);
  const auto proj = c.string("feed_forward_proj", "relu");
  t.gated = proj.rfind("gated-", 0) == 0;
  t.act = activation_from_hf(t.gated ? (proj.substr(6) == "gelu" ? "gelu_new" : proj.substr(6)) : proj);
  t.tied = c.boolean("tie_word_embeddings", true);
  t.decoder_start_token_id = c.integer("decoder_start_token_id", 0);
  t.eos_token_id = c.integer("eos_token_id", 1);
  t.pad_token_id = c.integer("pad_token_id", 0);
  return t;
}

T5LmImpl::T5LmImpl(const T5Config& config) : config_(config) {
  const auto d = config.d_model;
  shared_ = register_module("shared", torch::nn::Embedding(config.vocab_size, d));
  auto make_stack = [&](const char* name, std::int64_t n_layers, bool decoder, std::vector<Layer>& layers,
                        torch::nn::Embedding& rel, RmsNorm& final_norm) {
    auto stack = add_container(*this, name);
    auto blocks = add_container(*stack, "block");
    for (std::int64_t i = 0; i < n_layers; ++i) {
      auto block = add_container(*add_container(*blocks, std::to_string(i)), "layer");
      Layer l;
      AttentionSpec spec;
      spec.embed_dim = d;
      spec.n_heads = config.heads;
      spec.head_dim = config.d_kv;
      spec.bias = false;
      spec.scale = 1.0;  // T5 folds the scaling into its initialisation
      spec.q = "q";
      spec.k = "k";
      spec.v = "v";
      spec.o = "o";
      auto l0 = add_container(*block, "0");
      l.self_attn = l0->register_module("SelfAttention", Attention(spec));
      if (i == 0) {
        rel = l.self_attn->register_module("relative_attention_bias",
                                           torch::nn::Embedding(config.buckets, config.heads));
      }
      l.self_norm = l0->register_module("layer_norm", RmsNorm(d, config.eps));
      int ff_index = 1;
      if (decoder) {
        auto l1 = add_container(*block, "1");
        l.cross_attn = l1->register_module("EncDecAttention", Attention(spec));
        l.cross_norm = l1->register_module("layer_norm", RmsNorm(d, config.eps));
        ff_index = 2;
      }
      auto lf = add_container(*block, std::to_string(ff_index));
      auto ff = add_container(*lf, "DenseReluDense");
      if (config.gated) {
        l.wi = ff->register_module("wi_0", linear(d, config.d_ff, false));
        l.wi_1 = ff->register_module("wi_1", linear(d, config.d_ff, false));
      } else {
        l.wi = ff->register_module("wi", linear(d, config.d_ff, false));
      }
      l.wo = ff->register_module("wo", linear(config.d_ff, d, false));
      l.ff_norm = lf->register_module("layer_norm", RmsNorm(d, config.eps));
      layers.push_back(l);
    }
    final_norm = stack->register_module("final_layer_norm", RmsNorm(d, config.eps));
  };
  make_stack("encoder", config.encoder_layers, false, enc_layers_, enc_rel_, enc_final_);
  make_stack("decoder", config.decoder_layers, true, dec_layers_, dec_rel_, dec_final_);
  if (!config.tied) lm_head_ = register_module("lm_head", linear(d, config.vocab_size, false));
}

torch::Tensor T5LmImpl::position_bias(torch::nn::Embedding& table, std::int64_t q_len, std::int64_t k_len,
                                      bool bidirectional, torch::Device device) const {
  auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  auto context = torch::arange(k_len - q_len, k_len, opts).unsqueeze(1);
  auto memory = torch::arange(k_len, opts).unsqueeze(0);
  auto rel = memory - context;
  auto buckets = torch::zeros_like(rel);
  auto n = config_.buckets;
  if (bidirectional) {
    n /= 2;
    buckets = buckets + rel.gt(0).to(torch::kLong) * n;
    rel = rel.abs();
  } else {
    rel = -torch::min(rel, torch::zeros_like(rel));
  }
  const auto max_exact = n / 2;
  auto is_small = rel.lt(max_exact);
  auto large = max_exact + (torch::log(rel.to(torch::kFloat32) / max_exact) /
                            std::log(static_cast<double>(config_.max_distance) / max_exact) * (n - max_exact))
                               .to(torch::kLong);
  large = torch::min(large, torch::full_like(large, n - 1));
  buckets = buckets + torch::where(is_small, rel, large);
  return table->forward(buckets).permute({2, 0, 1}).unsqueeze(0);  // [1, H, q, k]
}

torch::Tensor T5LmImpl::feed_forward(Layer& l, const torch::Tensor& x) const {
  auto h = l.ff_norm->forward(x);
  auto inner = activate_(linear_forward(h, l.wi), config_.act);
  if (l.wi_1) inner.mul_(linear_forward(h, l.wi_1));
  return linear_forward(inner, l.wo).add_(x);
}

torch::Tensor T5LmImpl::encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  const auto t = input_ids.size(1);
  auto x = shared_->forward(input_ids);
  auto bias = attention_bias(attention_mask, t, false, x.scalar_type()) +
              position_bias(enc_rel_, t, t, true, x.device()).to(x.scalar_type());
  for (auto& l : enc_layers_) {
    x = l.self_attn->forward(l.self_norm->forward(x), bias).add_(x);
    x = feed_forward(l, x);
  }
  return enc_final_->forward(x);
}

torch::Tensor T5LmImpl::next_logits(const torch::Tensor& decoder_ids, const torch::Tensor& encoder_states,
                                    const torch::Tensor& encoder_mask, DecoderCache* cache) {
  const auto b = decoder_ids.size(0), t = decoder_ids.size(1);
  if (cache && cache->self.empty()) {
    cache->self.resize(dec_layers_.size());
    cache->cross.resize(dec_layers_.size());
  }
  const auto past = cache ? cache->length() : 0;
  auto x = shared_->forward(decoder_ids);
  const auto dtype = x.scalar_type();
  auto self_mask = torch::ones({b, past + t}, decoder_ids.options());
  auto self_bias = attention_bias(self_mask, t, true, dtype) +
                   position_bias(dec_rel_, t, past + t, false, x.device()).to(dtype);
  auto cross_bias = attention_bias(encoder_mask, t, false, dtype);
  for (std::size_t i = 0; i < dec_layers_.size(); ++i) {
    auto& l = dec_layers_[i];
    x = l.self_attn->forward(l.self_norm->forward(x), self_bias, cache ? &cache->self[i] : nullptr).add_(x);
    x = l.cross_attn->forward(l.cross_norm->forward(x), cross_bias, cache ? &cache->cross[i] : nullptr, encoder_states)
            .add_(x);
    x = feed_forward(l, x);
  }
  auto h = dec_final_->forward(x.select(1, t - 1));
  if (lm_head_) return linear_forward(h, lm_head_);
  return linear_forward(h * std::pow(static_cast<double>(config_.d_model), -0.5), shared_->weight);
}

StateDictRules T5LmImpl::state_dict_rules() const {
  StateDictRules r;
  for (const char* p : {"^encoder\\.embed_tokens\\.weight$", "^decoder\\.embed_tokens\\.weight$"}) {
    r.ignore_unexpected.emplace_back(p);
  }
  if (config_.tied) r.ignore_unexpected.emplace_back("^lm_head\\.weight$");
  return r;
}

std::int64_t T5LmImpl::base_parameters() const {
  return count_parameters(*this) - (lm_head_ ? lm_head_->weight.numel() : 0);
}

}  // namespace joulebench::models
