// The architectures against an independent implementation: torchvision's
// ResNet-50 and ViT-B/16 (random weights, written under HF names by
// torchvision_reference.py) must give the same outputs through our modules.
// Needs /usr/bin/python3 with python3-torchvision (scripts/setup.sh test).
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

#include "models/common/safetensors.h"
#include "models/common/weights.h"
#include "models/vision/resnet.h"
#include "models/vision/vit.h"
#include "test_util.h"

using namespace joulebench::models;

namespace {

const std::filesystem::path& reference_dir() {
  // Written once and reused by the other test processes (ctest runs each test
  // alone) while newer than the script.
  static const std::filesystem::path dir = [] {
    const auto script = std::filesystem::path(JOULEBENCH_TEST_SOURCE_DIR) / "torchvision_reference.py";
    const auto d = std::filesystem::path(JOULEBENCH_TEST_BINARY_DIR) / "scratch" / "torchvision_reference";
    std::error_code ec;
    bool fresh = true;
    for (const char* f : {"resnet50.safetensors", "vit.safetensors"}) {
      auto t = std::filesystem::last_write_time(d / f, ec);
      if (ec || t < std::filesystem::last_write_time(script)) fresh = false;
    }
    if (fresh) return d;
    std::filesystem::create_directories(d);
    std::string cmd = "/usr/bin/python3 -c 'import torchvision' >/dev/null 2>&1 && /usr/bin/python3 " +
                      script.string() + " " + d.string();
    if (std::system(cmd.c_str()) != 0) return std::filesystem::path();
    return d;
  }();
  return dir;
}

TensorMap take(const std::string& file, torch::Tensor& input, torch::Tensor& output) {
  auto t = read_safetensors(reference_dir() / file);
  input = t.at("__input");
  output = t.at("__output");
  t.erase("__input");
  t.erase("__output");
  return t;
}

}  // namespace

TEST(CrossCheck, ResNet50MatchesTorchvision) {
  if (reference_dir().empty()) GTEST_SKIP() << "python3-torchvision not installed";
  torch::NoGradGuard g;
  torch::Tensor x, y;
  auto tensors = take("resnet50.safetensors", x, y);
  auto m = vision::ResNetModel(vision::resnet50_config());
  StateDictRules rules;
  rules.allow_missing.emplace_back(".*num_batches_tracked");
  load_state_dict(*m, tensors, rules, "torchvision resnet50");
  m->eval();
  EXPECT_TRUE(torch::allclose(m->forward(x), y, 1e-4, 1e-5));
  m->fuse_batch_norm();
  EXPECT_TRUE(torch::allclose(m->forward(x), y, 1e-4, 1e-5));
}

TEST(CrossCheck, ViTBaseMatchesTorchvision) {
  if (reference_dir().empty()) GTEST_SKIP() << "python3-torchvision not installed";
  torch::NoGradGuard g;
  torch::Tensor x, y;
  auto tensors = take("vit.safetensors", x, y);
  auto cfg = vision::vit_base_config();
  cfg.layer_norm_eps = 1e-6;  // torchvision's (HF's ViT uses 1e-12)
  auto m = vision::ViTModel(cfg);
  load_state_dict(*m, tensors, {}, "torchvision vit_b_16");
  m->eval();
  auto cls = m->forward(x, false).last_hidden_state.select(1, 0);
  EXPECT_TRUE(torch::allclose(cls, y, 1e-4, 1e-4));
}
