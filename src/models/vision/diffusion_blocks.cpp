#include "models/vision/diffusion_blocks.h"

#include "models/vision/layers.h"

namespace joulebench::models::vision {

namespace F = torch::nn::functional;

namespace {
torch::nn::GroupNorm group_norm(int64_t groups, int64_t channels, double eps) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(eps));
}
}  // namespace

ResnetBlock2DImpl::ResnetBlock2DImpl(int64_t in, int64_t out, int64_t temb_channels, int64_t groups, double eps) {
  norm1_ = register_module("norm1", group_norm(groups, in, eps));
  conv1_ = register_module("conv1", conv2d(in, out, 3));
  if (temb_channels > 0) time_emb_proj_ = register_module("time_emb_proj", Linear(temb_channels, out));
  norm2_ = register_module("norm2", group_norm(groups, out, eps));
  conv2_ = register_module("conv2", conv2d(out, out, 3));
  if (in != out) shortcut_ = register_module("conv_shortcut", conv2d(in, out, 1, 1, 0));
}

torch::Tensor ResnetBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  auto h = conv1_(torch::silu(norm1_(x)));
  if (time_emb_proj_ && temb.defined()) h = h + time_emb_proj_(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1);
  h = conv2_(torch::silu(norm2_(h)));  // dropout is 0 at inference
  return (shortcut_ ? shortcut_(x) : x) + h;
}

DiffusersAttentionImpl::DiffusersAttentionImpl(const AttentionOptions& o) : o_(o) {
  if (o.group_norm_groups > 0)
    group_norm_ = register_module("group_norm", group_norm(o.group_norm_groups, o.query_dim, o.group_norm_eps));
  int64_t kv_dim = o.cross_attention_dim > 0 ? o.cross_attention_dim : o.query_dim;
  to_q_ = register_module("to_q", Linear(torch::nn::LinearOptions(o.query_dim, o.query_dim).bias(o.qkv_bias)));
  to_k_ = register_module("to_k", Linear(torch::nn::LinearOptions(kv_dim, o.query_dim).bias(o.qkv_bias)));
  to_v_ = register_module("to_v", Linear(torch::nn::LinearOptions(kv_dim, o.query_dim).bias(o.qkv_bias)));
  // diffusers: to_out = ModuleList(Linear, Dropout) -> "to_out.0".
  to_out_ = add_container(*this, "to_out")->register_module("0", Linear(o.query_dim, o.query_dim));
}

torch::Tensor DiffusersAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  if (group_norm_) {
    auto b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    auto seq = group_norm_(x).view({b, c, h * w}).transpose(1, 2);
    auto out = to_out_(attend(to_q_(seq), to_k_(seq), to_v_(seq), o_.heads));
    return out.transpose(1, 2).reshape({b, c, h, w}) + x;
  }
  const auto& kv = context.defined() ? context : x;
  return to_out_(attend(to_q_(x), to_k_(kv), to_v_(kv), o_.heads));
}

Transformer2DImpl::Transformer2DImpl(int64_t c, int64_t heads, int64_t cross_dim, int64_t groups) {
  norm_ = register_module("norm", group_norm(groups, c, 1e-6));
  proj_in_ = register_module("proj_in", conv2d(c, c, 1, 1, 0));
  auto block = add_container(*this, "transformer_blocks")->register_module("0", std::make_shared<torch::nn::Module>());
  norm1_ = block->register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c})));
  attn1_ = block->register_module("attn1", DiffusersAttention(AttentionOptions{c, 0, heads}));
  norm2_ = block->register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c})));
  attn2_ = block->register_module("attn2", DiffusersAttention(AttentionOptions{c, cross_dim, heads}));
  norm3_ = block->register_module("norm3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c})));
  // FeedForward: net = [GEGLU(proj: c -> 2 * 4c), Dropout, Linear(4c -> c)].
  auto net = add_container(*add_container(*block, "ff"), "net");
  ff_in_ = add_container(*net, "0")->register_module("proj", Linear(c, 8 * c));
  ff_out_ = net->register_module("2", Linear(4 * c, c));
  proj_out_ = register_module("proj_out", conv2d(c, c, 1, 1, 0));
}

torch::Tensor Transformer2DImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  auto b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  auto s = proj_in_(norm_(x)).permute({0, 2, 3, 1}).reshape({b, h * w, c});
  s = attn1_(norm1_(s)) + s;
  s = attn2_(norm2_(s), context) + s;
  auto gg = ff_in_(norm3_(s)).chunk(2, -1);
  s = ff_out_(gg[0] * torch::gelu(gg[1])) + s;
  return proj_out_(s.reshape({b, h, w, c}).permute({0, 3, 1, 2}).contiguous()) + x;
}

Downsample2DImpl::Downsample2DImpl(int64_t c) { conv_ = register_module("conv", conv2d(c, c, 3, 2, 1)); }

Upsample2DImpl::Upsample2DImpl(int64_t c) { conv_ = register_module("conv", conv2d(c, c, 3)); }

torch::Tensor Upsample2DImpl::forward(const torch::Tensor& x) {
  auto up = F::interpolate(x, F::InterpolateFuncOptions()
                                  .scale_factor(std::vector<double>{2.0, 2.0})
                                  .mode(torch::kNearest));
  return conv_(up);
}

}  // namespace joulebench::models::vision
