// A user's TorchScript file as a bench model: modules written here with
// torch::jit::Module::define + save (no Python), loaded with
// load_torchscript, run through infer(), a campaign and the built CLI.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/serialize.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "joulebench/bench.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "models/vision/image_io.h"
#ifdef JOULEBENCH_BINARY
#include "../support/cli_fixture.h"
#include "../support/expect_throw.h"
#endif

namespace joulebench {
namespace {

namespace fs = std::filesystem;

struct TorchScriptTest : ::testing::Test {
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("jb-ts-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  // Token ids [B, L] -> the row of an identity matrix picked by the number of
  // non-pad ids modulo 4: the argmax names how many tokens forward() saw.
  std::string classifier(const std::string& name = "classifier.pt") {
    torch::jit::Module m("Classifier");
    m.register_parameter("weight", torch::eye(4), false);
    m.define(R"(
def forward(self, x):
    n = (x != 0).sum(1)
    return self.weight.index_select(0, n % 4)
)");
    const auto path = (dir / name).string();
    m.save(path);
    return path;
  }

  // Counts its calls in a buffer; returns the ids followed by `calls` more
  // columns, as generate() returns prompt + continuation.
  std::string generator() {
    torch::jit::Module m("Generator");
    m.register_buffer("calls", torch::zeros({1}, torch::kLong));
    m.define(R"(
def forward(self, x):
    self.calls.add_(1)
    return x.new_ones([x.size(0), x.size(1) + int(self.calls[0])])
)");
    const auto path = (dir / "generator.pt").string();
    m.save(path);
    return path;
  }

  // [B, 3, 32, 48] only; channel 0 = red minus blue, channel 1 = blue minus red.
  std::string colour_classifier() {
    torch::jit::Module m("Colours");
    m.register_parameter("weight", torch::tensor({1.f, 0.f, -1.f, -1.f, 0.f, 1.f}).view({2, 3, 1, 1}), false);
    m.define(R"(
def forward(self, x):
    assert x.size(1) == 3 and x.size(2) == 32 and x.size(3) == 48, "expected [B, 3, 32, 48]"
    return torch.conv2d(x, self.weight).mean([2, 3])
)");
    const auto path = (dir / "colours.pt").string();
    m.save(path);
    return path;
  }

  std::string picture(const std::string& name, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    models::vision::Image img;
    img.width = 60;
    img.height = 40;
    for (int i = 0; i < img.width * img.height; ++i) img.rgb.insert(img.rgb.end(), {r, g, b});
    const auto path = (dir / name).string();
    models::vision::write_png(path, img);
    return path;
  }
};

InferenceInput text(std::string t) {
  InferenceInput in;
  in.text = std::move(t);
  return in;
}

LoadOptions for_task(Task t) {
  LoadOptions o;
  o.task = t;
  return o;
}

TEST_F(TorchScriptTest, TextClassifierSeesTheTokenIds) {
  TorchScriptSpec spec;
  spec.path = classifier();
  spec.labels = {"zero", "one", "two", "three"};
  auto m = load_torchscript(spec, for_task(Task::text_classification));
  EXPECT_EQ(m->info().name, spec.path);
  EXPECT_EQ(m->info().task, Task::text_classification);
  EXPECT_EQ(m->info().parameters, 16);
  // One batch, padded to its longest input: each row counts its own ids.
  std::vector<InferenceInput> batch = {text("a b c"), text("one two"), text("x"), text("a b c d e f")};
  const auto out = m->infer(batch);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].text, "three");
  EXPECT_EQ(out[1].text, "two");
  EXPECT_EQ(out[2].text, "one");
  EXPECT_EQ(out[3].text, "two");  // 6 ids
  EXPECT_EQ(out[0].input_tokens, 3);
  EXPECT_EQ(out[3].input_tokens, 6);
  EXPECT_EQ(out[0].output_tokens, 0);
  // A fixed length cuts longer inputs.
  spec.input_length = 2;
  spec.labels.clear();
  m = load_torchscript(spec, for_task(Task::text_classification));
  const auto cut = m->infer(batch);
  EXPECT_EQ(cut[0].text, "2");  // no labels: the index
  EXPECT_EQ(cut[0].input_tokens, 2);
  EXPECT_EQ(cut[2].text, "1");
}

TEST_F(TorchScriptTest, AttentionMaskIsTheSecondArgument) {
  torch::jit::Module m("Masked");
  m.register_parameter("weight", torch::eye(4), false);
  m.define(R"(
def forward(self, ids, mask):
    return self.weight.index_select(0, mask.sum(1) % 4)
)");
  TorchScriptSpec spec;
  spec.path = (dir / "masked.pt").string();
  m.save(spec.path);
  // Described without the mask: forward() fails at load, naming the file and what to do.
  try {
    load_torchscript(spec, for_task(Task::text_classification));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(spec.path), std::string::npos) << msg;
    EXPECT_NE(msg.find("forward() failed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("masked.toml"), std::string::npos) << msg;
  }
  spec.attention_mask = true;
  auto model = load_torchscript(spec, for_task(Task::text_classification));
  std::vector<InferenceInput> batch = {text("a b c"), text("a")};
  const auto out = model->infer(batch);
  EXPECT_EQ(out[0].text, "3");
  EXPECT_EQ(out[1].text, "1");
}

TEST_F(TorchScriptTest, ImagesAreResizedToTheDescribedShape) {
  TorchScriptSpec spec;
  spec.path = colour_classifier();
  spec.labels = {"red", "blue"};
  // The default 224x224 does not fit this model: bad input at load.
  try {
    load_torchscript(spec, for_task(Task::image_classification));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(spec.path), std::string::npos) << msg;
    EXPECT_NE(msg.find("[1, 3, 224, 224]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("expected [B, 3, 32, 48]"), std::string::npos) << msg;
  }
  spec.image_height = 32;
  spec.image_width = 48;
  auto m = load_torchscript(spec, for_task(Task::image_classification));
  InferenceInput red, blue;
  red.image_path = picture("red.png", 250, 10, 10);
  blue.image_path = picture("blue.png", 10, 10, 250);
  std::vector<InferenceInput> batch = {red, blue, red};
  const auto out = m->infer(batch);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].text, "red");
  EXPECT_EQ(out[1].text, "blue");
  EXPECT_EQ(out[2].text, "red");
  std::vector<InferenceInput> no_image = {text("words")};
  EXPECT_THROW(m->infer(no_image), InputError);
}

TEST_F(TorchScriptTest, BadFilesAreClearErrors) {
  const auto missing = (dir / "missing.pt").string();
  EXPECT_THROW_MSG(read_torchscript_spec(missing), InputError, missing);
  TorchScriptSpec spec;
  spec.path = missing;
  EXPECT_THROW(load_torchscript(spec, for_task(Task::fill_mask)), InputError);
  // Not a zip: a pickle or any other file.
  const auto text_file = (dir / "notes.pt").string();
  write(text_file, "not a model\n");
  EXPECT_THROW_MSG(read_torchscript_spec(text_file), InputError, "not a TorchScript archive");
  // A zip that is no TorchScript module: a tensor saved with torch::save.
  const auto tensor_file = (dir / "tensor.pt").string();
  torch::save(torch::ones({2}), tensor_file);
  spec = read_torchscript_spec(tensor_file);  // passes the cheap check
  {
    const std::string message = jbtest::thrown_message<InputError>([&] { load_torchscript(spec, for_task(Task::text_classification)); });
    EXPECT_NE(message.find(tensor_file), std::string::npos) << message;
    EXPECT_NE(message.find("torch.jit.script"), std::string::npos) << message;
  }
  // No task anywhere.
  spec = read_torchscript_spec(classifier());
  EXPECT_THROW(load_torchscript(spec), InputError);
}

TEST_F(TorchScriptTest, TomlBesideTheFileDescribesIt) {
  const auto pt = classifier("sentiment.pt");
  write(dir / "sentiment.toml", R"(
task = "text-classification"
name = "my-sentiment"
[input]
length = 16
pad_id = 1
attention_mask = true
mean = [0.5, 0.5, 0.5]
[output]
tokens = "new"
labels = ["neg", "pos"]
)");
  auto spec = read_torchscript_spec(pt);
  EXPECT_EQ(spec.config_path, (dir / "sentiment.toml").string());
  EXPECT_EQ(spec.task, Task::text_classification);
  EXPECT_EQ(spec.name, "my-sentiment");
  EXPECT_EQ(spec.input_length, 16);
  EXPECT_EQ(spec.pad_id, 1);
  EXPECT_TRUE(spec.attention_mask);
  EXPECT_FLOAT_EQ(spec.mean[2], 0.5f);
  EXPECT_FLOAT_EQ(spec.std_dev[0], 0.229f);  // untouched default
  EXPECT_EQ(spec.output_tokens, "new");
  EXPECT_EQ(spec.labels, (std::vector<std::string>{"neg", "pos"}));
  // An explicit file wins; a typo is named with its line.
  write(dir / "other.toml", "task = \"fill-mask\"\n[input]\nlenght = 3\n");
  EXPECT_THROW_MSG(read_torchscript_spec(pt, (dir / "other.toml").string()), InputError, "other.toml:3: 'lenght'");
  write(dir / "bad_task.toml", "task = \"sentiment\"\n");
  EXPECT_THROW(read_torchscript_spec(pt, (dir / "bad_task.toml").string()), InputError);
  write(dir / "bad_tokens.toml", "[output]\ntokens = \"some\"\n");
  EXPECT_THROW(read_torchscript_spec(pt, (dir / "bad_tokens.toml").string()), InputError);
  EXPECT_THROW(read_torchscript_spec(pt, (dir / "nope.toml").string()), InputError);
}

// The campaign runs N inferences per repetition through forward(): the
// model's own call counter shows in the generated tokens.
TEST_F(TorchScriptTest, CampaignRunsForwardNTimesAndRecordsFailures) {
  TorchScriptSpec spec = read_torchscript_spec(generator());
  spec.output_tokens = "new";  // each call returns `calls` new columns
  // Rejects batches of more than one input after loading fine.
  torch::jit::Module single("Single");
  single.define(R"(
def forward(self, x):
    assert x.size(0) == 1, "batch size 1 only"
    return x.float()
)");
  TorchScriptSpec single_spec;
  single_spec.path = (dir / "single.pt").string();
  single.save(single_spec.path);

  auto store = open_store(dir / "s.db");
  SensorOptions so;
  so.disabled_backends = {"nvml"};
  TrackerOptions to;
  to.sensors = so;
  Tracker tracker(to);
  CarbonSettings carbon;
  BenchContext ctx{tracker, *store, carbon,
                   [&](const std::string& name, const LoadOptions& o) {
                     return load_torchscript(name == "single" ? single_spec : spec, o);
                   },
                   MachineInfo{}, 0.0, {}};
  auto inputs = std::make_shared<BenchInputSet>();
  inputs->name = "words";
  inputs->inputs = {text("one two three"), text("four five")};
  BenchSettings settings;
  settings.n = 5;
  settings.reps = 2;
  settings.warmup = 1;
  const auto result = run_campaign({BenchCell{Task::text_generation, "generator", inputs, 1},
                                    BenchCell{Task::text_generation, "single", inputs, 2},
                                    BenchCell{Task::text_generation, "single", inputs, 1}},
                                   settings, ctx);
  ASSERT_EQ(result.runs.size(), 2u + 1u + 2u);
  // Call 1 is the load-time check, call 2 the warm-up; repetition 1 makes
  // calls 3..7, repetition 2 calls 8..12.
  EXPECT_EQ(result.runs[0].inferences, 5);
  EXPECT_EQ(result.runs[0].output_tokens, 3 + 4 + 5 + 6 + 7);
  EXPECT_EQ(result.runs[1].output_tokens, 8 + 9 + 10 + 11 + 12);
  EXPECT_EQ(result.runs[0].input_tokens, 2 + 3 + 2 + 3 + 2);  // the warm-up took the first input
  // The batch-2 cell failed with the file and the model's message; the campaign went on.
  EXPECT_EQ(result.failed_cells, 1u);
  EXPECT_EQ(result.runs[2].status, RunStatus::failed);
  EXPECT_NE(result.runs[2].error.find(single_spec.path), std::string::npos) << result.runs[2].error;
  EXPECT_NE(result.runs[2].error.find("batch size 1 only"), std::string::npos) << result.runs[2].error;
  EXPECT_EQ(result.runs[3].status, RunStatus::complete);
  EXPECT_EQ(result.runs[4].inferences, 5);
}

#ifdef JOULEBENCH_BINARY
// The built CLI, through the zoo plugin.
struct TorchScriptCli : jbtest::CliFixture {};

TEST_F(TorchScriptCli, BenchRunsATorchScriptFile) {
  torch::jit::Module m("Classifier");
  m.register_buffer("calls", torch::zeros({1}, torch::kLong));
  m.define(R"(
def forward(self, x):
    assert not x.is_floating_point(), "expected token ids"
    self.calls.add_(1)
    return x.new_ones([x.size(0), 2 + int(self.calls[0])])
)");
  m.save((dir_ / "model.pt").string());
  std::ofstream(dir_ / "model.toml") << "task = \"text-generation\"\nname = \"my-generator\"\n[output]\ntokens = \"all\"\n";
  const std::string common = " --idle-baseline 0 --intensity 100 --no-report -q --store s.db";
  auto r = run("bench --model model.pt --n 3 --reps 2 --warmup 0 --json" + common);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["task"], "text-generation");
  EXPECT_EQ(j[0]["model"], "my-generator");
  EXPECT_EQ(j[0]["inferences"], 3);
  EXPECT_GT(j[0]["input_tokens"].get<long>(), 3 * 5);  // fortunes prompts of 20 words
  // Call 1 is the load-time check; then the repetitions' calls 2..4 and 5..7.
  EXPECT_EQ(j[0]["output_tokens"], (2 + 2) + (2 + 3) + (2 + 4));
  EXPECT_EQ(j[1]["output_tokens"], (2 + 5) + (2 + 6) + (2 + 7));
  EXPECT_GT(j[0]["energy_j"].get<double>(), 0.0);

  // Flags override the TOML; a task from --task.
  r = run("bench --model model.pt --task text-classification --input-length 4 --n 2 --reps 1 --json" + common);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)[0]["input_tokens"], 2 * 4);

  // Bad input: exit 2, the file named, nothing measured.
  r = run("bench --model missing.pt --task text-classification --store bad.db");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("missing.pt"), std::string::npos) << r.err;
  std::ofstream(dir_ / "notes.pt") << "hello";
  r = run("bench --model notes.pt --task fill-mask --store bad.db");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not a TorchScript archive"), std::string::npos) << r.err;
  fs::copy_file(dir_ / "model.pt", dir_ / "untold.pt");
  r = run("bench --model untold.pt --store bad.db");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--task"), std::string::npos) << r.err;
  // An image task on a model of token ids: forward() fails on the described input.
  r = run("bench --model model.pt --task image-classification --image-size 8x8 --store bad.db");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("model.pt: forward() failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[1, 3, 8, 8]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expected token ids"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "bad.db"));
}
#endif

}  // namespace
}  // namespace joulebench
