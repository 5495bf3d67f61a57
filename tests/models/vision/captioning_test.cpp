#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "joulebench/models.h"
#include "models/vision/image_io.h"
#include "test_util.h"

using namespace joulebench;

namespace {
std::string picture() {
  auto dir = jbtest::scratch("caption");
  models::vision::Image img;
  img.width = 40;
  img.height = 30;
  img.rgb.resize(40 * 30 * 3);
  for (std::size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<std::uint8_t>(i * 7);
  auto p = (dir / "p.png").string();
  models::vision::write_png(p, img);
  return p;
}
}  // namespace

TEST(Captioning, StudyPresetCountsAndNames) {
  LoadOptions o;
  o.max_new_tokens = 1;
  auto m = jbtest::load("nlpconnect/vit-gpt2-image-captioning", o);
  EXPECT_EQ(m->info().parameters, 239'195'904);  // VisionEncoderDecoderModel num_parameters()
  EXPECT_EQ(m->info().task, Task::image_to_text);
}

TEST(Captioning, TinyGreedyCappedAndDeterministic) {
  auto path = picture();
  LoadOptions o;
  o.seed = 3;
  o.max_new_tokens = 6;
  auto m = jbtest::load("vit-gpt2-tiny", o);
  std::vector<InferenceInput> in(2);
  in[0].image_path = in[1].image_path = path;
  auto a = m->infer(in);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_GE(a[0].output_tokens, 1);
  EXPECT_LE(a[0].output_tokens, 6);
  EXPECT_EQ(a[0].text, a[1].text);  // same image, same caption within a batch
  EXPECT_EQ(a[0].input_tokens, 17);  // CLS + 16 patches of the tiny ViT
  auto b = jbtest::load("vit-gpt2-tiny", o)->infer(in);
  EXPECT_EQ(a[0].text, b[0].text);
  EXPECT_EQ(a[0].output_tokens, b[0].output_tokens);
}
