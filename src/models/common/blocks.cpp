#include "models/common/blocks.h"

#include <fmt/format.h>
#include <malloc.h>

#include <cmath>

#include "joulebench/error.h"

namespace joulebench::models {

Activation activation_from_hf(const std::string& name) {
  if (name == "relu") return Activation::relu;
  if (name == "gelu") return Activation::gelu;
  if (name == "gelu_new" || name == "gelu_fast" || name == "gelu_pytorch_tanh") return Activation::gelu_tanh;
  if (name == "quick_gelu") return Activation::quick_gelu;
  throw InputError(fmt::format("unsupported activation '{}' (relu, gelu, gelu_new, gelu_pytorch_tanh, quick_gelu)",
                               name));
}

torch::Tensor activate(const torch::Tensor& x, Activation act) {
  switch (act) {
    case Activation::relu: return torch::relu(x);
    case Activation::gelu: return torch::gelu(x);
    case Activation::gelu_tanh: return torch::gelu(x, "tanh");
    case Activation::quick_gelu: return x * torch::sigmoid(1.702 * x);
  }
  return x;
}

torch::Tensor activate_(torch::Tensor x, Activation act) {
  switch (act) {
    case Activation::relu: return x.relu_();
    case Activation::gelu: return at::gelu_(x);
    case Activation::gelu_tanh: return at::gelu_(x, "tanh");
    case Activation::quick_gelu: return x.mul_(torch::sigmoid(1.702 * x));
  }
  return x;
}

torch::Tensor split_heads(const torch::Tensor& x, std::int64_t n_heads) {
  const auto b = x.size(0), t = x.size(1);
  return x.view({b, t, n_heads, x.size(2) / n_heads}).transpose(1, 2);
}

torch::Tensor merge_heads(const torch::Tensor& x) {
  const auto b = x.size(0), h = x.size(1), t = x.size(2), d = x.size(3);
  return x.transpose(1, 2).reshape({b, t, h * d});
}

namespace {
double lowest(torch::Dtype dtype) {
  if (dtype == torch::kBFloat16) return -3.38e38;
  if (dtype == torch::kFloat16) return -65504.0;
  return static_cast<double>(std::numeric_limits<float>::lowest());
}
}  // namespace

torch::Tensor attention_bias(const torch::Tensor& key_mask, std::int64_t q_len, bool causal, torch::Dtype dtype) {
  const auto b = key_mask.size(0), k_len = key_mask.size(1);
  auto keep = key_mask.to(torch::kBool).view({b, 1, 1, k_len});
  if (causal) {
    auto q_pos = torch::arange(k_len - q_len, k_len, torch::TensorOptions().device(key_mask.device())).view({q_len, 1});
    auto k_pos = torch::arange(k_len, torch::TensorOptions().device(key_mask.device())).view({1, k_len});
    keep = keep & (k_pos <= q_pos).view({1, 1, q_len, k_len});
  }
  return torch::zeros(keep.sizes(), torch::TensorOptions().dtype(dtype).device(key_mask.device()))
      .masked_fill(keep.logical_not(), lowest(dtype));
}

torch::Tensor padding_bias(const torch::Tensor& key_mask, std::int64_t q_len, torch::Dtype dtype) {
  if (key_mask.ne(0).all().item<bool>()) return {};
  return attention_bias(key_mask, q_len, false, dtype);
}

torch::Tensor alibi_slopes(std::int64_t n_heads) {
  // As BLOOM's build_alibi_tensor: slopes of the closest power of two, then
  // interleaved extra slopes for the remaining heads.
  const auto closest = static_cast<std::int64_t>(std::pow(2.0, std::floor(std::log2(static_cast<double>(n_heads)))));
  const double base = std::pow(2.0, -std::pow(2.0, -(std::log2(static_cast<double>(closest)) - 3)));
  std::vector<float> slopes;
  for (std::int64_t i = 1; i <= closest; ++i) slopes.push_back(static_cast<float>(std::pow(base, i)));
  if (closest != n_heads) {
    const double extra_base = std::pow(2.0, -std::pow(2.0, -(std::log2(2.0 * closest) - 3)));
    const auto remaining = std::min(closest, n_heads - closest);
    for (std::int64_t i = 0; i < remaining; ++i) {
      slopes.push_back(static_cast<float>(std::pow(extra_base, 1 + 2 * i)));
    }
  }
  return torch::tensor(slopes);
}

torch::Tensor alibi_bias(const torch::Tensor& key_mask, std::int64_t n_heads, torch::Dtype dtype) {
  auto mask = key_mask.to(torch::kFloat32);
  auto positions = (mask.cumsum(-1) - 1) * mask;  // [B, Tk]: 0, 1, ... over real tokens
  auto slopes = alibi_slopes(n_heads).to(key_mask.device()).view({1, n_heads, 1});
  return (slopes * positions.unsqueeze(1)).unsqueeze(2).to(dtype);  // [B, H, 1, Tk]
}

torch::Tensor attention_core(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& bias, double scale) {
  auto scores = torch::matmul(scale == 1.0 ? q : q * scale, k.transpose(-1, -2));
  if (bias.defined()) scores.add_(bias);  // in place: scores is ours, [B, H, Tq, Tk] is the largest tensor here
  return torch::matmul(torch::softmax(scores, -1), v);
}

std::pair<torch::Tensor, torch::Tensor> KvCache::append(const torch::Tensor& k, const torch::Tensor& v) {
  if (key.defined()) {
    key = torch::cat({key, k}, 2);
    value = torch::cat({value, v}, 2);
  } else {
    key = k;
    value = v;
  }
  return {key, value};
}

void KvCache::select(const torch::Tensor& index) {
  if (!key.defined()) return;
  key = key.index_select(0, index);
  value = value.index_select(0, index);
}

Conv1DImpl::Conv1DImpl(std::int64_t in_features, std::int64_t out_features) {
  weight = register_parameter("weight", torch::empty({in_features, out_features}));
  bias = register_parameter("bias", torch::zeros({out_features}));
}

torch::Tensor linear_forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const auto in = x.size(-1);
  if (x.numel() != in) return torch::linear(x, weight, bias);
  auto v = x.reshape({in});
  auto y = bias.defined() ? torch::addmv(bias, weight, v) : torch::mv(weight, v);
  auto sizes = x.sizes().vec();
  sizes.back() = weight.size(0);
  return y.view(sizes);
}

