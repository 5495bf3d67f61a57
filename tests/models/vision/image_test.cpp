#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "joulebench/error.h"
#include "models/vision/image_io.h"
#include "models/vision/image_ops.h"
#include "models/vision/inputs.h"
#include "test_util.h"

using namespace joulebench;
using namespace joulebench::models::vision;
using ::testing::HasSubstr;

namespace {

Image gradient(int w, int h) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto* p = &img.rgb[(static_cast<std::size_t>(y) * w + x) * 3];
      p[0] = static_cast<std::uint8_t>(x * 255 / (w - 1));
      p[1] = static_cast<std::uint8_t>(y * 255 / (h - 1));
      p[2] = 77;
    }
  return img;
}

}  // namespace

TEST(ImageIo, PngRoundTripIsLossless) {
  auto dir = jbtest::scratch("png_round_trip");
  auto img = gradient(40, 30);
  write_png((dir / "g.png").string(), img);
  std::ifstream f(dir / "g.png", std::ios::binary);
  char sig[8];
  f.read(sig, 8);
  EXPECT_EQ(std::string(sig + 1, 3), "PNG");
  auto back = read_image((dir / "g.png").string());
  EXPECT_EQ(back.width, 40);
  EXPECT_EQ(back.height, 30);
  EXPECT_EQ(back.rgb, img.rgb);
}

TEST(ImageIo, CorruptAndMissingFilesNameTheFile) {
  auto dir = jbtest::scratch("corrupt");
  auto bad = (dir / "not_an_image.jpg").string();
  std::ofstream(bad) << "this is text, not a JPEG";
  try {
    read_image(bad);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not_an_image.jpg"));
  }
  auto empty = (dir / "empty.png").string();
  std::ofstream{empty};
  EXPECT_THROW(read_image(empty), InputError);
  try {
    read_image((dir / "missing.png").string());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.png"));
  }
  // A PNG cut in half: the header parses, the data does not.
  write_png((dir / "whole.png").string(), gradient(64, 64));
  std::ifstream in(dir / "whole.png", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "cut.png", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_THROW(read_image((dir / "cut.png").string()), InputError);
}

TEST(ImageIo, DecodesRealJpegAndPng) {
  if (!jbtest::have_fetched("darknet-images/dog.jpg")) GTEST_FAIL() << "run scripts/fetch_data.sh";
  auto dog = read_image(jbtest::fetched("darknet-images/dog.jpg"));
  EXPECT_EQ(dog.width, 768);
  EXPECT_EQ(dog.height, 576);
  auto cat = read_image(jbtest::fetched("skimage-images/chelsea.png"));
  EXPECT_EQ(cat.width, 451);
  EXPECT_EQ(cat.height, 300);
}

TEST(ImageOps, TensorConversionAndNormalisation) {
  auto img = gradient(8, 4);
  auto t = image_to_tensor(img);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{1, 3, 4, 8}));
  EXPECT_FLOAT_EQ(t[0][0][0][7].item<float>(), 1.0f);  // red ramps to 255 at the right edge
  EXPECT_FLOAT_EQ(t[0][2][1][1].item<float>(), 77.0f / 255.0f);
  EXPECT_EQ(tensor_to_image(t).rgb, img.rgb);
  auto n = normalize(t, kHalfMean, kHalfMean);
  EXPECT_FLOAT_EQ(n[0][0][0][7].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(n[0][0][0][0].item<float>(), -1.0f);
}

TEST(ImageOps, ResizeAndCropShapes) {
  auto t = image_to_tensor(gradient(300, 200));
  auto r = resize_shortest_edge(t, 100, 0, Resample::bicubic);
  EXPECT_EQ(r.size(2), 100);
  EXPECT_EQ(r.size(3), 150);
  EXPECT_GE(r.min().item<float>(), 0.0f);
  EXPECT_LE(r.max().item<float>(), 1.0f);
  auto capped = resize_shortest_edge(image_to_tensor(gradient(1000, 100)), 80, 400, Resample::bilinear);
  EXPECT_EQ(capped.size(3), 400);  // the longest edge wins over the shortest-edge target
  EXPECT_EQ(capped.size(2), 40);
  auto c = center_crop(r, 100);
  EXPECT_EQ(c.size(3), 100);
  // The crop is centred: its middle column is the middle column of the source.
  EXPECT_TRUE(torch::allclose(c.select(3, 50), r.select(3, 75)));
  Preprocess p;  // exact 224
  auto x = preprocess(t, p);
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{1, 3, 224, 224}));
}

TEST(Inputs, ImageFolderAndPromptFile) {
  auto dir = jbtest::scratch("inputs");
  write_png((dir / "b.png").string(), gradient(4, 4));
  write_png((dir / "a.PNG").string(), gradient(4, 4));
  std::ofstream(dir / "notes.txt") << "not an image";
  auto images = list_images(dir.string());
  ASSERT_EQ(images.size(), 2u);
  EXPECT_THAT(images[0], ::testing::EndsWith("a.PNG"));
  EXPECT_THROW(list_images((dir / "nope").string()), InputError);
  auto empty = jbtest::scratch("inputs_empty");
  EXPECT_THROW(list_images(empty.string()), InputError);
  std::ofstream(dir / "prompts.txt") << "  a red bicycle \n\n# a comment\nan astronaut riding a horse\r\n";
  auto prompts = read_prompts((dir / "prompts.txt").string());
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_EQ(prompts[0], "a red bicycle");
  EXPECT_EQ(prompts[1], "an astronaut riding a horse");
  std::ofstream(dir / "blank.txt") << "\n  \n";
  try {
    read_prompts((dir / "blank.txt").string());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("blank.txt"));
  }
}
