// Tokenizers of the text zoo (no libtorch): WordPiece (BERT), byte-level BPE
// (GPT-2, RoBERTa, BART; also reused by the vision part for CLIP / GPT-2
// captions), SentencePiece (T5, through Debian's libsentencepiece), and a
// built-in deterministic tokenizer for runs without tokenizer files whose
// token counts are close to a real English BPE's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace joulebench::models {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of `text` without special tokens; empty text gives no ids.
  virtual std::vector<std::int64_t> encode(std::string_view text) const = 0;
  // Text of `ids`, special tokens skipped.
  virtual std::string decode(std::span<const std::int64_t> ids) const = 0;
  virtual std::int64_t vocab_size() const = 0;
  // Id of a token string ("[CLS]", "<s>", "</s>"), if in the vocabulary.
  virtual std::optional<std::int64_t> token_id(std::string_view token) const = 0;
  virtual std::string kind() const = 0;  // "wordpiece", "bpe", "sentencepiece", "builtin"
};

struct WordPieceOptions {
  bool lowercase = true;  // and strip accents (bert-*-uncased)
  std::string unk_token = "[UNK]";
  std::size_t max_chars_per_word = 100;
};
// `vocab` in id order (vocab.txt lines).
std::unique_ptr<Tokenizer> make_wordpiece(std::vector<std::string> vocab, const WordPieceOptions& options = {});
std::unique_ptr<Tokenizer> load_wordpiece_vocab(const std::filesystem::path& vocab_txt,
                                                const WordPieceOptions& options = {});

// `vocab`: token string (byte-level unicode form, "Ġthe") -> id; `merges`:
// pairs in rank order. Specials (e.g. "<|endoftext|>") are in `vocab`.
std::unique_ptr<Tokenizer> make_byte_bpe(std::unordered_map<std::string, std::int64_t> vocab,
                                         std::vector<std::pair<std::string, std::string>> merges);
// vocab.json (or GPT-2's encoder.json) + merges.txt (or vocab.bpe).
std::unique_ptr<Tokenizer> load_byte_bpe(const std::filesystem::path& vocab_json,
                                         const std::filesystem::path& merges_txt);

// A SentencePiece .model file (spiece.model).
std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file);

// Built-in tokenizer: ids in [first_id, vocab_size), specials below first_id.
std::unique_ptr<Tokenizer> make_builtin(std::int64_t vocab_size, std::int64_t first_id = 8);

// A Hugging Face tokenizer.json (WordPiece or BPE model), or the folder's
// vocab.txt / vocab.json + merges.txt / spiece.model; nullptr when the folder
// has none of them.
std::unique_ptr<Tokenizer> load_tokenizer_dir(const std::filesystem::path& dir);
std::unique_ptr<Tokenizer> load_tokenizer_json(const std::filesystem::path& tokenizer_json);

// How a model frames one text or a pair ([CLS] a [SEP] b [SEP], <s> a </s></s> b </s>, a </s>).
struct SpecialTemplate {
  std::vector<std::int64_t> prefix;     // before the first text
  std::vector<std::int64_t> separator;  // between the texts of a pair
  std::vector<std::int64_t> suffix;     // after the last text
};
struct Encoding {
  std::vector<std::int64_t> ids;
  std::int64_t first_length = 0;   // tokens of the first text kept
  std::int64_t second_offset = 0;  // index of the second text's first token
  std::int64_t second_length = 0;
  bool truncated = false;
};
// Encodes `first` (and `second`, when not empty) with the template, cutting
// to `max_length` ids in all: the longer text loses tokens first (HF's
// "longest_first"). max_length 0: no limit.
Encoding encode_with_template(const Tokenizer& tokenizer, std::string_view first, std::string_view second,
                              const SpecialTemplate& templ, std::size_t max_length);

// UTF-8 helpers shared by the tokenizers.
std::vector<char32_t> utf8_decode(std::string_view s);
void utf8_append(std::string& out, char32_t cp);

}  // namespace joulebench::models
