// ResNet as Hugging Face's ResNetModel (microsoft/resnet-*): v1.5 (stride in the
// 3x3 convolution), parameter names as HF ("embedder.embedder.convolution.weight",
// "encoder.stages.0.layers.0.shortcut.convolution.weight", ...).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace joulebench::models::vision {

struct ResNetConfig {
  int num_channels = 3;
  int embedding_size = 64;
  std::vector<int> hidden_sizes{256, 512, 1024, 2048};
  std::vector<int> depths{3, 4, 6, 3};
  bool bottleneck = true;  // "bottleneck" (50/101/152) or "basic" (18/34)
  bool downsample_in_first_stage = false;
};

ResNetConfig resnet18_config();
ResNetConfig resnet50_config();
ResNetConfig resnet_tiny_config();

class ResNetModelImpl : public torch::nn::Module {
 public:
  explicit ResNetModelImpl(const ResNetConfig& config);
  // Feature maps after each stage ([N, hidden_sizes[i], H/4/2^i, ...]).
  std::vector<torch::Tensor> stages(const torch::Tensor& pixels);
  // Pooled features [N, hidden_sizes.back()].
  torch::Tensor forward(const torch::Tensor& pixels);
  const ResNetConfig& config() const { return config_; }
  // For inference after the weights are loaded: folds each BatchNorm into its
  // convolution (in place; parameter names and counts unchanged, values not).
  void fuse_batch_norm();

 private:
  ResNetConfig config_;
  torch::nn::Sequential embedder_conv_{nullptr};
  std::vector<torch::nn::Sequential> stages_;
};
TORCH_MODULE(ResNetModel);

}  // namespace joulebench::models::vision
