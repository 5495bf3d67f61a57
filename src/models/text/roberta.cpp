// RoBERTa (HF modeling_roberta.py): BERT's layers, its own position numbering
// and heads.
#include "models/text/encoders.h"

namespace joulebench::models {
namespace {

// RobertaClassificationHead: classifier.dense, tanh, classifier.out_proj on the first token.
class ClassificationHead final : public EncoderHead {
 public:
  ClassificationHead(torch::nn::Module& model, const EncoderConfig& config) {
    auto cls = add_container(model, "classifier");
    dense_ = cls->register_module("dense", linear(config.hidden, config.hidden));
    out_proj_ = cls->register_module("out_proj", linear(config.hidden, config.num_labels));
  }
  torch::Tensor forward(EncoderBackboneImpl&, const torch::Tensor& hidden) override {
    return out_proj_->forward(torch::tanh(dense_->forward(hidden.select(1, 0))));
  }

 private:
  Linear dense_{nullptr}, out_proj_{nullptr};
};

class Roberta final : public EncoderFamily {
 public:
  std::string_view name() const override { return "roberta"; }

  void read_config(const HfConfig& c, EncoderConfig& e) const override {
    e.pad_token_id = c.integer("pad_token_id", 1);
    e.type_vocab_size = c.integer("type_vocab_size", 1);
    e.layer_norm_eps = c.number("layer_norm_eps", 1e-5);
    e.act = activation_from_hf(c.string("hidden_act", "gelu"));
  }

  // Real tokens are numbered from padding_idx + 1 (create_position_ids_from_input_ids).
  torch::Tensor position_ids(const torch::Tensor& input_ids, const EncoderConfig& config) const override {
    auto mask = input_ids.ne(config.pad_token_id).to(torch::kLong);
    return mask.cumsum(1) * mask + config.pad_token_id;
  }
  // That numbering spends two positions (padding_idx and the one below it).
  std::int64_t max_input_tokens(const EncoderConfig& config) const override { return config.max_positions - 2; }

  std::unique_ptr<EncoderHead> classification_head(torch::nn::Module& model,
                                                   const EncoderConfig& config) const override {
    return std::make_unique<ClassificationHead>(model, config);
  }

  // RobertaLMHead: lm_head.{dense, layer_norm, bias}; gelu whatever hidden_act says.
  MaskedLmParts masked_lm_parts(torch::nn::Module& model, const EncoderConfig& config) const override {
    const auto h = config.hidden;
    auto head = add_container(model, "lm_head");
    MaskedLmParts parts;
    parts.dense = head->register_module("dense", linear(h, h));
    parts.norm = head->register_module("layer_norm", layer_norm(h, config.layer_norm_eps));
    parts.bias = head->register_parameter("bias", torch::zeros({config.vocab_size}));
    parts.act = Activation::gelu;
    return parts;
  }
};

}  // namespace

const EncoderFamily& roberta_family() {
  static const Roberta family;
  return family;
}

}  // namespace joulebench::models
