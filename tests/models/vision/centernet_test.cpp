#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "joulebench/error.h"
#include "models/common/weights.h"
#include "models/tfjs/graph_model.h"
#include "models/vision/centernet.h"
#include "test_util.h"

using namespace joulebench;
using namespace joulebench::models;
using nlohmann::json;

namespace {

// A two-op graph: SAME stride-2 conv (float16 weights) + bias (uint8-quantized) + Relu6, then a spatial mean.
std::filesystem::path write_tiny_graph(const std::string& name, bool truncate = false, const std::string& op = "Mean") {
  auto dir = jbtest::scratch(name);
  torch::manual_seed(4);
  auto w = torch::randn({3, 3, 2, 3});
  std::vector<std::uint8_t> bytes;
  auto half = w.to(torch::kHalf).contiguous();
  auto* hp = reinterpret_cast<const std::uint8_t*>(half.data_ptr());
  bytes.insert(bytes.end(), hp, hp + half.numel() * 2);
  for (std::uint8_t q : {0, 128, 255}) bytes.push_back(q);  // bias = q * 0.01 - 1
  std::int32_t axes[2] = {1, 2};
  auto* ap = reinterpret_cast<const std::uint8_t*>(axes);
  bytes.insert(bytes.end(), ap, ap + 8);
  if (truncate) bytes.resize(bytes.size() - 5);
  std::ofstream(dir / "w.bin", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                        static_cast<std::streamsize>(bytes.size()));
  auto b64 = [](const std::string& s) {
    static const char* c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    int val = 0, bits = -6;
    for (unsigned char ch : s) {
      val = (val << 8) + ch;
      bits += 8;
      while (bits >= 0) {
        out.push_back(c[(val >> bits) & 0x3F]);
        bits -= 6;
      }
    }
    if (bits > -6) out.push_back(c[((val << 8) >> (bits + 8)) & 0x3F]);
    while (out.size() % 4) out.push_back('=');
    return out;
  };
  json conv_attr = {{"strides", {{"list", {{"i", {"1", "2", "2", "1"}}}}}},
                    {"padding", {{"s", b64("SAME")}}},
                    {"data_format", {{"s", b64("NHWC")}}},
                    {"fused_ops", {{"list", {{"s", {b64("BiasAdd"), b64("Relu6")}}}}}}};
  json model = {
      {"format", "graph-model"},
      {"modelTopology",
       {{"node",
         {{{"name", "x"}, {"op", "Placeholder"}},
          {{"name", "w"}, {"op", "Const"}},
          {{"name", "b"}, {"op", "Const"}},
          {{"name", "axes"}, {"op", "Const"}},
          {{"name", "conv"}, {"op", "_FusedConv2D"}, {"input", {"x", "w", "b"}}, {"attr", conv_attr}},
          {{"name", "out"}, {"op", op}, {"input", {"conv", "axes"}}, {"attr", {{"keep_dims", {{"b", false}}}}}}}}}},
      {"weightsManifest",
       {{{"paths", {"w.bin"}},
         {"weights",
          {{{"name", "w"}, {"shape", {3, 3, 2, 3}}, {"dtype", "float32"}, {"quantization", {{"dtype", "float16"}}}},
           {{"name", "b"},
            {"shape", {3}},
            {"dtype", "float32"},
            {"quantization", {{"dtype", "uint8"}, {"scale", 0.01}, {"min", -1.0}}}},
           {{"name", "axes"}, {"shape", {2}}, {"dtype", "int32"}}}}}}}};
  std::ofstream(dir / "model.json") << model.dump();
  return dir / "model.json";
}

}  // namespace

