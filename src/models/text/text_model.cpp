// The text presets as joulebench::Model: tokenise a batch, pad it, run the
// module (encoder head, greedy generation with a KV cache), decode.
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "joulebench/error.h"
#include "joulebench/version.h"
#include "models/common/gpt2.h"
#include "models/registry_parts.h"
#include "models/text/bloom.h"
#include "models/text/encoders.h"
#include "models/text/presets.h"
#include "models/text/seq2seq.h"
#include "models/text/text_model.h"
#include "models/tokenizers/tokenizer.h"
#include "core/paths.h"

namespace joulebench::models {
namespace {

namespace fs = std::filesystem;

// Real vocabularies fetched by scripts/fetch_data.sh, loaded once per process.
std::shared_ptr<const Tokenizer> fetched_vocabulary(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  const fs::path data = core::data_dir();
  std::shared_ptr<const Tokenizer> tok;
  std::error_code ec;
  if (name == "gpt2") {
    const auto dir = data / "gpt2-bpe";
    if (fs::exists(dir / "encoder.json", ec) && fs::exists(dir / "vocab.bpe", ec)) {
      tok = load_byte_bpe(dir / "encoder.json", dir / "vocab.bpe");
    }
  } else if (name == "bert-base-uncased") {
    const auto spec = data / "bert-base-uncased-vocab" / "bert_qa_spec.json";
    if (fs::exists(spec, ec)) {
      std::ifstream in(spec);
      const auto j = nlohmann::json::parse(in);
      std::stringstream lines(j.at("vocabulary_bert").get<std::string>());
      std::vector<std::string> vocab;
      for (std::string line; std::getline(lines, line);) vocab.push_back(line);
      tok = make_wordpiece(std::move(vocab));
    }
  }
  cache[name] = tok;
  return tok;
}

std::string first_words(const std::string& text, std::size_t n) {
  std::istringstream in(text);
  std::string word, out;
  for (std::size_t i = 0; i < n && in >> word; ++i) out += (i ? " " : "") + word;
  return out;
}

std::string zero_shot_prompt(Task task, const InferenceInput& in) {
  switch (task) {
    case Task::text_classification:
      return fmt::format("Is the sentiment of the following text positive or negative?\n\n{}\n\nAnswer:", in.text);
    case Task::question_answering:
      return fmt::format("Answer the question using the context.\n\nContext: {}\n\nQuestion: {}\n\nAnswer:",
                         in.context, in.text);
    case Task::summarization:
      return fmt::format("Summarize the following text.\n\n{}\n\nSummary:", in.text);
    default:
      return in.text;
  }
}

}  // namespace

TextModel::TextModel(const TextPreset& preset, const LoadOptions& options) : preset_(preset) {
  rt_ = apply_load_options(options);
  info_.name = preset.name;
  info_.task = preset.task;
  info_.family = preset.family;
  info_.size_class = preset.size_class;
  info_.multi_purpose = preset.multi_purpose;

  HfConfig config(preset.config, fmt::format("preset '{}'", preset.name));
  const fs::path dir = options.weights_dir.empty() ? default_weights_dir(preset.name) : fs::path(options.weights_dir);
  std::error_code ec;
  if (!options.weights_dir.empty() && !fs::is_directory(dir, ec)) {
    throw InputError(fmt::format("weights folder '{}' does not exist", dir.string()));
  }
  if (fs::exists(dir / "config.json", ec)) config.merge(HfConfig::read(dir / "config.json").json());
  const bool has_weights = !find_safetensors(dir).empty();
  if (!options.weights_dir.empty() && !has_weights) {
    (void)read_checkpoint(dir);  // throws the explanatory error
  }
  const auto counts = text_parameter_counts(preset.family, preset.task, preset.multi_purpose, config.json());
  info_.parameters = counts.base;
  info_.head_parameters = counts.head;
  info_.weights_found = has_weights;
  if (has_weights) info_.weights_path = dir.string();

  build(config);
  seeded_init(*module_, options.seed);
  if (has_weights) load_state_dict(*module_, read_checkpoint(dir), rules_, dir.string());
  module_->to(rt_.device, rt_.dtype);
  module_->eval();

  // Tokenizer: the checkpoint's own, else the fetched real vocabulary, else built-in.
  std::shared_ptr<const Tokenizer> tok;
  if (has_weights || fs::exists(dir / "tokenizer.json", ec)) tok = load_tokenizer_dir(dir);
  if (!tok && !preset.vocabulary.empty()) tok = fetched_vocabulary(preset.vocabulary);
  if (tok && tok->vocab_size() > vocab_size_) tok = nullptr;  // ids would not fit the embeddings
  if (!tok) tok = make_builtin(vocab_size_);
  tokenizer_ = tok;
  set_specials(config, options);
}

void TextModel::build(const HfConfig& config) {
  const auto& f = preset_.family;
  if (const EncoderFamily* family = find_encoder_family(f)) {
    auto cfg = encoder_config_from_hf(config, *family);
    encoder_ = std::make_shared<EncoderTaskModelImpl>(cfg, preset_.task);
    module_ = encoder_;
    rules_ = encoder_->state_dict_rules();
    vocab_size_ = cfg.vocab_size;
    max_input_ = std::min<std::int64_t>(512, family->max_input_tokens(cfg));
  } else if (f == "gpt2") {
    auto cfg = gpt2_config_from_hf(config);
    auto m = std::make_shared<Gpt2LmImpl>(cfg);
    module_ = m;
    causal_ = m.get();
    rules_ = m->state_dict_rules();
    vocab_size_ = cfg.vocab_size;
    max_input_ = cfg.max_positions;
  } else if (f == "bloom") {
    auto cfg = bloom_config_from_hf(config);
    auto m = std::make_shared<BloomLmImpl>(cfg);
    module_ = m;
    causal_ = m.get();
    rules_ = m->state_dict_rules();
    vocab_size_ = cfg.vocab_size;
    max_input_ = 2048;
  } else if (f == "t5") {
    auto cfg = t5_config_from_hf(config);
    auto m = std::make_shared<T5LmImpl>(cfg);
    module_ = m;
    seq2seq_ = m.get();
    rules_ = m->state_dict_rules();
    vocab_size_ = cfg.vocab_size;
    max_input_ = 512;
  } else if (f == "bart") {
    auto cfg = bart_config_from_hf(config);
    auto m = std::make_shared<BartLmImpl>(cfg);
    module_ = m;
    seq2seq_ = m.get();
    rules_ = m->state_dict_rules();
    vocab_size_ = cfg.vocab_size;
    max_input_ = cfg.max_positions;
  } else {
    throw Error(fmt::format("preset '{}': unknown family '{}'", preset_.name, f));
  }
}

void TextModel::set_specials(const HfConfig& config, const LoadOptions& options) {
  const auto& f = preset_.family;
  const auto& tok = *tokenizer_;
  auto id_or = [&](const char* token, std::int64_t fallback) { return tok.token_id(token).value_or(fallback); };
  if (f == "bert" || f == "distilbert") {
    const bool big = vocab_size_ > 103;  // BERT's [CLS]=101, [SEP]=102, [MASK]=103
    pad_ = config.integer("pad_token_id", 0);
    const auto cls = id_or("[CLS]", big ? 101 : 2), sep = id_or("[SEP]", big ? 102 : 3);
    mask_ = id_or("[MASK]", big ? 103 : 4);
    template_ = {{cls}, {sep}, {sep}};
  } else if (f == "roberta" || f == "bart") {
    const auto bos = config.integer("bos_token_id", 0);
    eos_ = config.integer("eos_token_id", 2);
    pad_ = config.integer("pad_token_id", 1);
    mask_ = vocab_size_ - 1;  // <mask> is the last id of RoBERTa's vocabulary
    template_ = {{bos}, {eos_, eos_}, {eos_}};
  } else if (f == "t5") {
    eos_ = config.integer("eos_token_id", 1);
    pad_ = config.integer("pad_token_id", 0);
    template_ = {{}, {}, {eos_}};
  } else if (f == "gpt2") {
    eos_ = config.integer("eos_token_id", vocab_size_ - 1);
    bos_ = config.integer("bos_token_id", eos_);
    pad_ = eos_;  // GPT-2 has no pad token; padded positions are masked anyway
  } else if (f == "bloom") {
    eos_ = config.integer("eos_token_id", 2);
    bos_ = config.integer("bos_token_id", 1);
    pad_ = config.integer("pad_token_id", 3);
  }
  // Output lengths: the study's, unless overridden.
  int min_new = 0, max_new = 0;
  switch (preset_.task) {
    case Task::text_generation: min_new = max_new = 10; break;  // exactly 10 new tokens
    case Task::summarization: min_new = 10; max_new = 15; break;
    case Task::text_classification: min_new = max_new = 1; break;  // zero-shot: one label token
    case Task::question_answering: min_new = 1; max_new = 65; break;
    default: break;
  }
  generation_.min_new_tokens = options.min_new_tokens.value_or(min_new);
  generation_.max_new_tokens = options.max_new_tokens.value_or(max_new);
  if (!encoder_ && (generation_.max_new_tokens < 1 || generation_.min_new_tokens > generation_.max_new_tokens)) {
    throw InputError(fmt::format("new tokens: need 1 <= max ({}) and min ({}) <= max", generation_.max_new_tokens,
                                 generation_.min_new_tokens));
  }
  generation_.eos_token_id = eos_;
  generation_.pad_token_id = pad_;
}

std::pair<torch::Tensor, torch::Tensor> TextModel::pad(const std::vector<std::vector<std::int64_t>>& rows,
                                                        bool left) const {
  std::size_t width = 1;
  for (const auto& r : rows) width = std::max(width, r.size());
  const auto b = static_cast<std::int64_t>(rows.size()), w = static_cast<std::int64_t>(width);
  auto ids = torch::full({b, w}, pad_, torch::kLong);
  auto mask = torch::zeros({b, w}, torch::kLong);
  auto ia = ids.accessor<std::int64_t, 2>();
  auto ma = mask.accessor<std::int64_t, 2>();
  for (std::int64_t i = 0; i < b; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    const auto offset = left ? w - static_cast<std::int64_t>(r.size()) : 0;
    for (std::size_t j = 0; j < r.size(); ++j) {
      ia[i][offset + static_cast<std::int64_t>(j)] = r[j];
      ma[i][offset + static_cast<std::int64_t>(j)] = 1;
    }
  }
  return {ids.to(rt_.device), mask.to(rt_.device)};
}

std::vector<std::int64_t> TextModel::encode_masked(const std::string& text) const {
  // "[MASK]" / "<mask>" in the text become the mask id; without one, the last position is masked.
  std::vector<std::int64_t> body;
  std::size_t pos = 0;
  bool any = false;
  while (pos <= text.size()) {
    auto a = text.find("[MASK]", pos), b = text.find("<mask>", pos);
    const auto next = std::min(a, b);
    const auto piece = tokenizer_->encode(std::string_view(text).substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    body.insert(body.end(), piece.begin(), piece.end());
    if (next == std::string::npos) break;
    body.push_back(mask_);
    any = true;
    pos = next + 6;
  }
  const auto room = static_cast<std::size_t>(max_input_) - template_.prefix.size() - template_.suffix.size();
  if (body.size() + (any ? 0 : 1) > room) body.resize(room - (any ? 0 : 1));
  if (!any) body.push_back(mask_);
  std::vector<std::int64_t> ids = template_.prefix;
  ids.insert(ids.end(), body.begin(), body.end());
  ids.insert(ids.end(), template_.suffix.begin(), template_.suffix.end());
  return ids;
}

std::vector<InferenceOutput> TextModel::infer(std::span<const InferenceInput> batch) {
  c10::InferenceMode guard;
  if (batch.empty()) return {};
  if (encoder_) return infer_encoder(batch);
  return infer_generate(batch);
}

std::vector<InferenceOutput> TextModel::infer_encoder(std::span<const InferenceInput> batch) {
  std::vector<std::vector<std::int64_t>> rows;
  std::vector<Encoding> encodings;
  for (const auto& in : batch) {
    Encoding e;
    if (preset_.task == Task::fill_mask) {
      e.ids = encode_masked(in.text);
    } else if (preset_.task == Task::question_answering) {
      e = encode_with_template(*tokenizer_, in.text, in.context, template_, static_cast<std::size_t>(max_input_));
    } else {
      e = encode_with_template(*tokenizer_, in.text, "", template_, static_cast<std::size_t>(max_input_));
    }
    rows.push_back(e.ids);
    encodings.push_back(std::move(e));
  }
  auto [ids, mask] = pad(rows, false);
  auto logits = encoder_->forward(ids, mask).to(torch::kCPU, torch::kFloat32);
  std::vector<InferenceOutput> out(batch.size());
  const auto& labels = preset_.config.contains("id2label") ? preset_.config.at("id2label") : nlohmann::json::object();
  auto label_of = [&](std::int64_t k) {
    const auto key = std::to_string(k);
    return labels.contains(key) ? labels.at(key).get<std::string>() : fmt::format("LABEL_{}", k);
  };
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto& row = rows[b];
    auto& o = out[b];
    o.input_tokens = static_cast<std::int64_t>(row.size());
    const auto bi = static_cast<std::int64_t>(b);
    switch (preset_.task) {
      case Task::text_classification:
        o.text = label_of(logits[bi].argmax().item<std::int64_t>());
        break;
      case Task::token_classification: {
        auto best = logits[bi].argmax(-1);
        const auto first = static_cast<std::int64_t>(template_.prefix.size());
        for (std::int64_t t = first; t < first + encodings[b].first_length; ++t) {
          const auto label = label_of(best[t].item<std::int64_t>());
          if (label == "O") continue;
          const std::int64_t id = row[static_cast<std::size_t>(t)];
          o.text += fmt::format("{}{}/{}", o.text.empty() ? "" : " ", tokenizer_->decode({&id, 1}), label);
        }
        break;
      }
      case Task::question_answering: {
        const auto& e = encodings[b];
        const auto start = e.second_length > 0 ? e.second_offset : static_cast<std::int64_t>(template_.prefix.size());
        const auto len = e.second_length > 0 ? e.second_length : e.first_length;
        auto s_logits = logits[bi].select(1, 0), e_logits = logits[bi].select(1, 1);
        auto sa = s_logits.accessor<float, 1>(), ea = e_logits.accessor<float, 1>();
        float best = -std::numeric_limits<float>::infinity();
        std::int64_t bs = start, be = start - 1;
        constexpr std::int64_t kMaxAnswer = 30;  // HF pipeline's max_answer_len default... 15; SQuAD scripts use 30
        for (std::int64_t s = start; s < start + len; ++s) {
          for (std::int64_t t = s; t < std::min(start + len, s + kMaxAnswer); ++t) {
            if (sa[s] + ea[t] > best) {
              best = sa[s] + ea[t];
              bs = s;
              be = t;
            }
          }
        }
        if (be >= bs) o.text = tokenizer_->decode(std::span<const std::int64_t>(row).subspan(bs, be - bs + 1));
        break;
      }
      case Task::fill_mask: {
        for (std::size_t t = 0; t < row.size(); ++t) {
          if (row[t] != mask_) continue;
          const std::int64_t id = logits[bi][static_cast<std::int64_t>(t)].argmax().item<std::int64_t>();
          o.text = tokenizer_->decode({&id, 1});
          o.output_tokens = 1;
          break;
        }
        break;
      }
      default: break;
    }
  }
  return out;
}

std::vector<InferenceOutput> TextModel::infer_generate(std::span<const InferenceInput> batch) {
  std::vector<std::vector<std::int64_t>> rows;
  const bool causal = causal_ != nullptr;
  // Decoder-only models keep room for the new tokens inside their positions.
  const auto limit = static_cast<std::size_t>(causal ? max_input_ - generation_.max_new_tokens : max_input_);
  for (const auto& in : batch) {
    std::string prompt;
    if (preset_.multi_purpose) {
      prompt = zero_shot_prompt(preset_.task, in);
    } else if (preset_.task == Task::text_generation) {
      prompt = first_words(in.text, 20);  // the study: prompts cut to their first 20 words
    } else if (preset_.family == "t5") {
      prompt = "summarize: " + in.text;
    } else {
      prompt = in.text;
    }
    auto e = encode_with_template(*tokenizer_, prompt, "", template_, limit);
    if (e.ids.empty()) e.ids.push_back(causal ? bos_ : eos_);  // an empty prompt still needs one position
    rows.push_back(std::move(e.ids));
  }
  GenerationResult result;
  if (causal) {
    auto [ids, mask] = pad(rows, true);
    result = greedy_generate(*causal_, ids, mask, generation_);
  } else {
    auto [ids, mask] = pad(rows, false);
    result = greedy_generate(*seq2seq_, ids, mask, generation_);
  }
  std::vector<InferenceOutput> out(batch.size());
  for (std::size_t b = 0; b < batch.size(); ++b) {
    auto& o = out[b];
    o.input_tokens = static_cast<std::int64_t>(rows[b].size());
    o.output_tokens = result.lengths[b];
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 0; i < result.lengths[b]; ++i) {
      const auto id = result.tokens[static_cast<std::int64_t>(b)][i].item<std::int64_t>();
      if (id != eos_) ids.push_back(id);
    }
    o.text = tokenizer_->decode(ids);
  }
  return out;
}

