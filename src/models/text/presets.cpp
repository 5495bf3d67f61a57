#include "models/text/presets.h"

#include "joulebench/version.h"

namespace joulebench::models {
namespace {

using nlohmann::json;

json bert_config(int vocab, int hidden, int layers, int heads, int inter, int positions = 512, int types = 2) {
  return {{"vocab_size", vocab},           {"hidden_size", hidden}, {"num_hidden_layers", layers},
          {"num_attention_heads", heads},  {"intermediate_size", inter},
          {"max_position_embeddings", positions}, {"type_vocab_size", types}, {"hidden_act", "gelu"}};
}
json roberta_config(int vocab, int hidden, int layers, int heads, int inter) {
  auto c = bert_config(vocab, hidden, layers, heads, inter, 514, 1);
  c["layer_norm_eps"] = 1e-5;
  c["pad_token_id"] = 1;
  c["bos_token_id"] = 0;
  c["eos_token_id"] = 2;
  return c;
}
json distilbert_config(int vocab, int dim, int layers, int heads, int hidden_dim) {
  return {{"vocab_size", vocab}, {"dim", dim},           {"n_layers", layers}, {"n_heads", heads},
          {"hidden_dim", hidden_dim}, {"max_position_embeddings", 512}, {"activation", "gelu"}};
}
json gpt2_config(int vocab, int embd, int layers, int heads, int positions = 1024) {
  return {{"vocab_size", vocab}, {"n_embd", embd}, {"n_layer", layers}, {"n_head", heads},
          {"n_positions", positions}, {"activation_function", "gelu_new"}, {"bos_token_id", vocab - 1},
          {"eos_token_id", vocab - 1}};
}
json bloom_config(int vocab, int hidden, int layers, int heads) {
  return {{"vocab_size", vocab}, {"hidden_size", hidden}, {"n_layer", layers}, {"n_head", heads},
          {"bos_token_id", 1}, {"eos_token_id", 2}, {"pad_token_id", 3}};
}
json t5_config(int vocab, int d_model, int d_kv, int d_ff, int layers, int heads, bool gated) {
  return {{"vocab_size", vocab}, {"d_model", d_model}, {"d_kv", d_kv}, {"d_ff", d_ff}, {"num_layers", layers},
          {"num_decoder_layers", layers}, {"num_heads", heads},
          {"feed_forward_proj", gated ? "gated-gelu" : "relu"}, {"tie_word_embeddings", !gated},
          {"decoder_start_token_id", 0}, {"eos_token_id", 1}, {"pad_token_id", 0}};
}
json bart_config(int vocab, int d_model, int enc_layers, int dec_layers, int heads, int ffn, int positions = 1024) {
  return {{"vocab_size", vocab}, {"d_model", d_model}, {"encoder_layers", enc_layers}, {"decoder_layers", dec_layers},
          {"encoder_attention_heads", heads}, {"decoder_attention_heads", heads}, {"encoder_ffn_dim", ffn},
          {"decoder_ffn_dim", ffn}, {"max_position_embeddings", positions}, {"activation_function", "gelu"},
          {"decoder_start_token_id", 2}, {"bos_token_id", 0}, {"eos_token_id", 2}, {"pad_token_id", 1}};
}
json with_labels(json c, const std::vector<std::string>& labels) {
  json id2label = json::object();
  for (std::size_t i = 0; i < labels.size(); ++i) id2label[std::to_string(i)] = labels[i];
  c["id2label"] = id2label;
  return c;
}

const std::vector<std::string> kSentiment = {"NEGATIVE", "POSITIVE"};
const std::vector<std::string> kNer = {"O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"};
const std::vector<Task> kMultiPurposeTasks = {Task::text_classification, Task::question_answering,
                                              Task::summarization};

std::vector<TextPreset> build() {
  std::vector<TextPreset> p;
  auto add = [&](std::string name, Task task, std::string family, std::string size, json config,
                 std::string vocab) {
    p.push_back({std::move(name), task, std::move(family), std::move(size), false, std::move(config),
                 std::move(vocab)});
  };
  auto add_multi = [&](const std::string& name, const std::string& family, const std::string& size,
                       const json& config, const std::string& vocab) {
    for (Task t : kMultiPurposeTasks) p.push_back({name, t, family, size, true, config, vocab});
  };
  // The study's models (Hugging Face ids, their config.json values).
  add("distilbert-base-uncased-finetuned-sst-2-english", Task::text_classification, "distilbert", "study",
      with_labels(distilbert_config(30522, 768, 6, 12, 3072), kSentiment), "bert-base-uncased");
  // Cased BERT (28,996 tokens): no cased vocabulary ships in a registry, so the built-in tokenizer.
  add("dslim/bert-base-NER", Task::token_classification, "bert", "study",
      with_labels(bert_config(28996, 768, 12, 12, 3072), kNer), "");
  add("deepset/roberta-base-squad2", Task::question_answering, "roberta", "study",
      roberta_config(50265, 768, 12, 12, 3072), "gpt2");
  add("bert-base-uncased", Task::fill_mask, "bert", "study", bert_config(30522, 768, 12, 12, 3072),
      "bert-base-uncased");
  add("gpt2", Task::text_generation, "gpt2", "study", gpt2_config(50257, 768, 12, 12), "gpt2");
  add("distilgpt2", Task::text_generation, "gpt2", "study", gpt2_config(50257, 768, 6, 12), "gpt2");
  add("bigscience/bloom-560m", Task::text_generation, "bloom", "study", bloom_config(250880, 1024, 24, 16), "gpt2");
  add("t5-small", Task::summarization, "t5", "study", t5_config(32128, 512, 64, 2048, 6, 8, false), "");
  add("sshleifer/distilbart-cnn-12-6", Task::summarization, "bart", "study",
      bart_config(50264, 1024, 12, 6, 16, 4096), "gpt2");
  add("facebook/bart-large-cnn", Task::summarization, "bart", "study", bart_config(50264, 1024, 12, 12, 16, 4096),
      "gpt2");
  add_multi("google/flan-t5-base", "t5", "study", t5_config(32128, 768, 64, 2048, 12, 12, true), "");
  add_multi("bigscience/bloomz-560m", "bloom", "study", bloom_config(250880, 1024, 24, 16), "gpt2");

  // small: the default bench on a laptop (4 layers, 256 wide; real vocabularies).
  add("small-distilbert-sst2", Task::text_classification, "distilbert", "small",
      with_labels(distilbert_config(30522, 256, 4, 4, 1024), kSentiment), "bert-base-uncased");
  add("small-bert-ner", Task::token_classification, "bert", "small",
      with_labels(bert_config(30522, 256, 4, 4, 1024), kNer), "bert-base-uncased");
  add("small-roberta-squad", Task::question_answering, "roberta", "small", roberta_config(50265, 256, 4, 4, 1024),
      "gpt2");
  add("small-bert-mlm", Task::fill_mask, "bert", "small", bert_config(30522, 256, 4, 4, 1024), "bert-base-uncased");
  add("small-gpt2", Task::text_generation, "gpt2", "small", gpt2_config(50257, 256, 4, 4), "gpt2");
  add("small-bloom", Task::text_generation, "bloom", "small", bloom_config(50257, 256, 4, 4), "gpt2");
  add("small-t5", Task::summarization, "t5", "small", t5_config(32128, 256, 32, 1024, 4, 8, false), "");
  add("small-bart", Task::summarization, "bart", "small", bart_config(50265, 256, 4, 4, 4, 1024), "gpt2");
  add_multi("small-flan-t5", "t5", "small", t5_config(32128, 256, 32, 1024, 4, 8, true), "");

  // tiny: tests (2 layers, 32 wide, 1,000-token built-in vocabulary).
  add("tiny-distilbert-sst2", Task::text_classification, "distilbert", "tiny",
      with_labels(distilbert_config(1000, 32, 2, 2, 64), kSentiment), "");
  add("tiny-bert-ner", Task::token_classification, "bert", "tiny", with_labels(bert_config(1000, 32, 2, 2, 64), kNer),
      "");
  add("tiny-roberta-squad", Task::question_answering, "roberta", "tiny", roberta_config(1000, 32, 2, 2, 64), "");
  add("tiny-bert-mlm", Task::fill_mask, "bert", "tiny", bert_config(1000, 32, 2, 2, 64), "");
  add("tiny-gpt2", Task::text_generation, "gpt2", "tiny", gpt2_config(1000, 32, 2, 2, 128), "");
  add("tiny-bloom", Task::text_generation, "bloom", "tiny", bloom_config(1000, 32, 2, 4), "");
  add("tiny-t5", Task::summarization, "t5", "tiny", t5_config(1000, 32, 16, 64, 2, 2, false), "");
  add("tiny-bart", Task::summarization, "bart", "tiny", bart_config(1000, 32, 2, 2, 2, 64, 128), "");
  add_multi("tiny-flan-t5", "t5", "tiny", t5_config(1000, 32, 16, 64, 2, 2, true), "");
  add_multi("tiny-bloomz", "bloom", "tiny", bloom_config(1000, 32, 2, 4), "");
  return p;
}

std::int64_t get(const json& c, std::initializer_list<const char*> keys, std::int64_t fallback = -1) {
  for (const char* k : keys) {
    if (c.contains(k) && c.at(k).is_number()) return c.at(k).get<std::int64_t>();
  }
  return fallback;
}

}  // namespace

const std::vector<TextPreset>& text_presets() {
  static const std::vector<TextPreset> presets = build();
  return presets;
}

const TextPreset* find_text_preset(std::string_view name, std::optional<Task> task) {
  const TextPreset* first = nullptr;
  for (const auto& p : text_presets()) {
    if (p.name != name) continue;
    if (!task || p.task == *task) return &p;
    if (!first) first = &p;
  }
  return task ? nullptr : first;
}

ParameterCounts text_parameter_counts(const std::string& family, Task task, bool multi_purpose, const json& c) {
  ParameterCounts n;
  const auto linear = [](std::int64_t in, std::int64_t out, bool bias = true) { return in * out + (bias ? out : 0); };
  if (family == "bert" || family == "roberta" || family == "distilbert") {
    const bool distil = family == "distilbert";
    const auto v = get(c, {"vocab_size"}), h = get(c, {"hidden_size", "dim"});
    const auto l = get(c, {"num_hidden_layers", "n_layers"}), i = get(c, {"intermediate_size", "hidden_dim"});
    const auto pos = get(c, {"max_position_embeddings"}, 512);
    const auto types = distil ? 0 : get(c, {"type_vocab_size"}, family == "roberta" ? 1 : 2);
    const auto labels = c.contains("id2label") ? static_cast<std::int64_t>(c.at("id2label").size())
                                               : get(c, {"num_labels"}, 2);
    n.base = (v + pos + types) * h + 2 * h;
    n.base += l * (4 * linear(h, h) + 4 * h + linear(h, i) + linear(i, h));
    if (!distil) n.base += linear(h, h);  // pooler, as AutoModel builds it
    switch (task) {
      case Task::text_classification:
        n.head = linear(h, labels) + (family == "bert" ? 0 : linear(h, h));
        break;
      case Task::token_classification: n.head = linear(h, labels); break;
      case Task::question_answering: n.head = linear(h, 2); break;
      case Task::fill_mask: n.head = linear(h, h) + 2 * h + v; break;
      default: break;
    }
  } else if (family == "gpt2") {
    const auto v = get(c, {"vocab_size"}), e = get(c, {"n_embd"}), l = get(c, {"n_layer"});
    const auto pos = get(c, {"n_positions"}, 1024), inner = get(c, {"n_inner"}, 4 * e);
    n.base = (v + pos) * e + 2 * e + l * (4 * e + linear(e, 3 * e) + linear(e, e) + linear(e, inner) + linear(inner, e));
  } else if (family == "bloom") {
    const auto v = get(c, {"vocab_size"}), e = get(c, {"hidden_size", "n_embed"}), l = get(c, {"n_layer"});
    n.base = v * e + 4 * e + l * (4 * e + linear(e, 3 * e) + linear(e, e) + linear(e, 4 * e) + linear(4 * e, e));
  } else if (family == "t5") {
    const auto v = get(c, {"vocab_size"}), d = get(c, {"d_model"}), kv = get(c, {"d_kv"}), ff = get(c, {"d_ff"});
    const auto le = get(c, {"num_layers"}), ld = get(c, {"num_decoder_layers"}, le), heads = get(c, {"num_heads"});
    const auto buckets = get(c, {"relative_attention_num_buckets"}, 32);
    const bool gated = c.value("feed_forward_proj", std::string("relu")).rfind("gated-", 0) == 0;
    const auto inner = heads * kv;
    const auto ffn = (gated ? 3 : 2) * d * ff;
    n.base = v * d + le * (4 * d * inner + 2 * d + ffn) + buckets * heads + d;
    n.base += ld * (8 * d * inner + 3 * d + ffn) + buckets * heads + d;
    if (!c.value("tie_word_embeddings", true)) n.head = v * d;
  } else if (family == "bart") {
    const auto v = get(c, {"vocab_size"}), d = get(c, {"d_model"}), pos = get(c, {"max_position_embeddings"}, 1024);
    const auto le = get(c, {"encoder_layers"}), ld = get(c, {"decoder_layers"});
    const auto fe = get(c, {"encoder_ffn_dim"}), fd = get(c, {"decoder_ffn_dim"});
    n.base = v * d + 2 * (pos + 2) * d + 4 * d;
    n.base += le * (4 * linear(d, d) + 4 * d + linear(d, fe) + linear(fe, d));
    n.base += ld * (8 * linear(d, d) + 6 * d + linear(d, fd) + linear(fd, d));
  }
  (void)multi_purpose;
  return n;
}

}  // namespace joulebench::models
