#include "models/fasttext/fasttext.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "joulebench/error.h"

namespace joulebench::models {
namespace {

constexpr std::int32_t kMagic = 793712314;
constexpr std::int32_t kMaxVersion = 12;
constexpr int kKsub = 256;
constexpr const char* kEos = "</s>";
constexpr const char* kLabelPrefix = "__label__";
enum Loss { kHs = 1, kNs = 2, kSoftmax = 3, kOva = 4 };

class Reader {
 public:
  explicit Reader(const std::filesystem::path& p) : path_(p.string()), in_(p, std::ios::binary) {
    if (!in_) throw InputError(fmt::format("cannot open fastText model '{}'", path_));
  }
  template <typename T>
  T get() {
    T v{};
    in_.read(reinterpret_cast<char*>(&v), sizeof(T));
    check();
    return v;
  }
  template <typename T>
  void array(std::vector<T>& v, std::int64_t n) {
    if (n < 0 || n > (std::int64_t{1} << 34)) {
      throw InputError(fmt::format("{}: corrupt fastText model (array of {} elements)", path_, n));
    }
    v.resize(static_cast<std::size_t>(n));
    in_.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)));
    check();
  }
  std::string cstring() {
    std::string s;
    for (char c; in_.get(c) && c != 0;) s.push_back(c);
    check();
    return s;
  }
  const std::string& path() const { return path_; }

 private:
  void check() {
    if (!in_) throw InputError(fmt::format("{}: truncated fastText model", path_));
  }
  std::string path_;
  std::ifstream in_;
};

// "<word>": fastText marks word boundaries for character n-grams.
std::string bracketed(std::string_view word) {
  std::string s;
  s.reserve(word.size() + 2);
  s.push_back('<');
  s.append(word.data(), word.size());
  s.push_back('>');
  return s;
}

}  // namespace

std::uint32_t FastTextClassifier::hash(std::string_view s) {
  // FNV-1a over *signed* chars, as every released fastText model was trained.
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<std::uint32_t>(static_cast<std::int8_t>(c));
    h *= 16777619u;
  }
  return h;
}

void FastTextClassifier::Matrix::add_row(std::vector<float>& x, std::int64_t row, float scale) const {
  if (!quantized) {
    const float* r = dense.data() + row * n;
    for (std::int64_t j = 0; j < n; ++j) x[static_cast<std::size_t>(j)] += scale * r[j];
    return;
  }
  float norm = 1.0f;
  if (qnorm) norm = norm_centroids[norm_codes[static_cast<std::size_t>(row)]];
  const std::uint8_t* code = codes.data() + nsubq * row;
  for (std::int32_t m = 0; m < nsubq; ++m) {
    const bool last = m == nsubq - 1;
    const float* c = last ? &centroids[static_cast<std::size_t>(m * kKsub * dsub + code[m] * lastdsub)]
                          : &centroids[static_cast<std::size_t>((m * kKsub + code[m]) * dsub)];
    const std::int32_t d = last ? lastdsub : dsub;
    for (std::int32_t k = 0; k < d; ++k) x[static_cast<std::size_t>(m * dsub + k)] += scale * norm * c[k];
  }
}

float FastTextClassifier::Matrix::dot_row(const std::vector<float>& x, std::int64_t row) const {
  std::vector<float> r(static_cast<std::size_t>(n), 0.0f);
  add_row(r, row);
  float s = 0.0f;
  for (std::int64_t j = 0; j < n; ++j) s += r[static_cast<std::size_t>(j)] * x[static_cast<std::size_t>(j)];
  return s;
}