std::vector<ModelInfo> text_model_infos() {
  std::vector<ModelInfo> infos;
  for (const auto& p : text_presets()) {
    ModelInfo m;
    m.name = p.name;
    m.task = p.task;
    m.family = p.family;
    m.size_class = p.size_class;
    m.multi_purpose = p.multi_purpose;
    auto config = p.config;
    const auto dir = default_weights_dir(p.name);
    std::error_code ec;
    if (fs::exists(dir / "config.json", ec)) {
      try {
        const auto user = HfConfig::read(dir / "config.json");
        for (const auto& [k, v] : user.json().items()) config[k] = v;
      } catch (const InputError&) {
        // listing stays possible with a broken config; loading reports it
      }
    }
    const auto counts = text_parameter_counts(p.family, p.task, p.multi_purpose, config);
    m.parameters = counts.base;
    m.head_parameters = counts.head;
    m.weights_found = !find_safetensors(dir).empty();
    if (m.weights_found) m.weights_path = dir.string();
    infos.push_back(std::move(m));
  }
  for (auto& m : fasttext_model_infos()) infos.push_back(std::move(m));
  return infos;
}

std::unique_ptr<Model> load_text_model(std::string_view name, const LoadOptions& options) {
  if (auto m = load_fasttext_model(name, options)) return m;
  const auto* preset = find_text_preset(name, options.task);
  if (!preset) {
    if (options.task && find_text_preset(name, std::nullopt)) {
      throw InputError(fmt::format("model '{}' does not serve task {}", name, to_string(*options.task)));
    }
    return nullptr;
  }
  return std::make_unique<TextModel>(*preset, options);
}

}  // namespace joulebench::models
