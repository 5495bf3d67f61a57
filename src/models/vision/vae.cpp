#include "models/vision/vae.h"

#include "models/vision/layers.h"

namespace joulebench::models::vision {

VaeConfig vae_sd_config() { return VaeConfig{}; }
VaeConfig vae_tiny_config() {
  VaeConfig c;
  c.block_out_channels = {8, 8, 16, 16};  // four blocks: the 8x upsampling of the real one
  c.layers_per_block = 1;
  c.norm_groups = 8;
  return c;
}

VaeDecoderImpl::VaeDecoderImpl(const VaeConfig& c) : config_(c) {
  constexpr double kEps = 1e-6;
  const int64_t g = c.norm_groups;
  post_quant_conv_ = register_module("post_quant_conv", conv2d(c.latent_channels, c.latent_channels, 1, 1, 0));
  auto decoder = add_container(*this, "decoder");
  std::vector<int64_t> rev(c.block_out_channels.rbegin(), c.block_out_channels.rend());
  conv_in_ = decoder->register_module("conv_in", conv2d(c.latent_channels, rev[0], 3));

  auto mid = add_container(*decoder, "mid_block");
  mid_resnets_ = {ResnetBlock2D(rev[0], rev[0], 0, g, kEps), ResnetBlock2D(rev[0], rev[0], 0, g, kEps)};
  auto resnets = mid->register_module("resnets", torch::nn::ModuleList());
  resnets->push_back(mid_resnets_[0]);
  resnets->push_back(mid_resnets_[1]);
  AttentionOptions ao;
  ao.query_dim = rev[0];
  ao.heads = 1;  // attention_head_dim = channels
  ao.qkv_bias = true;
  ao.group_norm_groups = g;
  mid_attention_ = DiffusersAttention(ao);
  mid->register_module("attentions", torch::nn::ModuleList())->push_back(mid_attention_);

  auto up_blocks = decoder->register_module("up_blocks", torch::nn::ModuleList());
  int64_t out_ch = rev[0];
  for (std::size_t i = 0; i < rev.size(); ++i) {
    int64_t prev = out_ch;
    out_ch = rev[i];
    auto block = std::make_shared<torch::nn::Module>();
    auto rs = block->register_module("resnets", torch::nn::ModuleList());
    std::vector<ResnetBlock2D> stage;
    for (int j = 0; j < c.layers_per_block + 1; ++j) {
      stage.emplace_back(j == 0 ? prev : out_ch, out_ch, 0, g, kEps);
      rs->push_back(stage.back());
    }
    up_resnets_.push_back(stage);
    if (i + 1 < rev.size()) {
      upsamplers_.emplace_back(out_ch);
      block->register_module("upsamplers", torch::nn::ModuleList())->push_back(upsamplers_.back());
    }
    up_blocks->push_back(block);
  }
  conv_norm_out_ = decoder->register_module(
      "conv_norm_out", torch::nn::GroupNorm(torch::nn::GroupNormOptions(g, rev.back()).eps(kEps)));
  conv_out_ = decoder->register_module("conv_out", conv2d(rev.back(), c.out_channels, 3));
}

torch::Tensor VaeDecoderImpl::forward(const torch::Tensor& latents) {
  auto x = post_quant_conv_(latents / config_.scaling_factor);
  x = conv_in_(x);
  x = mid_resnets_[0](x);
  x = mid_attention_(x);
  x = mid_resnets_[1](x);
  for (std::size_t i = 0; i < up_resnets_.size(); ++i) {
    for (auto& r : up_resnets_[i]) x = r(x);
    if (i < upsamplers_.size()) x = upsamplers_[i](x);
  }
  return conv_out_(torch::silu(conv_norm_out_(x)));
}

}  // namespace joulebench::models::vision
