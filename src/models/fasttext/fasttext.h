// fastText supervised models (.bin and quantized .ftz), read by the project's
// own loader: the language identifier lid.176.ftz is the zoo's one real
// pretrained text model, proving the stack computes real answers. No libtorch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace joulebench::models {

class FastTextClassifier {
 public:
  // Throws InputError naming the file when it is not a fastText model this
  // loader reads (supervised, format version <= 12).
  static FastTextClassifier load(const std::filesystem::path& path);

  // The k most probable labels ("__label__" stripped) with probabilities.
  std::vector<std::pair<std::string, float>> predict(std::string_view text, int k = 1) const;
  // Input ids of `text` (words, subwords, word n-grams), as fastText's getLine.
  std::vector<std::int32_t> input_ids(std::string_view text) const;

  std::int32_t dim() const { return dim_; }
  std::int32_t labels() const { return nlabels_; }
  std::int64_t input_rows() const { return input_rows_; }
  std::int64_t output_rows() const { return output_rows_; }

 private:
  // A dense or product-quantized matrix; rows are added into a vector.
  struct Matrix {
    std::int64_t m = 0, n = 0;
    bool quantized = false;
    std::vector<float> dense;
    // product quantizer (ksub = 256)
    bool qnorm = false;
    std::vector<std::uint8_t> codes, norm_codes;
    std::int32_t nsubq = 0, dsub = 0, lastdsub = 0;
    std::vector<float> centroids, norm_centroids;
    void add_row(std::vector<float>& x, std::int64_t row, float scale = 1.0f) const;
    float dot_row(const std::vector<float>& x, std::int64_t row) const;
  };
  void add_subwords(std::vector<std::int32_t>& line, std::string_view word, std::int32_t wid) const;
  void compute_subwords(const std::string& word, std::vector<std::int32_t>& out) const;
  void push_hash(std::vector<std::int32_t>& out, std::int32_t id) const;
  static std::uint32_t hash(std::string_view s);

  std::int32_t dim_ = 0, word_ngrams_ = 1, loss_ = 0, bucket_ = 0, minn_ = 0, maxn_ = 0;
  std::int32_t nwords_ = 0, nlabels_ = 0;
  std::vector<std::string> words_;  // words then labels
  std::vector<std::int64_t> counts_;
  std::unordered_map<std::string, std::int32_t> ids_;
  std::unordered_map<std::int32_t, std::int32_t> prune_;
  std::int64_t prune_size_ = -1;
  std::vector<std::vector<std::int32_t>> subwords_;
  Matrix input_, output_;
  std::int64_t input_rows_ = 0, output_rows_ = 0;
  // Hierarchical softmax tree (loss hs): per label, the path of (node, go-right).
  std::vector<std::vector<std::pair<std::int32_t, bool>>> paths_;
};

}  // namespace joulebench::models
