#include "models/vision/image_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "joulebench/error.h"

namespace joulebench::models::vision {

namespace F = torch::nn::functional;

torch::Tensor image_to_tensor(const Image& image) {
  auto hwc = torch::from_blob(const_cast<std::uint8_t*>(image.rgb.data()), {image.height, image.width, 3},
                              torch::kUInt8);
  return hwc.permute({2, 0, 1}).to(torch::kFloat32).div(255.0f).unsqueeze(0).contiguous();
}

Image tensor_to_image(const torch::Tensor& t) {
  auto chw = t.dim() == 4 ? t[0] : t;
  if (chw.dim() != 3 || chw.size(0) != 3) throw Error("tensor_to_image: expected a [3, H, W] tensor");
  auto hwc = chw.detach().to(torch::kFloat32).clamp(0, 1).mul(255.0f).round().to(torch::kUInt8).permute({1, 2, 0})
                 .contiguous();
  Image img;
  img.height = static_cast<int>(hwc.size(0));
  img.width = static_cast<int>(hwc.size(1));
  img.rgb.assign(hwc.data_ptr<std::uint8_t>(), hwc.data_ptr<std::uint8_t>() + hwc.numel());
  return img;
}

torch::Tensor resize(const torch::Tensor& x, int height, int width, Resample mode) {
  if (x.size(2) == height && x.size(3) == width) return x;
  auto opts = F::InterpolateFuncOptions()
                  .size(std::vector<int64_t>{height, width})
                  .mode(mode == Resample::bicubic ? F::InterpolateFuncOptions::mode_t(torch::kBicubic)
                                                  : F::InterpolateFuncOptions::mode_t(torch::kBilinear))
                  .align_corners(false)
                  .antialias(true);
  auto y = F::interpolate(x, opts);
  // Bicubic overshoots; PIL clips to the 8-bit range.
  return mode == Resample::bicubic ? y.clamp(0, 1) : y;
}

torch::Tensor resize_shortest_edge(const torch::Tensor& x, int shortest, int longest_max, Resample mode) {
  double h = static_cast<double>(x.size(2)), w = static_cast<double>(x.size(3));
  double scale = shortest / std::min(h, w);
  if (longest_max > 0 && std::max(h, w) * scale > longest_max) scale = longest_max / std::max(h, w);
  int nh = std::max(1, static_cast<int>(std::lround(h * scale)));
  int nw = std::max(1, static_cast<int>(std::lround(w * scale)));
  return resize(x, nh, nw, mode);
}

torch::Tensor center_crop(const torch::Tensor& x, int size) {
  auto h = x.size(2), w = x.size(3);
  if (h < size || w < size) throw Error(fmt::format("center_crop: image {}x{} smaller than crop {}", w, h, size));
  auto top = (h - size) / 2, left = (w - size) / 2;
  return x.slice(2, top, top + size).slice(3, left, left + size);
}

torch::Tensor normalize(const torch::Tensor& x, const std::array<float, 3>& mean, const std::array<float, 3>& std) {
  auto m = torch::tensor({mean[0], mean[1], mean[2]}).view({1, 3, 1, 1});
  auto s = torch::tensor({std[0], std[1], std[2]}).view({1, 3, 1, 1});
  return (x - m) / s;
}

torch::Tensor preprocess(const torch::Tensor& image01, const Preprocess& p) {
  torch::Tensor x;
  switch (p.kind) {
    case Preprocess::Kind::exact: x = resize(image01, p.size, p.size, p.resample); break;
    case Preprocess::Kind::shortest_edge_crop:
      x = center_crop(resize_shortest_edge(image01, p.size, 0, p.resample), p.crop);
      break;
    case Preprocess::Kind::shortest_edge: x = resize_shortest_edge(image01, p.size, p.longest_max, p.resample); break;
  }
  return normalize(x, p.mean, p.std).contiguous();
}

torch::Tensor load_and_preprocess(const std::string& path, const Preprocess& p) {
  return preprocess(image_to_tensor(read_image(path)), p);
}

}  // namespace joulebench::models::vision
