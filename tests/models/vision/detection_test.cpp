#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "joulebench/models.h"
#include "models/common/weights.h"
#include "models/vision/coco_labels.h"
#include "models/vision/detection.h"
#include "models/vision/detr.h"
#include "models/vision/image_io.h"
#include "models/vision/yolos.h"
#include "test_util.h"

using namespace joulebench;
using namespace joulebench::models::vision;

TEST(Coco, LabelSpaces) {
  EXPECT_EQ(coco80_names()[16], "dog");
  EXPECT_EQ(coco91_name(1), "person");
  EXPECT_EQ(coco91_name(18), "dog");
  EXPECT_EQ(coco91_name(8), "truck");
  EXPECT_EQ(coco91_name(12), "N/A");
  EXPECT_EQ(coco91_name(13), "stop sign");
  EXPECT_EQ(coco91_name(90), "toothbrush");
  EXPECT_EQ(coco91_name(91), "N/A");
}

TEST(Detection, ParameterCountsMatchHuggingFace) {
  auto detr = Detr(detr_resnet50_config());
  EXPECT_EQ(models::count_parameters(*detr), 41'524'768);  // DetrForObjectDetection
  EXPECT_EQ(models::count_parameters(*detr, "class_labels_classifier.") +
                models::count_parameters(*detr, "bbox_predictor."),
            156'256);
  EXPECT_EQ(models::count_parameters(*Yolos(yolos_tiny_config())), 6'488'736);  // YolosForObjectDetection
  auto names = detr->named_parameters().keys();
  EXPECT_THAT(names, ::testing::Contains("model.backbone.conv_encoder.model.layer1.0.conv1.weight"));
  EXPECT_THAT(names, ::testing::Contains("model.backbone.conv_encoder.model.layer2.0.downsample.0.weight"));
  EXPECT_THAT(names, ::testing::Contains("model.decoder.layers.5.encoder_attn.k_proj.weight"));
  EXPECT_THAT(names, ::testing::Contains("bbox_predictor.layers.2.bias"));
  auto buffers = detr->named_buffers().keys();
  EXPECT_THAT(buffers, ::testing::Contains("model.backbone.conv_encoder.model.bn1.weight"));  // frozen BN
  auto y = Yolos(yolos_tiny_config())->named_parameters().keys();
  EXPECT_THAT(y, ::testing::Contains("vit.embeddings.detection_tokens"));
  EXPECT_THAT(y, ::testing::Contains("vit.encoder.layer.11.attention.attention.value.weight"));
}

TEST(Detection, SinePositionEmbedding) {
  auto p = detr_sine_position(3, 5, 16, torch::kFloat32);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{1, 32, 3, 5}));
  // Channel 0 is sin(y_norm * 2pi) with y_norm = (row + 1) / h (normalised cumsum).
  EXPECT_NEAR(p[0][0][1][0].item<float>(), std::sin(2.0 / 3.0 * 2 * M_PI), 1e-4);
  // Channel 16 is sin(x_norm * 2pi), x_norm = (col + 1) / w.
  EXPECT_NEAR(p[0][16][0][2].item<float>(), std::sin(3.0 / 5.0 * 2 * M_PI), 1e-4);
  EXPECT_NEAR(p[0][1][2][0].item<float>(), std::cos(2 * M_PI), 1e-4);
}

TEST(Detection, PostprocessKeepsConfidentRealClasses) {
  auto logits = torch::full({3, 92}, -10.0f);
  logits[0][18] = 10.0f;  // a confident dog
  logits[1][91] = 10.0f;  // "no object"
  logits[2][8] = 10.0f;   // a truck
  logits[2][3] = 9.5f;    // ... less sure than the dog
  auto boxes = torch::tensor({{0.5f, 0.5f, 0.2f, 0.4f}, {0.1f, 0.1f, 0.1f, 0.1f}, {0.25f, 0.75f, 0.5f, 0.5f}});
  auto d = postprocess_set_predictions(logits, boxes, 200, 100, 0.5f);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].name, "dog");
  EXPECT_NEAR(d[0].x0, 80, 1e-3);
  EXPECT_NEAR(d[0].y0, 30, 1e-3);
  EXPECT_NEAR(d[0].x1, 120, 1e-3);
  EXPECT_NEAR(d[0].y1, 70, 1e-3);
  EXPECT_EQ(d[1].name, "truck");
  EXPECT_LT(d[1].score, d[0].score);
  EXPECT_THAT(format_detections(d), ::testing::StartsWith("dog 1.00 [80,30,120,70]; truck"));
  // The truck's probability is e^10 / (e^10 + e^9.5 + ...) ~ 0.62: a 0.7 threshold drops it.
  EXPECT_NEAR(d[1].score, 1.0 / (1.0 + std::exp(-0.5)), 1e-3);
  EXPECT_EQ(postprocess_set_predictions(logits, boxes, 200, 100, 0.7f).size(), 1u);
}

TEST(Detection, TinyPresetsRun) {
  auto dir = jbtest::scratch("det");
  Image img;
  img.width = 120;
  img.height = 80;
  img.rgb.assign(120 * 80 * 3, 90);
  write_png((dir / "x.png").string(), img);
  for (std::string name : {"detr-tiny", "yolos-tiny-test"}) {
    auto m = jbtest::load(name);
    EXPECT_GT(m->info().head_parameters, 0) << name;
    std::vector<InferenceInput> in(1);
    in[0].image_path = (dir / "x.png").string();
    auto out = m->infer(in);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].text.empty());
  }
}

TEST(Detection, ForwardShapes) {
  torch::NoGradGuard g;
  auto detr = Detr(detr_tiny_config());
  models::seeded_init(*detr, 3);
  detr->eval();
  auto o = detr(torch::randn({1, 3, 64, 96}));
  EXPECT_EQ(o.logits.sizes(), (std::vector<int64_t>{1, 10, 92}));
  EXPECT_EQ(o.pred_boxes.sizes(), (std::vector<int64_t>{1, 10, 4}));
  EXPECT_GE(o.pred_boxes.min().item<float>(), 0.0f);
  EXPECT_LE(o.pred_boxes.max().item<float>(), 1.0f);
  auto y = Yolos(yolos_test_config());
  models::seeded_init(*y, 3);
  auto yo = y(torch::randn({1, 3, 48, 80}));  // another grid than the trained one: interpolated positions
  EXPECT_EQ(yo.logits.sizes(), (std::vector<int64_t>{1, 10, 92}));
  EXPECT_TRUE(torch::isfinite(yo.pred_boxes).all().item<bool>());
}

TEST(Detection, DetrFusedBatchNormKeepsOutputs) {
  torch::NoGradGuard g;
  auto detr = Detr(detr_tiny_config());
  models::seeded_init(*detr, 8);
  for (auto& b : detr->named_buffers()) {
    const auto& k = b.key();
    if (k.find("running_mean") != std::string::npos || k.find(".bias") != std::string::npos) b.value().uniform_(-0.3, 0.3);
    else b.value().uniform_(0.5, 1.5);  // weight, running_var
  }
  detr->eval();
  auto x = torch::randn({1, 3, 64, 96});
  auto before = detr(x);
  detr->fuse_batch_norm();
  auto after = detr(x);
  EXPECT_TRUE(torch::allclose(after.logits, before.logits, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(after.pred_boxes, before.pred_boxes, 1e-4, 1e-5));
}
