#include "models/vision/detection.h"

#include <fmt/format.h>

#include <algorithm>

#include "models/vision/coco_labels.h"
#include "models/vision/detr.h"
#include "models/vision/image_ops.h"
#include "models/vision/model_common.h"
#include "models/vision/yolos.h"

namespace joulebench::models::vision {

std::vector<Detection> postprocess_set_predictions(const torch::Tensor& logits, const torch::Tensor& boxes,
                                                   int image_width, int image_height, float threshold) {
  auto probs = logits.to(torch::kFloat32).softmax(-1);
  auto real = probs.slice(-1, 0, probs.size(-1) - 1);  // the last class is "no object"
  auto [score, label] = real.max(-1);
  auto b = boxes.to(torch::kFloat32);
  std::vector<Detection> out;
  for (int64_t q = 0; q < score.size(0); ++q) {
    float s = score[q].item<float>();
    if (s <= threshold) continue;
    Detection d;
    d.label = static_cast<int>(label[q].item<int64_t>());
    d.name = coco91_name(d.label);
    d.score = s;
    float cx = b[q][0].item<float>(), cy = b[q][1].item<float>(), w = b[q][2].item<float>(), h = b[q][3].item<float>();
    d.x0 = (cx - w / 2) * image_width;
    d.y0 = (cy - h / 2) * image_height;
    d.x1 = (cx + w / 2) * image_width;
    d.y1 = (cy + h / 2) * image_height;
    out.push_back(d);
  }
  std::sort(out.begin(), out.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return out;
}

std::string format_detections(const std::vector<Detection>& dets) {
  if (dets.empty()) return "no detections";
  std::string s;
  for (const auto& d : dets) {
    if (!s.empty()) s += "; ";
    s += fmt::format("{} {:.2f} [{:.0f},{:.0f},{:.0f},{:.0f}]", d.name, d.score, d.x0, d.y0, d.x1, d.y1);
  }
  return s;
}

namespace {

constexpr float kThreshold = 0.5f;  // HF object-detection pipeline default

class DetectorModel : public Model {
 public:
  DetectorModel(ModelInfo info, const LoadOptions& given) : info_(std::move(info)) {
    const LoadOptions options = resolve_weights(info_.name, given);
    rt_ = apply_load_options(options);
    const bool tiny = info_.size_class == "tiny";
    torch::nn::Module* root = nullptr;
    pre_.kind = Preprocess::Kind::shortest_edge;
    pre_.resample = Resample::bilinear;
    if (info_.family == "detr") {
      detr_ = Detr(tiny ? detr_tiny_config() : detr_resnet50_config());
      root = detr_.get();
      pre_.size = tiny ? 64 : 800;
      pre_.longest_max = tiny ? 96 : 1333;
    } else {
      yolos_ = Yolos(tiny ? yolos_test_config() : yolos_tiny_config());
      root = yolos_.get();
      // hustvl/yolos-tiny was trained with the short side at 512 (YOLOS-Ti).
      pre_.size = tiny ? 64 : 512;
      pre_.longest_max = tiny ? 96 : 864;
    }
    if (options.resolution) pre_.size = *options.resolution;
    StateDictRules rules;
    rules.ignore_unexpected.emplace_back(".*num_batches_tracked");
    info_.weights_found = init_weights(*root, options, rt_, rules);
    if (detr_) detr_->fuse_batch_norm();
    if (info_.weights_found) info_.weights_path = options.weights_dir;
    info_.head_parameters =
        count_parameters(*root, "class_labels_classifier.") + count_parameters(*root, "bbox_predictor.");
    info_.parameters = count_parameters(*root) - info_.head_parameters;
  }

  const ModelInfo& info() const override { return info_; }

  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override {
    torch::InferenceMode guard;
    std::vector<InferenceOutput> out;
    // One image at a time: sizes differ, and HF pads a batch to its largest image.
    for (const auto& in : batch) {
      auto img = read_image(in.image_path);
      auto pixels = preprocess(image_to_tensor(img), pre_).to(rt_.device, rt_.dtype);
      auto o = detr_ ? detr_(pixels) : yolos_(pixels);
      auto dets = postprocess_set_predictions(o.logits[0], o.pred_boxes[0], img.width, img.height, kThreshold);
      InferenceOutput r;
      r.text = format_detections(dets);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  ModelInfo info_;
  RuntimeOptions rt_;
  Preprocess pre_;
  Detr detr_{nullptr};
  Yolos yolos_{nullptr};
};

}  // namespace

std::vector<ModelInfo> detection_infos() {
  return {
      // DetrForObjectDetection 41,524,768 = DetrModel 41,368,512 + heads 156,256 (frozen BN: buffers).
      preset_info("facebook/detr-resnet-50", Task::object_detection, "detr", "study", 41'368'512, 156'256),
      // Bare: YolosModel as AutoModel builds it, default pooler included (6,321,984 + 192 x 192 + 192 =
      // 6,359,040), the same definition as ViT's 86,389,248 (docs/models.md "Parameter counts").
      // YolosForObjectDetection (no pooler) = 6,321,984 + heads 166,752 = 6,488,736.
      preset_info("hustvl/yolos-tiny", Task::object_detection, "yolos", "small", 6'359'040, 166'752),
      preset_info("detr-tiny", Task::object_detection, "detr", "tiny", 0, 0),
      preset_info("yolos-tiny-test", Task::object_detection, "yolos", "tiny", 0, 0),
  };
}

std::unique_ptr<Model> load_detection(const ModelInfo& info, const LoadOptions& options) {
  return std::make_unique<DetectorModel>(info, options);
}

}  // namespace joulebench::models::vision
