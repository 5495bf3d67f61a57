#include "models/vision/resnet.h"

#include "models/vision/layers.h"

namespace joulebench::models::vision {

ResNetConfig resnet18_config() {
  ResNetConfig c;
  c.hidden_sizes = {64, 128, 256, 512};
  c.depths = {2, 2, 2, 2};
  c.bottleneck = false;
  return c;
}
ResNetConfig resnet50_config() { return ResNetConfig{}; }
ResNetConfig resnet_tiny_config() {
  ResNetConfig c;
  c.embedding_size = 8;
  c.hidden_sizes = {8, 16, 32, 64};
  c.depths = {1, 1, 1, 1};
  c.bottleneck = false;
  return c;
}

namespace {

// HF ResNetConvLayer: convolution (no bias) + normalization (+ ReLU).
class ConvLayerImpl : public torch::nn::Module {
 public:
  ConvLayerImpl(int64_t in, int64_t out, int64_t k, int64_t stride, bool relu)
      : conv_(register_module("convolution", conv2d(in, out, k, stride, k / 2, false))),
        norm_(register_module("normalization", torch::nn::BatchNorm2d(out))),
        relu_(relu),
        stride_(stride),
        padding_(k / 2) {}
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y;
    if (fused_bias_.defined()) {
      y = torch::conv2d(x, conv_->weight, fused_bias_, stride_, padding_);
    } else {
      y = norm_(conv_(x));
    }
    return relu_ ? y.relu_() : y;
  }
  // Inference: scale the convolution by gamma / sqrt(var + eps) in place and
  // keep beta - mean * scale as its bias; the BatchNorm is then skipped.
  void fuse_batch_norm() {
    if (fused_bias_.defined()) return;
    torch::NoGradGuard no_grad;
    auto scale = norm_->weight / torch::sqrt(norm_->running_var + norm_->options.eps());
    conv_->weight.mul_(scale.view({-1, 1, 1, 1}));
    fused_bias_ = norm_->bias - norm_->running_mean * scale;
  }

 private:
  torch::nn::Conv2d conv_;
  torch::nn::BatchNorm2d norm_;
  bool relu_;
  int64_t stride_, padding_;
  torch::Tensor fused_bias_;
};
TORCH_MODULE(ConvLayer);

// HF ResNetBasicLayer / ResNetBottleNeckLayer.
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int64_t in, int64_t out, int64_t stride, bool bottleneck) {
    if (in != out || stride != 1) shortcut_ = register_module("shortcut", ConvLayer(in, out, 1, stride, false));
    layer_ = register_module("layer", torch::nn::Sequential());
    if (bottleneck) {
      int64_t reduced = out / 4;
      layer_->push_back(ConvLayer(in, reduced, 1, 1, true));
      layer_->push_back(ConvLayer(reduced, reduced, 3, stride, true));
      layer_->push_back(ConvLayer(reduced, out, 1, 1, false));
    } else {
      layer_->push_back(ConvLayer(in, out, 3, stride, true));
      layer_->push_back(ConvLayer(out, out, 3, 1, false));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto residual = shortcut_ ? shortcut_(x) : x;
    return layer_->forward(x).add_(residual).relu_();  // in place: no extra activation copies
  }

 private:
  ConvLayer shortcut_{nullptr};
  torch::nn::Sequential layer_{nullptr};
};
TORCH_MODULE(Block);

}  // namespace

ResNetModelImpl::ResNetModelImpl(const ResNetConfig& config) : config_(config) {
  auto embedder = add_container(*this, "embedder");
  embedder_conv_ = torch::nn::Sequential(ConvLayer(config.num_channels, config.embedding_size, 7, 2, true),
                                         torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  // Register the conv layer under HF's name; the pooling has no parameters.
  embedder->register_module("embedder", embedder_conv_->ptr(0));
  auto encoder = add_container(*this, "encoder");
  auto stages = encoder->register_module("stages", torch::nn::ModuleList());
  int64_t in = config.embedding_size;
  for (std::size_t i = 0; i < config.hidden_sizes.size(); ++i) {
    int64_t out = config.hidden_sizes[i];
    int64_t stride = (i == 0 && !config.downsample_in_first_stage) ? 1 : 2;
    auto stage = std::make_shared<torch::nn::Module>();
    auto layers = stage->register_module("layers", torch::nn::Sequential());
    for (int d = 0; d < config.depths[i]; ++d) {
      layers->push_back(Block(d == 0 ? in : out, out, d == 0 ? stride : 1, config.bottleneck));
    }
    stages->push_back(stage);
    stages_.push_back(layers);
    in = out;
  }
}

std::vector<torch::Tensor> ResNetModelImpl::stages(const torch::Tensor& pixels) {
  std::vector<torch::Tensor> out;
  auto x = embedder_conv_->forward(pixels);
  for (auto& s : stages_) {
    x = s->forward(x);
    out.push_back(x);
  }
  return out;
}

void ResNetModelImpl::fuse_batch_norm() {
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto c = std::dynamic_pointer_cast<ConvLayerImpl>(m)) c->fuse_batch_norm();
  }
}

torch::Tensor ResNetModelImpl::forward(const torch::Tensor& pixels) {
  return stages(pixels).back().mean({2, 3});
}

}  // namespace joulebench::models::vision
