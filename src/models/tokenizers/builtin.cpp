// The built-in tokenizer for runs without tokenizer files. It splits text as
// GPT-2's pre-tokenizer does (words with their leading space, digit runs,
// punctuation runs) and cuts long words into pieces, so that the token count
// of English text is close to a real BPE's (about 1.3 tokens per word); ids
// are a stable hash of each piece. Decoding gives pronounceable stand-ins
// (the weights are random then, so the text carries no meaning anyway).
#include <fmt/format.h>

#include "joulebench/error.h"
#include "models/tokenizers/tokenizer.h"

namespace joulebench::models {
namespace {

constexpr std::size_t kWholeWordChars = 8;  // words up to this length are one token (BPE has them)
constexpr std::size_t kPieceChars = 5;      // longer words: one more token per this many chars
constexpr std::size_t kDigitGroup = 3;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool is_space(char32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xa0; }
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_alpha(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0xc0; }

class Builtin final : public Tokenizer {
 public:
  Builtin(std::int64_t vocab_size, std::int64_t first_id) : vocab_size_(vocab_size), first_id_(first_id) {
    if (vocab_size <= first_id) {
      throw InputError(fmt::format("built-in tokenizer: vocabulary size {} must exceed {} special ids", vocab_size,
                                   first_id));
    }
  }

  std::vector<std::int64_t> encode(std::string_view text) const override {
    std::vector<std::int64_t> out;
    const auto cps = utf8_decode(text);
    std::size_t i = 0;
    const std::size_t n = cps.size();
    while (i < n) {
      while (i < n && is_space(cps[i])) ++i;  // whitespace rides on the next word
      if (i >= n) break;
      std::size_t j = i;
      std::size_t piece = 0;
      if (is_alpha(cps[i])) {
        while (j < n && (is_alpha(cps[j]) || cps[j] == '\'')) ++j;
        piece = j - i <= kWholeWordChars ? j - i : kPieceChars;
        if (j - i > kWholeWordChars) {
          // first piece takes the remainder so the last pieces are whole
          const std::size_t extra = (j - i - kWholeWordChars + kPieceChars - 1) / kPieceChars;
          piece = j - i - extra * kPieceChars;
        }
      } else if (is_digit(cps[i])) {
        while (j < n && is_digit(cps[j])) ++j;
        piece = kDigitGroup;
      } else {
        j = i + 1;
        piece = 1;
      }
      for (std::size_t a = i; a < j;) {
        const std::size_t b = std::min(j, a + piece);
        std::string s = a == i ? " " : "";
        for (std::size_t k = a; k < b; ++k) utf8_append(s, cps[k]);
        out.push_back(id_of(s));
        a = b;
        if (is_alpha(cps[i])) piece = kPieceChars;
      }
      i = j;
    }
    return out;
  }

  std::string decode(std::span<const std::int64_t> ids) const override {
    static const char* kSyllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "de", "pa", "zu", "fe",
                                       "go", "hi", "ja", "bu"};
    std::string out;
    for (auto id : ids) {
      if (id < first_id_ || id >= vocab_size_) continue;
      auto v = static_cast<std::uint64_t>(id);
      if (!out.empty()) out += ' ';
      do {
        out += kSyllables[v % 16];
        v /= 16;
      } while (v > 0);
    }
    return out;
  }

  std::int64_t vocab_size() const override { return vocab_size_; }
  std::optional<std::int64_t> token_id(std::string_view) const override { return std::nullopt; }
  std::string kind() const override { return "builtin"; }

 private:
  std::int64_t id_of(std::string_view piece) const {
    return first_id_ + static_cast<std::int64_t>(fnv1a(piece) % static_cast<std::uint64_t>(vocab_size_ - first_id_));
  }
  std::int64_t vocab_size_;
  std::int64_t first_id_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_builtin(std::int64_t vocab_size, std::int64_t first_id) {
  return std::make_unique<Builtin>(vocab_size, first_id);
}

}  // namespace joulebench::models
