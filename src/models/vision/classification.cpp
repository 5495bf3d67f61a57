#include "models/vision/classification.h"

#include <fmt/format.h>

#include "models/vision/image_ops.h"
#include "models/vision/layers.h"
#include "models/vision/model_common.h"
#include "models/vision/resnet.h"
#include "models/vision/vit.h"

namespace joulebench::models::vision {

namespace {

constexpr int kImageNetClasses = 1000;

// Task model as HF lays it out: "resnet." / "vit." + "classifier".
class ClassifierModel : public Model {
 public:
  ClassifierModel(ModelInfo info, const LoadOptions& given) : info_(std::move(info)) {
    const LoadOptions options = resolve_weights(info_.name, given);
    rt_ = apply_load_options(options);
    torch::manual_seed(options.seed);
    const bool tiny = info_.size_class == "tiny";
    if (info_.family == "resnet") {
      auto cfg = tiny ? resnet_tiny_config() : info_.name == "microsoft/resnet-18" ? resnet18_config()
                                                                                    : resnet50_config();
      resnet_ = root_.register_module("resnet", ResNetModel(cfg));
      // HF: classifier = Sequential(Flatten, Linear) -> "classifier.1.weight".
      head_ = add_container(root_, "classifier")->register_module("1", linear(cfg.hidden_sizes.back(), classes()));
      pre_.kind = Preprocess::Kind::shortest_edge_crop;  // ConvNextImageProcessor: 224 / crop_pct 0.875
      pre_.size = tiny ? 36 : 256;
      pre_.crop = tiny ? 32 : 224;
      pre_.resample = Resample::bicubic;
    } else {
      auto cfg = tiny ? vit_tiny_config() : vit_base_config();
      vit_ = root_.register_module("vit", ViTModel(cfg));
      head_ = root_.register_module("classifier", linear(cfg.hidden_size, classes()));
      pre_.kind = Preprocess::Kind::exact;
      pre_.size = cfg.image_size;
      pre_.mean = kHalfMean;
      pre_.std = kHalfMean;
    }
    StateDictRules rules;
    rules.allow_missing.emplace_back("vit\\.pooler\\..*");  // ViTForImageClassification has no pooler
    rules.allow_missing.emplace_back(".*num_batches_tracked");  // a training counter, unused in eval
    info_.weights_found = init_weights(root_, options, rt_, rules);
    if (resnet_) resnet_->fuse_batch_norm();
    if (info_.weights_found) info_.weights_path = options.weights_dir;
    info_.parameters = count_parameters(root_) - count_parameters(root_, "classifier.");
    info_.head_parameters = count_parameters(root_, "classifier.");
  }

  const ModelInfo& info() const override { return info_; }

  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override {
    if (batch.empty()) return {};
    torch::InferenceMode guard;
    std::vector<torch::Tensor> images;
    for (const auto& in : batch) images.push_back(load_and_preprocess(in.image_path, pre_));
    auto pixels = torch::cat(images).to(rt_.device, rt_.dtype);
    // ViTForImageClassification classifies the CLS token after the final layernorm (no pooler).
    auto features = resnet_ ? resnet_(pixels) : vit_->forward(pixels, false).last_hidden_state.select(1, 0);
    auto probs = head_(features).to(torch::kFloat32).softmax(-1);
    auto [score, index] = probs.max(-1);
    std::vector<InferenceOutput> out(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      out[i].text = fmt::format("LABEL_{} ({:.3f})", index[i].item<std::int64_t>(), score[i].item<float>());
    }
    return out;
  }

  torch::nn::Module& module() { return root_; }

 private:
  int classes() const { return info_.size_class == "tiny" ? 10 : kImageNetClasses; }

  ModelInfo info_;
  RuntimeOptions rt_;
  Preprocess pre_;
  torch::nn::Module root_;
  ResNetModel resnet_{nullptr};
  ViTModel vit_{nullptr};
  Linear head_{nullptr};
};

}  // namespace

std::vector<ModelInfo> classification_infos() {
  return {
      preset_info("microsoft/resnet-50", Task::image_classification, "resnet", "study", 23'508'032, 2'049'000),
      preset_info("microsoft/resnet-18", Task::image_classification, "resnet", "small", 11'176'512, 513'000),
      preset_info("google/vit-base-patch16-224", Task::image_classification, "vit", "study", 86'389'248, 769'000),
      preset_info("resnet-tiny", Task::image_classification, "resnet", "tiny", 0, 0),
      preset_info("vit-tiny", Task::image_classification, "vit", "tiny", 0, 0),
  };
}

std::unique_ptr<Model> load_classification(const ModelInfo& info, const LoadOptions& options) {
  return std::make_unique<ClassifierModel>(info, options);
}

}  // namespace joulebench::models::vision
