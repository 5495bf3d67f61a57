#include "models/common/gpt2.h"

#include <cmath>

namespace joulebench::models {

Gpt2Config gpt2_config_from_hf(const HfConfig& c) {
  Gpt2Config g;
  g.vocab_size = c.integer({"vocab_size"});
  g.max_positions = c.integer({"n_positions", "max_position_embeddings"});
  g.hidden = c.integer({"n_embd", "hidden_size"});
  g.layers = c.integer({"n_layer", "num_hidden_layers"});
  g.heads = c.integer({"n_head", "num_attention_heads"});
  g.inner = c.integer("n_inner", 4 * g.hidden);
  g.layer_norm_eps = c.number("layer_norm_epsilon", 1e-5);
  g.act = activation_from_hf(c.string("activation_function", "gelu_new"));
  g.add_cross_attention = c.boolean("add_cross_attention", false);
  g.bos_token_id = c.integer("bos_token_id", 50256);
  g.eos_token_id = c.integer("eos_token_id", 50256);
  return g;
}

torch::Tensor positions_from_mask(const torch::Tensor& attention_mask, std::int64_t new_len) {
  auto pos = attention_mask.to(torch::kLong).cumsum(-1) - 1;
  pos = pos.masked_fill(attention_mask.eq(0), 1);
  return pos.narrow(1, pos.size(1) - new_len, new_len);
}

Gpt2LmImpl::Gpt2LmImpl(const Gpt2Config& config) : config_(config) {
  const auto e = config.hidden;
  transformer_ = add_container(*this, "transformer");
  wte_ = transformer_->register_module("wte", torch::nn::Embedding(config.vocab_size, e));
  wpe_ = transformer_->register_module("wpe", torch::nn::Embedding(config.max_positions, e));
  auto h = add_container(*transformer_, "h");
  for (std::int64_t i = 0; i < config.layers; ++i) {
    auto block = add_container(*h, std::to_string(i));
    Block b;
    b.ln_1 = block->register_module("ln_1", layer_norm(e, config.layer_norm_eps));
    auto attn = add_container(*block, "attn");
    b.c_attn = attn->register_module("c_attn", Conv1D(e, 3 * e));
    b.c_proj = attn->register_module("c_proj", Conv1D(e, e));
    b.ln_2 = block->register_module("ln_2", layer_norm(e, config.layer_norm_eps));
    if (config.add_cross_attention) {
      auto x = add_container(*block, "crossattention");
      b.x_kv = x->register_module("c_attn", Conv1D(e, 2 * e));
      b.x_q = x->register_module("q_attn", Conv1D(e, e));
      b.x_proj = x->register_module("c_proj", Conv1D(e, e));
      b.ln_cross = block->register_module("ln_cross_attn", layer_norm(e, config.layer_norm_eps));
    }
    auto mlp = add_container(*block, "mlp");
    b.c_fc = mlp->register_module("c_fc", Conv1D(e, config.inner));
    b.mlp_proj = mlp->register_module("c_proj", Conv1D(config.inner, e));
    blocks_.push_back(b);
  }
  ln_f_ = transformer_->register_module("ln_f", layer_norm(e, config.layer_norm_eps));
}

torch::Tensor Gpt2LmImpl::hidden_states(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                        DecoderCache* cache, const torch::Tensor& encoder_states,
                                        const torch::Tensor& encoder_mask) {
  const auto t = input_ids.size(1);
  if (cache && cache->self.empty()) {
    cache->self.resize(blocks_.size());
    cache->cross.resize(blocks_.size());
  }
  auto x = wte_->forward(input_ids) + wpe_->forward(positions_from_mask(attention_mask, t));
  const auto dtype = x.scalar_type();
  auto bias = attention_bias(attention_mask, t, true, dtype);
  torch::Tensor cross_bias;
  if (encoder_states.defined() && encoder_mask.defined()) cross_bias = padding_bias(encoder_mask, t, dtype);
  const double scale = 1.0 / std::sqrt(static_cast<double>(config_.hidden / config_.heads));
  const auto e = config_.hidden;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    auto& b = blocks_[i];
    auto qkv = b.c_attn->forward(b.ln_1->forward(x)).split(e, 2);
    auto q = split_heads(qkv[0], config_.heads);
    auto k = split_heads(qkv[1], config_.heads);
    auto v = split_heads(qkv[2], config_.heads);
    if (cache) std::tie(k, v) = cache->self[i].append(k, v);
    x = b.c_proj->forward(merge_heads(attention_core(q, k, v, bias, scale))).add_(x);
    if (b.x_q && encoder_states.defined()) {
      auto xq = split_heads(b.x_q->forward(b.ln_cross->forward(x)), config_.heads);
      torch::Tensor xk, xv;
      if (cache && !cache->cross[i].empty()) {
        xk = cache->cross[i].key;
        xv = cache->cross[i].value;
      } else {
        auto kv = b.x_kv->forward(encoder_states).split(e, 2);
        xk = split_heads(kv[0], config_.heads);
        xv = split_heads(kv[1], config_.heads);
        if (cache) cache->cross[i].append(xk, xv);
      }
      x = b.x_proj->forward(merge_heads(attention_core(xq, xk, xv, cross_bias, scale))).add_(x);
    }
    x = b.mlp_proj->forward(activate_(b.c_fc->forward(b.ln_2->forward(x)), config_.act)).add_(x);
  }
  return ln_f_->forward(x);
}

torch::Tensor Gpt2LmImpl::next_logits(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                      DecoderCache* cache) {
  auto h = hidden_states(input_ids, attention_mask, cache);
  return linear_forward(h.select(1, h.size(1) - 1), wte_->weight);
}

torch::Tensor Gpt2LmImpl::next_logits(const torch::Tensor& decoder_ids, const torch::Tensor& encoder_states,
                                      const torch::Tensor& encoder_mask, DecoderCache* cache) {
  const auto past = cache ? cache->length() : 0;
  auto mask = torch::ones({decoder_ids.size(0), past + decoder_ids.size(1)}, decoder_ids.options());
  auto h = hidden_states(decoder_ids, mask, cache, encoder_states, encoder_mask);
  return linear_forward(h.select(1, h.size(1) - 1), wte_->weight);
}

StateDictRules Gpt2LmImpl::state_dict_rules() const {
  StateDictRules r;
  r.base_prefix = "transformer.";
  for (const char* p : {"attn\\.bias$", "attn\\.masked_bias$", "^lm_head\\.weight$"}) r.ignore_unexpected.emplace_back(p);
  return r;
}

}  // namespace joulebench::models
