// UTF-8 helpers, the special-token template and tokenizer discovery.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "joulebench/error.h"
#include "models/tokenizers/tokenizer.h"

namespace joulebench::models {

std::vector<char32_t> utf8_decode(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) {  // invalid byte: U+FFFD, as HF does
      out.push_back(0xfffd);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok) {
      out.push_back(0xfffd);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

Encoding encode_with_template(const Tokenizer& tokenizer, std::string_view first, std::string_view second,
                              const SpecialTemplate& templ, std::size_t max_length) {
  auto a = tokenizer.encode(first);
  std::vector<std::int64_t> b;
  const bool pair = !second.empty();
  if (pair) b = tokenizer.encode(second);
  const std::size_t specials = templ.prefix.size() + templ.suffix.size() + (pair ? templ.separator.size() : 0);
  Encoding e;
  if (max_length > 0) {
    const std::size_t budget = max_length > specials ? max_length - specials : 0;
    while (a.size() + b.size() > budget) {
      e.truncated = true;
      if (b.size() > a.size()) {
        b.pop_back();
      } else {
        a.pop_back();
      }
    }
  }
  e.ids.insert(e.ids.end(), templ.prefix.begin(), templ.prefix.end());
  e.ids.insert(e.ids.end(), a.begin(), a.end());
  e.first_length = static_cast<std::int64_t>(a.size());
  if (pair) {
    e.ids.insert(e.ids.end(), templ.separator.begin(), templ.separator.end());
    e.second_offset = static_cast<std::int64_t>(e.ids.size());
    e.ids.insert(e.ids.end(), b.begin(), b.end());
    e.second_length = static_cast<std::int64_t>(b.size());
  }
  e.ids.insert(e.ids.end(), templ.suffix.begin(), templ.suffix.end());
  return e;
}

std::unique_ptr<Tokenizer> load_tokenizer_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("cannot open tokenizer file '{}'", path.string()));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", path.string(), e.what()));
  }
  const auto& model = j.at("model");
  const auto type = model.value("type", std::string());
  std::unordered_map<std::string, std::int64_t> vocab;
  if (model.contains("vocab") && model.at("vocab").is_object()) {
    for (const auto& [k, v] : model.at("vocab").items()) vocab[k] = v.get<std::int64_t>();
  }
  if (j.contains("added_tokens")) {
    for (const auto& t : j.at("added_tokens")) vocab[t.at("content").get<std::string>()] = t.at("id").get<std::int64_t>();
  }
  if (type == "WordPiece") {
    std::vector<std::string> list(vocab.size());
    for (const auto& [k, v] : vocab) {
      if (v < 0 || static_cast<std::size_t>(v) >= list.size()) {
        throw InputError(fmt::format("{}: WordPiece ids are not 0..{}", path.string(), list.size() - 1));
      }
      list[static_cast<std::size_t>(v)] = k;
    }
    WordPieceOptions opt;
    if (j.contains("normalizer") && j.at("normalizer").is_object()) {
      opt.lowercase = j.at("normalizer").value("lowercase", true);
    }
    opt.unk_token = model.value("unk_token", std::string("[UNK]"));
    return make_wordpiece(std::move(list), opt);
  }
  if (type == "BPE") {
    std::vector<std::pair<std::string, std::string>> merges;
    for (const auto& m : model.at("merges")) {
      if (m.is_string()) {
        const auto s = m.get<std::string>();
        const auto space = s.find(' ');
        if (space == std::string::npos) continue;
        merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      } else {
        merges.emplace_back(m.at(0).get<std::string>(), m.at(1).get<std::string>());
      }
    }
    return make_byte_bpe(std::move(vocab), std::move(merges));
  }
  throw InputError(fmt::format("{}: tokenizer model type '{}' is not supported (WordPiece, BPE; SentencePiece "
                               "models load from spiece.model)",
                               path.string(), type));
}

std::unique_ptr<Tokenizer> load_tokenizer_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir / "spiece.model", ec)) return load_sentencepiece(dir / "spiece.model");
  if (fs::exists(dir / "tokenizer.json", ec)) return load_tokenizer_json(dir / "tokenizer.json");
  if (fs::exists(dir / "vocab.json", ec) && fs::exists(dir / "merges.txt", ec)) {
    return load_byte_bpe(dir / "vocab.json", dir / "merges.txt");
  }
  if (fs::exists(dir / "vocab.txt", ec)) return load_wordpiece_vocab(dir / "vocab.txt");
  return nullptr;
}

}  // namespace joulebench::models