torch::Tensor Conv1DImpl::forward(const torch::Tensor& x) {
  auto flat = x.reshape({-1, x.size(-1)});
  // One row: matrix-vector product (see linear_forward); W is stored [in, out].
  auto out = flat.size(0) == 1 ? torch::addmv(bias, weight.t(), flat[0]).unsqueeze(0) : torch::addmm(bias, flat, weight);
  auto sizes = x.sizes().vec();
  sizes.back() = weight.size(1);
  return out.view(sizes);
}

RmsNormImpl::RmsNormImpl(std::int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  auto variance = x.to(torch::kFloat32).pow(2).mean(-1, true);
  auto normed = x * torch::rsqrt(variance + eps);
  return weight * normed.to(weight.scalar_type());
}

torch::nn::LayerNorm layer_norm(std::int64_t dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

Linear linear(std::int64_t in, std::int64_t out, bool bias) {
  return Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

FusedLinears::FusedLinears(std::vector<Linear> parts) : parts_(std::move(parts)) {
  offsets_.push_back(0);
  for (const auto& p : parts_) {
    if (p->weight.size(1) != parts_.front()->weight.size(1)) {
      // A model built wrong (a preset's shapes), not bad input: the library's Error, as error.h says.
      throw Error(fmt::format("FusedLinears: the layers read inputs of different widths ({} and {})",
                              parts_.front()->weight.size(1), p->weight.size(1)));
    }
    offsets_.push_back(offsets_.back() + p->weight.size(0));
  }
  fuse();
}

bool FusedLinears::fused(std::size_t first, std::size_t count) const {
  if (!weight_.defined() || count < 2 || first + count > parts_.size()) return false;
  const auto row_bytes = weight_.stride(0) * weight_.element_size();
  for (std::size_t i = first; i < first + count; ++i) {
    const auto& w = parts_[i]->weight;
    if (w.scalar_type() != weight_.scalar_type() || w.device() != weight_.device() ||
        w.data_ptr() != static_cast<char*>(weight_.data_ptr()) + offsets_[i] * row_bytes) {
      return false;
    }
    const auto& b = parts_[i]->bias;
    if (b.defined() != bias_.defined()) return false;
    if (b.defined() && (b.scalar_type() != bias_.scalar_type() ||
                        b.data_ptr() != static_cast<char*>(bias_.data_ptr()) + offsets_[i] * bias_.element_size())) {
      return false;
    }
  }
  return true;
}

void FusedLinears::fuse() {
  if (parts_.size() < 2 || fused(0, parts_.size())) return;
  std::vector<torch::Tensor> weights, biases;
  for (const auto& p : parts_) {
    weights.push_back(p->weight);
    if (p->bias.defined()) biases.push_back(p->bias);
  }
  if (!biases.empty() && biases.size() != parts_.size()) return;  // mixed: stays unfused
  torch::NoGradGuard no_grad;
  weight_ = torch::cat(weights, 0);
  bias_ = biases.empty() ? torch::Tensor() : torch::cat(biases, 0);
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    const auto rows = offsets_[i + 1] - offsets_[i];
    parts_[i]->weight.set_data(weight_.narrow(0, offsets_[i], rows));
    if (bias_.defined()) parts_[i]->bias.set_data(bias_.narrow(0, offsets_[i], rows));
  }
#ifdef __GLIBC__
  // The layers' own weights are free now, but glibc keeps their pages and, in
  // the order models allocate, seldom reuses them: without this, peak RSS
  // grew by every fused weight (+396 MB on bart-large-cnn).
  malloc_trim(0);
#endif
}

std::vector<torch::Tensor> FusedLinears::forward(const torch::Tensor& x, std::size_t first, std::size_t count) const {
  if (fused(first, count)) {
    const auto begin = offsets_[first], rows = offsets_[first + count] - begin;
    auto y = linear_forward(x, weight_.narrow(0, begin, rows), bias_.defined() ? bias_.narrow(0, begin, rows)
                                                                               : torch::Tensor());
    std::vector<std::int64_t> widths;
    for (std::size_t i = first; i < first + count; ++i) widths.push_back(offsets_[i + 1] - offsets_[i]);
    return y.split_with_sizes(widths, -1);
  }
  std::vector<torch::Tensor> out;
  for (std::size_t i = first; i < first + count; ++i) out.push_back(linear_forward(x, parts_[i]));
  return out;
}

void FusingModule::to(torch::Device device, torch::Dtype dtype, bool non_blocking) {
  torch::nn::Module::to(device, dtype, non_blocking);
  fuse_projections();
}

void FusingModule::to(torch::Dtype dtype, bool non_blocking) {
  torch::nn::Module::to(dtype, non_blocking);
  fuse_projections();
}

void FusingModule::to(torch::Device device, bool non_blocking) {
  torch::nn::Module::to(device, non_blocking);
  fuse_projections();
}

AttentionImpl::AttentionImpl(const AttentionSpec& spec) : n_heads_(spec.n_heads) {
  const auto head_dim = spec.head_dim > 0 ? spec.head_dim : spec.embed_dim / spec.n_heads;
  const auto inner = head_dim * spec.n_heads;
  const auto kv_in = spec.kv_input_dim > 0 ? spec.kv_input_dim : spec.embed_dim;
  scale_ = spec.scale > 0 ? spec.scale : 1.0 / std::sqrt(static_cast<double>(head_dim));
  // Registered in HF's order so that named_parameters() lists them the same way.
  k_proj = register_module(spec.k, linear(kv_in, inner, spec.bias));
  v_proj = register_module(spec.v, linear(kv_in, inner, spec.bias));
  q_proj = register_module(spec.q, linear(spec.embed_dim, inner, spec.bias));
  o_proj = register_module(spec.o, linear(inner, spec.embed_dim, spec.bias));
  q_fused_ = kv_in == spec.embed_dim;
  projections_ = q_fused_ ? FusedLinears({q_proj, k_proj, v_proj}) : FusedLinears({k_proj, v_proj});
}


torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& bias, KvCache* cache,
                                     const torch::Tensor& memory) {
  return forward_with_position_bias(x, bias, {}, cache, memory);
}

