// Byte-level BPE as GPT-2 does it: split with GPT-2's pattern
// ('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+),
// map bytes to printable code points, merge pairs by rank.
#include <fmt/format.h>

#include <climits>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "joulebench/error.h"
#include "models/tokenizers/tokenizer.h"

namespace joulebench::models {
namespace {

enum class CharClass { space, letter, number, other };

CharClass classify(char32_t c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x85 || c == 0xa0 ||
      c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
      c == 0x3000) {
    return CharClass::space;
  }
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CharClass::letter;
  if (c >= '0' && c <= '9') return CharClass::number;
  if (c < 0x80) return CharClass::other;
  // Outside ASCII: general punctuation, symbols and digits by block; the rest counts as letters.
  if ((c >= 0x2010 && c <= 0x2bff) || (c >= 0x3001 && c <= 0x303f) || (c >= 0xa1 && c <= 0xbf && c != 0xaa &&
                                                                        c != 0xb5 && c != 0xba) ||
      c == 0xd7 || c == 0xf7 || (c >= 0x1f000 && c <= 0x1faff) || c == 0xfffd) {
    if (c == 0xb2 || c == 0xb3 || c == 0xb9 || c == 0xbc || c == 0xbd || c == 0xbe) return CharClass::number;
    return CharClass::other;
  }
  if ((c >= 0x660 && c <= 0x669) || (c >= 0x966 && c <= 0x96f) || (c >= 0xff10 && c <= 0xff19)) {
    return CharClass::number;
  }
  return CharClass::letter;
}

std::vector<std::string> pre_tokenize(std::string_view text) {
  const auto cps = utf8_decode(text);
  const std::size_t n = cps.size();
  std::vector<std::string> out;
  auto emit = [&](std::size_t a, std::size_t b) {
    std::string s;
    for (std::size_t i = a; i < b; ++i) utf8_append(s, cps[i]);
    out.push_back(std::move(s));
  };
  auto run = [&](std::size_t j, CharClass cls) {
    while (j < n && classify(cps[j]) == cls) ++j;
    return j;
  };
  std::size_t i = 0;
  while (i < n) {
    const char32_t c = cps[i];
    if (c == '\'' && i + 1 < n) {
      static const char* kContractions[] = {"re", "ve", "ll", "s", "t", "m", "d"};
      bool matched = false;
      for (const char* k : kContractions) {
        const std::size_t len = std::char_traits<char>::length(k);
        if (i + len < n + 0 && i + 1 + len <= n) {
          bool ok = true;
          for (std::size_t m = 0; m < len; ++m) ok = ok && cps[i + 1 + m] == static_cast<char32_t>(k[m]);
          if (ok) {
            emit(i, i + 1 + len);
            i += 1 + len;
            matched = true;
            break;
          }
        }
      }
      if (matched) continue;
    }
    std::size_t start = i;
    std::size_t j = i;
    if (c == ' ' && i + 1 < n && classify(cps[i + 1]) != CharClass::space) j = i + 1;
    const auto cls = classify(cps[j]);
    if (cls != CharClass::space) {
      std::size_t end = j + 1;
      if (cls == CharClass::other) {
        while (end < n && classify(cps[end]) == CharClass::other) ++end;
      } else {
        end = run(j, cls);
      }
      emit(start, end);
      i = end;
      continue;
    }
    const std::size_t end = run(i, CharClass::space);
    if (end == n || end - i == 1) {
      emit(i, end);
      i = end;
    } else {
      emit(i, end - 1);  // the last space goes with the next word
      i = end - 1;
    }
  }
  return out;
}

// GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to 256+.
std::vector<std::string> byte_symbols() {
  std::vector<std::string> table(256);
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
    utf8_append(table[static_cast<std::size_t>(b)], cp);
  }
  return table;
}

class ByteBpe final : public Tokenizer {
 public:
  ByteBpe(std::unordered_map<std::string, std::int64_t> vocab, std::vector<std::pair<std::string, std::string>> merges)
      : vocab_(std::move(vocab)), bytes_(byte_symbols()) {
    for (std::size_t r = 0; r < merges.size(); ++r) ranks_.emplace(merges[r].first + '\x01' + merges[r].second, r);
    std::int64_t max_id = -1;
    for (const auto& [tok, id] : vocab_) max_id = std::max(max_id, id);
    tokens_.resize(static_cast<std::size_t>(max_id + 1));
    for (const auto& [tok, id] : vocab_) tokens_[static_cast<std::size_t>(id)] = tok;
    for (int b = 0; b < 256; ++b) {
      const auto cps = utf8_decode(bytes_[static_cast<std::size_t>(b)]);
      byte_of_.emplace(cps.at(0), static_cast<unsigned char>(b));
    }
  }

