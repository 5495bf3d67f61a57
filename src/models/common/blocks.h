// Transformer building blocks shared by the text models (BERT, GPT-2, BLOOM,
// T5, BART) and the vision models' text parts (the GPT-2 decoder of image
// captioning, the CLIP text encoder). Tensors are [batch, time, features] unless said otherwise;
// attention works on heads as [batch, heads, time, head_dim].
//
// Masks are additive biases: 0 where a query may attend, the dtype's lowest
// value where it may not (a fully masked row — a left-padding query — stays
// finite and uniform instead of NaN).
#pragma once

#include <torch/torch.h>

#include <string>

namespace joulebench::models {

enum class Activation { relu, gelu, gelu_tanh, quick_gelu };
// HF hidden_act names: "relu", "gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "quick_gelu".
Activation activation_from_hf(const std::string& name);
torch::Tensor activate(const torch::Tensor& x, Activation act);
// The same in place, on a tensor the caller owns and no longer needs (saves
// an allocation and a pass over the largest activations).
torch::Tensor activate_(torch::Tensor x, Activation act);

// [B, T, H*D] -> [B, H, T, D] and back.
torch::Tensor split_heads(const torch::Tensor& x, std::int64_t n_heads);
torch::Tensor merge_heads(const torch::Tensor& x);

// Additive bias [B, 1, Tq, Tk] (or [B, 1, 1, Tk] when not causal) from a key
// mask [B, Tk] (1 = real token, 0 = padding). Causal: query i sits at absolute
// position Tk - Tq + i (the cache holds the earlier ones) and sees keys <= it.
torch::Tensor attention_bias(const torch::Tensor& key_mask, std::int64_t q_len, bool causal, torch::Dtype dtype);
// The non-causal bias, or an undefined tensor when no key is padding: adding
// zeros would cost a pass over [B, H, Tq, Tk] in every layer.
torch::Tensor padding_bias(const torch::Tensor& key_mask, std::int64_t q_len, torch::Dtype dtype);

// ALiBi (BLOOM): per-head slopes (Press et al.), and the bias [B, H, 1, Tk]
// slope * position, positions counted over real tokens only (left padding).
torch::Tensor alibi_slopes(std::int64_t n_heads);
torch::Tensor alibi_bias(const torch::Tensor& key_mask, std::int64_t n_heads, torch::Dtype dtype);

// softmax(q k^T * scale + bias) v on [B, H, T, D]; `bias` may be undefined.
torch::Tensor attention_core(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& bias, double scale);

// Keys and values of earlier steps, [B, H, T, D]. Self-attention appends one
// step at a time; cross-attention fills it once from the encoder output.
struct KvCache {
  torch::Tensor key;
  torch::Tensor value;
  bool empty() const { return !key.defined(); }
  std::int64_t length() const { return key.defined() ? key.size(2) : 0; }
  // Appends and returns the full keys / values.
  std::pair<torch::Tensor, torch::Tensor> append(const torch::Tensor& k, const torch::Tensor& v);
  // Keeps batch rows `index` (beam / finished-row pruning); no-op when empty.
  void select(const torch::Tensor& index);
};
// One decoder's caches: per layer, self-attention and cross-attention.
struct DecoderCache {
  std::vector<KvCache> self;
  std::vector<KvCache> cross;
  std::int64_t length() const { return self.empty() ? 0 : self.front().length(); }
};

// GPT-2's Conv1D: a linear layer whose weight is stored [in, out].
class Conv1DImpl : public torch::nn::Module {
 public:
  Conv1DImpl(std::int64_t in_features, std::int64_t out_features);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
};
TORCH_MODULE(Conv1D);

// T5's layer norm: RMS only, no mean, no bias; variance in fp32.
class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(std::int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RmsNorm);

// x W^T + b for x [..., in] (W [out, in], b optional). A single row (one token
// at batch 1: every decode step) goes through a matrix-vector product:
// libtorch 1.13 sends it to sgemm, whose packing of W made decode steps 2 to
// 12 times slower here (docs/benchmarks.md, "Text models").
torch::Tensor linear_forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {});
// A plain module used only to give children their Hugging Face path
// ("encoder.layer.0...") where HF has a container without behaviour.
inline std::shared_ptr<torch::nn::Module> add_container(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

// torch::nn::Linear (same parameter names, options and init) whose forward is
// linear_forward. The C++ frontend's own forward does a matmul and then a
// separate bias add over the whole output for 3-D inputs; at::linear, which
// PyTorch's Python calls, folds them into one addmm (docs/benchmarks.md,
// "Text models").
class LinearImpl : public torch::nn::LinearImpl {
 public:
  using torch::nn::LinearImpl::LinearImpl;
  torch::Tensor forward(const torch::Tensor& x) { return linear_forward(x, weight, bias); }
};
TORCH_MODULE(Linear);

inline torch::Tensor linear_forward(const torch::Tensor& x, const Linear& l) {
  return linear_forward(x, l->weight, l->bias);
}

torch::nn::LayerNorm layer_norm(std::int64_t dim, double eps);
Linear linear(std::int64_t in, std::int64_t out, bool bias = true);

// Linear layers that read the same input (q / k / v) run as one GEMM. Their
// weights and biases become consecutive row blocks of one tensor that the
// layers' own parameters are views of, so names, counts, init and loading
// (copy_ into the parameters) are unchanged. One GEMM instead of three packs
// the input once and wakes the BLAS threads once: 8-15% less time for BERT-
// base's q / k / v at 128 tokens, 13% less for a decode step's three GEMVs
// (docs/benchmarks.md, "Text models"). When the parameters stop being views
// of it (Module::to another dtype or device, set_data), forward runs the
// layers one by one until fuse() is called again, so results never depend on
// it.
class FusedLinears {
 public:
  FusedLinears() = default;
  // Fuses now; the parts must share in_features.
  explicit FusedLinears(std::vector<Linear> parts);
  // Makes the parameters views of one tensor again (a no-op while they are).
  void fuse();
  // Whether parts [first, first + count) run as one GEMM.
  bool fused(std::size_t first, std::size_t count) const;
  // Parts [first, first + count) applied to x: one [..., out_i] tensor each,
  // views of one output when fused.
  std::vector<torch::Tensor> forward(const torch::Tensor& x, std::size_t first, std::size_t count) const;

 private:
  std::vector<Linear> parts_;
  std::vector<std::int64_t> offsets_;  // first row of each part; one more entry: the total
  torch::Tensor weight_, bias_;
};

// A module that holds FusedLinears: Module::to replaces the parameters, so
// every overload of it fuses the projections again afterwards.
class FusingModule : public torch::nn::Module {
 public:
  void to(torch::Device device, torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Device device, bool non_blocking = false) override;

 protected:
  virtual void fuse_projections() = 0;
};

// Multi-head attention with separate q / k / v / o projections whose HF names
// are configurable: BART and CLIP ("q_proj", "k_proj", "v_proj", "out_proj"),
// T5 ("q", "k", "v", "o", no bias, scale 1), DistilBERT ("q_lin", ...).
struct AttentionSpec {
  std::int64_t embed_dim = 0;
  std::int64_t n_heads = 0;
  std::int64_t head_dim = 0;  // 0: embed_dim / n_heads (T5 sets d_kv)
  std::int64_t kv_input_dim = 0;  // 0: embed_dim (cross-attention from a wider encoder)
  bool bias = true;
  double scale = 0.0;  // 0: 1 / sqrt(head_dim)
  std::string q = "q_proj", k = "k_proj", v = "v_proj", o = "out_proj";
};

class AttentionImpl : public FusingModule {
 public:
  explicit AttentionImpl(const AttentionSpec& spec);
  // Self-attention over `x` (with `cache`, the new keys are appended), or
  // cross-attention when `memory` is defined (keys / values from `memory`,
  // computed once and kept in `cache`).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias, KvCache* cache = nullptr,
                        const torch::Tensor& memory = {});
  // Attention with an extra additive bias per head (T5 relative positions).
  torch::Tensor forward_with_position_bias(const torch::Tensor& x, const torch::Tensor& bias,
                                           const torch::Tensor& position_bias, KvCache* cache,
                                           const torch::Tensor& memory);

  Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 protected:
  void fuse_projections() override { projections_.fuse(); }

 private:
  // [q, k, v] when q reads inputs as wide as k / v, else [k, v] (q apart).
  FusedLinears projections_;
  bool q_fused_ = false;
  std::int64_t n_heads_;
  double scale_;
};
TORCH_MODULE(Attention);

// Two-layer feed-forward block (CLIP "mlp.fc1"/"mlp.fc2").
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(std::int64_t dim, std::int64_t hidden, Activation act, const std::string& fc1 = "fc1",
          const std::string& fc2 = "fc2", bool bias = true);
  torch::Tensor forward(const torch::Tensor& x);
  Linear fc1{nullptr}, fc2{nullptr};

 private:
  Activation act_;
};
TORCH_MODULE(Mlp);

// Greedy choice over the last position's logits [B, V] -> [B].
torch::Tensor greedy_next(const torch::Tensor& logits);

}  // namespace joulebench::models
