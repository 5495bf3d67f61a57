#include "models/text/encoders.h"

#include <fmt/format.h>

#include "joulebench/error.h"

namespace joulebench::models {

EncoderConfig encoder_config_from_hf(const HfConfig& c, const EncoderFamily& family) {
  EncoderConfig e;
  e.family = &family;
  e.vocab_size = c.integer({"vocab_size"});
  e.hidden = c.integer({"hidden_size", "dim"});
  e.layers = c.integer({"num_hidden_layers", "n_layers"});
  e.heads = c.integer({"num_attention_heads", "n_heads"});
  e.intermediate = c.integer({"intermediate_size", "hidden_dim"});
  e.max_positions = c.integer("max_position_embeddings", 512);
  family.read_config(c, e);
  if (c.has("id2label")) {
    e.num_labels = static_cast<std::int64_t>(c.json().at("id2label").size());
  } else {
    e.num_labels = c.integer("num_labels", 2);
  }
  if (e.hidden % e.heads != 0) {
    throw InputError(fmt::format("{}: hidden size {} is not a multiple of the {} attention heads", c.source(),
                                 e.hidden, e.heads));
  }
  return e;
}

torch::Tensor EncoderFamily::position_ids(const torch::Tensor& input_ids, const EncoderConfig&) const {
  return torch::arange(input_ids.size(1), input_ids.options()).unsqueeze(0);
}

const EncoderFamily* find_encoder_family(std::string_view name) {
  for (const EncoderFamily* f : {&bert_family(), &roberta_family(), &distilbert_family()})
    if (f->name() == name) return f;
  return nullptr;
}

EncoderBackboneImpl::EncoderBackboneImpl(const EncoderConfig& config, bool with_pooler) : config_(config) {
  const auto h = config.hidden;
  auto emb = add_container(*this, "embeddings");
  word_embeddings_ = emb->register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(config.vocab_size, h)));
  position_embeddings_ = emb->register_module(
      "position_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(config.max_positions, h)));
  if (config.type_vocab_size > 0) {
    token_type_embeddings_ = emb->register_module(
        "token_type_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(config.type_vocab_size, h)));
  }
  embed_norm_ = emb->register_module("LayerNorm", layer_norm(h, config.layer_norm_eps));

  auto stack = add_container(*this, std::string(config.family->stack_name()));
  auto list = add_container(*stack, "layer");
  for (std::int64_t i = 0; i < config.layers; ++i)
    layers_.push_back(config.family->make_layer(*add_container(*list, std::to_string(i)), config));
  if (with_pooler) pooler_dense_ = add_container(*this, "pooler")->register_module("dense", linear(h, h));
}

torch::Tensor EncoderBackboneImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  const auto t = input_ids.size(1);
  const torch::Tensor positions = config_.family->position_ids(input_ids, config_);
  if (t > config_.max_positions) {
    throw InputError(fmt::format("input of {} tokens is longer than the model's {} positions", t,
                                 config_.max_positions));
  }
  auto x = word_embeddings_->forward(input_ids) + position_embeddings_->forward(positions);
  if (token_type_embeddings_) x = x + token_type_embeddings_->weight[0];
  x = embed_norm_->forward(x);
  const auto bias = padding_bias(attention_mask, t, x.scalar_type());
  for (auto& layer : layers_) x = layer->forward(x, bias);
  return x;
}

void EncoderBackboneImpl::fuse_projections() {
  for (auto& layer : layers_) layer->fuse();
}

torch::Tensor EncoderBackboneImpl::pool(const torch::Tensor& hidden) {
  return torch::tanh(pooler_dense_->forward(hidden.select(1, 0)));
}

namespace {

class BertLayer final : public EncoderLayer {
 public:
  BertLayer(torch::nn::Module& layer, const EncoderConfig& config)
      : heads_(config.heads),
        scale_(1.0 / std::sqrt(static_cast<double>(config.hidden / config.heads))),
        act_(config.act) {
    const auto h = config.hidden;
    auto attention = add_container(layer, "attention");
    auto self = add_container(*attention, "self");
    const auto query = self->register_module("query", linear(h, h));
    const auto key = self->register_module("key", linear(h, h));
    const auto value = self->register_module("value", linear(h, h));
    qkv_ = FusedLinears({query, key, value});
    auto attn_output = add_container(*attention, "output");
    attn_out_ = attn_output->register_module("dense", linear(h, h));
    attn_norm_ = attn_output->register_module("LayerNorm", layer_norm(h, config.layer_norm_eps));
    inter_ = add_container(layer, "intermediate")->register_module("dense", linear(h, config.intermediate));
    auto output = add_container(layer, "output");
    out_ = output->register_module("dense", linear(config.intermediate, h));
    out_norm_ = output->register_module("LayerNorm", layer_norm(h, config.layer_norm_eps));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) override {
    // The scale goes on the fresh [B, T, H] projection in place, not on a
    // copy of the per-head view; the adds below reuse their left operand.
    auto qkv = qkv_.forward(x, 0, 3);
    auto q = split_heads(qkv[0].mul_(scale_), heads_);
    auto k = split_heads(qkv[1], heads_);
    auto v = split_heads(qkv[2], heads_);
    auto ctx = merge_heads(attention_core(q, k, v, bias, 1.0));
    auto a = attn_norm_->forward(attn_out_->forward(ctx).add_(x));
    return out_norm_->forward(out_->forward(activate_(inter_->forward(a), act_)).add_(a));
  }

