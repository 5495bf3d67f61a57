// Small building blocks shared by the vision architectures.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "models/common/blocks.h"

namespace joulebench::models::vision {

// softmax(q k^T / sqrt(d)) v over `heads` heads on [B, L, C] tensors (the
// common attention core); `bias` (optional) broadcasts to [B, heads, Lq, Lk].
inline torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int64_t heads,
                            const torch::Tensor& bias = {}) {
  auto d = q.size(2) / heads;
  return merge_heads(attention_core(split_heads(q, heads), split_heads(k, heads), split_heads(v, heads), bias,
                                    1.0 / std::sqrt(static_cast<double>(d))));
}

inline torch::nn::Conv2d conv2d(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t padding = -1,
                                bool bias = true, int64_t groups = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k)
                               .stride(stride)
                               .padding(padding < 0 ? k / 2 : padding)
                               .bias(bias)
                               .groups(groups));
}

}  // namespace joulebench::models::vision
