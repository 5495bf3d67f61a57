#include "models/vision/detr.h"

#include <cmath>

#include "models/vision/layers.h"

namespace joulebench::models::vision {

DetrConfig detr_resnet50_config() { return DetrConfig{}; }
DetrConfig detr_tiny_config() {
  DetrConfig c;
  c.backbone_depths = {1, 1, 1, 1};
  c.backbone_width = 8;
  c.d_model = 32;
  c.encoder_layers = c.decoder_layers = 2;
  c.attention_heads = 4;
  c.ffn_dim = 64;
  c.num_queries = 10;
  return c;
}

MlpHeadImpl::MlpHeadImpl(int64_t in, int64_t hidden, int64_t out) {
  auto list = register_module("layers", torch::nn::ModuleList());
  layers_ = {Linear(in, hidden), Linear(hidden, hidden), Linear(hidden, out)};
  for (auto& l : layers_) list->push_back(l);
}

torch::Tensor MlpHeadImpl::forward(torch::Tensor x) {
  for (std::size_t i = 0; i < layers_.size(); ++i) x = i + 1 < layers_.size() ? torch::relu(layers_[i](x)) : layers_[i](x);
  return x;
}

namespace {

// DetrFrozenBatchNorm2d: all four tensors are buffers (not parameters).
class FrozenBatchNormImpl : public torch::nn::Module {
 public:
  explicit FrozenBatchNormImpl(int64_t c) {
    weight_ = register_buffer("weight", torch::ones({c}));
    bias_ = register_buffer("bias", torch::zeros({c}));
    mean_ = register_buffer("running_mean", torch::zeros({c}));
    var_ = register_buffer("running_var", torch::ones({c}));
  }
  // y = x * scale + shift.
  std::pair<torch::Tensor, torch::Tensor> scale_shift() const {
    auto scale = weight_ * (var_ + 1e-5).rsqrt();
    return {scale, bias_ - mean_ * scale};
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto [scale, shift] = scale_shift();
    return x * scale.view({1, -1, 1, 1}) + shift.view({1, -1, 1, 1});
  }

 private:
  torch::Tensor weight_, bias_, mean_, var_;
};
TORCH_MODULE(FrozenBatchNorm);

// A convolution and its frozen BN; after fuse(), one convolution with the
// BN folded into its weights (in place) and bias.
struct ConvBn {
  torch::nn::Conv2d conv{nullptr};
  FrozenBatchNorm bn{nullptr};
  int64_t stride = 1, padding = 0;
  torch::Tensor bias;
  torch::Tensor operator()(const torch::Tensor& x) {
    if (bias.defined()) return torch::conv2d(x, conv->weight, bias, stride, padding);
    return bn(conv(x));
  }
  void fuse() {
    if (bias.defined()) return;
    torch::NoGradGuard no_grad;
    auto [scale, shift] = bn->scale_shift();
    conv->weight.mul_(scale.view({-1, 1, 1, 1}));
    bias = shift;
  }
};

// timm Bottleneck: conv1/bn1 (1x1), conv2/bn2 (3x3, stride), conv3/bn3 (1x1), downsample.0/.1.
class TimmBottleneckImpl : public torch::nn::Module {
 public:
  TimmBottleneckImpl(int64_t in, int64_t width, int64_t stride) {
    int64_t out = width * 4;
    auto pair = [&](torch::nn::Module& parent, const std::string& conv_name, const std::string& bn_name,
                    int64_t cin, int64_t cout, int64_t k, int64_t s) {
      ConvBn c;
      c.conv = parent.register_module(conv_name, conv2d(cin, cout, k, s, k / 2, false));
      c.bn = parent.register_module(bn_name, FrozenBatchNorm(cout));
      c.stride = s;
      c.padding = k / 2;
      return c;
    };
    c1_ = pair(*this, "conv1", "bn1", in, width, 1, 1);
    c2_ = pair(*this, "conv2", "bn2", width, width, 3, stride);
    c3_ = pair(*this, "conv3", "bn3", width, out, 1, 1);
    if (in != out || stride != 1) {
      down_ = pair(*add_container(*this, "downsample"), "0", "1", in, out, 1, stride);
      has_down_ = true;
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = c1_(x).relu_();
    h = c2_(h).relu_();
    h = c3_(h);
    return h.add_(has_down_ ? down_(x) : x).relu_();
  }
  void fuse() {
    for (auto* c : {&c1_, &c2_, &c3_}) c->fuse();
    if (has_down_) down_.fuse();
  }

 private:
  ConvBn c1_, c2_, c3_, down_;
  bool has_down_ = false;
};
TORCH_MODULE(TimmBottleneck);

}  // namespace

torch::Tensor detr_sine_position(int64_t h, int64_t w, int64_t half, torch::ScalarType dtype) {
  constexpr double kScale = 2 * M_PI, kEps = 1e-6, kTemperature = 10000;
  auto y = torch::arange(1, h + 1, torch::kFloat32).view({h, 1}).expand({h, w}) / (h + kEps) * kScale;
  auto x = torch::arange(1, w + 1, torch::kFloat32).view({1, w}).expand({h, w}) / (w + kEps) * kScale;
  auto dim_t = torch::arange(half, torch::kFloat32);
  dim_t = torch::pow(kTemperature, 2 * torch::floor(dim_t / 2) / half);
  auto embed = [&](const torch::Tensor& e) {
    auto p = e.unsqueeze(-1) / dim_t;  // [h, w, half]
    auto s = p.index({"...", torch::indexing::Slice(0, torch::indexing::None, 2)}).sin();
    auto c = p.index({"...", torch::indexing::Slice(1, torch::indexing::None, 2)}).cos();
    return torch::stack({s, c}, -1).flatten(2);
  };
  return torch::cat({embed(y), embed(x)}, -1).permute({2, 0, 1}).unsqueeze(0).to(dtype);
}

DetrImpl::DetrImpl(const DetrConfig& c) : config_(c) {
  auto model = add_container(*this, "model");
  timm_ = add_container(*add_container(*add_container(*model, "backbone"), "conv_encoder"), "model");
  const int64_t stem = c.backbone_width;
  timm_->register_module("conv1", conv2d(3, stem, 7, 2, 3, false));
  timm_->register_module("bn1", FrozenBatchNorm(stem));
  int64_t in = stem;
  for (std::size_t s = 0; s < c.backbone_depths.size(); ++s) {
    auto layer = timm_->register_module("layer" + std::to_string(s + 1), torch::nn::ModuleList());
    int64_t width = stem << s;
    std::vector<std::shared_ptr<torch::nn::Module>> blocks;
    for (int d = 0; d < c.backbone_depths[s]; ++d) {
      auto b = TimmBottleneck(in, width, (d == 0 && s > 0) ? 2 : 1);
      layer->push_back(b);
      blocks.push_back(b.ptr());
      in = width * 4;
    }
    blocks_.push_back(blocks);
  }
  input_projection_ = model->register_module("input_projection", conv2d(in, c.d_model, 1, 1, 0));
  queries_ = model->register_module("query_position_embeddings", torch::nn::Embedding(c.num_queries, c.d_model));
  AttentionSpec spec;
  spec.embed_dim = c.d_model;
  spec.n_heads = c.attention_heads;
  auto fill = [&](torch::nn::Module& m, EncoderLayer& l) {
    l.self_attn = m.register_module("self_attn", models::Attention(spec));
    l.self_attn_layer_norm = m.register_module("self_attn_layer_norm", layer_norm(c.d_model, 1e-5));
    l.fc1 = m.register_module("fc1", Linear(c.d_model, c.ffn_dim));
    l.fc2 = m.register_module("fc2", Linear(c.ffn_dim, c.d_model));
    l.final_layer_norm = m.register_module("final_layer_norm", layer_norm(c.d_model, 1e-5));
  };
  auto enc = add_container(*model, "encoder")->register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < c.encoder_layers; ++i) {
    auto m = std::make_shared<torch::nn::Module>();
    EncoderLayer l;
    fill(*m, l);
    enc->push_back(m);
    encoder_.push_back(l);
  }
  auto decoder = add_container(*model, "decoder");
  auto dec = decoder->register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < c.decoder_layers; ++i) {
    auto m = std::make_shared<torch::nn::Module>();
    DecoderLayer l;
    fill(*m, l);
    l.encoder_attn = m->register_module("encoder_attn", models::Attention(spec));
    l.encoder_attn_layer_norm = m->register_module("encoder_attn_layer_norm", layer_norm(c.d_model, 1e-5));
    dec->push_back(m);
    decoder_.push_back(l);
  }
  decoder_norm_ = decoder->register_module("layernorm", layer_norm(c.d_model, 1e-5));
  class_head_ = register_module("class_labels_classifier", Linear(c.d_model, c.num_labels + 1));
  box_head_ = register_module("bbox_predictor", MlpHead(c.d_model, c.d_model, 4));
}

