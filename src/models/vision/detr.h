// DETR as HF DetrForObjectDetection (facebook/detr-resnet-50): timm ResNet-50
// backbone with frozen batch norm, 1x1 input projection, sine position
// embeddings, 6 post-norm encoder and 6 decoder layers over 100 learned
// queries, class (91 + no-object) and 3-layer box heads. Names as HF
// ("model.backbone.conv_encoder.model.layer1.0.conv1.weight", ...).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/common/blocks.h"

namespace joulebench::models::vision {

struct DetrConfig {
  std::vector<int> backbone_depths{3, 4, 6, 3};  // timm resnet50
  int backbone_width = 64;                       // stem channels; bottleneck widths 64..512
  int d_model = 256;
  int encoder_layers = 6, decoder_layers = 6;
  int attention_heads = 8;
  int ffn_dim = 2048;
  int num_queries = 100;
  int num_labels = 91;
};

DetrConfig detr_resnet50_config();
DetrConfig detr_tiny_config();

struct DetectorOutput {
  torch::Tensor logits;      // [B, Q, num_labels + 1]
  torch::Tensor pred_boxes;  // [B, Q, 4] normalised cx, cy, w, h
};

// 3-layer ReLU MLP ("layers.0", "layers.1", "layers.2"), DETR/YOLOS heads.
class MlpHeadImpl : public torch::nn::Module {
 public:
  MlpHeadImpl(int64_t in, int64_t hidden, int64_t out);
  torch::Tensor forward(torch::Tensor x);

 private:
  std::vector<Linear> layers_;
};
TORCH_MODULE(MlpHead);

class DetrImpl : public torch::nn::Module {
 public:
  explicit DetrImpl(const DetrConfig& config);
  DetectorOutput forward(const torch::Tensor& pixels);
  const DetrConfig& config() const { return config_; }
  // For inference after loading: folds the bottlenecks' frozen BatchNorms
  // into their convolutions (in place; names and counts unchanged).
  void fuse_batch_norm();

 private:
  struct EncoderLayer {
    models::Attention self_attn{nullptr};
    torch::nn::LayerNorm self_attn_layer_norm{nullptr}, final_layer_norm{nullptr};
    Linear fc1{nullptr}, fc2{nullptr};
  };
  struct DecoderLayer : EncoderLayer {
    models::Attention encoder_attn{nullptr};
    torch::nn::LayerNorm encoder_attn_layer_norm{nullptr};
  };
  torch::Tensor backbone(const torch::Tensor& pixels);

  DetrConfig config_;
  std::shared_ptr<torch::nn::Module> timm_;
  std::vector<std::vector<std::shared_ptr<torch::nn::Module>>> blocks_;
  torch::nn::Conv2d input_projection_{nullptr};
  torch::nn::Embedding queries_{nullptr};
  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  torch::nn::LayerNorm decoder_norm_{nullptr};
  Linear class_head_{nullptr};
  MlpHead box_head_{nullptr};
};
TORCH_MODULE(Detr);

// DetrSinePositionEmbedding (normalize=True) for an unpadded h x w map: [1, 2*half, h, w].
torch::Tensor detr_sine_position(int64_t h, int64_t w, int64_t half, torch::ScalarType dtype);

}  // namespace joulebench::models::vision