  std::vector<std::int64_t> encode(std::string_view text) const override {
    std::vector<std::int64_t> out;
    for (const auto& word : pre_tokenize(text)) {
      std::string mapped;
      for (unsigned char b : word) mapped += bytes_[b];
      for (const auto& piece : bpe(mapped)) {
        auto it = vocab_.find(piece);
        if (it != vocab_.end()) {
          out.push_back(it->second);
        } else {  // a vocabulary without this merge result: fall back to its single bytes
          for (char32_t cp : utf8_decode(piece)) {
            std::string s;
            utf8_append(s, cp);
            auto b = vocab_.find(s);
            if (b != vocab_.end()) out.push_back(b->second);
          }
        }
      }
    }
    return out;
  }

  std::string decode(std::span<const std::int64_t> ids) const override {
    std::string out;
    for (auto id : ids) {
      if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size()) continue;
      const auto& tok = tokens_[static_cast<std::size_t>(id)];
      if (tok.size() > 2 && tok.front() == '<' && tok.back() == '>' && tok.find('|') != std::string::npos) continue;
      if (tok == "<s>" || tok == "</s>" || tok == "<pad>" || tok == "<mask>" || tok == "<unk>") continue;
      for (char32_t cp : utf8_decode(tok)) {
        auto it = byte_of_.find(cp);
        if (it != byte_of_.end()) out.push_back(static_cast<char>(it->second));
      }
    }
    return out;
  }

  std::int64_t vocab_size() const override { return static_cast<std::int64_t>(tokens_.size()); }
  std::optional<std::int64_t> token_id(std::string_view token) const override {
    auto it = vocab_.find(std::string(token));
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
  }
  std::string kind() const override { return "bpe"; }

 private:
  std::vector<std::string> bpe(const std::string& word) const {
    {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      auto it = cache_.find(word);
      if (it != cache_.end()) return it->second;
    }
    std::vector<std::string> parts;
    for (char32_t cp : utf8_decode(word)) {
      std::string s;
      utf8_append(s, cp);
      parts.push_back(std::move(s));
    }
    while (parts.size() > 1) {
      std::size_t best_rank = SIZE_MAX, best = 0;
      for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        auto it = ranks_.find(parts[i] + '\x01' + parts[i + 1]);
        if (it != ranks_.end() && it->second < best_rank) {
          best_rank = it->second;
          best = i;
        }
      }
      if (best_rank == SIZE_MAX) break;
      // Merge every occurrence of the best pair, left to right.
      const std::string a = parts[best], b = parts[best + 1];
      std::vector<std::string> merged;
      for (std::size_t i = 0; i < parts.size();) {
        if (i + 1 < parts.size() && parts[i] == a && parts[i + 1] == b) {
          merged.push_back(a + b);
          i += 2;
        } else {
          merged.push_back(parts[i]);
          ++i;
        }
      }
      parts = std::move(merged);
    }
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < 100000) cache_.emplace(word, parts);
    return parts;
  }

  std::unordered_map<std::string, std::int64_t> vocab_;
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::size_t> ranks_;
  std::vector<std::string> bytes_;
  std::unordered_map<char32_t, unsigned char> byte_of_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::string>> cache_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_bpe(std::unordered_map<std::string, std::int64_t> vocab,
                                         std::vector<std::pair<std::string, std::string>> merges) {
  if (vocab.empty()) throw InputError("byte-level BPE vocabulary is empty");
  return std::make_unique<ByteBpe>(std::move(vocab), std::move(merges));
}

std::unique_ptr<Tokenizer> load_byte_bpe(const std::filesystem::path& vocab_json,
                                         const std::filesystem::path& merges_txt) {
  std::ifstream vin(vocab_json);
  if (!vin) throw InputError(fmt::format("cannot open BPE vocabulary '{}'", vocab_json.string()));
  std::unordered_map<std::string, std::int64_t> vocab;
  try {
    const auto j = nlohmann::json::parse(vin);
    for (const auto& [k, v] : j.items()) vocab[k] = v.get<std::int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not a JSON token -> id map ({})", vocab_json.string(), e.what()));
  }
  std::ifstream min(merges_txt);
  if (!min) throw InputError(fmt::format("cannot open BPE merges '{}'", merges_txt.string()));
  std::vector<std::pair<std::string, std::string>> merges;
  std::string line;
  while (std::getline(min, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    const auto space = line.find(' ');
    if (space == std::string::npos) {
      throw InputError(fmt::format("{}: merge line '{}' is not two tokens", merges_txt.string(), line));
    }
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return make_byte_bpe(std::move(vocab), std::move(merges));
}

}  // namespace joulebench::models
