#include "models/vision/unet2d.h"

#include <cmath>

#include "models/vision/layers.h"

namespace joulebench::models::vision {

UNetConfig unet_sd15_config() { return UNetConfig{}; }

UNetConfig unet_bk_sdm_tiny_config() {
  UNetConfig c;
  c.block_out_channels = {320, 640, 1280};
  c.down_cross_attention = {true, true, true};
  c.up_cross_attention = {true, true, true};
  c.mid_block = false;
  c.layers_per_block = 1;
  return c;
}

UNetConfig unet_tiny_config() {
  UNetConfig c;
  c.block_out_channels = {32, 64};
  c.down_cross_attention = {true, false};
  c.up_cross_attention = {false, true};
  c.layers_per_block = 1;
  c.attention_heads = 2;
  c.cross_attention_dim = 32;
  c.norm_groups = 8;
  return c;
}

torch::Tensor timestep_embedding(const torch::Tensor& timesteps, int64_t dim) {
  int64_t half = dim / 2;
  auto exponent = torch::arange(half, torch::kFloat32) * (-std::log(10000.0) / static_cast<double>(half));
  auto args = timesteps.to(torch::kFloat32).reshape({-1, 1}) * exponent.exp().unsqueeze(0);
  return torch::cat({args.cos(), args.sin()}, -1);  // flip_sin_to_cos
}

UNet2DConditionImpl::UNet2DConditionImpl(const UNetConfig& c) : config_(c) {
  const auto& boc = c.block_out_channels;
  const int64_t n = static_cast<int64_t>(boc.size());
  const int64_t temb = boc[0] * 4;
  const int64_t g = c.norm_groups;
  const double eps = c.norm_eps;
  conv_in_ = register_module("conv_in", conv2d(c.in_channels, boc[0], 3));
  auto te = add_container(*this, "time_embedding");
  time_linear_1_ = te->register_module("linear_1", Linear(boc[0], temb));
  time_linear_2_ = te->register_module("linear_2", Linear(temb, temb));

  auto make_transformer = [&](int64_t ch) {
    return Transformer2D(ch, c.attention_heads, c.cross_attention_dim, g);
  };

  auto down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  int64_t out_ch = boc[0];
  for (int64_t i = 0; i < n; ++i) {
    int64_t in_ch = out_ch;
    out_ch = boc[i];
    Stage s;
    auto block = std::make_shared<torch::nn::Module>();
    auto resnets = block->register_module("resnets", torch::nn::ModuleList());
    torch::nn::ModuleList attentions{nullptr};
    if (c.down_cross_attention[i]) attentions = block->register_module("attentions", torch::nn::ModuleList());
    for (int j = 0; j < c.layers_per_block; ++j) {
      s.resnets.emplace_back(j == 0 ? in_ch : out_ch, out_ch, temb, g, eps);
      resnets->push_back(s.resnets.back());
      if (attentions) {
        s.attentions.push_back(make_transformer(out_ch));
        attentions->push_back(s.attentions.back());
      }
    }
    if (i < n - 1) {
      s.down = Downsample2D(out_ch);
      block->register_module("downsamplers", torch::nn::ModuleList())->push_back(s.down);
    }
    down_blocks->push_back(block);
    down_.push_back(std::move(s));
  }

  if (c.mid_block) {
    auto mid = add_container(*this, "mid_block");
    auto ch = boc.back();
    auto resnets = mid->register_module("resnets", torch::nn::ModuleList());
    mid_.resnets = {ResnetBlock2D(ch, ch, temb, g, eps), ResnetBlock2D(ch, ch, temb, g, eps)};
    mid_.attentions = {make_transformer(ch)};
    mid->register_module("attentions", torch::nn::ModuleList())->push_back(mid_.attentions[0]);
    resnets->push_back(mid_.resnets[0]);
    resnets->push_back(mid_.resnets[1]);
  }

  // Up blocks mirror diffusers' channel bookkeeping exactly (skip channels
  // come from the matching down-path outputs).
  auto up_blocks = register_module("up_blocks", torch::nn::ModuleList());
  std::vector<int64_t> rev(boc.rbegin(), boc.rend());
  out_ch = rev[0];
  for (int64_t i = 0; i < n; ++i) {
    int64_t prev_out = out_ch;
    out_ch = rev[i];
    int64_t in_ch = rev[std::min(i + 1, n - 1)];
    int layers = c.layers_per_block + 1;
    Stage s;
    auto block = std::make_shared<torch::nn::Module>();
    auto resnets = block->register_module("resnets", torch::nn::ModuleList());
    torch::nn::ModuleList attentions{nullptr};
    if (c.up_cross_attention[i]) attentions = block->register_module("attentions", torch::nn::ModuleList());
    for (int j = 0; j < layers; ++j) {
      int64_t skip = (j == layers - 1) ? in_ch : out_ch;
      int64_t res_in = j == 0 ? prev_out : out_ch;
      s.resnets.emplace_back(res_in + skip, out_ch, temb, g, eps);
      resnets->push_back(s.resnets.back());
      if (attentions) {
        s.attentions.push_back(make_transformer(out_ch));
        attentions->push_back(s.attentions.back());
      }
    }
    if (i < n - 1) {
      s.up = Upsample2D(out_ch);
      block->register_module("upsamplers", torch::nn::ModuleList())->push_back(s.up);
    }
    up_blocks->push_back(block);
    up_.push_back(std::move(s));
  }
  conv_norm_out_ = register_module("conv_norm_out",
                                   torch::nn::GroupNorm(torch::nn::GroupNormOptions(g, boc[0]).eps(eps)));
  conv_out_ = register_module("conv_out", conv2d(boc[0], c.out_channels, 3));
}

torch::Tensor UNet2DConditionImpl::forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                                           const torch::Tensor& context) {
  auto t = timestep.dim() == 0 ? timestep.expand({sample.size(0)}) : timestep;
  auto emb = timestep_embedding(t, config_.block_out_channels[0]).to(sample.scalar_type());
  emb = time_linear_2_(torch::silu(time_linear_1_(emb)));

  auto x = conv_in_(sample);
  std::vector<torch::Tensor> skips{x};
  for (auto& s : down_) {
    for (std::size_t j = 0; j < s.resnets.size(); ++j) {
      x = s.resnets[j](x, emb);
      if (!s.attentions.empty()) x = s.attentions[j](x, context);
      skips.push_back(x);
    }
    if (s.down) {
      x = s.down(x);
      skips.push_back(x);
    }
  }
  if (config_.mid_block) {
    x = mid_.resnets[0](x, emb);
    x = mid_.attentions[0](x, context);
    x = mid_.resnets[1](x, emb);
  }
  for (auto& s : up_) {
    for (std::size_t j = 0; j < s.resnets.size(); ++j) {
      x = torch::cat({x, skips.back()}, 1);
      skips.pop_back();
      x = s.resnets[j](x, emb);
      if (!s.attentions.empty()) x = s.attentions[j](x, context);
    }
    if (s.up) x = s.up(x);
  }
  return conv_out_(torch::silu(conv_norm_out_(x)));
}

}  // namespace joulebench::models::vision
