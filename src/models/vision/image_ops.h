// Image <-> tensor conversion and the preprocessing the HF image processors do
// (resize, center crop, rescale, normalise), in libtorch.
#pragma once

#include <torch/torch.h>

#include <array>

#include "models/vision/image_io.h"

namespace joulebench::models::vision {

// [1, 3, H, W] float in [0, 1].
torch::Tensor image_to_tensor(const Image& image);
// [3, H, W] (or [1, 3, H, W]) float in [0, 1] -> 8-bit RGB (clamped, rounded).
Image tensor_to_image(const torch::Tensor& chw);

enum class Resample { bilinear, bicubic };

// Resizes a [N, 3, H, W] batch with antialiasing (as PIL does when shrinking).
torch::Tensor resize(const torch::Tensor& x, int height, int width, Resample mode);
// Shortest edge to `shortest`, keeping the aspect ratio; the longest edge is
// capped at `longest_max` when > 0 (DETR's 800/1333 rule).
torch::Tensor resize_shortest_edge(const torch::Tensor& x, int shortest, int longest_max, Resample mode);
// Central size x size window (the image must be at least that large).
torch::Tensor center_crop(const torch::Tensor& x, int size);
torch::Tensor normalize(const torch::Tensor& x, const std::array<float, 3>& mean, const std::array<float, 3>& std);

inline constexpr std::array<float, 3> kImageNetMean{0.485f, 0.456f, 0.406f};
inline constexpr std::array<float, 3> kImageNetStd{0.229f, 0.224f, 0.225f};
inline constexpr std::array<float, 3> kHalfMean{0.5f, 0.5f, 0.5f};

// What a model's image processor does, declaratively.
struct Preprocess {
  enum class Kind { exact, shortest_edge_crop, shortest_edge };
  Kind kind = Kind::exact;
  int size = 224;         // exact: side; shortest_edge*: shortest edge after resize
  int crop = 224;         // shortest_edge_crop: crop side
  int longest_max = 0;    // shortest_edge: cap on the longest edge
  Resample resample = Resample::bilinear;
  std::array<float, 3> mean = kImageNetMean;
  std::array<float, 3> std = kImageNetStd;
};

// Reads, decodes and preprocesses one image file: [1, 3, H, W].
torch::Tensor load_and_preprocess(const std::string& path, const Preprocess& p);
torch::Tensor preprocess(const torch::Tensor& image01, const Preprocess& p);

}  // namespace joulebench::models::vision
