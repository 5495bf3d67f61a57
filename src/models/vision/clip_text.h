// CLIP's text transformer as HF CLIPTextModel (Stable Diffusion's
// text_encoder): token + position embeddings, pre-norm causal encoder with
// quick-GELU, final layer norm. Names: "text_model.encoder.layers.0.self_attn.q_proj.weight".
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/common/blocks.h"

namespace joulebench::models::vision {

struct ClipTextConfig {
  int vocab_size = 49408;
  int hidden_size = 768;
  int intermediate_size = 3072;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int max_position_embeddings = 77;
  double layer_norm_eps = 1e-5;
  std::int64_t bos_token_id = 49406;
  std::int64_t eos_token_id = 49407;  // also the padding token of SD 1.x's tokenizer
};

ClipTextConfig clip_text_sd_config();  // openai/clip-vit-large-patch14's text tower
ClipTextConfig clip_text_tiny_config();

class ClipTextModelImpl : public torch::nn::Module {
 public:
  explicit ClipTextModelImpl(const ClipTextConfig& config);
  // input_ids [B, T] -> last_hidden_state [B, T, hidden] (after the final layer norm).
  torch::Tensor forward(const torch::Tensor& input_ids);
  const ClipTextConfig& config() const { return config_; }

 private:
  struct Layer {
    torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
    models::Attention attn{nullptr};
    models::Mlp mlp{nullptr};
  };
  ClipTextConfig config_;
  torch::nn::Embedding token_{nullptr}, position_{nullptr};
  std::vector<Layer> layers_;
  torch::nn::LayerNorm final_ln_{nullptr};
};
TORCH_MODULE(ClipTextModel);

}  // namespace joulebench::models::vision
