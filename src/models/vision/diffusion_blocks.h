// diffusers building blocks shared by the UNet and the VAE decoder, with
// diffusers' parameter names: ResnetBlock2D ("norm1", "conv1", "time_emb_proj",
// ...), Attention ("to_q", "to_k", "to_v", "to_out.0"; the VAE's adds
// "group_norm"), Transformer2DModel (SD 1.x: conv proj_in / proj_out, one
// BasicTransformerBlock with self-, cross-attention and a GEGLU feed-forward),
// Downsample2D / Upsample2D ("conv").
#pragma once

#include <torch/torch.h>

#include "models/common/blocks.h"

namespace joulebench::models::vision {

class ResnetBlock2DImpl : public torch::nn::Module {
 public:
  // temb_channels 0: no time embedding (the VAE).
  ResnetBlock2DImpl(int64_t in, int64_t out, int64_t temb_channels, int64_t groups, double eps);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb = {});

 private:
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
  Linear time_emb_proj_{nullptr};
};
TORCH_MODULE(ResnetBlock2D);

struct AttentionOptions {
  int64_t query_dim = 0;
  int64_t cross_attention_dim = 0;  // 0: self-attention
  int64_t heads = 1;
  bool qkv_bias = false;
  // > 0: the VAE's spatial attention block on [B, C, H, W] with its own
  // "group_norm" and a residual connection.
  int64_t group_norm_groups = 0;
  double group_norm_eps = 1e-6;
};

class DiffusersAttentionImpl : public torch::nn::Module {
 public:
  explicit DiffusersAttentionImpl(const AttentionOptions& o);
  // x: [B, L, C] (or [B, C, H, W] with a group norm); context: [B, Lc, Cc] or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {});

 private:
  AttentionOptions o_;
  torch::nn::GroupNorm group_norm_{nullptr};
  Linear to_q_{nullptr}, to_k_{nullptr}, to_v_{nullptr}, to_out_{nullptr};
};
TORCH_MODULE(DiffusersAttention);

class Transformer2DImpl : public torch::nn::Module {
 public:
  Transformer2DImpl(int64_t channels, int64_t heads, int64_t cross_attention_dim, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

 private:
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv2d proj_in_{nullptr}, proj_out_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm3_{nullptr};
  DiffusersAttention attn1_{nullptr}, attn2_{nullptr};
  Linear ff_in_{nullptr}, ff_out_{nullptr};
};
TORCH_MODULE(Transformer2D);

class Downsample2DImpl : public torch::nn::Module {
 public:
  explicit Downsample2DImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x) { return conv_(x); }

 private:
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Downsample2D);

class Upsample2DImpl : public torch::nn::Module {
 public:
  explicit Upsample2DImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Upsample2D);

}  // namespace joulebench::models::vision
