// Encoder-only transformers with Hugging Face parameter names, and the four
// task heads of the study (sequence classification, token classification,
// extractive QA, masked LM). What every family shares is here: embeddings, the
// layer stack, the task model, the heads that are alike. What differs is an
// EncoderFamily, one file each as HF has one module each: bert.cpp,
// roberta.cpp, distilbert.cpp. A new family (ALBERT, DeBERTa) is a new file
// and one line in find_encoder_family; nothing else here changes.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string_view>

#include "joulebench/models.h"
#include "models/common/blocks.h"
#include "models/common/hf_config.h"
#include "models/common/weights.h"

namespace joulebench::models {

class EncoderFamily;

struct EncoderConfig {
  const EncoderFamily* family = nullptr;
  std::int64_t vocab_size = 30522;
  std::int64_t hidden = 768;
  std::int64_t layers = 12;
  std::int64_t heads = 12;
  std::int64_t intermediate = 3072;
  std::int64_t max_positions = 512;
  std::int64_t type_vocab_size = 2;  // 0: no token-type embeddings (DistilBERT)
  std::int64_t pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  Activation act = Activation::gelu;
  std::int64_t num_labels = 2;
};
EncoderConfig encoder_config_from_hf(const HfConfig& config, const EncoderFamily& family);

// One transformer layer: hidden states [B, T, H] and the additive padding
// bias -> hidden states. Its parameters live in the module it was built on.
class EncoderLayer {
 public:
  virtual ~EncoderLayer() = default;
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) = 0;
  // Fuses its projections again after Module::to (FusingModule).
  virtual void fuse() {}
};

// The bare model (what AutoModel loads). `with_pooler` as HF's
// add_pooling_layer (the token / QA / MLM heads build it without).
class EncoderBackboneImpl : public FusingModule {
 public:
  EncoderBackboneImpl(const EncoderConfig& config, bool with_pooler);
  // input_ids, attention_mask [B, T] -> hidden states [B, T, H].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);
  // BERT's pooler: tanh(dense(hidden[:, 0])).
  torch::Tensor pool(const torch::Tensor& hidden);
  bool has_pooler() const { return !pooler_dense_.is_empty(); }
  torch::Tensor word_embedding_weight() const { return word_embeddings_->weight; }
  const EncoderConfig& config() const { return config_; }

 protected:
  void fuse_projections() override;

 private:
  EncoderConfig config_;
  torch::nn::Embedding word_embeddings_{nullptr}, position_embeddings_{nullptr}, token_type_embeddings_{nullptr};
  torch::nn::LayerNorm embed_norm_{nullptr};
  std::vector<std::unique_ptr<EncoderLayer>> layers_;
  Linear pooler_dense_{nullptr};
};
TORCH_MODULE(EncoderBackbone);

// A task's head over the backbone's hidden states; its parameters are
// registered on the task model under HF's names.
class EncoderHead {
 public:
  virtual ~EncoderHead() = default;
  virtual torch::Tensor forward(EncoderBackboneImpl& backbone, const torch::Tensor& hidden) = 0;
};

// What one family does its own way; everything else is shared.
class EncoderFamily {
 public:
  virtual ~EncoderFamily() = default;
  // HF's base_model_prefix ("bert"): the checkpoints' prefix and the presets' family.
  virtual std::string_view name() const = 0;
  // The family's own config keys and defaults (the common ones are read first).
  virtual void read_config(const HfConfig& config, EncoderConfig& out) const = 0;
  // The layer stack's module: "encoder" (BertModel) or "transformer" (DistilBertModel).
  virtual std::string_view stack_name() const { return "encoder"; }
  // Layer i, its parameters registered on `layer` ("encoder.layer.<i>"):
  // BertLayer (attention.self.{query,key,value} as one GEMM,
  // attention.output, intermediate, output), which RoBERTa copies, unless the
  // family has its own.
  virtual std::unique_ptr<EncoderLayer> make_layer(torch::nn::Module& layer, const EncoderConfig& config) const;
  // Position ids for input_ids [B, T]: 0 .. T-1 unless the family numbers them otherwise.
  virtual torch::Tensor position_ids(const torch::Tensor& input_ids, const EncoderConfig& config) const;
  // The longest input the position table takes with this numbering.
  virtual std::int64_t max_input_tokens(const EncoderConfig& config) const { return config.max_positions; }
  // Whether the bare model (AutoModel) has a pooler, and whether `task`'s model builds it.
  virtual bool base_has_pooler() const { return true; }
  virtual bool pooler_for(Task) const { return false; }
  // The family's own heads, registered on `model` under its checkpoints'
  // names: sequence classification, and the masked-LM head's parts. Token
  // classification and QA are alike in every family (the task model's own).
  virtual std::unique_ptr<EncoderHead> classification_head(torch::nn::Module& model,
                                                           const EncoderConfig& config) const = 0;
  struct MaskedLmParts {
    Linear dense{nullptr};
    torch::nn::LayerNorm norm{nullptr};
    torch::Tensor bias;
    Activation act = Activation::gelu;
  };
  virtual MaskedLmParts masked_lm_parts(torch::nn::Module& model, const EncoderConfig& config) const = 0;
};

const EncoderFamily& bert_family();
const EncoderFamily& roberta_family();
const EncoderFamily& distilbert_family();
// By HF name ("bert", "roberta", "distilbert"); nullptr for any other.
const EncoderFamily* find_encoder_family(std::string_view name);

// Backbone + one of the four heads, registered under HF's names ("bert.",
// "classifier.", "qa_outputs.", "cls.predictions.", "lm_head.", "vocab_*").
class EncoderTaskModelImpl : public torch::nn::Module {
 public:
  EncoderTaskModelImpl(const EncoderConfig& config, Task task);
  // text-classification: [B, labels]; token-classification: [B, T, labels];
  // question-answering: [B, T, 2] (start, end); fill-mask: [B, T, vocab].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);
  // Rules for loading an HF checkpoint of this task (or of the bare model).
  StateDictRules state_dict_rules() const;
  // The bare AutoModel's parameter count (with the pooler where the family's
  // bare model has one, as HF's num_parameters() reports) and the head's.
  std::int64_t base_parameters() const;
  std::int64_t head_parameters() const;
  EncoderBackbone backbone{nullptr};

 private:
  EncoderConfig config_;
  std::unique_ptr<EncoderHead> head_;
};
TORCH_MODULE(EncoderTaskModel);

}  // namespace joulebench::models
