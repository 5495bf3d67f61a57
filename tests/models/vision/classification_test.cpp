#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "joulebench/error.h"
#include "joulebench/models.h"
#include "models/common/safetensors.h"
#include "models/common/weights.h"
#include "models/vision/image_io.h"
#include "models/vision/resnet.h"
#include "models/vision/vit.h"
#include "test_util.h"

using namespace joulebench;
using namespace joulebench::models::vision;

namespace {

std::string write_test_image(const std::string& name, int w, int h) {
  auto dir = jbtest::scratch(name);
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<std::size_t>(w) * h * 3);
  for (std::size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<std::uint8_t>((i * 37) % 251);
  auto path = (dir / "in.png").string();
  write_png(path, img);
  return path;
}

}  // namespace

// Hugging Face's num_parameters() of the bare models (ResNetModel, ViTModel).
TEST(ParameterCounts, MatchHuggingFace) {
  EXPECT_EQ(models::count_parameters(*ResNetModel(resnet50_config())), 23'508'032);
  EXPECT_EQ(models::count_parameters(*ResNetModel(resnet18_config())), 11'176'512);
  EXPECT_EQ(models::count_parameters(*ViTModel(vit_base_config())), 86'389'248);
}

TEST(ParameterCounts, HfNames) {
  auto names = ResNetModel(resnet50_config())->named_parameters().keys();
  EXPECT_THAT(names, ::testing::Contains("embedder.embedder.convolution.weight"));
  EXPECT_THAT(names, ::testing::Contains("encoder.stages.0.layers.0.shortcut.convolution.weight"));
  EXPECT_THAT(names, ::testing::Contains("encoder.stages.3.layers.2.layer.2.normalization.bias"));
  auto buffers = ResNetModel(resnet50_config())->named_buffers().keys();
  EXPECT_THAT(buffers, ::testing::Contains("embedder.embedder.normalization.running_mean"));
  auto vit = ViTModel(vit_base_config())->named_parameters().keys();
  EXPECT_THAT(vit, ::testing::Contains("embeddings.patch_embeddings.projection.weight"));
  EXPECT_THAT(vit, ::testing::Contains("encoder.layer.11.attention.attention.query.bias"));
  EXPECT_THAT(vit, ::testing::Contains("encoder.layer.0.attention.output.dense.weight"));
  EXPECT_THAT(vit, ::testing::Contains("pooler.dense.weight"));
}

TEST(ResNet, StageShapes) {
  torch::NoGradGuard g;
  auto m = ResNetModel(resnet50_config());
  m->eval();
  auto f = m->stages(torch::randn({1, 3, 64, 64}));
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].sizes(), (std::vector<int64_t>{1, 256, 16, 16}));
  EXPECT_EQ(f[3].sizes(), (std::vector<int64_t>{1, 2048, 2, 2}));
}

TEST(Classification, ListedWithCounts) {
  bool seen = false;
  for (const auto& m : models::vision_model_infos()) {
    if (m.name != "microsoft/resnet-50") continue;
    seen = true;
    EXPECT_EQ(m.task, Task::image_classification);
    EXPECT_EQ(m.parameters, 23'508'032);
  }
  EXPECT_TRUE(seen);
}

TEST(Classification, TinyPresetsRunAndAreDeterministic) {
  auto path = write_test_image("cls", 50, 40);
  for (std::string name : {"resnet-tiny", "vit-tiny"}) {
    LoadOptions o;
    o.seed = 7;
    auto a = jbtest::load(name, o);
    EXPECT_GT(a->info().parameters, 0);
    EXPECT_GT(a->info().head_parameters, 0);
    std::vector<InferenceInput> in(2);
    in[0].image_path = path;
    in[1].image_path = path;
    auto out = a->infer(in);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_THAT(out[0].text, ::testing::StartsWith("LABEL_"));
    EXPECT_EQ(out[0].text, out[1].text);
    EXPECT_EQ(jbtest::load(name, o)->infer(in)[0].text, out[0].text) << name;
  }
}

TEST(Classification, BadImageAndDeviceErrors) {
  auto m = jbtest::load("resnet-tiny");
  std::vector<InferenceInput> in(1);
  in[0].image_path = "/nonexistent/picture.jpg";
  EXPECT_THROW(m->infer(in), InputError);
  LoadOptions o;
  o.device = "cuda";
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(jbtest::load("resnet-tiny", o), InputError);
  }
}

// A checkpoint written under HF names loads back into the task model
// (weights_dir), giving the source model's outputs.
TEST(Classification, LoadsSafetensorsByHfNames) {
  auto path = write_test_image("ckpt_in", 40, 40);
  auto dir = jbtest::scratch("ckpt");
  LoadOptions seeded;
  seeded.seed = 21;
  // The same module tree as the preset, seeded the same way: its state is the checkpoint.
  torch::nn::Module root;
  auto resnet = root.register_module("resnet", ResNetModel(resnet_tiny_config()));
  auto cls = std::make_shared<torch::nn::Module>();
  root.register_module("classifier", cls)->register_module("1", torch::nn::Linear(64, 10));
  models::seeded_init(root, 21);
  models::TensorMap tensors;
  for (const auto& p : root.named_parameters()) tensors[p.key()] = p.value().detach().clone();
  for (const auto& b : root.named_buffers()) tensors[b.key()] = b.value().detach().clone();
  models::write_safetensors(dir / "model.safetensors", tensors);

  std::vector<InferenceInput> in(1);
  in[0].image_path = path;
  LoadOptions from_disk;
  from_disk.weights_dir = dir.string();
  from_disk.seed = 999;  // ignored: the checkpoint wins
  auto loaded = jbtest::load("resnet-tiny", from_disk);
  EXPECT_TRUE(loaded->info().weights_found);
  auto random = jbtest::load("resnet-tiny", seeded);
  EXPECT_FALSE(random->info().weights_found);
  EXPECT_EQ(loaded->infer(in)[0].text, random->infer(in)[0].text);  // the seed-21 weights, from disk
  LoadOptions other;
  other.seed = 999;
  EXPECT_NE(jbtest::load("resnet-tiny", other)->infer(in)[0].text, loaded->infer(in)[0].text);
  LoadOptions bad;
  bad.weights_dir = jbtest::scratch("empty_ckpt").string();
  EXPECT_THROW(jbtest::load("resnet-tiny", bad), InputError);
}

TEST(ResNet, FusingBatchNormKeepsOutputs) {
  torch::NoGradGuard g;
  auto m = ResNetModel(resnet_tiny_config());
  models::seeded_init(*m, 5);
  for (auto& b : m->named_buffers()) {  // non-trivial statistics
    if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.5, 0.5);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
  }
  for (auto& p : m->named_parameters())
    if (p.key().find("normalization") != std::string::npos) p.value().uniform_(0.5, 1.5);
  m->eval();
  auto x = torch::randn({2, 3, 40, 40});
  auto before = m->forward(x);
  const auto params = models::count_parameters(*m);
  m->fuse_batch_norm();
  EXPECT_TRUE(torch::allclose(m->forward(x), before, 1e-4, 1e-5));
  EXPECT_EQ(models::count_parameters(*m), params);
}
