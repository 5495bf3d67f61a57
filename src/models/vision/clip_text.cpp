#include "models/vision/clip_text.h"

#include "models/vision/layers.h"

namespace joulebench::models::vision {

ClipTextConfig clip_text_sd_config() { return ClipTextConfig{}; }
ClipTextConfig clip_text_tiny_config() {
  ClipTextConfig c;
  c.hidden_size = 32;
  c.intermediate_size = 37;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  return c;
}

ClipTextModelImpl::ClipTextModelImpl(const ClipTextConfig& c) : config_(c) {
  auto tm = add_container(*this, "text_model");
  auto emb = add_container(*tm, "embeddings");
  token_ = emb->register_module("token_embedding", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_ =
      emb->register_module("position_embedding", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  auto layers = add_container(*tm, "encoder")->register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    auto m = std::make_shared<torch::nn::Module>();
    Layer l;
    AttentionSpec spec;
    spec.embed_dim = c.hidden_size;
    spec.n_heads = c.num_attention_heads;
    l.attn = m->register_module("self_attn", models::Attention(spec));
    l.ln1 = m->register_module("layer_norm1", layer_norm(c.hidden_size, c.layer_norm_eps));
    l.mlp = m->register_module("mlp", models::Mlp(c.hidden_size, c.intermediate_size, Activation::quick_gelu));
    l.ln2 = m->register_module("layer_norm2", layer_norm(c.hidden_size, c.layer_norm_eps));
    layers->push_back(m);
    layers_.push_back(l);
  }
  final_ln_ = tm->register_module("final_layer_norm", layer_norm(c.hidden_size, c.layer_norm_eps));
}

torch::Tensor ClipTextModelImpl::forward(const torch::Tensor& ids) {
  auto t = ids.size(1);
  auto x = token_(ids) + position_(torch::arange(t, torch::kLong).unsqueeze(0));
  // SD's pipeline passes no attention mask: only the causal one applies.
  auto bias = attention_bias(torch::ones({ids.size(0), t}, torch::kLong), t, true, x.scalar_type());
  for (auto& l : layers_) {
    x = x + l.attn(l.ln1(x), bias);
    x = x + l.mlp(l.ln2(x));
  }
  return final_ln_(x);
}

}  // namespace joulebench::models::vision
