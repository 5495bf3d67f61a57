// YOLOS as HF YolosForObjectDetection (hustvl/yolos-tiny): a plain ViT over
// [CLS, patches, 100 detection tokens], position embeddings bicubically
// interpolated from the 800x1333 pre-training grid to the input's grid, and
// DETR-style 3-layer class and box heads on the detection tokens. Names as HF
// ("vit.embeddings.detection_tokens", "vit.encoder.layer.0...", "bbox_predictor.layers.2.weight").
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/vision/detr.h"
#include "models/vision/vit.h"

namespace joulebench::models::vision {

struct YolosConfig {
  int hidden_size = 192;
  int num_hidden_layers = 12;
  int num_attention_heads = 3;
  int intermediate_size = 768;
  int patch_size = 16;
  int image_height = 800, image_width = 1333;  // grid the position embeddings were trained on
  int num_detection_tokens = 100;
  int num_labels = 91;
  double layer_norm_eps = 1e-12;
};

YolosConfig yolos_tiny_config();  // hustvl/yolos-tiny
YolosConfig yolos_test_config();  // a few-thousand-parameter one for tests

class YolosImpl : public torch::nn::Module {
 public:
  explicit YolosImpl(const YolosConfig& config);
  DetectorOutput forward(const torch::Tensor& pixels);
  const YolosConfig& config() const { return config_; }

 private:
  YolosConfig config_;
  torch::Tensor cls_token_, detection_tokens_, position_embeddings_;
  torch::nn::Conv2d projection_{nullptr};
  std::vector<ViTLayer> layers_;
  torch::nn::LayerNorm layernorm_{nullptr};
  MlpHead class_head_{nullptr}, box_head_{nullptr};
};
TORCH_MODULE(Yolos);

}  // namespace joulebench::models::vision
