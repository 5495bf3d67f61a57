#include "models/vision/yolos.h"

#include "models/vision/layers.h"

namespace joulebench::models::vision {

namespace F = torch::nn::functional;

YolosConfig yolos_tiny_config() { return YolosConfig{}; }
YolosConfig yolos_test_config() {
  YolosConfig c;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.image_height = 64;
  c.image_width = 96;
  c.num_detection_tokens = 10;
  return c;
}

YolosImpl::YolosImpl(const YolosConfig& c) : config_(c) {
  auto vit = add_container(*this, "vit");
  auto emb = add_container(*vit, "embeddings");
  int64_t patches = static_cast<int64_t>(c.image_height / c.patch_size) * (c.image_width / c.patch_size);
  cls_token_ = emb->register_parameter("cls_token", torch::zeros({1, 1, c.hidden_size}));
  detection_tokens_ = emb->register_parameter("detection_tokens", torch::zeros({1, c.num_detection_tokens, c.hidden_size}));
  position_embeddings_ = emb->register_parameter(
      "position_embeddings", torch::zeros({1, 1 + patches + c.num_detection_tokens, c.hidden_size}));
  projection_ = add_container(*emb, "patch_embeddings")
                    ->register_module("projection", conv2d(3, c.hidden_size, c.patch_size, c.patch_size, 0));
  auto layer = add_container(*vit, "encoder")->register_module("layer", torch::nn::ModuleList());
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    layers_.emplace_back(c.hidden_size, c.num_attention_heads, c.intermediate_size, c.layer_norm_eps);
    layer->push_back(layers_.back());
  }
  layernorm_ = vit->register_module("layernorm", layer_norm(c.hidden_size, c.layer_norm_eps));
  class_head_ = register_module("class_labels_classifier", MlpHead(c.hidden_size, c.hidden_size, c.num_labels + 1));
  box_head_ = register_module("bbox_predictor", MlpHead(c.hidden_size, c.hidden_size, 4));
}

DetectorOutput YolosImpl::forward(const torch::Tensor& pixels) {
  const auto& c = config_;
  auto x = projection_(pixels);  // [B, d, h, w]
  auto b = x.size(0), gh = x.size(2), gw = x.size(3);
  x = x.flatten(2).transpose(1, 2);
  const int64_t n_det = c.num_detection_tokens;
  const int64_t h0 = c.image_height / c.patch_size, w0 = c.image_width / c.patch_size;
  auto pos = position_embeddings_;
  auto patch_pos = pos.slice(1, 1, 1 + h0 * w0).transpose(1, 2).reshape({1, c.hidden_size, h0, w0});
  if (gh != h0 || gw != w0) {
    patch_pos = F::interpolate(patch_pos, F::InterpolateFuncOptions()
                                              .size(std::vector<int64_t>{gh, gw})
                                              .mode(torch::kBicubic)
                                              .align_corners(false));
  }
  patch_pos = patch_pos.flatten(2).transpose(1, 2);
  auto full_pos = torch::cat({pos.slice(1, 0, 1), patch_pos, pos.slice(1, pos.size(1) - n_det)}, 1);
  x = torch::cat({cls_token_.expand({b, 1, c.hidden_size}), x, detection_tokens_.expand({b, n_det, c.hidden_size})}, 1) +
      full_pos;
  for (auto& l : layers_) x = l(x);
  auto det = layernorm_(x).slice(1, x.size(1) - n_det);
  return {class_head_(det), box_head_(det).sigmoid()};
}

}  // namespace joulebench::models::vision