FastTextClassifier FastTextClassifier::load(const std::filesystem::path& path) {
  Reader in(path);
  FastTextClassifier f;
  if (in.get<std::int32_t>() != kMagic) {
    throw InputError(fmt::format("{}: not a fastText model (bad magic number)", in.path()));
  }
  const auto version = in.get<std::int32_t>();
  if (version > kMaxVersion) {
    throw InputError(fmt::format("{}: fastText format version {} is newer than this loader's {}", in.path(), version,
                                 kMaxVersion));
  }
  // Args: dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate, t.
  f.dim_ = in.get<std::int32_t>();
  in.get<std::int32_t>();
  in.get<std::int32_t>();
  in.get<std::int32_t>();
  in.get<std::int32_t>();
  f.word_ngrams_ = in.get<std::int32_t>();
  f.loss_ = in.get<std::int32_t>();
  const auto model = in.get<std::int32_t>();
  f.bucket_ = in.get<std::int32_t>();
  f.minn_ = in.get<std::int32_t>();
  f.maxn_ = in.get<std::int32_t>();
  in.get<std::int32_t>();
  in.get<double>();
  if (model != 3) throw InputError(fmt::format("{}: not a supervised fastText model (a classifier)", in.path()));
  if (version == 11) f.maxn_ = 0;  // old supervised models used no character n-grams

  // Dictionary.
  const auto size = in.get<std::int32_t>();
  f.nwords_ = in.get<std::int32_t>();
  f.nlabels_ = in.get<std::int32_t>();
  in.get<std::int64_t>();  // ntokens
  f.prune_size_ = in.get<std::int64_t>();
  for (std::int32_t i = 0; i < size; ++i) {
    f.words_.push_back(in.cstring());
    f.counts_.push_back(in.get<std::int64_t>());
    in.get<std::int8_t>();  // entry type: words come first, then labels
    f.ids_.emplace(f.words_.back(), i);
  }
  for (std::int64_t i = 0; i < f.prune_size_; ++i) {
    const auto a = in.get<std::int32_t>();
    const auto b = in.get<std::int32_t>();
    f.prune_[a] = b;
  }
  f.subwords_.resize(static_cast<std::size_t>(f.nwords_));
  for (std::int32_t i = 0; i < f.nwords_; ++i) {
    auto& sw = f.subwords_[static_cast<std::size_t>(i)];
    sw.push_back(i);
    if (f.words_[static_cast<std::size_t>(i)] != kEos) f.compute_subwords(bracketed(f.words_[static_cast<std::size_t>(i)]), sw);
  }

  auto load_matrix = [&](Matrix& m, bool quantized) {
    m.quantized = quantized;
    if (quantized) {
      m.qnorm = in.get<bool>();
      m.m = in.get<std::int64_t>();
      m.n = in.get<std::int64_t>();
      const auto codesize = in.get<std::int32_t>();
      in.array(m.codes, codesize);
      const auto pq_dim = in.get<std::int32_t>();
      m.nsubq = in.get<std::int32_t>();
      m.dsub = in.get<std::int32_t>();
      m.lastdsub = in.get<std::int32_t>();
      in.array(m.centroids, static_cast<std::int64_t>(pq_dim) * kKsub);
      if (m.qnorm) {
        in.array(m.norm_codes, m.m);
        in.get<std::int32_t>();  // norm quantizer: dim 1, one sub-quantizer of size 1
        in.get<std::int32_t>();
        in.get<std::int32_t>();
        in.get<std::int32_t>();
        in.array(m.norm_centroids, kKsub);
      }
      if (codesize != m.m * m.nsubq) throw InputError(fmt::format("{}: corrupt quantized matrix", in.path()));
    } else {
      m.m = in.get<std::int64_t>();
      m.n = in.get<std::int64_t>();
      in.array(m.dense, m.m * m.n);
    }
    if (m.n != f.dim_) throw InputError(fmt::format("{}: matrix width {} differs from dim {}", in.path(), m.n, f.dim_));
  };
  const bool quant_input = in.get<bool>();
  load_matrix(f.input_, quant_input);
  const bool qout = in.get<bool>();
  load_matrix(f.output_, quant_input && qout);
  f.input_rows_ = f.input_.m;
  f.output_rows_ = f.output_.m;

  if (f.loss_ == kHs) {
    // Huffman tree over label counts (sorted by decreasing count), as fastText builds it.
    const auto osz = f.nlabels_;
    struct Node {
      std::int32_t parent = -1, left = -1, right = -1;
      std::int64_t count = static_cast<std::int64_t>(1e15);
      bool binary = false;
    };
    std::vector<Node> tree(static_cast<std::size_t>(2 * osz - 1));
    for (std::int32_t i = 0; i < osz; ++i) tree[static_cast<std::size_t>(i)].count = f.counts_[static_cast<std::size_t>(f.nwords_ + i)];
    std::int32_t leaf = osz - 1, node = osz;
    for (std::int32_t i = osz; i < 2 * osz - 1; ++i) {
      std::int32_t mini[2];
      for (auto& mi : mini) {
        if (leaf >= 0 && tree[static_cast<std::size_t>(leaf)].count < tree[static_cast<std::size_t>(node)].count) {
          mi = leaf--;
        } else {
          mi = node++;
        }
      }
      auto& t = tree[static_cast<std::size_t>(i)];
      t.left = mini[0];
      t.right = mini[1];
      t.count = tree[static_cast<std::size_t>(mini[0])].count + tree[static_cast<std::size_t>(mini[1])].count;
      tree[static_cast<std::size_t>(mini[0])].parent = i;
      tree[static_cast<std::size_t>(mini[1])].parent = i;
      tree[static_cast<std::size_t>(mini[1])].binary = true;
    }
    f.paths_.resize(static_cast<std::size_t>(osz));
    for (std::int32_t i = 0; i < osz; ++i) {
      for (std::int32_t n = i; tree[static_cast<std::size_t>(n)].parent != -1; n = tree[static_cast<std::size_t>(n)].parent) {
        f.paths_[static_cast<std::size_t>(i)].emplace_back(tree[static_cast<std::size_t>(n)].parent - osz,
                                                           tree[static_cast<std::size_t>(n)].binary);
      }
    }
  } else if (f.loss_ != kSoftmax && f.loss_ != kOva && f.loss_ != kNs) {
    throw InputError(fmt::format("{}: unknown fastText loss {}", in.path(), f.loss_));
  }
  return f;
}