  void fuse() override { qkv_.fuse(); }

 private:
  std::int64_t heads_;
  double scale_;
  Activation act_;
  FusedLinears qkv_;
  Linear attn_out_{nullptr}, inter_{nullptr}, out_{nullptr};
  torch::nn::LayerNorm attn_norm_{nullptr}, out_norm_{nullptr};
};

// Token classification ("classifier") and extractive QA ("qa_outputs": start,
// end): one Linear over every token, the same in every family.
class PerTokenHead final : public EncoderHead {
 public:
  explicit PerTokenHead(Linear linear) : linear_(std::move(linear)) {}
  torch::Tensor forward(EncoderBackboneImpl&, const torch::Tensor& hidden) override {
    return linear_->forward(hidden);
  }

 private:
  Linear linear_;
};

// Dense, activation, layer norm, then the decoder tied to the word embeddings
// plus its own bias (fused into one GEMM, as HF's Linear).
class MaskedLmHead final : public EncoderHead {
 public:
  explicit MaskedLmHead(EncoderFamily::MaskedLmParts parts) : p_(std::move(parts)) {}
  torch::Tensor forward(EncoderBackboneImpl& backbone, const torch::Tensor& hidden) override {
    auto x = p_.norm->forward(activate_(p_.dense->forward(hidden), p_.act));
    return torch::linear(x, backbone.word_embedding_weight(), p_.bias);
  }

 private:
  EncoderFamily::MaskedLmParts p_;
};

}  // namespace

std::unique_ptr<EncoderLayer> EncoderFamily::make_layer(torch::nn::Module& layer, const EncoderConfig& config) const {
  return std::make_unique<BertLayer>(layer, config);
}

EncoderTaskModelImpl::EncoderTaskModelImpl(const EncoderConfig& config, Task task) : config_(config) {
  const EncoderFamily& family = *config.family;
  backbone = register_module(std::string(family.name()), EncoderBackbone(config, family.pooler_for(task)));
  switch (task) {
    case Task::text_classification:
      head_ = family.classification_head(*this, config);
      break;
    case Task::token_classification:
      head_ = std::make_unique<PerTokenHead>(register_module("classifier", linear(config.hidden, config.num_labels)));
      break;
    case Task::question_answering:
      head_ = std::make_unique<PerTokenHead>(register_module("qa_outputs", linear(config.hidden, 2)));
      break;
    case Task::fill_mask:
      head_ = std::make_unique<MaskedLmHead>(family.masked_lm_parts(*this, config));
      break;
    default:
      throw InputError(fmt::format("{} models have no head for task {}", family.name(), to_string(task)));
  }
}

torch::Tensor EncoderTaskModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  return head_->forward(*backbone, backbone->forward(input_ids, attention_mask));
}

StateDictRules EncoderTaskModelImpl::state_dict_rules() const {
  StateDictRules r;
  r.base_prefix = std::string(config_.family->name()) + ".";
  // Buffers, heads of other tasks, and tied decoder weights (they are the word embeddings).
  for (const char* p : {"position_ids$", "token_type_ids$", "^cls\\.", "^lm_head\\.", "^vocab_", "^classifier\\.",
                        "^pre_classifier\\.", "^qa_outputs\\.", "pooler\\.", "\\.masked_bias$"}) {
    r.ignore_unexpected.emplace_back(p);
  }
  // A bare-model checkpoint leaves the task head at its seeded values (HF does the same, with a warning).
  for (const char* p : {"^classifier\\.", "^pre_classifier\\.", "^qa_outputs\\.", "^cls\\.", "^lm_head\\.",
                        "^vocab_", "pooler\\."}) {
    r.allow_missing.emplace_back(p);
  }
  return r;
}

std::int64_t EncoderTaskModelImpl::base_parameters() const {
  auto n = count_parameters(*backbone);
  if (config_.family->base_has_pooler() && !backbone->has_pooler()) n += config_.hidden * config_.hidden + config_.hidden;
  return n;
}

std::int64_t EncoderTaskModelImpl::head_parameters() const { return count_parameters(*this) - count_parameters(*backbone); }

}  // namespace joulebench::models
