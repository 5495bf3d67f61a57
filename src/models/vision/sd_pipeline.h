// Stable Diffusion 1.x text-to-image, as diffusers' StableDiffusionPipeline:
// CLIP text encoder (prompt and empty negative prompt, padded to 77 tokens),
// seeded Gaussian latents, `steps` scheduler steps with classifier-free
// guidance (both halves batched in one UNet call when guidance > 1), VAE
// decoder, [-1, 1] -> 8-bit RGB.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "joulebench/models.h"
#include "models/vision/clip_text.h"
#include "models/vision/schedulers.h"
#include "models/vision/unet2d.h"
#include "models/vision/vae.h"

namespace joulebench::models::vision {

struct SdConfig {
  ClipTextConfig text;
  UNetConfig unet;
  VaeConfig vae;
  int default_resolution = 512;
};

SdConfig sd15_config();
SdConfig bk_sdm_tiny_config();
SdConfig sd_tiny_config();

struct SdRunOptions {
  int steps = 50;
  int resolution = 512;
  double guidance_scale = 7.5;
  std::string scheduler = "pndm";
  std::uint64_t latent_seed = 0;
  // Tests: run the batched two-half path even when guidance_scale <= 1.
  bool force_batched_guidance = false;
};

class StableDiffusion {
 public:
  explicit StableDiffusion(const SdConfig& config);

  // Stand-in for CLIP's BPE (the vocabulary is not in any package here):
  // lower-cased words and punctuation, hashed into the vocabulary, between
  // BOS and EOS, padded with EOS to 77 ids. Compute does not depend on the
  // ids: the sequence is always 77 long.
  torch::Tensor tokenize(const std::string& prompt) const;
  torch::Tensor encode_prompt(const std::string& prompt);
  torch::Tensor initial_latents(int resolution, std::uint64_t seed, double init_sigma) const;
  // The full pipeline: image [1, 3, H, W] in [0, 1].
  torch::Tensor generate(const std::string& prompt, const SdRunOptions& o);
  torch::Tensor decode(const torch::Tensor& latents);

  ClipTextModel text_encoder{nullptr};
  UNet2DCondition unet{nullptr};
  VaeDecoder vae{nullptr};
  const SdConfig& config() const { return config_; }

 private:
  SdConfig config_;
};

std::vector<ModelInfo> text_to_image_infos();
std::unique_ptr<Model> load_text_to_image(const ModelInfo& info, const LoadOptions& options);

}  // namespace joulebench::models::vision