void DetrImpl::fuse_batch_norm() {
  for (auto& stage : blocks_)
    for (auto& b : stage) std::dynamic_pointer_cast<TimmBottleneckImpl>(b)->fuse();
}

torch::Tensor DetrImpl::backbone(const torch::Tensor& pixels) {
  auto conv1 = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(timm_->named_children()["conv1"]);
  auto bn1 = std::dynamic_pointer_cast<FrozenBatchNormImpl>(timm_->named_children()["bn1"]);
  auto x = torch::relu(bn1->forward(conv1->forward(pixels)));
  x = torch::max_pool2d(x, 3, 2, 1);
  for (auto& stage : blocks_)
    for (auto& b : stage) x = std::dynamic_pointer_cast<TimmBottleneckImpl>(b)->forward(x);
  return x;
}

DetectorOutput DetrImpl::forward(const torch::Tensor& pixels) {
  const int64_t heads = config_.attention_heads;
  auto features = input_projection_(backbone(pixels));  // [B, d, h, w]
  auto b = features.size(0), h = features.size(2), w = features.size(3);
  auto pos = detr_sine_position(h, w, config_.d_model / 2, features.scalar_type()).flatten(2).transpose(1, 2);
  auto memory = features.flatten(2).transpose(1, 2);  // [B, hw, d]
  auto attn = [&](models::Attention& a, const torch::Tensor& q, const torch::Tensor& k,
                  const torch::Tensor& v) {
    return a->o_proj(attend(a->q_proj(q), a->k_proj(k), a->v_proj(v), heads));
  };
  for (auto& l : encoder_) {
    auto qk = memory + pos;
    memory = l.self_attn_layer_norm(memory + attn(l.self_attn, qk, qk, memory));
    memory = l.final_layer_norm(memory + l.fc2(torch::relu(l.fc1(memory))));
  }
  auto query_pos = queries_->weight.unsqueeze(0).expand({b, -1, -1});
  auto x = torch::zeros_like(query_pos);
  auto memory_pos = memory + pos;
  for (auto& l : decoder_) {
    auto qk = x + query_pos;
    x = l.self_attn_layer_norm(x + attn(l.self_attn, qk, qk, x));
    x = l.encoder_attn_layer_norm(x + attn(l.encoder_attn, x + query_pos, memory_pos, memory));
    x = l.final_layer_norm(x + l.fc2(torch::relu(l.fc1(x))));
  }
  x = decoder_norm_(x);
  return {class_head_(x), box_head_(x).sigmoid()};
}

}  // namespace joulebench::models::vision
