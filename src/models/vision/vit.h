// Vision Transformer as Hugging Face's ViTModel (google/vit-base-patch16-224):
// pre-norm encoder, exact GELU, CLS token, learned position embeddings, tanh
// pooler; parameter names as HF ("encoder.layer.0.attention.attention.query.weight").
// ViTLayer is reused by YOLOS and by the captioning encoder.
#pragma once

#include <torch/torch.h>

#include "models/common/blocks.h"

namespace joulebench::models::vision {

struct ViTConfig {
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  int image_size = 224;
  int patch_size = 16;
  int num_channels = 3;
  double layer_norm_eps = 1e-12;
  bool add_pooling_layer = true;
};

ViTConfig vit_base_config();
ViTConfig vit_tiny_config();

class ViTLayerImpl : public FusingModule {
 public:
  ViTLayerImpl(int hidden, int heads, int intermediate, double eps);
  torch::Tensor forward(const torch::Tensor& x);
 protected:
  void fuse_projections() override { qkv_.fuse(); }

 private:
  int heads_;
  Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, attn_out_{nullptr};
  FusedLinears qkv_;  // query, key, value as one GEMM
  Linear intermediate_{nullptr}, output_{nullptr};
  torch::nn::LayerNorm before_{nullptr}, after_{nullptr};
};
TORCH_MODULE(ViTLayer);

struct ViTOutput {
  torch::Tensor last_hidden_state;  // [N, 1 + patches, hidden], after the final layernorm
  torch::Tensor pooler_output;      // [N, hidden] (undefined without a pooler)
};

class ViTModelImpl : public torch::nn::Module {
 public:
  explicit ViTModelImpl(const ViTConfig& config);
  ViTOutput forward(const torch::Tensor& pixels, bool run_pooler = true);
  const ViTConfig& config() const { return config_; }

 private:
  ViTConfig config_;
  torch::Tensor cls_token_, position_embeddings_;
  torch::nn::Conv2d projection_{nullptr};
  std::vector<ViTLayer> layers_;
  torch::nn::LayerNorm layernorm_{nullptr};
  Linear pooler_{nullptr};
};
TORCH_MODULE(ViTModel);

}  // namespace joulebench::models::vision
