#include "models/text/encoders.h"

#include <fmt/format.h>

#include "joulebench/error.h"

namespace joulebench::models {
namespace {

const char* prefix_of(EncoderFamily f) {
  switch (f) {
    case EncoderFamily::bert: return "bert";
    case EncoderFamily::roberta: return "roberta";
    case EncoderFamily::distilbert: return "distilbert";
  }
  return "bert";
}

}  // namespace

EncoderConfig encoder_config_from_hf(const HfConfig& c, EncoderFamily family) {
  EncoderConfig e;
  e.family = family;
  e.vocab_size = c.integer({"vocab_size"});
  e.hidden = c.integer({"hidden_size", "dim"});
  e.layers = c.integer({"num_hidden_layers", "n_layers"});
  e.heads = c.integer({"num_attention_heads", "n_heads"});
  e.intermediate = c.integer({"intermediate_size", "hidden_dim"});
  e.max_positions = c.integer("max_position_embeddings", 512);
  e.pad_token_id = c.integer("pad_token_id", family == EncoderFamily::roberta ? 1 : 0);
  if (family == EncoderFamily::distilbert) {
    e.type_vocab_size = 0;
    e.layer_norm_eps = 1e-12;
    e.act = activation_from_hf(c.string("activation", "gelu"));
  } else {
    e.type_vocab_size = c.integer("type_vocab_size", family == EncoderFamily::roberta ? 1 : 2);
    e.layer_norm_eps = c.number("layer_norm_eps", family == EncoderFamily::roberta ? 1e-5 : 1e-12);
    e.act = activation_from_hf(c.string("hidden_act", "gelu"));
  }
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

EncoderBackboneImpl::EncoderBackboneImpl(const EncoderConfig& config, bool with_pooler) : config_(config) {
  const auto h = config.hidden;
  const bool distil = config.family == EncoderFamily::distilbert;
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

  auto stack = add_container(*this, distil ? "transformer" : "encoder");
  auto list = add_container(*stack, "layer");
  for (std::int64_t i = 0; i < config.layers; ++i) {
    auto layer = add_container(*list, std::to_string(i));
    Layer l;
    if (distil) {
      AttentionSpec spec;
      spec.embed_dim = h;
      spec.n_heads = config.heads;
      spec.q = "q_lin";
      spec.k = "k_lin";
      spec.v = "v_lin";
      spec.o = "out_lin";
      l.distil_attention = layer->register_module("attention", Attention(spec));
      l.attn_norm = layer->register_module("sa_layer_norm", layer_norm(h, config.layer_norm_eps));
      auto ffn = add_container(*layer, "ffn");
      l.inter = ffn->register_module("lin1", linear(h, config.intermediate));
      l.out = ffn->register_module("lin2", linear(config.intermediate, h));
      l.out_norm = layer->register_module("output_layer_norm", layer_norm(h, config.layer_norm_eps));
    } else {
      auto attention = add_container(*layer, "attention");
      auto self = add_container(*attention, "self");
      l.query = self->register_module("query", linear(h, h));
      l.key = self->register_module("key", linear(h, h));
      l.value = self->register_module("value", linear(h, h));
      l.qkv = FusedLinears({l.query, l.key, l.value});
      auto attn_output = add_container(*attention, "output");
      l.attn_out = attn_output->register_module("dense", linear(h, h));
      l.attn_norm = attn_output->register_module("LayerNorm", layer_norm(h, config.layer_norm_eps));
      l.inter = add_container(*layer, "intermediate")->register_module("dense", linear(h, config.intermediate));
      auto output = add_container(*layer, "output");
      l.out = output->register_module("dense", linear(config.intermediate, h));
      l.out_norm = output->register_module("LayerNorm", layer_norm(h, config.layer_norm_eps));
    }
    layers_.push_back(l);
  }
  if (with_pooler && !distil) pooler_dense_ = add_container(*this, "pooler")->register_module("dense", linear(h, h));
}

torch::Tensor EncoderBackboneImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  const auto t = input_ids.size(1);
  torch::Tensor positions;
  if (config_.family == EncoderFamily::roberta) {
    // RoBERTa numbers real tokens from padding_idx + 1 (create_position_ids_from_input_ids).
    auto mask = input_ids.ne(config_.pad_token_id).to(torch::kLong);
    positions = mask.cumsum(1) * mask + config_.pad_token_id;
  } else {
    positions = torch::arange(t, input_ids.options()).unsqueeze(0);
  }
  if (t > config_.max_positions) {
    throw InputError(fmt::format("input of {} tokens is longer than the model's {} positions", t,
                                 config_.max_positions));
  }
  auto x = word_embeddings_->forward(input_ids) + position_embeddings_->forward(positions);
  if (token_type_embeddings_) x = x + token_type_embeddings_->weight[0];
  x = embed_norm_->forward(x);
  const auto dtype = x.scalar_type();
  auto bias = padding_bias(attention_mask, t, dtype);
  const double scale = 1.0 / std::sqrt(static_cast<double>(config_.hidden / config_.heads));
  for (auto& l : layers_) {
    torch::Tensor a;
    if (l.distil_attention) {
      a = l.attn_norm->forward(l.distil_attention->forward(x, bias).add_(x));
    } else {
      // The scale goes on the fresh [B, T, H] projection in place, not on
      // a copy of the per-head view; the adds below reuse their left operand.
      auto qkv = l.qkv.forward(x, 0, 3);
      auto q = split_heads(qkv[0].mul_(scale), config_.heads);
      auto k = split_heads(qkv[1], config_.heads);
      auto v = split_heads(qkv[2], config_.heads);
      auto ctx = merge_heads(attention_core(q, k, v, bias, 1.0));
      a = l.attn_norm->forward(l.attn_out->forward(ctx).add_(x));
    }
    x = l.out_norm->forward(l.out->forward(activate_(l.inter->forward(a), config_.act)).add_(a));
  }
  return x;
}

void EncoderBackboneImpl::fuse_projections() {
  for (auto& l : layers_) l.qkv.fuse();
}

torch::Tensor EncoderBackboneImpl::pool(const torch::Tensor& hidden) {
  return torch::tanh(pooler_dense_->forward(hidden.select(1, 0)));
}

EncoderTaskModelImpl::EncoderTaskModelImpl(const EncoderConfig& config, Task task)
    : config_(config), task_(task), prefix_(prefix_of(config.family)) {
  const auto h = config.hidden;
  const bool pooler = task == Task::text_classification && config.family == EncoderFamily::bert;
  backbone = register_module(prefix_, EncoderBackbone(config, pooler));
  switch (task) {
    case Task::text_classification:
      if (config.family == EncoderFamily::roberta) {
        auto cls = add_container(*this, "classifier");
        transform_ = cls->register_module("dense", linear(h, h));
        classifier_ = cls->register_module("out_proj", linear(h, config.num_labels));
      } else {
        if (config.family == EncoderFamily::distilbert) pre_classifier_ = register_module("pre_classifier", linear(h, h));
        classifier_ = register_module("classifier", linear(h, config.num_labels));
      }
      break;
    case Task::token_classification:
      classifier_ = register_module("classifier", linear(h, config.num_labels));
      break;
    case Task::question_answering:
      classifier_ = register_module("qa_outputs", linear(h, 2));
      break;
    case Task::fill_mask: {
      if (config.family == EncoderFamily::bert) {
        auto predictions = add_container(*add_container(*this, "cls"), "predictions");
        auto transform = add_container(*predictions, "transform");
        transform_ = transform->register_module("dense", linear(h, h));
        transform_norm_ = transform->register_module("LayerNorm", layer_norm(h, config.layer_norm_eps));
        mlm_bias_ = predictions->register_parameter("bias", torch::zeros({config.vocab_size}));
      } else if (config.family == EncoderFamily::roberta) {
        auto head = add_container(*this, "lm_head");
        transform_ = head->register_module("dense", linear(h, h));
        transform_norm_ = head->register_module("layer_norm", layer_norm(h, config.layer_norm_eps));
        mlm_bias_ = head->register_parameter("bias", torch::zeros({config.vocab_size}));
      } else {
        transform_ = register_module("vocab_transform", linear(h, h));
        transform_norm_ = register_module("vocab_layer_norm", layer_norm(h, 1e-12));
        mlm_bias_ = add_container(*this, "vocab_projector")->register_parameter("bias", torch::zeros({config.vocab_size}));
      }
      break;
    }
    default:
      throw InputError(fmt::format("encoder models have no head for task {}", to_string(task)));
  }
}

torch::Tensor EncoderTaskModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  auto hidden = backbone->forward(input_ids, attention_mask);
  switch (task_) {
    case Task::text_classification:
      if (backbone->has_pooler()) return classifier_->forward(backbone->pool(hidden));
      if (config_.family == EncoderFamily::roberta) {
        return classifier_->forward(torch::tanh(transform_->forward(hidden.select(1, 0))));
      }
      return classifier_->forward(torch::relu(pre_classifier_->forward(hidden.select(1, 0))));
    case Task::token_classification:
    case Task::question_answering:
      return classifier_->forward(hidden);
    case Task::fill_mask: {
      // RoBERTa's head uses gelu whatever hidden_act says; BERT and DistilBERT use the config's.
      const auto act = config_.family == EncoderFamily::roberta ? Activation::gelu : config_.act;
      auto x = transform_norm_->forward(activate_(transform_->forward(hidden), act));
      // As HF's decoder Linear (weight tied to the embeddings): the bias add is fused into the GEMM.
      return torch::linear(x, backbone->word_embedding_weight(), mlm_bias_);
    }
    default:
      return hidden;
  }
}

StateDictRules EncoderTaskModelImpl::state_dict_rules() const {
  StateDictRules r;
  r.base_prefix = prefix_ + ".";
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
  if (config_.family != EncoderFamily::distilbert && !backbone->has_pooler()) n += config_.hidden * config_.hidden + config_.hidden;
  return n;
}

std::int64_t EncoderTaskModelImpl::head_parameters() const { return count_parameters(*this) - count_parameters(*backbone); }

}  // namespace joulebench::models
