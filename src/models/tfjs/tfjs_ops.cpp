// The TensorFlow ops a tfjs graph model may use, on NHWC tensors, in libtorch.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "joulebench/error.h"
#include "models/tfjs/graph_model.h"

namespace joulebench::models::tfjs {

namespace {

namespace F = torch::nn::functional;

std::string base64_decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    auto pos = chars.find(c);
    if (pos == std::string::npos) break;  // '=' padding
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::vector<std::int64_t> attr_ints(const nlohmann::json& attr, const std::string& key) {
  std::vector<std::int64_t> v;
  if (!attr.contains(key)) return v;
  const auto& list = attr.at(key).value("list", nlohmann::json::object());
  if (list.contains("i"))
    for (const auto& s : list.at("i")) v.push_back(s.is_string() ? std::stoll(s.get<std::string>()) : s.get<std::int64_t>());
  return v;
}
std::int64_t attr_int(const nlohmann::json& attr, const std::string& key, std::int64_t fallback) {
  if (!attr.contains(key) || !attr.at(key).contains("i")) return fallback;
  const auto& i = attr.at(key).at("i");
  return i.is_string() ? std::stoll(i.get<std::string>()) : i.get<std::int64_t>();
}
bool attr_bool(const nlohmann::json& attr, const std::string& key) {
  return attr.contains(key) && attr.at(key).value("b", false);
}
std::string attr_string(const nlohmann::json& attr, const std::string& key) {
  if (!attr.contains(key) || !attr.at(key).contains("s")) return {};
  return base64_decode(attr.at(key).at("s").get<std::string>());
}
std::vector<std::string> attr_strings(const nlohmann::json& attr, const std::string& key) {
  std::vector<std::string> v;
  if (!attr.contains(key)) return v;
  const auto& list = attr.at(key).value("list", nlohmann::json::object());
  if (list.contains("s"))
    for (const auto& s : list.at("s")) v.push_back(base64_decode(s.get<std::string>()));
  return v;
}

std::vector<std::int64_t> to_ints(const torch::Tensor& t) {
  auto l = t.to(torch::kLong).flatten().contiguous();
  return {l.data_ptr<std::int64_t>(), l.data_ptr<std::int64_t>() + l.numel()};
}

std::int64_t normalize_axis(std::int64_t axis, std::int64_t rank) { return axis < 0 ? axis + rank : axis; }

// TensorFlow "SAME": output = ceil(in / stride), padding split with the extra one after.
std::pair<std::int64_t, std::int64_t> same_padding(std::int64_t in, std::int64_t k, std::int64_t stride,
                                                   std::int64_t dilation) {
  std::int64_t out = (in + stride - 1) / stride;
  std::int64_t total = std::max<std::int64_t>((out - 1) * stride + (k - 1) * dilation + 1 - in, 0);
  return {total / 2, total - total / 2};
}

// NHWC convolution (regular or depthwise) with optional fused bias and activation.
torch::Tensor conv(const nlohmann::json& attr, const torch::Tensor& x, const torch::Tensor& w, bool depthwise,
                   const torch::Tensor& bias, const std::vector<std::string>& activations, double pad_value = 0) {
  auto strides = attr_ints(attr, "strides");
  auto dil = attr_ints(attr, "dilations");
  std::int64_t sh = strides.size() == 4 ? strides[1] : 1, sw = strides.size() == 4 ? strides[2] : 1;
  std::int64_t dh = dil.size() == 4 ? dil[1] : 1, dw = dil.size() == 4 ? dil[2] : 1;
  auto data_format = attr_string(attr, "data_format");
  if (!data_format.empty() && data_format != "NHWC") throw Error("tfjs: only NHWC convolutions are supported");
  auto xc = x.permute({0, 3, 1, 2});
  std::int64_t kh = w.size(0), kw = w.size(1);
  auto padding = attr_string(attr, "padding");
  if (padding == "SAME") {
    auto [t, b] = same_padding(xc.size(2), kh, sh, dh);
    auto [l, r] = same_padding(xc.size(3), kw, sw, dw);
    if (t || b || l || r) xc = F::pad(xc, F::PadFuncOptions({l, r, t, b}).value(pad_value));
  } else if (padding != "VALID") {
    throw Error(fmt::format("tfjs: padding '{}' is not supported", padding));
  }
  torch::Tensor wt;
  std::int64_t groups = 1;
  if (depthwise) {
    groups = w.size(2);
    wt = w.permute({2, 3, 0, 1}).reshape({w.size(2) * w.size(3), 1, kh, kw});
  } else {
    wt = w.permute({3, 2, 0, 1});
  }
  auto y = torch::conv2d(xc, wt.contiguous(), bias, torch::IntArrayRef{sh, sw}, torch::IntArrayRef{0, 0},
                         torch::IntArrayRef{dh, dw}, groups);
  for (const auto& a : activations) {
    if (a == "Relu") y = torch::relu(y);
    else if (a == "Relu6") y = torch::clamp(y, 0, 6);
    else if (a == "Sigmoid") y = torch::sigmoid(y);
    else throw Error(fmt::format("tfjs: fused activation '{}' is not supported", a));
  }
  return y.permute({0, 2, 3, 1});
}

torch::Tensor fused_conv(const nlohmann::json& attr, const std::vector<torch::Tensor>& in, bool depthwise) {
  auto ops = attr_strings(attr, "fused_ops");
  torch::Tensor bias;
  std::vector<std::string> acts;
  for (const auto& op : ops) {
    if (op == "BiasAdd") bias = in.at(2);
    else acts.push_back(op);
  }
  return conv(attr, in.at(0), in.at(1), depthwise, bias, acts);
}

// One axis of TensorFlow's resize: source indices and weights.
struct Axis {
  torch::Tensor lo, hi, w;
};
Axis resize_axis(std::int64_t in, std::int64_t out, bool align_corners, bool half_pixel) {
  std::vector<std::int64_t> lo(out), hi(out);
  std::vector<float> w(out);
  double scale = (align_corners && out > 1) ? static_cast<double>(in - 1) / (out - 1) : static_cast<double>(in) / out;
  for (std::int64_t i = 0; i < out; ++i) {
    double src = half_pixel ? (i + 0.5) * scale - 0.5 : i * scale;
    double f = std::floor(src);
    lo[i] = std::clamp<std::int64_t>(static_cast<std::int64_t>(f), 0, in - 1);
    hi[i] = std::clamp<std::int64_t>(static_cast<std::int64_t>(f) + 1, 0, in - 1);
    w[i] = static_cast<float>(src - f);
    if (src < 0) w[i] = 0;
  }
  return {torch::tensor(lo), torch::tensor(hi), torch::tensor(w)};
}

torch::Tensor resize_bilinear(const nlohmann::json& attr, const torch::Tensor& x, const torch::Tensor& size) {
  auto s = to_ints(size);
  bool align = attr_bool(attr, "align_corners"), half = attr_bool(attr, "half_pixel_centers");
  auto ay = resize_axis(x.size(1), s.at(0), align, half);
  auto ax = resize_axis(x.size(2), s.at(1), align, half);
  auto wy = ay.w.view({1, -1, 1, 1}).to(x.scalar_type());
  auto rows = x.index_select(1, ay.lo) * (1 - wy) + x.index_select(1, ay.hi) * wy;
  auto wx = ax.w.view({1, 1, -1, 1}).to(x.scalar_type());
  return rows.index_select(2, ax.lo) * (1 - wx) + rows.index_select(2, ax.hi) * wx;
}

torch::Tensor strided_slice(const nlohmann::json& attr, const std::vector<torch::Tensor>& in) {
  auto x = in.at(0);
  auto begin = to_ints(in.at(1)), end = to_ints(in.at(2)), strides = to_ints(in.at(3));
  auto begin_mask = attr_int(attr, "begin_mask", 0), end_mask = attr_int(attr, "end_mask", 0);
  auto shrink = attr_int(attr, "shrink_axis_mask", 0);
  if (attr_int(attr, "ellipsis_mask", 0) || attr_int(attr, "new_axis_mask", 0))
    throw Error("tfjs: StridedSlice with ellipsis or new-axis masks is not supported");
  std::int64_t dim = 0;
  for (std::size_t i = 0; i < begin.size(); ++i) {
    std::int64_t size = x.size(dim), stride = strides[i];
    if (stride <= 0) throw Error("tfjs: StridedSlice with non-positive strides is not supported");
    std::int64_t b = (begin_mask >> i) & 1 ? 0 : begin[i];
    if (b < 0) b += size;
    if ((shrink >> i) & 1) {
      x = x.select(dim, b);
      continue;
    }
    std::int64_t e = (end_mask >> i) & 1 ? size : end[i];
    if (e < 0) e += size;
    x = x.slice(dim, std::clamp<std::int64_t>(b, 0, size), std::clamp<std::int64_t>(e, 0, size), stride);
    ++dim;
  }
  return x;
}

torch::ScalarType tf_dtype(const std::string& t) {
  if (t == "DT_FLOAT") return torch::kFloat32;
  if (t == "DT_INT32") return torch::kInt32;
  if (t == "DT_INT64") return torch::kInt64;
  if (t == "DT_BOOL") return torch::kBool;
  throw Error(fmt::format("tfjs: cast to '{}' is not supported", t));
}

}  // namespace

std::vector<torch::Tensor> GraphModel::apply_op(const Node& n, const std::vector<torch::Tensor>& in) {
  const auto& op = n.op;
  const auto& a = n.attr;
  if (op == "Identity") return {in.at(0)};
  if (op == "Conv2D") return {conv(a, in.at(0), in.at(1), false, {}, {})};
  if (op == "DepthwiseConv2dNative") return {conv(a, in.at(0), in.at(1), true, {}, {})};
  if (op == "_FusedConv2D") return {fused_conv(a, in, false)};
  if (op == "FusedDepthwiseConv2dNative") return {fused_conv(a, in, true)};
  if (op == "Add" || op == "AddV2") return {in.at(0) + in.at(1)};
  if (op == "Sub") return {in.at(0) - in.at(1)};
  if (op == "Mul") return {in.at(0) * in.at(1)};
  if (op == "RealDiv") return {in.at(0) / in.at(1)};
  if (op == "FloorDiv") return {torch::div(in.at(0), in.at(1), "floor")};
  if (op == "FloorMod") return {torch::remainder(in.at(0), in.at(1))};
  if (op == "Equal") return {torch::eq(in.at(0), in.at(1))};
  if (op == "Relu") return {torch::relu(in.at(0))};
  if (op == "Relu6") return {torch::clamp(in.at(0), 0, 6)};
  if (op == "Sigmoid") return {torch::sigmoid(in.at(0))};
  if (op == "Mean") {
    auto axes = to_ints(in.at(1));
    for (auto& ax : axes) ax = normalize_axis(ax, in.at(0).dim());
    return {in.at(0).mean(axes, attr_bool(a, "keep_dims"))};
  }
  if (op == "ConcatV2") {
    std::vector<torch::Tensor> parts(in.begin(), in.end() - 1);
    auto axis = normalize_axis(to_ints(in.back()).at(0), parts.at(0).dim());
    return {torch::cat(parts, axis)};
  }
  if (op == "Reshape") return {in.at(0).reshape(to_ints(in.at(1)))};
  if (op == "Cast") return {in.at(0).to(tf_dtype(a.at("DstT").at("type").get<std::string>()))};
  if (op == "ExpandDims") {
    auto d = to_ints(in.at(1)).at(0);
    return {in.at(0).unsqueeze(d < 0 ? d + in.at(0).dim() + 1 : d)};
  }
  if (op == "StridedSlice") return {strided_slice(a, in)};
  if (op == "ResizeBilinear") return {resize_bilinear(a, in.at(0), in.at(1))};
  if (op == "MaxPool") {
    auto k = attr_ints(a, "ksize");
    auto x = in.at(0);
    auto strides = attr_ints(a, "strides");
    auto xc = x.permute({0, 3, 1, 2});
    if (attr_string(a, "padding") == "SAME") {
      auto [t, b] = same_padding(xc.size(2), k[1], strides[1], 1);
      auto [l, r] = same_padding(xc.size(3), k[2], strides[2], 1);
      xc = F::pad(xc, F::PadFuncOptions({l, r, t, b}).value(-std::numeric_limits<double>::infinity()));
    }
    return {torch::max_pool2d(xc, {k[1], k[2]}, {strides[1], strides[2]}).permute({0, 2, 3, 1})};
  }
  if (op == "TopKV2") {
    auto k = to_ints(in.at(1)).at(0);
    auto [values, indices] = torch::topk(in.at(0), k, -1, true, true);
    return {values, indices.to(torch::kInt32)};
  }
  if (op == "GatherV2") {
    const auto& params = in.at(0);
    const auto& idx = in.at(1);
    auto axis = normalize_axis(to_ints(in.at(2)).at(0), params.dim());
    auto g = params.index_select(axis, idx.flatten().to(torch::kLong));
    std::vector<std::int64_t> shape(params.sizes().begin(), params.sizes().begin() + axis);
    for (auto s : idx.sizes()) shape.push_back(s);
    for (auto i = axis + 1; i < params.dim(); ++i) shape.push_back(params.size(i));
    return {g.reshape(shape)};
  }
  throw Error(fmt::format("tfjs model '{}': op '{}' is not implemented", source_, op));
}

}  // namespace joulebench::models::tfjs
