// DistilBERT (HF modeling_distilbert.py): no token types, no pooler, its own
// layer names ("transformer.layer.<i>.attention.q_lin", "ffn.lin1") and heads.
#include "models/text/encoders.h"

namespace joulebench::models {
namespace {

class TransformerBlock final : public EncoderLayer {
 public:
  TransformerBlock(torch::nn::Module& layer, const EncoderConfig& config) : act_(config.act) {
    const auto h = config.hidden;
    AttentionSpec spec;
    spec.embed_dim = h;
    spec.n_heads = config.heads;
    spec.q = "q_lin";
    spec.k = "k_lin";
    spec.v = "v_lin";
    spec.o = "out_lin";
    attention_ = layer.register_module("attention", Attention(spec));
    attn_norm_ = layer.register_module("sa_layer_norm", layer_norm(h, config.layer_norm_eps));
    auto ffn = add_container(layer, "ffn");
    inter_ = ffn->register_module("lin1", linear(h, config.intermediate));
    out_ = ffn->register_module("lin2", linear(config.intermediate, h));
    out_norm_ = layer.register_module("output_layer_norm", layer_norm(h, config.layer_norm_eps));
  }

  // The attention module fuses its own projections after Module::to.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) override {
    auto a = attn_norm_->forward(attention_->forward(x, bias).add_(x));
    return out_norm_->forward(out_->forward(activate_(inter_->forward(a), act_)).add_(a));
  }

 private:
  Activation act_;
  Attention attention_{nullptr};
  Linear inter_{nullptr}, out_{nullptr};
  torch::nn::LayerNorm attn_norm_{nullptr}, out_norm_{nullptr};
};

// DistilBertForSequenceClassification: pre_classifier, relu, classifier on the first token.
class ClassificationHead final : public EncoderHead {
 public:
  ClassificationHead(torch::nn::Module& model, const EncoderConfig& config) {
    pre_classifier_ = model.register_module("pre_classifier", linear(config.hidden, config.hidden));
    classifier_ = model.register_module("classifier", linear(config.hidden, config.num_labels));
  }
  torch::Tensor forward(EncoderBackboneImpl&, const torch::Tensor& hidden) override {
    return classifier_->forward(torch::relu(pre_classifier_->forward(hidden.select(1, 0))));
  }

 private:
  Linear pre_classifier_{nullptr}, classifier_{nullptr};
};

class DistilBert final : public EncoderFamily {
 public:
  std::string_view name() const override { return "distilbert"; }

  void read_config(const HfConfig& c, EncoderConfig& e) const override {
    e.pad_token_id = c.integer("pad_token_id", 0);
    e.type_vocab_size = 0;
    e.layer_norm_eps = 1e-12;
    e.act = activation_from_hf(c.string("activation", "gelu"));
  }

  std::string_view stack_name() const override { return "transformer"; }

  std::unique_ptr<EncoderLayer> make_layer(torch::nn::Module& layer, const EncoderConfig& config) const override {
    return std::make_unique<TransformerBlock>(layer, config);
  }

  bool base_has_pooler() const override { return false; }

  std::unique_ptr<EncoderHead> classification_head(torch::nn::Module& model,
                                                   const EncoderConfig& config) const override {
    return std::make_unique<ClassificationHead>(model, config);
  }

  // DistilBertForMaskedLM: vocab_transform, vocab_layer_norm, vocab_projector.bias.
  MaskedLmParts masked_lm_parts(torch::nn::Module& model, const EncoderConfig& config) const override {
    const auto h = config.hidden;
    MaskedLmParts parts;
    parts.dense = model.register_module("vocab_transform", linear(h, h));
    parts.norm = model.register_module("vocab_layer_norm", layer_norm(h, 1e-12));
    parts.bias = add_container(model, "vocab_projector")->register_parameter("bias", torch::zeros({config.vocab_size}));
    parts.act = config.act;
    return parts;
  }
};

}  // namespace

const EncoderFamily& distilbert_family() {
  static const DistilBert family;
  return family;
}

}  // namespace joulebench::models
