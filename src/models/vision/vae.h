// The decoder half of diffusers' AutoencoderKL (what text-to-image runs):
// post_quant_conv + Decoder (conv_in, mid block with one spatial attention,
// up blocks of ResNets with nearest-neighbour upsampling, conv_out). Names as
// diffusers' "vae/" folder: "post_quant_conv.weight", "decoder.up_blocks.0...".
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/vision/diffusion_blocks.h"

namespace joulebench::models::vision {

struct VaeConfig {
  int latent_channels = 4;
  int out_channels = 3;
  std::vector<int> block_out_channels{128, 256, 512, 512};
  int layers_per_block = 2;
  int norm_groups = 32;
  double scaling_factor = 0.18215;
};

VaeConfig vae_sd_config();
VaeConfig vae_tiny_config();

class VaeDecoderImpl : public torch::nn::Module {
 public:
  explicit VaeDecoderImpl(const VaeConfig& config);
  // Latents as the UNet produces them (scaled) [B, 4, h, w] -> image [B, 3, 8h', 8w'] in about [-1, 1].
  torch::Tensor forward(const torch::Tensor& latents);
  const VaeConfig& config() const { return config_; }

 private:
  VaeConfig config_;
  torch::nn::Conv2d post_quant_conv_{nullptr}, conv_in_{nullptr}, conv_out_{nullptr};
  std::vector<ResnetBlock2D> mid_resnets_;
  DiffusersAttention mid_attention_{nullptr};
  std::vector<std::vector<ResnetBlock2D>> up_resnets_;
  std::vector<Upsample2D> upsamplers_;
  torch::nn::GroupNorm conv_norm_out_{nullptr};
};
TORCH_MODULE(VaeDecoder);

}  // namespace joulebench::models::vision
