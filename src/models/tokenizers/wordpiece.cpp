// WordPiece as BERT's tokenizer does it: clean, lowercase and strip accents
// (uncased), split on whitespace and punctuation and around CJK characters,
// then greedy longest-match-first pieces with "##" continuations.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "joulebench/error.h"
#include "models/tokenizers/fold_table.h"
#include "models/tokenizers/tokenizer.h"

namespace joulebench::models {
namespace {

bool is_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xa0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200a) ||
         c == 0x202f || c == 0x205f;
}
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0xfffd || (c >= 0x200b && c <= 0x200f);
}
bool is_punctuation(char32_t c) {
  // BERT treats every non-alphanumeric ASCII character as punctuation, plus Unicode's P* blocks.
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205e) || (c >= 0x3001 && c <= 0x3003) ||
         (c >= 0x3008 && c <= 0x3011) || c == 0xa1 || c == 0xa7 || c == 0xab || c == 0xb6 || c == 0xb7 ||
         c == 0xbb || c == 0xbf;
}
bool is_cjk(char32_t c) {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x20000 && c <= 0x2a6df) ||
         (c >= 0xf900 && c <= 0xfaff) || (c >= 0x2f800 && c <= 0x2fa1f);
}

// Lowercase and strip accents (see fold_table.h).
char32_t fold(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  auto it = std::lower_bound(std::begin(detail::kFoldTable), std::end(detail::kFoldTable), c,
                             [](const std::pair<char32_t, char32_t>& e, char32_t v) { return e.first < v; });
  if (it != std::end(detail::kFoldTable) && it->first == c) return it->second;
  return c;
}
bool is_combining(char32_t c) { return c >= 0x300 && c <= 0x36f; }

class WordPiece final : public Tokenizer {
 public:
  WordPiece(std::vector<std::string> vocab, WordPieceOptions options) : vocab_(std::move(vocab)), options_(options) {
    for (std::size_t i = 0; i < vocab_.size(); ++i) ids_.emplace(vocab_[i], static_cast<std::int64_t>(i));
    auto unk = ids_.find(options_.unk_token);
    if (unk == ids_.end()) {
      throw InputError(fmt::format("WordPiece vocabulary has no unknown token '{}'", options_.unk_token));
    }
    unk_id_ = unk->second;
  }

  std::vector<std::int64_t> encode(std::string_view text) const override {
    std::vector<std::int64_t> out;
    for (const auto& word : basic_split(text)) piece(word, out);
    return out;
  }

  std::string decode(std::span<const std::int64_t> ids) const override {
    std::string out;
    for (auto id : ids) {
      if (id < 0 || static_cast<std::size_t>(id) >= vocab_.size()) continue;
      const auto& tok = vocab_[static_cast<std::size_t>(id)];
      if (tok.size() > 2 && tok.front() == '[' && tok.back() == ']') continue;  // [CLS], [SEP], [PAD]
      if (tok.rfind("##", 0) == 0) {
        out += tok.substr(2);
      } else {
        if (!out.empty()) out += ' ';
        out += tok;
      }
    }
    return out;
  }

  std::int64_t vocab_size() const override { return static_cast<std::int64_t>(vocab_.size()); }
  std::optional<std::int64_t> token_id(std::string_view token) const override {
    auto it = ids_.find(std::string(token));
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  std::string kind() const override { return "wordpiece"; }

 private:
  std::vector<std::u32string> basic_split(std::string_view text) const {
    std::vector<std::u32string> words;
    std::u32string cur;
    auto flush = [&] {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    };
    for (char32_t c : utf8_decode(text)) {
      if (c == 0 || is_control(c)) continue;
      if (options_.lowercase) {
        if (is_combining(c)) continue;
        c = fold(c);
      }
      if (is_whitespace(c)) {
        flush();
      } else if (is_punctuation(c) || is_cjk(c)) {
        flush();
        words.push_back(std::u32string(1, c));
      } else {
        cur.push_back(c);
      }
    }
    flush();
    return words;
  }

  void piece(const std::u32string& word, std::vector<std::int64_t>& out) const {
    if (word.size() > options_.max_chars_per_word) {
      out.push_back(unk_id_);
      return;
    }
    std::vector<std::int64_t> pieces;
    std::size_t start = 0;
    while (start < word.size()) {
      std::size_t end = word.size();
      std::optional<std::int64_t> found;
      while (start < end) {
        std::string sub = start > 0 ? "##" : "";
        for (std::size_t i = start; i < end; ++i) utf8_append(sub, word[i]);
        auto it = ids_.find(sub);
        if (it != ids_.end()) {
          found = it->second;
          break;
        }
        --end;
      }
      if (!found) {  // no piece fits: the whole word is unknown
        out.push_back(unk_id_);
        return;
      }
      pieces.push_back(*found);
      start = end;
    }
    out.insert(out.end(), pieces.begin(), pieces.end());
  }

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, std::int64_t> ids_;
  WordPieceOptions options_;
  std::int64_t unk_id_ = 0;
};

}  // namespace

std::unique_ptr<Tokenizer> make_wordpiece(std::vector<std::string> vocab, const WordPieceOptions& options) {
  return std::make_unique<WordPiece>(std::move(vocab), options);
}

std::unique_ptr<Tokenizer> load_wordpiece_vocab(const std::filesystem::path& vocab_txt,
                                                const WordPieceOptions& options) {
  std::ifstream in(vocab_txt);
  if (!in) throw InputError(fmt::format("cannot open WordPiece vocabulary '{}'", vocab_txt.string()));
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  if (vocab.empty()) throw InputError(fmt::format("WordPiece vocabulary '{}' is empty", vocab_txt.string()));
  return make_wordpiece(std::move(vocab), options);
}

}  // namespace joulebench::models
