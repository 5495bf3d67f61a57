// diffusers' UNet2DConditionModel for Stable Diffusion 1.x (and the
// block-removed BK-SDM / segmind tiny-sd variants): conv_in, sinusoidal
// timestep embedding, down blocks (ResNet + cross-attention transformer),
// optional mid block, up blocks with skip connections, conv_out.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/vision/diffusion_blocks.h"

namespace joulebench::models::vision {

struct UNetConfig {
  int in_channels = 4;
  int out_channels = 4;
  std::vector<int> block_out_channels{320, 640, 1280, 1280};
  std::vector<bool> down_cross_attention{true, true, true, false};  // CrossAttnDownBlock2D / DownBlock2D
  std::vector<bool> up_cross_attention{false, true, true, true};    // UpBlock2D / CrossAttnUpBlock2D
  bool mid_block = true;  // UNetMidBlock2DCrossAttn (BK-SDM Small/Tiny remove it)
  int layers_per_block = 2;
  int attention_heads = 8;  // "attention_head_dim": 8 in SD 1.x configs means 8 heads
  int cross_attention_dim = 768;
  int norm_groups = 32;
  double norm_eps = 1e-5;
};

UNetConfig unet_sd15_config();
// BK-SDM-Tiny (nota-ai/bk-sdm-tiny) and segmind/tiny-sd: one ResNet+attention
// pair per outer stage, no mid block, innermost stage removed.
UNetConfig unet_bk_sdm_tiny_config();
UNetConfig unet_tiny_config();

// diffusers get_timestep_embedding(flip_sin_to_cos=True, downscale_freq_shift=0):
// [cos(t w_i), sin(t w_i)], w_i = exp(-ln(10000) i / half).
torch::Tensor timestep_embedding(const torch::Tensor& timesteps, int64_t dim);

class UNet2DConditionImpl : public torch::nn::Module {
 public:
  explicit UNet2DConditionImpl(const UNetConfig& config);
  // sample [B, 4, h, w], timestep scalar or [B], context [B, 77, cross_attention_dim] -> noise [B, 4, h, w].
  torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timestep, const torch::Tensor& context);
  const UNetConfig& config() const { return config_; }

 private:
  struct Stage {
    std::vector<ResnetBlock2D> resnets;
    std::vector<Transformer2D> attentions;
    Downsample2D down{nullptr};
    Upsample2D up{nullptr};
  };
  UNetConfig config_;
  torch::nn::Conv2d conv_in_{nullptr}, conv_out_{nullptr};
  Linear time_linear_1_{nullptr}, time_linear_2_{nullptr};
  std::vector<Stage> down_, up_;
  Stage mid_;
  torch::nn::GroupNorm conv_norm_out_{nullptr};
};
TORCH_MODULE(UNet2DCondition);

}  // namespace joulebench::models::vision
