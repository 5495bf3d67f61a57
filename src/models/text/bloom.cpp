#include "models/text/bloom.h"

#include <cmath>

namespace joulebench::models {

BloomConfig bloom_config_from_hf(const HfConfig& c) {
  BloomConfig b;
  b.vocab_size = c.integer({"vocab_size"});
  b.hidden = c.integer({"hidden_size", "n_embed"});
  b.layers = c.integer({"n_layer", "num_hidden_layers"});
  b.heads = c.integer({"n_head", "num_attention_heads"});
  b.layer_norm_eps = c.number("layer_norm_epsilon", 1e-5);
  b.eos_token_id = c.integer("eos_token_id", 2);
  b.pad_token_id = c.integer("pad_token_id", 3);
  return b;
}

BloomLmImpl::BloomLmImpl(const BloomConfig& config) : config_(config) {
  const auto e = config.hidden;
  transformer_ = add_container(*this, "transformer");
  embeddings_ = transformer_->register_module("word_embeddings", torch::nn::Embedding(config.vocab_size, e));
  embed_norm_ = transformer_->register_module("word_embeddings_layernorm", layer_norm(e, config.layer_norm_eps));
  auto h = add_container(*transformer_, "h");
  for (std::int64_t i = 0; i < config.layers; ++i) {
    auto block = add_container(*h, std::to_string(i));
    Block b;
    b.input_norm = block->register_module("input_layernorm", layer_norm(e, config.layer_norm_eps));
    auto attn = add_container(*block, "self_attention");
    b.qkv = attn->register_module("query_key_value", linear(e, 3 * e));
    b.dense = attn->register_module("dense", linear(e, e));
    b.post_norm = block->register_module("post_attention_layernorm", layer_norm(e, config.layer_norm_eps));
    auto mlp = add_container(*block, "mlp");
    b.up = mlp->register_module("dense_h_to_4h", linear(e, 4 * e));
    b.down = mlp->register_module("dense_4h_to_h", linear(4 * e, e));
    blocks_.push_back(b);
  }
  ln_f_ = transformer_->register_module("ln_f", layer_norm(e, config.layer_norm_eps));
}

torch::Tensor BloomLmImpl::next_logits(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                       DecoderCache* cache) {
  const auto b = input_ids.size(0), t = input_ids.size(1);
  const auto n_heads = config_.heads, head_dim = config_.hidden / config_.heads;
  if (cache && cache->self.empty()) cache->self.resize(blocks_.size());
  auto x = embed_norm_->forward(embeddings_->forward(input_ids));
  const auto dtype = x.scalar_type();
  // ALiBi and the causal / padding mask over all keys (cached and new).
  auto bias = attention_bias(attention_mask, t, true, dtype) + alibi_bias(attention_mask, n_heads, dtype);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    auto& blk = blocks_[i];
    // query_key_value is interleaved per head: [.., head, (q, k, v), head_dim].
    auto fused = linear_forward(blk.input_norm->forward(x), blk.qkv).view({b, t, n_heads, 3, head_dim});
    auto q = fused.select(3, 0).transpose(1, 2);
    auto k = fused.select(3, 1).transpose(1, 2);
    auto v = fused.select(3, 2).transpose(1, 2);
    if (cache) std::tie(k, v) = cache->self[i].append(k, v);
    x = linear_forward(merge_heads(attention_core(q, k, v, bias, scale)), blk.dense).add_(x);
    x = linear_forward(activate_(linear_forward(blk.post_norm->forward(x), blk.up), Activation::gelu_tanh), blk.down).add_(x);
  }
  auto h = ln_f_->forward(x.select(1, t - 1));
  return linear_forward(h, embeddings_->weight);
}

StateDictRules BloomLmImpl::state_dict_rules() const {
  StateDictRules r;
  r.base_prefix = "transformer.";
  r.ignore_unexpected.emplace_back("^lm_head\\.weight$");
  return r;
}

}  // namespace joulebench::models
