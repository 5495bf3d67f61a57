// Text zoo: parameter counts against Hugging Face's published numbers,
// determinism, KV cache == no cache, batch == single runs, safetensors
// round trips and errors, generation limits, zero-shot prompts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "joulebench/error.h"
#include "joulebench/version.h"
#include "models/common/blocks.h"
#include "models/common/gpt2.h"
#include "models/common/safetensors.h"
#include "models/registry_parts.h"
#include "models/text/bloom.h"
#include "models/text/encoders.h"
#include "models/text/presets.h"
#include "models/text/seq2seq.h"
#include "models/text/text_model.h"
#include "../support/expect_throw.h"

namespace fs = std::filesystem;
using namespace joulebench;
using namespace joulebench::models;

namespace {

fs::path temp_dir(const std::string& name) {
  // Per test: ctest runs each test as its own process, two at a time, and
  // tests sharing a folder removed each other's files.
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = fs::path(JOULEBENCH_TEST_BINARY_DIR) / "text_models_test" /
             (std::string(test->test_suite_name()) + "." + test->name()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

HfConfig preset_config(const std::string& name) {
  const auto* p = find_text_preset(name, std::nullopt);
  EXPECT_NE(p, nullptr) << name;
  return HfConfig(p->config, name);
}

std::unique_ptr<TextModel> load(const std::string& name, LoadOptions options = {}) {
  const auto* p = find_text_preset(name, options.task);
  if (!p) throw std::runtime_error("no preset " + name);
  return std::make_unique<TextModel>(*p, options);
}

const std::vector<InferenceInput> kInputs = {
    {"The film was a delight from start to finish.", "", ""},
    {"Energy", "", ""},
    {"A much longer review that goes on and on about the plot, the actors, the music and the sets, and then some.",
     "", ""},
};

}  // namespace

TEST(ParameterCounts, MatchHuggingFaceBareModels) {
  // Hugging Face num_parameters() of AutoModel for these checkpoints.
  EncoderBackbone bert(encoder_config_from_hf(preset_config("bert-base-uncased"), bert_family()), true);
  EXPECT_EQ(count_parameters(*bert), 109'482'240);
  EncoderBackbone roberta(
      encoder_config_from_hf(preset_config("deepset/roberta-base-squad2"), roberta_family()), true);
  EXPECT_EQ(count_parameters(*roberta), 124'645'632);
  Gpt2Lm gpt2(gpt2_config_from_hf(preset_config("gpt2")));
  EXPECT_EQ(gpt2->base_parameters(), 124'439'808);
  Gpt2Lm distilgpt2(gpt2_config_from_hf(preset_config("distilgpt2")));
  EXPECT_EQ(distilgpt2->base_parameters(), 81'912'576);
  T5Lm t5(t5_config_from_hf(preset_config("t5-small")));
  EXPECT_EQ(t5->base_parameters(), 60'506'624);
}

TEST(ParameterCounts, ListedCountsAreTheHuggingFaceOnes) {
  std::map<std::string, std::int64_t> expected = {
      {"bert-base-uncased", 109'482'240}, {"gpt2", 124'439'808},      {"deepset/roberta-base-squad2", 124'645'632},
      {"distilgpt2", 81'912'576},         {"t5-small", 60'506'624},    {"bigscience/bloom-560m", 559'214'592},
      {"distilbert-base-uncased-finetuned-sst-2-english", 66'362'880}, {"facebook/bart-large-cnn", 406'290'432},
      {"google/flan-t5-base", 222'903'552}};
  std::set<std::string> seen;
  for (const auto& m : text_model_infos()) {
    auto it = expected.find(m.name);
    if (it == expected.end()) continue;
    EXPECT_EQ(m.parameters, it->second) << m.name;
    seen.insert(m.name);
  }
  EXPECT_EQ(seen.size(), expected.size());
}

TEST(ParameterCounts, ComputedCountsEqualTheBuiltModules) {
  for (const auto& p : text_presets()) {
    if (p.size_class != "tiny") continue;
    LoadOptions options;
    options.task = p.task;
    auto model = load(p.name, options);
    const auto& info = model->info();
    EXPECT_EQ(info.parameters + info.head_parameters, count_parameters(model->module()) +
                                                          ((p.family == "bert" || p.family == "roberta") &&
                                                                   !(p.family == "bert" && p.task == Task::text_classification)
                                                               ? p.config.at("hidden_size").get<std::int64_t>() *
                                                                     (p.config.at("hidden_size").get<std::int64_t>() + 1)
                                                               : 0))
        << p.name << " " << to_string(p.task);
  }
}

// Each family registers HF's names for its own heads (what its checkpoints
// hold); a family is found by the presets' name, and a task it has no head
// for is an error that names the family.
TEST(EncoderFamilies, HeadsUnderHuggingFaceNames) {
  const std::vector<std::tuple<std::string, std::string, Task, std::string>> cases = {
      {"tiny-bert-mlm", "bert", Task::text_classification, "bert.pooler.dense.weight"},
      {"tiny-bert-mlm", "bert", Task::fill_mask, "cls.predictions.transform.LayerNorm.weight"},
      {"tiny-roberta-squad", "roberta", Task::text_classification, "classifier.out_proj.weight"},
      {"tiny-roberta-squad", "roberta", Task::fill_mask, "lm_head.layer_norm.weight"},
      {"tiny-roberta-squad", "roberta", Task::question_answering, "qa_outputs.weight"},
      {"tiny-distilbert-sst2", "distilbert", Task::text_classification, "pre_classifier.weight"},
      {"tiny-distilbert-sst2", "distilbert", Task::fill_mask, "vocab_projector.bias"},
      {"tiny-distilbert-sst2", "distilbert", Task::token_classification,
       "distilbert.transformer.layer.1.attention.q_lin.weight"},
  };
  for (const auto& [preset, family, task, name] : cases) {
    const EncoderFamily* f = find_encoder_family(family);
    ASSERT_NE(f, nullptr) << family;
    EXPECT_EQ(f->name(), family);
    EncoderTaskModel m(encoder_config_from_hf(preset_config(preset), *f), task);
    const auto params = m->named_parameters(true);
    EXPECT_NE(params.find(name), nullptr) << family << " " << to_string(task) << ": no " << name;
  }
  EXPECT_EQ(find_encoder_family("gpt2"), nullptr);
  EXPECT_THROW_MSG(EncoderTaskModel(encoder_config_from_hf(preset_config("tiny-bert-mlm"), bert_family()),
                                    Task::summarization),
                   InputError, "bert models have no head for task summarization");
}

TEST(Presets, StudyModelsAreListed) {
  std::set<std::string> names;
  for (const auto& m : text_model_infos()) names.insert(m.name);
  for (const char* n : {"distilbert-base-uncased-finetuned-sst-2-english", "dslim/bert-base-NER",
                        "deepset/roberta-base-squad2", "bert-base-uncased", "gpt2", "distilgpt2",
                        "bigscience/bloom-560m", "bigscience/bloomz-560m", "t5-small", "google/flan-t5-base",
                        "sshleifer/distilbart-cnn-12-6", "facebook/bart-large-cnn"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
}

TEST(Runtime, CudaOnCpuOnlyLibtorchIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this libtorch has CUDA";
  LoadOptions o;
  o.device = "cuda";
  EXPECT_THROW_MSG(load("tiny-gpt2", o), InputError, "CUDA");
  o.device = "tpu";
  EXPECT_THROW(load("tiny-gpt2", o), InputError);
}

TEST(Runtime, ActivationsStayOnTheHeapAfterALoad) {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("GLIBC_TUNABLES")) {
    GTEST_SKIP() << "the environment sets malloc's own thresholds";
  }
  load("tiny-bert-ner");
  // A 64 MiB activation: glibc by itself mmaps anything above 32 MiB (its
  // dynamic threshold's ceiling) and faults it in again at every forward;
  // after a model load it comes from the heap.
  const auto mapped_before = mallinfo2().hblkhd;
  auto activation = torch::empty({16, 1024, 1024});
  activation.fill_(1.0F);
  EXPECT_LT(mallinfo2().hblkhd, mapped_before + 16 * 1024 * 1024 * sizeof(float));
  EXPECT_EQ(activation.sum().item<float>(), 16.0F * 1024 * 1024);
}

TEST(Runtime, ThreadsAlsoSizeTheBlasPool) {
  void* blas = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  if (!blas) GTEST_SKIP() << "libtorch is not linked against OpenBLAS here";
  auto* blas_threads = reinterpret_cast<int (*)()>(dlsym(blas, "openblas_get_num_threads"));
  ASSERT_NE(blas_threads, nullptr);
  for (int n : {1, 3, 2}) {
    LoadOptions o;
    o.threads = n;
    load("tiny-bert-ner", o);
    EXPECT_EQ(at::get_num_threads(), n);
    EXPECT_EQ(blas_threads(), n) << "OpenBLAS keeps its own pool: --threads must size it too";
  }
  dlclose(blas);
}

TEST(Determinism, SameSeedSameOutputsOtherSeedOtherWeights) {
  for (const char* name : {"tiny-bert-ner", "tiny-gpt2", "tiny-t5"}) {
    LoadOptions a, b;
    a.seed = b.seed = 7;
    auto m1 = load(name, a), m2 = load(name, b);
    const auto o1 = m1->infer(kInputs), o2 = m2->infer(kInputs);
    for (std::size_t i = 0; i < kInputs.size(); ++i) EXPECT_EQ(o1[i].text, o2[i].text) << name;
    LoadOptions c;
    c.seed = 8;
    auto m3 = load(name, c);
    auto p1 = m1->module().named_parameters(), p3 = m3->module().named_parameters();
    bool differs = false;
    for (const auto& p : p1) differs = differs || !torch::equal(p.value(), p3[p.key()]);
    EXPECT_TRUE(differs) << name;
  }
}

TEST(Generation, KvCacheGivesTheSameTokensAsNoCache) {
  for (const char* name : {"tiny-gpt2", "tiny-bloom", "tiny-t5", "tiny-bart", "tiny-flan-t5"}) {
    auto with_cache = load(name), without = load(name);
    without->generation().use_cache = false;
    with_cache->generation().min_new_tokens = 0;
    with_cache->generation().max_new_tokens = 12;
    without->generation() = with_cache->generation();
    without->generation().use_cache = false;
    const auto a = with_cache->infer(kInputs), b = without->infer(kInputs);
    for (std::size_t i = 0; i < kInputs.size(); ++i) {
      EXPECT_EQ(a[i].text, b[i].text) << name << " input " << i;
      EXPECT_EQ(a[i].output_tokens, b[i].output_tokens) << name;
    }
  }
}

TEST(Batching, BatchOfNEqualsNSingleRuns) {
  for (const auto& p : text_presets()) {
    if (p.size_class != "tiny") continue;
    LoadOptions o;
    o.task = p.task;
    auto model = load(p.name, o);
    std::vector<InferenceInput> inputs = kInputs;
    for (auto& in : inputs) in.context = "The context says that the film was made in 1999 by a small studio.";
    const auto batched = model->infer(inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto single = model->infer(std::span<const InferenceInput>(&inputs[i], 1));
      EXPECT_EQ(batched[i].text, single[0].text) << p.name << " " << to_string(p.task) << " input " << i;
      EXPECT_EQ(batched[i].input_tokens, single[0].input_tokens) << p.name;
      EXPECT_EQ(batched[i].output_tokens, single[0].output_tokens) << p.name;
    }
  }
}

TEST(Batching, PaddedEncoderLogitsMatchSingleRuns) {
  auto cfg = encoder_config_from_hf(preset_config("tiny-roberta-squad"), roberta_family());
  EncoderTaskModel m(cfg, Task::question_answering);
  seeded_init(*m, 3);
  torch::NoGradGuard g;
  auto ids = torch::tensor({{0, 10, 11, 12, 13, 2}, {0, 20, 21, 2, 1, 1}}, torch::kLong);
  auto mask = torch::tensor({{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}}, torch::kLong);
  auto batched = m->forward(ids, mask);
  auto single = m->forward(ids[1].narrow(0, 0, 4).unsqueeze(0), torch::ones({1, 4}, torch::kLong));
  EXPECT_TRUE(torch::allclose(batched[1].narrow(0, 0, 4), single[0], 1e-5, 1e-5));
}

TEST(Generation, LengthsFollowTheStudy) {
  const std::string long_prompt =
      "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
      "seventeen eighteen nineteen twenty twentyone twentytwo twentythree";
  auto gpt2 = load("tiny-gpt2");
  auto out = gpt2->infer(std::vector<InferenceInput>{{long_prompt, "", ""}});
  EXPECT_EQ(out[0].output_tokens, 10);
  // The prompt is cut to its first 20 words.
  const auto twenty = long_prompt.substr(0, long_prompt.find(" twentyone"));
  EXPECT_EQ(out[0].input_tokens, static_cast<std::int64_t>(gpt2->tokenizer().encode(twenty).size()));
  for (const char* name : {"tiny-t5", "tiny-bart"}) {
    auto o = load(name)->infer(kInputs);
    for (const auto& r : o) {
      EXPECT_GE(r.output_tokens, 10) << name;
      EXPECT_LE(r.output_tokens, 15) << name;
    }
  }
  LoadOptions opt;
  opt.max_new_tokens = 3;
  opt.min_new_tokens = 3;
  EXPECT_EQ(load("tiny-bloom", opt)->infer(kInputs)[0].output_tokens, 3);
  opt.min_new_tokens = 5;
  EXPECT_THROW(load("tiny-bloom", opt), InputError);
}

TEST(Generation, ZeroShotCapsPerTask) {
  for (const char* name : {"tiny-flan-t5", "tiny-bloomz"}) {
    LoadOptions o;
    o.task = Task::text_classification;
    auto cls = load(name, o)->infer(kInputs);
    for (const auto& r : cls) EXPECT_EQ(r.output_tokens, 1) << name;
    o.task = Task::summarization;
    for (const auto& r : load(name, o)->infer(kInputs)) {
      EXPECT_GE(r.output_tokens, 10);
      EXPECT_LE(r.output_tokens, 15);
    }
    o.task = Task::question_answering;
    for (const auto& r : load(name, o)->infer(kInputs)) EXPECT_LE(r.output_tokens, 65);
    o.task = Task::fill_mask;
    EXPECT_THROW(load_text_model(name, o), InputError);
  }
}

namespace {
// A language model that always prefers EOS, then token 5: shows min_new_tokens,
// EOS and padding of finished rows without depending on weights.
class ScriptedLm : public CausalLm {
 public:
  torch::Tensor next_logits(const torch::Tensor& ids, const torch::Tensor&, DecoderCache*) override {
    auto logits = torch::zeros({ids.size(0), 10});
    logits.select(1, 9).fill_(2.0);  // EOS
    logits.select(1, 5).fill_(1.0);
    return logits;
  }
};
}  // namespace

TEST(Generation, EosAfterMinNewTokensThenPadding) {
  ScriptedLm lm;
  GenerationConfig c;
  c.eos_token_id = 9;
  c.pad_token_id = 0;
  c.min_new_tokens = 3;
  c.max_new_tokens = 8;
  auto ids = torch::ones({2, 4}, torch::kLong);
  auto r = greedy_generate(lm, ids, torch::ones({2, 4}, torch::kLong), c);
  EXPECT_EQ(r.lengths, (std::vector<std::int64_t>{4, 4}));
  EXPECT_TRUE(torch::equal(r.tokens[0], torch::tensor({5, 5, 5, 9}, torch::kLong)));
  c.min_new_tokens = 0;
  r = greedy_generate(lm, ids, torch::ones({2, 4}, torch::kLong), c);
  EXPECT_EQ(r.lengths, (std::vector<std::int64_t>{1, 1}));
}

TEST(Attention, PaddingBiasOnlyWhenAKeyIsPadding) {
  EXPECT_FALSE(padding_bias(torch::ones({2, 5}, torch::kLong), 5, torch::kFloat32).defined());
  auto mask = torch::ones({2, 5}, torch::kLong);
  mask[1][0] = 0;
  auto bias = padding_bias(mask, 5, torch::kFloat32);
  ASSERT_TRUE(bias.defined());
  EXPECT_TRUE(torch::equal(bias, attention_bias(mask, 5, false, torch::kFloat32)));
  EXPECT_LT(bias[1][0][0][0].item<float>(), -1e30F);
  EXPECT_EQ(bias[0][0][0][0].item<float>(), 0.0F);
}

namespace {
// Gives every parameter its own storage again (as Module::to or a user's
// set_data would): every FusedLinears then runs its layers one by one.
void unfuse(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.set_data(p.detach().clone());
}

torch::Tensor param(torch::nn::Module& m, const std::string& name) {
  auto params = m.named_parameters();
  auto* p = params.find(name);
  if (!p) throw std::runtime_error("no parameter " + name);
  return *p;
}
}  // namespace

TEST(FusedLinears, OneGemmEqualsTheLayersOneByOne) {
  torch::manual_seed(1);
  auto q = linear(16, 8), k = linear(16, 8), v = linear(16, 4);
  const std::vector<torch::Tensor> w = {q->weight.clone(), k->weight.clone(), v->weight.clone()};
  const std::vector<torch::Tensor> b = {q->bias.clone(), k->bias.clone(), v->bias.clone()};
  FusedLinears f({q, k, v});
  EXPECT_TRUE(f.fused(0, 3));
  EXPECT_TRUE(f.fused(1, 2));
  EXPECT_TRUE(q->weight.is_alias_of(v->weight));  // views of one tensor
  EXPECT_TRUE(q->bias.is_alias_of(k->bias));
  EXPECT_TRUE(torch::equal(k->weight, w[1]));  // values kept
  // Several rows (one GEMM) and one row (the matrix-vector path of decode steps).
  for (const auto& x : {torch::randn({2, 5, 16}), torch::randn({1, 1, 16})}) {
    const auto y = f.forward(x, 0, 3);
    ASSERT_EQ(y.size(), 3U);
    EXPECT_EQ(y[2].size(-1), 4);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(y[i], torch::linear(x, w[i], b[i]), 1e-5, 1e-6)) << i;
    const auto kv = f.forward(x, 1, 2);
    EXPECT_TRUE(torch::allclose(kv[1], torch::linear(x, w[2], b[2]), 1e-5, 1e-6));
  }
  const auto x = torch::randn({3, 16});
  {  // Loading copies into the parameters: the fused GEMM sees the new values.
    torch::NoGradGuard no_grad;
    k->weight.copy_(torch::ones_like(k->weight));
  }
  EXPECT_TRUE(f.fused(0, 3));
  EXPECT_TRUE(torch::allclose(f.forward(x, 0, 3)[1], torch::linear(x, torch::ones({8, 16}), b[1]), 1e-5, 1e-6));
  // A parameter replaced (Module::to does this): layers one by one, still right.
  q->weight.set_data(q->weight.detach() * 2);
  EXPECT_FALSE(f.fused(0, 3));
  EXPECT_TRUE(f.fused(1, 2));
  EXPECT_TRUE(torch::allclose(f.forward(x, 0, 3)[0], torch::linear(x, w[0] * 2, b[0]), 1e-5, 1e-6));
  f.fuse();
  EXPECT_TRUE(f.fused(0, 3));
  EXPECT_TRUE(q->weight.is_alias_of(k->weight));
  EXPECT_TRUE(torch::allclose(f.forward(x, 0, 3)[0], torch::linear(x, w[0] * 2, b[0]), 1e-5, 1e-6));
  EXPECT_THROW_MSG(FusedLinears({linear(16, 8), linear(8, 8)}), Error, "different widths (16 and 8)");
}

TEST(FusedLinears, FusedAgainAfterModuleTo) {
  AttentionSpec spec;
  spec.embed_dim = 16;
  spec.n_heads = 2;
  Attention self_attn(spec);
  EXPECT_TRUE(self_attn->q_proj->weight.is_alias_of(self_attn->v_proj->weight));
  self_attn->to(torch::kFloat64);
  EXPECT_EQ(self_attn->q_proj->weight.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(self_attn->q_proj->weight.is_alias_of(self_attn->v_proj->weight));
  spec.kv_input_dim = 24;  // cross-attention from a wider encoder: k and v fused, q apart
  Attention cross(spec);
  EXPECT_TRUE(cross->k_proj->weight.is_alias_of(cross->v_proj->weight));
  EXPECT_FALSE(cross->q_proj->weight.is_alias_of(cross->k_proj->weight));
  const auto x = torch::randn({2, 3, 16}), memory = torch::randn({2, 4, 24});
  const auto fused = cross->forward(x, {}, nullptr, memory);
  unfuse(*cross);
  EXPECT_TRUE(torch::allclose(fused, cross->forward(x, {}, nullptr, memory), 1e-5, 1e-6));

  auto m = load("tiny-bert-ner");
  const std::string self = "bert.encoder.layer.0.attention.self.";
  EXPECT_TRUE(param(m->module(), self + "query.weight").is_alias_of(param(m->module(), self + "value.weight")));
  m->module().to(torch::kFloat64);
  EXPECT_EQ(param(m->module(), self + "key.weight").scalar_type(), torch::kFloat64);
  EXPECT_TRUE(param(m->module(), self + "query.weight").is_alias_of(param(m->module(), self + "value.weight")));
}

TEST(FusedLinears, ReplacedWeightsDoNotStayResident) {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("GLIBC_TUNABLES")) {
    GTEST_SKIP() << "the environment sets malloc's own thresholds";
  }
  load("tiny-bert-ner");  // the heap settings of a model load
  auto resident_mb = [] {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
  };
  AttentionSpec spec;
  spec.embed_dim = 1024;
  spec.n_heads = 16;
  malloc_trim(0);  // earlier tests' free pages must not make the growth look smaller
  const double before = resident_mb();
  std::vector<Attention> layers;
  for (int i = 0; i < 8; ++i) layers.emplace_back(spec);  // 8 x 4 x 4 MiB of weights, q / k / v fused
  // Without giving the layers' replaced weights back, 24 MiB more stayed
  // resident here (and 390 MB on bart-large-cnn).
  const double grown = resident_mb() - before;
  EXPECT_LT(grown, 128.0 * 1.08);
  EXPECT_GT(grown, 128.0 * 0.9);
  RecordProperty("resident_growth_mb", std::to_string(grown));
}

TEST(FusedLinears, ModelsGiveTheSameOutputsUnfused) {
  const auto ids = torch::randint(5, 90, {2, 7}, torch::kLong);
  auto mask = torch::ones({2, 7}, torch::kLong);
  mask[1][0] = 0;
  for (const char* name : {"tiny-bert-ner", "tiny-roberta-squad", "tiny-distilbert-sst2", "tiny-bart", "tiny-t5"}) {
    auto m = load(name);
    auto encoder_logits = [&] {
      c10::InferenceMode guard;
      return m->encoder()->forward(ids, mask);
    };
    const auto logits = m->encoder() ? encoder_logits() : torch::Tensor();
    const auto fused = m->infer(kInputs);
    unfuse(m->module());
    if (m->encoder()) {
      EXPECT_TRUE(torch::allclose(logits, encoder_logits(), 1e-4, 1e-5)) << name;
    }
    const auto unfused = m->infer(kInputs);
    for (std::size_t i = 0; i < kInputs.size(); ++i) {
      EXPECT_EQ(fused[i].text, unfused[i].text) << name;
      EXPECT_EQ(fused[i].output_tokens, unfused[i].output_tokens) << name;
    }
  }
}

TEST(Alibi, SlopesFollowThePaper) {
  // Press et al.: for n heads (a power of two) slopes are 2^(-8i/n), i = 1..n.
  auto s16 = alibi_slopes(16);
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(s16[i].item<float>(), std::pow(2.0, -8.0 * (i + 1) / 16), 1e-7);
  // 12 heads: the 8 slopes of n = 8, then every other slope of n = 16.
  auto s12 = alibi_slopes(12);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(s12[i].item<float>(), std::pow(2.0, -(i + 1.0)), 1e-7);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(s12[8 + i].item<float>(), std::pow(2.0, -8.0 * (2 * i + 1) / 16), 1e-7);
}

TEST(Safetensors, RoundTripGivesIdenticalOutputs) {
  for (const char* name : {"tiny-distilbert-sst2", "tiny-bart", "tiny-bloom"}) {
    auto original = load(name);
    auto dir = temp_dir(std::string("roundtrip_") + name);
    TensorMap tensors;
    for (const auto& p : original->module().named_parameters()) tensors[p.key()] = p.value();
    write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    std::ofstream(dir / "config.json") << find_text_preset(name, std::nullopt)->config.dump();
    LoadOptions o;
    o.seed = 99;  // different seed: every value must come from the file
    o.weights_dir = dir.string();
    auto reloaded = load(name, o);
    EXPECT_TRUE(reloaded->info().weights_found);
    const auto a = original->infer(kInputs), b = reloaded->infer(kInputs);
    for (std::size_t i = 0; i < kInputs.size(); ++i) EXPECT_EQ(a[i].text, b[i].text) << name;
    for (const auto& p : reloaded->module().named_parameters()) {
      EXPECT_TRUE(torch::equal(p.value(), tensors.at(p.key()))) << name << " " << p.key();
    }
  }
}

TEST(Safetensors, HalfPrecisionRoundTripsExactly) {
  auto dir = temp_dir("half");
  auto f = torch::randn({3, 5});
  TensorMap t = {{"a.f32", f}, {"b.f16", f.to(torch::kFloat16)}, {"c.bf16", f.to(torch::kBFloat16)}};
  write_safetensors(dir / "x.safetensors", t);
  auto back = read_safetensors(dir / "x.safetensors");
  ASSERT_EQ(back.size(), 3u);
  for (const auto& [k, v] : t) {
    EXPECT_EQ(back.at(k).scalar_type(), v.scalar_type()) << k;
    EXPECT_TRUE(torch::equal(back.at(k), v)) << k;
  }
}

namespace {
void write_raw(const fs::path& p, const std::string& header, std::size_t data_bytes) {
  std::ofstream out(p, std::ios::binary);
  std::uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << std::string(data_bytes, '\0');
}
void expect_error(const std::function<void()>& f, const std::string& needle) {
  EXPECT_THROW_MSG(f(), InputError, needle);
}
}  // namespace

TEST(Safetensors, ClearErrors) {
  auto dir = temp_dir("errors");
  write_raw(dir / "truncated.safetensors",
            R"({"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}})", 10);
  expect_error([&] { read_safetensors(dir / "truncated.safetensors"); }, "truncated");
  write_raw(dir / "short_header.safetensors", "{\"w\":", 0);
  expect_error([&] { read_safetensors(dir / "short_header.safetensors"); }, "header");
  {
    std::ofstream(dir / "tiny.safetensors") << "abc";
  }
  expect_error([&] { read_safetensors(dir / "tiny.safetensors"); }, "truncated");
  write_raw(dir / "dtype.safetensors", R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})", 16);
  expect_error([&] { read_safetensors(dir / "dtype.safetensors"); }, "F64");
  write_raw(dir / "span.safetensors", R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", 16);
  expect_error([&] { read_safetensors(dir / "span.safetensors"); }, "2x3");
  // 2^32 x 2^32 elements: the byte count wraps to 0 in 64 bits, which matched
  // the empty span and reached torch::empty (a libtorch stack trace, no file named).
  write_raw(dir / "huge.safetensors",
            R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0);
  expect_error([&] { read_safetensors(dir / "huge.safetensors"); }, "huge.safetensors: tensor 'w' of shape "
                                                                   "4294967296x4294967296 is larger than the file");

  // Loading into a module: shape mismatch, unexpected and missing tensors.
  auto model = load("tiny-gpt2");
  TensorMap good;
  for (const auto& p : model->module().named_parameters()) good[p.key()] = p.value().clone();
  auto wrong_shape = good;
  wrong_shape["transformer.wte.weight"] = torch::zeros({3, 3});
  expect_error([&] { load_state_dict(model->module(), wrong_shape, {}, "ckpt"); }, "shape");
  auto extra = good;
  extra["transformer.h.9.attn.c_attn.weight"] = torch::zeros({2});
  expect_error([&] { load_state_dict(model->module(), extra, {}, "ckpt"); }, "unexpected");
  auto missing = good;
  missing.erase("transformer.ln_f.weight");
  expect_error([&] { load_state_dict(model->module(), missing, {}, "ckpt"); }, "transformer.ln_f.weight");
  // A bare-model checkpoint (no "transformer." prefix) loads through the base prefix rule.
  TensorMap bare;
  for (const auto& [k, v] : good) bare[k.substr(std::string("transformer.").size())] = v;
  bare["h.0.attn.bias"] = torch::zeros({1});  // HF's causal-mask buffer, ignored
  Gpt2Lm fresh(gpt2_config_from_hf(preset_config("tiny-gpt2")));
  auto report = load_state_dict(*fresh, bare, fresh->state_dict_rules(), "bare");
  EXPECT_EQ(report.loaded.size(), good.size());
  EXPECT_EQ(report.ignored.size(), 1u);

  LoadOptions o;
  o.weights_dir = (dir / "nothing_here").string();
  EXPECT_THROW(load("tiny-gpt2", o), InputError);
}

