// Encoder-only transformers with Hugging Face parameter names: BERT, RoBERTa
// (BertModel / RobertaModel layout) and DistilBERT, plus the four task heads
// of the study (sequence classification, token classification, extractive QA,
// masked LM).
#pragma once

#include <torch/torch.h>

#include "joulebench/models.h"
#include "models/common/blocks.h"
#include "models/common/hf_config.h"
#include "models/common/weights.h"

namespace joulebench::models {

enum class EncoderFamily { bert, roberta, distilbert };

struct EncoderConfig {
  EncoderFamily family = EncoderFamily::bert;
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
EncoderConfig encoder_config_from_hf(const HfConfig& config, EncoderFamily family);

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
  struct Layer {
    Linear query{nullptr}, key{nullptr}, value{nullptr}, attn_out{nullptr}, inter{nullptr}, out{nullptr};
    FusedLinears qkv;  // query, key, value as one GEMM
    torch::nn::LayerNorm attn_norm{nullptr}, out_norm{nullptr};
    Attention distil_attention{nullptr};
  };
  EncoderConfig config_;
  torch::nn::Embedding word_embeddings_{nullptr}, position_embeddings_{nullptr}, token_type_embeddings_{nullptr};
  torch::nn::LayerNorm embed_norm_{nullptr};
  std::vector<Layer> layers_;
  Linear pooler_dense_{nullptr};
};
TORCH_MODULE(EncoderBackbone);

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
  // The bare AutoModel's parameter count (with the pooler for BERT / RoBERTa,
  // as HF's num_parameters() of the base model reports) and the head's.
  std::int64_t base_parameters() const;
  std::int64_t head_parameters() const;
  EncoderBackbone backbone{nullptr};

 private:
  EncoderConfig config_;
  Task task_;
  std::string prefix_;
  Linear classifier_{nullptr}, pre_classifier_{nullptr}, transform_{nullptr};
  torch::nn::LayerNorm transform_norm_{nullptr};
  torch::Tensor mlm_bias_;
};
TORCH_MODULE(EncoderTaskModel);

}  // namespace joulebench::models
