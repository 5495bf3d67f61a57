#include "models/vision/captioning.h"

#include <fmt/format.h>

#include <filesystem>

#include "joulebench/version.h"
#include "models/common/generation.h"
#include "models/common/gpt2.h"
#include "models/tokenizers/tokenizer.h"
#include "models/vision/image_ops.h"
#include "models/vision/model_common.h"
#include "models/vision/vit.h"
#include "core/paths.h"

namespace joulebench::models::vision {

namespace {

// HF generate's default max_length 20 (the pipeline's cap when the model
// config sets none): at most 20 new tokens.
constexpr int kDefaultMaxNewTokens = 20;

class CaptioningModel : public Model {
 public:
  CaptioningModel(ModelInfo info, const LoadOptions& given) : info_(std::move(info)) {
    const LoadOptions options = resolve_weights(info_.name, given);
    rt_ = apply_load_options(options);
    const bool tiny = info_.size_class == "tiny";
    auto vit_cfg = tiny ? vit_tiny_config() : vit_base_config();
    Gpt2Config gpt;
    gpt.add_cross_attention = true;
    if (tiny) {
      gpt.vocab_size = 1000;
      gpt.max_positions = 64;
      gpt.hidden = vit_cfg.hidden_size;
      gpt.layers = 2;
      gpt.heads = 2;
      gpt.inner = 4 * gpt.hidden;
      gpt.bos_token_id = gpt.eos_token_id = 999;
    }
    encoder_ = root_.register_module("encoder", ViTModel(vit_cfg));
    decoder_ = root_.register_module("decoder", Gpt2Lm(gpt));
    StateDictRules root_rules;
    root_rules.ignore_unexpected.emplace_back(".*\\.attn\\.(masked_)?bias");  // GPT-2's causal-mask buffers
    root_rules.ignore_unexpected.emplace_back("decoder\\.lm_head\\.weight");    // tied to wte
    root_rules.allow_missing.emplace_back("encoder\\.pooler\\..*");
    info_.weights_found = init_weights(root_, options, rt_, root_rules);
    if (info_.weights_found) info_.weights_path = options.weights_dir;
    info_.parameters = count_parameters(root_);
    pre_.kind = Preprocess::Kind::exact;
    pre_.size = vit_cfg.image_size;
    pre_.mean = kHalfMean;
    pre_.std = kHalfMean;
    gen_.max_new_tokens = options.max_new_tokens.value_or(kDefaultMaxNewTokens);
    gen_.min_new_tokens = options.min_new_tokens.value_or(0);
    gen_.eos_token_id = gpt.eos_token_id;
    gen_.pad_token_id = gpt.eos_token_id;
    auto vocab = core::data_dir() / "gpt2-bpe";
    std::error_code ec;
    if (!tiny && std::filesystem::exists(vocab / "encoder.json", ec))
      tokenizer_ = load_byte_bpe(vocab / "encoder.json", vocab / "vocab.bpe");
    else
      tokenizer_ = make_builtin(gpt.vocab_size);
  }

  const ModelInfo& info() const override { return info_; }

  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override {
    if (batch.empty()) return {};
    torch::InferenceMode guard;
    std::vector<torch::Tensor> images;
    for (const auto& in : batch) images.push_back(load_and_preprocess(in.image_path, pre_));
    auto pixels = torch::cat(images).to(rt_.device, rt_.dtype);
    auto states = encoder_->forward(pixels, false).last_hidden_state;
    auto mask = torch::ones({states.size(0), states.size(1)}, torch::TensorOptions().dtype(torch::kLong));
    auto result = greedy_generate_from_states(*decoder_, states, mask, gen_);
    auto tokens = result.tokens.to(torch::kCPU).contiguous();
    std::vector<InferenceOutput> out(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto len = result.lengths[i];
      std::vector<std::int64_t> ids(tokens[static_cast<int64_t>(i)].data_ptr<std::int64_t>(),
                                    tokens[static_cast<int64_t>(i)].data_ptr<std::int64_t>() + len);
      if (!ids.empty() && ids.back() == gen_.eos_token_id) ids.pop_back();
      out[i].text = tokenizer_->decode(ids);
      out[i].input_tokens = states.size(1);  // image patches + CLS seen by the decoder
      out[i].output_tokens = len;
    }
    return out;
  }

 private:
  ModelInfo info_;
  RuntimeOptions rt_;
  Preprocess pre_;
  GenerationConfig gen_;
  torch::nn::Module root_;
  ViTModel encoder_{nullptr};
  Gpt2Lm decoder_{nullptr};
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace

std::vector<ModelInfo> captioning_infos() {
  // ViTModel 86,389,248 + GPT-2 with cross-attention 152,806,656 (LM head tied).
  return {preset_info("nlpconnect/vit-gpt2-image-captioning", Task::image_to_text, "vit-gpt2", "study", 239'195'904),
          preset_info("vit-gpt2-tiny", Task::image_to_text, "vit-gpt2", "tiny", 0)};
}

std::unique_ptr<Model> load_captioning(const ModelInfo& info, const LoadOptions& options) {
  return std::make_unique<CaptioningModel>(info, options);
}

}  // namespace joulebench::models::vision