TEST(Tfjs, RunsAGraphAgainstDirectTorch) {
  auto path = write_tiny_graph("tfjs_ok");
  tfjs::GraphModel g(path);
  EXPECT_EQ(count_parameters(g), 3 * 3 * 2 * 3 + 3);  // the int32 axes are not parameters
  torch::manual_seed(4);
  auto w = torch::randn({3, 3, 2, 3}).to(torch::kHalf).to(torch::kFloat32);
  auto bias = torch::tensor({-1.0f, 0.28f, 1.55f});
  auto x = torch::randn({1, 5, 5, 2});
  auto out = g.run({{"x", x}}, {"out"})[0];
  // Expected: TF SAME for 5 -> 3 with stride 2 and k 3 pads 1 before, 1 after.
  auto xc = torch::constant_pad_nd(x.permute({0, 3, 1, 2}), {1, 1, 1, 1});
  auto y = torch::conv2d(xc, w.permute({3, 2, 0, 1}).contiguous(), bias, 2).clamp(0, 6);
  auto expected = y.mean({2, 3});
  ASSERT_EQ(out.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(out, expected, 1e-4, 1e-5));
}

TEST(Tfjs, ClearErrors) {
  EXPECT_THROW(tfjs::GraphModel(write_tiny_graph("tfjs_short", true)), InputError);
  try {
    tfjs::GraphModel(write_tiny_graph("tfjs_op", false, "Einsum"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("Einsum"));
  }
  EXPECT_THROW(tfjs::GraphModel("/nonexistent/model.json"), InputError);
}

TEST(CenterNet, NmsKeepsBestOfOverlaps) {
  using joulebench::models::vision::Detection;
  std::vector<Detection> d(3);
  d[0] = {1, "a", 0.9f, 0, 0, 10, 10};
  d[1] = {1, "a", 0.8f, 1, 1, 10, 10};  // IoU 0.81 with the first
  d[2] = {2, "b", 0.7f, 20, 20, 30, 30};
  auto k = vision::non_max_suppression(d, {});
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].score, 0.9f);
  EXPECT_EQ(k[1].name, "b");
  vision::NmsOptions strict;
  strict.min_confidence = 0.75f;
  EXPECT_EQ(vision::non_max_suppression(d, strict).size(), 1u);
  // Per class (the default): the same box under another label survives; class-agnostic it does not.
  d[1].label = 3;
  EXPECT_EQ(vision::non_max_suppression(d, {}).size(), 3u);
  vision::NmsOptions agnostic;
  agnostic.per_class = false;
  EXPECT_EQ(vision::non_max_suppression(d, agnostic).size(), 2u);
}

// The real pretrained detector on darknet's dog.jpg (768x576): a dog, a
// bicycle and a truck, where every detector since YOLO has put them.
TEST(CenterNet, FindsDogBicycleTruck) {
  if (!jbtest::have_fetched("human-centernet/centernet.json") || !jbtest::have_fetched("darknet-images/dog.jpg"))
    GTEST_FAIL() << "run scripts/fetch_data.sh";
  auto model = jbtest::load("vladmandic/human-centernet");
  EXPECT_TRUE(model->info().weights_found);
  EXPECT_GT(model->info().parameters, 1'000'000);
  std::vector<InferenceInput> in(1);
  in[0].image_path = jbtest::fetched("darknet-images/dog.jpg");
  auto text = model->infer(in)[0].text;
  struct Ref {
    std::string name;
    float x0, y0, x1, y1;
  };
  const std::vector<Ref> refs = {{"dog", 128, 224, 314, 537}, {"bicycle", 124, 128, 565, 420}, {"truck", 468, 83, 686, 168}};
  // Parse "name score [x0,y0,x1,y1]; ..." back.
  for (const auto& r : refs) {
    bool found = false;
    std::size_t pos = 0;
    while ((pos = text.find(r.name + " ", pos)) != std::string::npos) {
      float s, x0, y0, x1, y1;
      if (std::sscanf(text.c_str() + pos + r.name.size(), " %f [%f,%f,%f,%f]", &s, &x0, &y0, &x1, &y1) == 5) {
        float ix = std::max(0.0f, std::min(x1, r.x1) - std::max(x0, r.x0));
        float iy = std::max(0.0f, std::min(y1, r.y1) - std::max(y0, r.y0));
        float inter = ix * iy;
        float uni = (x1 - x0) * (y1 - y0) + (r.x1 - r.x0) * (r.y1 - r.y0) - inter;
        if (inter / uni > 0.5f) found = true;
      }
      ++pos;
    }
    EXPECT_TRUE(found) << r.name << " not found with IoU > 0.5 in: " << text;
  }
}
