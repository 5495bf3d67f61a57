#include "models/vision/vit.h"

#include <fmt/format.h>

#include "joulebench/error.h"
#include "models/vision/layers.h"

namespace joulebench::models::vision {

ViTConfig vit_base_config() { return ViTConfig{}; }
ViTConfig vit_tiny_config() {
  ViTConfig c;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.image_size = 32;
  c.patch_size = 8;
  return c;
}

ViTLayerImpl::ViTLayerImpl(int hidden, int heads, int intermediate, double eps) : heads_(heads) {
  auto attention = add_container(*this, "attention");
  auto self = add_container(*attention, "attention");
  query_ = self->register_module("query", Linear(hidden, hidden));
  key_ = self->register_module("key", Linear(hidden, hidden));
  value_ = self->register_module("value", Linear(hidden, hidden));
  qkv_ = FusedLinears({query_, key_, value_});
  attn_out_ = add_container(*attention, "output")->register_module("dense", Linear(hidden, hidden));
  intermediate_ =
      add_container(*this, "intermediate")->register_module("dense", Linear(hidden, intermediate));
  output_ = add_container(*this, "output")->register_module("dense", Linear(intermediate, hidden));
  before_ = register_module("layernorm_before", layer_norm(hidden, eps));
  after_ = register_module("layernorm_after", layer_norm(hidden, eps));
}

torch::Tensor ViTLayerImpl::forward(const torch::Tensor& x) {
  auto h = before_(x);
  auto qkv = qkv_.forward(h, 0, 3);
  auto a = attend(qkv[0], qkv[1], qkv[2], heads_);
  auto y = x + attn_out_(a);
  return y + output_(torch::gelu(intermediate_(after_(y))));
}

ViTModelImpl::ViTModelImpl(const ViTConfig& c) : config_(c) {
  auto embeddings = add_container(*this, "embeddings");
  int64_t patches = static_cast<int64_t>(c.image_size / c.patch_size) * (c.image_size / c.patch_size);
  cls_token_ = embeddings->register_parameter("cls_token", torch::randn({1, 1, c.hidden_size}) * 0.02);
  position_embeddings_ =
      embeddings->register_parameter("position_embeddings", torch::randn({1, patches + 1, c.hidden_size}) * 0.02);
  projection_ = add_container(*embeddings, "patch_embeddings")
                    ->register_module("projection", conv2d(c.num_channels, c.hidden_size, c.patch_size, c.patch_size, 0));
  auto layer = add_container(*this, "encoder")->register_module("layer", torch::nn::ModuleList());
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    layers_.emplace_back(c.hidden_size, c.num_attention_heads, c.intermediate_size, c.layer_norm_eps);
    layer->push_back(layers_.back());
  }
  layernorm_ = register_module("layernorm", layer_norm(c.hidden_size, c.layer_norm_eps));
  if (c.add_pooling_layer)
    pooler_ = add_container(*this, "pooler")->register_module("dense", Linear(c.hidden_size, c.hidden_size));
}

ViTOutput ViTModelImpl::forward(const torch::Tensor& pixels, bool run_pooler) {
  if (pixels.size(2) != config_.image_size || pixels.size(3) != config_.image_size)
    throw Error(fmt::format("ViT expects {}x{} pixels, got {}x{}", config_.image_size, config_.image_size,
                            pixels.size(3), pixels.size(2)));
  auto x = projection_(pixels).flatten(2).transpose(1, 2);  // [N, patches, hidden]
  x = torch::cat({cls_token_.expand({x.size(0), 1, x.size(2)}), x}, 1) + position_embeddings_;
  for (auto& l : layers_) x = l(x);
  ViTOutput out;
  out.last_hidden_state = layernorm_(x);
  if (pooler_ && run_pooler) out.pooler_output = torch::tanh(pooler_(out.last_hidden_state.select(1, 0)));
  return out;
}

}  // namespace joulebench::models::vision
