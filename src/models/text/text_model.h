// TextModel: a text preset (encoder + head, decoder-only LM or
// encoder-decoder) behind the joulebench::Model interface.
#pragma once

#include <torch/torch.h>

#include "joulebench/models.h"
#include "models/common/generation.h"
#include "models/common/hf_config.h"
#include "models/common/weights.h"
#include "models/text/encoders.h"
#include "models/text/presets.h"
#include "models/tokenizers/tokenizer.h"

namespace joulebench::models {

class TextModel final : public Model {
 public:
  // Builds the module, seeds it, loads real weights when found (LoadOptions::
  // weights_dir, else default_weights_dir), picks the tokenizer.
  TextModel(const TextPreset& preset, const LoadOptions& options);
  const ModelInfo& info() const override { return info_; }
  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override;

  // For tests and benchmarks.
  torch::nn::Module& module() { return *module_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  GenerationConfig& generation() { return generation_; }
  const TextPreset& preset() const { return preset_; }
  // The module behind the model, by kind (null when it is of another kind).
  EncoderTaskModelImpl* encoder() { return encoder_.get(); }
  CausalLm* causal() { return causal_; }
  Seq2SeqLm* seq2seq() { return seq2seq_; }

 private:
  void build(const HfConfig& config);
  void set_specials(const HfConfig& config, const LoadOptions& options);
  std::pair<torch::Tensor, torch::Tensor> pad(const std::vector<std::vector<std::int64_t>>& rows, bool left) const;
  std::vector<std::int64_t> encode_masked(const std::string& text) const;
  std::vector<InferenceOutput> infer_encoder(std::span<const InferenceInput> batch);
  std::vector<InferenceOutput> infer_generate(std::span<const InferenceInput> batch);

  TextPreset preset_;
  ModelInfo info_;
  RuntimeOptions rt_;
  std::shared_ptr<torch::nn::Module> module_;
  std::shared_ptr<EncoderTaskModelImpl> encoder_;
  CausalLm* causal_ = nullptr;
  Seq2SeqLm* seq2seq_ = nullptr;
  StateDictRules rules_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  SpecialTemplate template_;
  GenerationConfig generation_;
  std::int64_t vocab_size_ = 0, max_input_ = 512;
  std::int64_t pad_ = 0, bos_ = 0, eos_ = -1, mask_ = 0;
};

// The fastText language identifier (lid.176.ftz) as a text-classification model.
std::vector<ModelInfo> fasttext_model_infos();
std::unique_ptr<Model> load_fasttext_model(std::string_view name, const LoadOptions& options);

}  // namespace joulebench::models