void FastTextClassifier::push_hash(std::vector<std::int32_t>& out, std::int32_t id) const {
  if (prune_size_ == 0 || id < 0) return;
  if (prune_size_ > 0) {
    auto it = prune_.find(id);
    if (it == prune_.end()) return;
    id = it->second;
  }
  out.push_back(nwords_ + id);
}

void FastTextClassifier::compute_subwords(const std::string& word, std::vector<std::int32_t>& out) const {
  // Character n-grams of minn..maxn UTF-8 characters.
  for (std::size_t i = 0; i < word.size(); ++i) {
    if ((word[i] & 0xC0) == 0x80) continue;
    std::string ngram;
    for (std::size_t j = i, n = 1; j < word.size() && n <= static_cast<std::size_t>(maxn_); ++n) {
      ngram.push_back(word[j++]);
      while (j < word.size() && (word[j] & 0xC0) == 0x80) ngram.push_back(word[j++]);
      if (n >= static_cast<std::size_t>(minn_) && !(n == 1 && (i == 0 || j == word.size()))) {
        push_hash(out, static_cast<std::int32_t>(hash(ngram) % static_cast<std::uint32_t>(bucket_)));
      }
    }
  }
}

void FastTextClassifier::add_subwords(std::vector<std::int32_t>& line, std::string_view word, std::int32_t wid) const {
  if (wid < 0) {
    if (word != kEos) compute_subwords(bracketed(word), line);
  } else if (maxn_ <= 0) {
    line.push_back(wid);
  } else {
    const auto& sw = subwords_[static_cast<std::size_t>(wid)];
    line.insert(line.end(), sw.begin(), sw.end());
  }
}