TEST(FastTextModel, RunsThroughTheZooInterface) {
  if (!fs::exists(fs::path(JOULEBENCH_FETCHED_DATA_DIR) / "fasttext-lid" / "lid.176.ftz")) {
    GTEST_FAIL() << "run scripts/fetch_data.sh";
  }
  auto model = load_text_model("fasttext-lid-176", {});
  ASSERT_TRUE(model);
  EXPECT_TRUE(model->info().weights_found);
  EXPECT_EQ(model->info().task, Task::text_classification);
  const std::vector<InferenceInput> in = {{"Das ist ein sehr schönes Haus mit einem großen Garten.", "", ""},
                                          {"This is a very nice house with a big garden.", "", ""}};
  const auto out = model->infer(in);
  EXPECT_EQ(out[0].text, "de");
  EXPECT_EQ(out[1].text, "en");
  EXPECT_GT(out[0].input_tokens, 0);
}

TEST(Gpt2CrossAttention, CacheEqualsNoCacheOverEncoderStates) {
  // The captioning decoder (VisionEncoderDecoder) path of the shared GPT-2.
  auto json = find_text_preset("tiny-gpt2", std::nullopt)->config;
  json["add_cross_attention"] = true;
  Gpt2Lm lm(gpt2_config_from_hf(HfConfig(json, "tiny-gpt2 + cross-attention")));
  seeded_init(*lm, 5, 0.2);
  std::set<std::string> names;
  for (const auto& p : lm->named_parameters()) names.insert(p.key());
  EXPECT_TRUE(names.count("transformer.h.0.crossattention.q_attn.weight"));
  EXPECT_TRUE(names.count("transformer.h.1.ln_cross_attn.weight"));
  torch::manual_seed(1);
  auto states = torch::randn({2, 5, 32});
  auto mask = torch::ones({2, 5}, torch::kLong);
  GenerationConfig c;
  c.max_new_tokens = 8;
  c.eos_token_id = -1;
  c.use_cache = true;
  c10::InferenceMode guard;
  auto a = greedy_generate_from_states(*lm, states, mask, c);
  c.use_cache = false;
  auto b = greedy_generate_from_states(*lm, states, mask, c);
  EXPECT_TRUE(torch::equal(a.tokens, b.tokens));
  // Different image states give different captions.
  auto other = greedy_generate_from_states(*lm, torch::randn({2, 5, 32}), mask, c);
  EXPECT_FALSE(torch::equal(a.tokens, other.tokens));
}

TEST(Runtime, Bf16RunsEveryFamily) {
  for (const char* name : {"tiny-bert-ner", "tiny-gpt2", "tiny-bloom", "tiny-t5", "tiny-bart"}) {
    LoadOptions o;
    o.dtype = "bf16";
    auto m = load(name, o);
    for (const auto& p : m->module().parameters()) {
      ASSERT_EQ(p.scalar_type(), torch::kBFloat16) << name;
    }
    const auto out = m->infer(kInputs);
    ASSERT_EQ(out.size(), kInputs.size());
    if (std::string(name) != "tiny-bert-ner") {
      EXPECT_GE(out[0].output_tokens, 10) << name;
      // One input: decode steps take the matrix-vector path in bf16 too.
      EXPECT_GE(m->infer(std::span<const InferenceInput>(kInputs.data(), 1))[0].output_tokens, 10) << name;
    }
  }
  LoadOptions o;
  o.dtype = "fp16";
  EXPECT_THROW(load("tiny-gpt2", o), InputError);
  o.dtype = "int4";
  EXPECT_THROW(load("tiny-gpt2", o), InputError);
}

