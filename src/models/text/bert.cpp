// BERT (HF modeling_bert.py: BertModel and its task heads).
#include "models/text/encoders.h"

namespace joulebench::models {
namespace {

// BertForSequenceClassification: the pooler, then "classifier".
class PooledClassifierHead final : public EncoderHead {
 public:
  explicit PooledClassifierHead(Linear classifier) : classifier_(std::move(classifier)) {}
  torch::Tensor forward(EncoderBackboneImpl& backbone, const torch::Tensor& hidden) override {
    return classifier_->forward(backbone.pool(hidden));
  }

 private:
  Linear classifier_;
};

class Bert final : public EncoderFamily {
 public:
  std::string_view name() const override { return "bert"; }

  void read_config(const HfConfig& c, EncoderConfig& e) const override {
    e.pad_token_id = c.integer("pad_token_id", 0);
    e.type_vocab_size = c.integer("type_vocab_size", 2);
    e.layer_norm_eps = c.number("layer_norm_eps", 1e-12);
    e.act = activation_from_hf(c.string("hidden_act", "gelu"));
  }

  bool pooler_for(Task task) const override { return task == Task::text_classification; }

  std::unique_ptr<EncoderHead> classification_head(torch::nn::Module& model,
                                                   const EncoderConfig& config) const override {
    return std::make_unique<PooledClassifierHead>(
        model.register_module("classifier", linear(config.hidden, config.num_labels)));
  }

  // BertForMaskedLM: cls.predictions.{transform.dense, transform.LayerNorm, bias}.
  MaskedLmParts masked_lm_parts(torch::nn::Module& model, const EncoderConfig& config) const override {
    const auto h = config.hidden;
    auto predictions = add_container(*add_container(model, "cls"), "predictions");
    auto transform = add_container(*predictions, "transform");
    MaskedLmParts parts;
    parts.dense = transform->register_module("dense", linear(h, h));
    parts.norm = transform->register_module("LayerNorm", layer_norm(h, config.layer_norm_eps));
    parts.bias = predictions->register_parameter("bias", torch::zeros({config.vocab_size}));
    parts.act = config.act;
    return parts;
  }
};

}  // namespace

const EncoderFamily& bert_family() {
  static const Bert family;
  return family;
}

}  // namespace joulebench::models