std::vector<std::int32_t> FastTextClassifier::input_ids(std::string_view text) const {
  std::vector<std::int32_t> line;
  std::vector<std::int32_t> hashes;
  std::vector<std::string> tokens;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == '\0') {
      if (!cur.empty()) tokens.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) tokens.push_back(std::move(cur));
  tokens.emplace_back(kEos);  // fastText's predict reads the line's newline as </s>
  for (const auto& tok : tokens) {
    auto it = ids_.find(tok);
    const std::int32_t wid = it == ids_.end() ? -1 : it->second;
    const bool label = wid >= nwords_ || (wid < 0 && tok.rfind(kLabelPrefix, 0) == 0);
    if (label) continue;
    add_subwords(line, tok, wid);
    hashes.push_back(static_cast<std::int32_t>(hash(tok)));
  }
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    std::uint64_t h = static_cast<std::uint64_t>(static_cast<std::int64_t>(hashes[i]));
    for (std::size_t j = i + 1; j < hashes.size() && j < i + static_cast<std::size_t>(word_ngrams_); ++j) {
      h = h * 116049371 + static_cast<std::uint64_t>(static_cast<std::int64_t>(hashes[j]));
      push_hash(line, static_cast<std::int32_t>(h % static_cast<std::uint64_t>(bucket_)));
    }
  }
  return line;
}

std::vector<std::pair<std::string, float>> FastTextClassifier::predict(std::string_view text, int k) const {
  const auto ids = input_ids(text);
  std::vector<float> hidden(static_cast<std::size_t>(dim_), 0.0f);
  if (ids.empty()) return {};
  for (auto id : ids) input_.add_row(hidden, id);
  for (auto& h : hidden) h /= static_cast<float>(ids.size());

  std::vector<float> log_prob(static_cast<std::size_t>(nlabels_), 0.0f);
  auto std_log = [](float x) { return std::log(x + 1e-5f); };
  if (loss_ == kHs) {
    std::vector<float> node_p(static_cast<std::size_t>(nlabels_ > 1 ? nlabels_ - 1 : 1), -1.0f);
    for (std::int32_t l = 0; l < nlabels_; ++l) {
      float s = 0.0f;
      for (const auto& [node, right] : paths_[static_cast<std::size_t>(l)]) {
        auto& p = node_p[static_cast<std::size_t>(node)];
        if (p < 0) p = 1.0f / (1.0f + std::exp(-output_.dot_row(hidden, node)));
        s += std_log(right ? p : 1.0f - p);
      }
      log_prob[static_cast<std::size_t>(l)] = s;
    }
  } else {
    std::vector<float> logits(static_cast<std::size_t>(nlabels_));
    for (std::int32_t l = 0; l < nlabels_; ++l) logits[static_cast<std::size_t>(l)] = output_.dot_row(hidden, l);
    if (loss_ == kOva) {
      for (std::int32_t l = 0; l < nlabels_; ++l) {
        log_prob[static_cast<std::size_t>(l)] = std_log(1.0f / (1.0f + std::exp(-logits[static_cast<std::size_t>(l)])));
      }
    } else {
      const float mx = *std::max_element(logits.begin(), logits.end());
      float z = 0.0f;
      for (auto v : logits) z += std::exp(v - mx);
      for (std::int32_t l = 0; l < nlabels_; ++l) {
        log_prob[static_cast<std::size_t>(l)] = std_log(std::exp(logits[static_cast<std::size_t>(l)] - mx) / z);
      }
    }
  }
  std::vector<std::int32_t> order(static_cast<std::size_t>(nlabels_));
  for (std::int32_t i = 0; i < nlabels_; ++i) order[static_cast<std::size_t>(i)] = i;
  const auto top = std::min<std::size_t>(static_cast<std::size_t>(std::max(k, 1)), order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                    [&](std::int32_t a, std::int32_t b) { return log_prob[static_cast<std::size_t>(a)] > log_prob[static_cast<std::size_t>(b)]; });
  std::vector<std::pair<std::string, float>> out;
  for (std::size_t i = 0; i < top; ++i) {
    std::string label = words_[static_cast<std::size_t>(nwords_ + order[i])];
    if (label.rfind(kLabelPrefix, 0) == 0) label = label.substr(std::char_traits<char>::length(kLabelPrefix));
    out.emplace_back(std::move(label), std::exp(log_prob[static_cast<std::size_t>(order[i])]));
  }
  return out;
}

}  // namespace joulebench::models