torch::Tensor AttentionImpl::forward_with_position_bias(const torch::Tensor& x, const torch::Tensor& bias,
                                                        const torch::Tensor& position_bias, KvCache* cache,
                                                        const torch::Tensor& memory) {
  const std::size_t kv_first = q_fused_ ? 1 : 0;  // k's index in projections_
  torch::Tensor q, k, v;
  if (memory.defined()) {
    q = split_heads(linear_forward(x, q_proj), n_heads_);
    if (cache && !cache->empty()) {
      k = cache->key;
      v = cache->value;
    } else {
      auto kv = projections_.forward(memory, kv_first, 2);
      k = split_heads(kv[0], n_heads_);
      v = split_heads(kv[1], n_heads_);
      if (cache) cache->append(k, v);
    }
  } else {
    if (q_fused_) {
      auto qkv = projections_.forward(x, 0, 3);
      q = split_heads(qkv[0], n_heads_);
      k = split_heads(qkv[1], n_heads_);
      v = split_heads(qkv[2], n_heads_);
    } else {
      q = split_heads(linear_forward(x, q_proj), n_heads_);
      auto kv = projections_.forward(x, 0, 2);
      k = split_heads(kv[0], n_heads_);
      v = split_heads(kv[1], n_heads_);
    }
    if (cache) std::tie(k, v) = cache->append(k, v);
  }
  torch::Tensor total_bias = bias;
  if (position_bias.defined()) total_bias = bias.defined() ? bias + position_bias : position_bias;
  return linear_forward(merge_heads(attention_core(q, k, v, total_bias, scale_)), o_proj);
}

MlpImpl::MlpImpl(std::int64_t dim, std::int64_t hidden, Activation act, const std::string& fc1_name,
                 const std::string& fc2_name, bool bias)
    : act_(act) {
  fc1 = register_module(fc1_name, linear(dim, hidden, bias));
  fc2 = register_module(fc2_name, linear(hidden, dim, bias));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  return linear_forward(activate_(linear_forward(x, fc1), act_), fc2);
}

torch::Tensor greedy_next(const torch::Tensor& logits) { return logits.argmax(-1); }

}  // namespace joulebench::models
