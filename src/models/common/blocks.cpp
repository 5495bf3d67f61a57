#include "models/common/blocks.h"

#include <fmt/format.h>

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
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& bias, KvCache* cache,
                                     const torch::Tensor& memory) {
  return forward_with_position_bias(x, bias, {}, cache, memory);
}

torch::Tensor AttentionImpl::forward_with_position_bias(const torch::Tensor& x, const torch::Tensor& bias,
                                                        const torch::Tensor& position_bias, KvCache* cache,
                                                        const torch::Tensor& memory) {
  auto q = split_heads(linear_forward(x, q_proj), n_heads_);
  torch::Tensor k, v;
  if (memory.defined()) {
    if (cache && !cache->empty()) {
      k = cache->key;
      v = cache->value;
    } else {
      k = split_heads(linear_forward(memory, k_proj), n_heads_);
      v = split_heads(linear_forward(memory, v_proj), n_heads_);
      if (cache) cache->append(k, v);
    }
  } else {
    k = split_heads(linear_forward(x, k_proj), n_heads_);
    v = split_heads(linear_forward(x, v_proj), n_heads_);
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
