// SentencePiece models (T5's spiece.model) through Debian's libsentencepiece.
#include <fmt/format.h>
#include <sentencepiece_processor.h>

#include "joulebench/error.h"
#include "models/tokenizers/tokenizer.h"

namespace joulebench::models {
namespace {

class SentencePiece final : public Tokenizer {
 public:
  explicit SentencePiece(const std::filesystem::path& model) {
    const auto status = sp_.Load(model.string());
    if (!status.ok()) {
      throw InputError(fmt::format("cannot load SentencePiece model '{}': {}", model.string(), status.ToString()));
    }
  }
  std::vector<std::int64_t> encode(std::string_view text) const override {
    std::vector<int> ids;
    if (text.empty()) return {};
    const auto status = sp_.Encode(text, &ids);
    if (!status.ok()) throw Error(fmt::format("SentencePiece encode failed: {}", status.ToString()));
    return {ids.begin(), ids.end()};
  }
  std::string decode(std::span<const std::int64_t> ids) const override {
    std::vector<int> kept;
    for (auto id : ids) {
      if (id >= 0 && id < sp_.GetPieceSize() && !sp_.IsControl(static_cast<int>(id))) kept.push_back(static_cast<int>(id));
    }
    std::string out;
    const auto status = sp_.Decode(kept, &out);
    if (!status.ok()) throw Error(fmt::format("SentencePiece decode failed: {}", status.ToString()));
    return out;
  }
  std::int64_t vocab_size() const override { return sp_.GetPieceSize(); }
  std::optional<std::int64_t> token_id(std::string_view token) const override {
    const int id = sp_.PieceToId(token);
    if (id == sp_.unk_id() && token != sp_.IdToPiece(sp_.unk_id())) return std::nullopt;
    return id;
  }
  std::string kind() const override { return "sentencepiece"; }

 private:
  sentencepiece::SentencePieceProcessor sp_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file) {
  return std::make_unique<SentencePiece>(model_file);
}

}  // namespace joulebench::models
