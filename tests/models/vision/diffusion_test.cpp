#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "joulebench/error.h"
#include "joulebench/models.h"
#include "models/common/weights.h"
#include "models/common/safetensors.h"
#include "models/vision/image_io.h"
#include "models/vision/image_ops.h"
#include "models/vision/sd_pipeline.h"
#include "test_util.h"

using namespace joulebench;
using namespace joulebench::models::vision;

// ---- schedulers against the closed-form formulas ----

TEST(Schedulers, ScaledLinearBetasAndAlphaBar) {
  auto ac = alphas_cumprod({});
  ASSERT_EQ(ac.size(), 1000u);
  EXPECT_NEAR(ac[0], 1 - 0.00085, 1e-12);
  auto betas = scaled_linear_betas({});
  EXPECT_NEAR(betas.back(), 0.012, 1e-12);
  // beta_t is quadratic in t: beta_500 = (sqrt(b0) + 500/999 (sqrt(b1) - sqrt(b0)))^2.
  double r = std::sqrt(0.00085) + 500.0 / 999.0 * (std::sqrt(0.012) - std::sqrt(0.00085));
  EXPECT_NEAR(betas[500], r * r, 1e-15);
  // alpha_bar_t = exp(sum log(1 - beta_i)).
  double log_sum = 0;
  for (int i = 0; i <= 700; ++i) log_sum += std::log1p(-betas[i]);
  EXPECT_NEAR(ac[700], std::exp(log_sum), 1e-12);
  // The known SD 1.x sigma_max = sqrt((1 - alpha_bar_999) / alpha_bar_999) ~ 14.6146.
  EXPECT_NEAR(std::sqrt((1 - ac[999]) / ac[999]), 14.6146, 1e-3);
}

TEST(Schedulers, Timesteps) {
  auto ddim = make_scheduler("ddim", 50);
  const auto& t = ddim->timesteps();
  ASSERT_EQ(t.size(), 50u);
  EXPECT_EQ(t.front(), 981);
  EXPECT_EQ(t[1], 961);
  EXPECT_EQ(t.back(), 1);
  auto pndm = make_scheduler("pndm", 50);
  const auto& p = pndm->timesteps();
  ASSERT_EQ(p.size(), 51u);  // skip_prk_steps: the second timestep twice
  EXPECT_EQ(p[0], 981);
  EXPECT_EQ(p[1], 961);
  EXPECT_EQ(p[2], 961);
  EXPECT_EQ(p[3], 941);
  EXPECT_EQ(p.back(), 1);
  auto euler = make_scheduler("euler", 10);
  EXPECT_DOUBLE_EQ(euler->timesteps().front(), 999);
  EXPECT_DOUBLE_EQ(euler->timesteps()[1], 888);
  EXPECT_DOUBLE_EQ(euler->timesteps().back(), 0);
  EXPECT_NEAR(euler->init_noise_sigma(), 14.6146, 1e-3);
  EXPECT_THROW(make_scheduler("lms", 10), InputError);
  EXPECT_THROW(make_scheduler("ddim", 0), InputError);
}

// A sample noised in closed form, x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps, and
// the true eps: DDIM (eta 0) must land on sqrt(a_prev) x0 + sqrt(1 - a_prev) eps.
TEST(Schedulers, DdimAndPndmStepMatchClosedForm) {
  auto ac = alphas_cumprod({});
  torch::manual_seed(0);
  auto x0 = torch::randn({1, 4, 2, 2}, torch::kFloat64);
  auto eps = torch::randn({1, 4, 2, 2}, torch::kFloat64);
  auto noised = [&](int t) { return std::sqrt(ac[t]) * x0 + std::sqrt(1 - ac[t]) * eps; };
  auto ddim = make_scheduler("ddim", 50);
  auto out = ddim->step(eps, 0, noised(981));
  EXPECT_TRUE(torch::allclose(out, noised(961), 1e-9, 1e-9));
  // Last step goes to alpha_bar_0 (set_alpha_to_one = false).
  auto last = ddim->step(eps, 49, noised(1));
  EXPECT_TRUE(torch::allclose(last, std::sqrt(ac[0]) * x0 + std::sqrt(1 - ac[0]) * eps, 1e-9, 1e-9));
  // PNDM's transfer is the same map; with a constant eps every multistep mix is eps.
  auto pndm = make_scheduler("pndm", 50);
  auto x = noised(981);
  x = pndm->step(eps, 0, x);
  EXPECT_TRUE(torch::allclose(x, noised(961), 1e-9, 1e-9));
  x = pndm->step(eps, 1, x);  // warm-up: from the kept t=981 sample again
  EXPECT_TRUE(torch::allclose(x, noised(961), 1e-9, 1e-9));
  x = pndm->step(eps, 2, x);
  EXPECT_TRUE(torch::allclose(x, noised(941), 1e-9, 1e-9));
}

TEST(Schedulers, EulerStepMatchesClosedForm) {
  auto euler = make_scheduler("euler", 5);
  auto ac = alphas_cumprod({});
  auto sigma = [&](double t) {  // linear interpolation of sigma(t) between integer steps
    auto lo = static_cast<int>(std::floor(t));
    double w = t - lo;
    auto s = [&](int i) { return std::sqrt((1 - ac[i]) / ac[i]); };
    return s(lo) * (1 - w) + s(std::min(lo + 1, 999)) * w;
  };
  torch::manual_seed(1);
  auto x0 = torch::randn({1, 4, 2, 2}, torch::kFloat64);
  auto eps = torch::randn({1, 4, 2, 2}, torch::kFloat64);
  const auto& t = euler->timesteps();
  auto x = x0 + sigma(t[0]) * eps;
  EXPECT_TRUE(torch::allclose(euler->scale_model_input(x, 0), x / std::sqrt(sigma(t[0]) * sigma(t[0]) + 1)));
  auto next = euler->step(eps, 0, x);
  EXPECT_TRUE(torch::allclose(next, x0 + sigma(t[1]) * eps, 1e-9, 1e-9));
  auto final = euler->step(eps, 4, x0 + sigma(t[4]) * eps);
  EXPECT_TRUE(torch::allclose(final, x0, 1e-9, 1e-9));  // the last sigma is 0
}

TEST(Diffusion, TimestepEmbeddingClosedForm) {
  auto e = timestep_embedding(torch::tensor({10.0, 500.0}), 8);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{2, 8}));
  for (int i = 0; i < 4; ++i) {
    double w = std::exp(-std::log(10000.0) * i / 4.0);
    EXPECT_NEAR(e[1][i].item<double>(), std::cos(500.0 * w), 1e-4);
    EXPECT_NEAR(e[1][4 + i].item<double>(), std::sin(500.0 * w), 1e-4);
  }
}

// ---- modules ----

TEST(Diffusion, ParameterCountsMatchHuggingFace) {
  EXPECT_EQ(models::count_parameters(*ClipTextModel(clip_text_sd_config())), 123'060'480);
  EXPECT_EQ(models::count_parameters(*VaeDecoder(vae_sd_config())), 49'490'199);
  EXPECT_EQ(models::count_parameters(*UNet2DCondition(unet_sd15_config())), 859'520'964);
  EXPECT_EQ(models::count_parameters(*UNet2DCondition(unet_bk_sdm_tiny_config())), 323'384'964);
}

TEST(Diffusion, DiffusersNames) {
  auto u = UNet2DCondition(unet_tiny_config())->named_parameters().keys();
  EXPECT_THAT(u, ::testing::Contains("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"));
  EXPECT_THAT(u, ::testing::Contains("down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight"));
  EXPECT_THAT(u, ::testing::Contains("down_blocks.0.downsamplers.0.conv.weight"));
  EXPECT_THAT(u, ::testing::Contains("up_blocks.0.upsamplers.0.conv.weight"));
  EXPECT_THAT(u, ::testing::Contains("mid_block.attentions.0.proj_in.weight"));
  EXPECT_THAT(u, ::testing::Contains("time_embedding.linear_1.weight"));
  EXPECT_THAT(u, ::testing::Contains("up_blocks.1.resnets.0.conv_shortcut.weight"));
  auto v = VaeDecoder(vae_tiny_config())->named_parameters().keys();
  EXPECT_THAT(v, ::testing::Contains("post_quant_conv.weight"));
  EXPECT_THAT(v, ::testing::Contains("decoder.mid_block.attentions.0.group_norm.weight"));
  EXPECT_THAT(v, ::testing::Contains("decoder.mid_block.attentions.0.to_out.0.bias"));
  auto c = ClipTextModel(clip_text_tiny_config())->named_parameters().keys();
  EXPECT_THAT(c, ::testing::Contains("text_model.encoder.layers.1.self_attn.out_proj.weight"));
  EXPECT_THAT(c, ::testing::Contains("text_model.final_layer_norm.bias"));
}

namespace {
StableDiffusion& tiny_sd() {
  static StableDiffusion sd = [] {
    StableDiffusion s(sd_tiny_config());
    models::seeded_init(*s.text_encoder, 1);
    models::seeded_init(*s.unet, 2);
    models::seeded_init(*s.vae, 3);
    return s;
  }();
  return sd;
}
}  // namespace

TEST(Diffusion, StageShapesAndRanges) {
  torch::InferenceMode g;
  auto& sd = tiny_sd();
  auto ids = sd.tokenize("A photo of an astronaut, riding a horse!");
  ASSERT_EQ(ids.sizes(), (std::vector<int64_t>{1, 77}));
  EXPECT_EQ(ids[0][0].item<int64_t>(), 49406);
  EXPECT_EQ(ids[0][76].item<int64_t>(), 49407);
  EXPECT_LT(ids.max().item<int64_t>(), 49408);
  auto emb = sd.encode_prompt("a cat");
  ASSERT_EQ(emb.sizes(), (std::vector<int64_t>{1, 77, 32}));
  EXPECT_TRUE(torch::isfinite(emb).all().item<bool>());
  auto lat = sd.initial_latents(32, 5, 1.0);
  ASSERT_EQ(lat.sizes(), (std::vector<int64_t>{1, 4, 4, 4}));
  auto eps = sd.unet(torch::cat({lat, lat}), torch::tensor(981.0), torch::cat({emb, emb}));
  EXPECT_EQ(eps.sizes(), (std::vector<int64_t>{2, 4, 4, 4}));
  EXPECT_TRUE(torch::isfinite(eps).all().item<bool>());
  auto img = sd.decode(lat);
  ASSERT_EQ(img.sizes(), (std::vector<int64_t>{1, 3, 32, 32}));
  EXPECT_GE(img.min().item<float>(), 0.0f);
  EXPECT_LE(img.max().item<float>(), 1.0f);
}

TEST(Diffusion, DeterministicPerSeedAndGuidanceOneIsOneConditionalPass) {
  torch::InferenceMode g;
  auto& sd = tiny_sd();
  SdRunOptions o;
  o.steps = 3;
  o.resolution = 32;
  o.scheduler = "ddim";
  o.latent_seed = 11;
  auto a = sd.generate("a red bicycle", o);
  auto b = sd.generate("a red bicycle", o);
  EXPECT_TRUE(torch::equal(a, b));
  o.latent_seed = 12;
  EXPECT_FALSE(torch::equal(a, sd.generate("a red bicycle", o)));
  o.latent_seed = 11;
  o.guidance_scale = 1.0;
  auto single = sd.generate("a red bicycle", o);  // one conditional pass per step
  o.force_batched_guidance = true;
  auto batched = sd.generate("a red bicycle", o);  // uncond + 1.0 (cond - uncond)
  EXPECT_TRUE(torch::allclose(single, batched, 1e-4, 1e-5));
  o.guidance_scale = 7.5;
  EXPECT_FALSE(torch::allclose(single, sd.generate("a red bicycle", o), 1e-4, 1e-5));
  o.resolution = 30;
  EXPECT_THROW(sd.generate("x", o), InputError);
}

TEST(Diffusion, TinyPresetWritesValidPng) {
  auto dir = jbtest::scratch("sd_png");
  LoadOptions o;
  o.steps = 2;
  o.output_dir = dir.string();
  auto m = jbtest::load("stable-diffusion-tiny", o);
  ASSERT_EQ(m->info().parts.size(), 3u);
  std::int64_t sum = 0;
  for (const auto& p : m->info().parts) sum += p.parameters;
  EXPECT_EQ(sum, m->info().parameters);
  std::vector<InferenceInput> in(1);
  in[0].text = "a lighthouse at dusk";
  auto out = m->infer(in);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_FALSE(out[0].image_png_path.empty());
  std::ifstream f(out[0].image_png_path, std::ios::binary);
  unsigned char sig[8] = {};
  f.read(reinterpret_cast<char*>(sig), 8);
  const unsigned char png[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  EXPECT_TRUE(std::equal(sig, sig + 8, png));
  auto img = read_image(out[0].image_png_path);
  EXPECT_EQ(img.width, 32);
  EXPECT_EQ(img.height, 32);
}

TEST(Diffusion, StudyPresetListedAsSumOfParts) {
  for (const auto& m : models::vision_model_infos()) {
    if (m.name != "runwayml/stable-diffusion-v1-5") continue;
    EXPECT_EQ(m.task, Task::text_to_image);
    ASSERT_EQ(m.parts.size(), 3u);
    EXPECT_EQ(m.parameters, 123'060'480 + 859'520'964 + 49'490'199);
    return;
  }
  FAIL() << "runwayml/stable-diffusion-v1-5 not listed";
}

TEST(Diffusion, Bf16RunsAndStaysInRange) {
  LoadOptions o;
  o.steps = 2;
  o.dtype = "bf16";
  o.scheduler = "euler";
  auto dir = jbtest::scratch("sd_bf16");
  o.output_dir = dir.string();
  std::vector<InferenceInput> in(1);
  in[0].text = "a boat";
  auto out = jbtest::load("stable-diffusion-tiny", o)->infer(in);
  auto img = read_image(out.at(0).image_png_path);
  EXPECT_EQ(img.width, 32);
  o.dtype = "fp16";  // no half-precision matrix products on the CPU
  EXPECT_THROW(jbtest::load("stable-diffusion-tiny", o), InputError);
}

// A diffusers folder (text_encoder/, unet/, vae/) loads by name, the VAE also
// under the older attention names (query/key/value/proj_attn) and with the
// encoder half present (ignored).
TEST(Diffusion, LoadsDiffusersFolder) {
  auto dir = jbtest::scratch("sd_ckpt");
  StableDiffusion src(sd_tiny_config());
  models::seeded_init(*src.text_encoder, 41);
  models::seeded_init(*src.unet, 42);
  models::seeded_init(*src.vae, 43);
  auto dump = [&](torch::nn::Module& m, const std::string& sub, bool legacy) {
    models::TensorMap t;
    for (const auto& p : m.named_parameters()) {
      std::string name = p.key();
      if (legacy) {
        for (auto [from, to] : {std::pair<std::string, std::string>{".to_q.", ".query."}, {".to_k.", ".key."},
                                {".to_v.", ".value."}, {".to_out.0.", ".proj_attn."}}) {
          auto pos = name.find(from);
          if (pos != std::string::npos) name = name.substr(0, pos) + to + name.substr(pos + from.size());
        }
      }
      t[name] = p.value().detach().clone();
    }
    if (legacy) t["encoder.conv_in.weight"] = torch::zeros({4, 3, 3, 3});
    std::filesystem::create_directories(dir / sub);
    models::write_safetensors(dir / sub / "diffusion_pytorch_model.safetensors", t);
  };
  dump(*src.text_encoder, "text_encoder", false);
  dump(*src.unet, "unet", false);
  dump(*src.vae, "vae", true);
  LoadOptions o;
  o.weights_dir = dir.string();
  o.steps = 2;
  o.scheduler = "ddim";
  o.output_dir = (dir / "out").string();
  auto m = jbtest::load("stable-diffusion-tiny", o);
  EXPECT_TRUE(m->info().weights_found);
  std::vector<InferenceInput> in(1);
  in[0].text = "a tree";
  auto got = read_image(m->infer(in)[0].image_png_path);
  // The same weights through the pipeline directly.
  torch::InferenceMode g;
  SdRunOptions r;
  r.steps = 2;
  r.scheduler = "ddim";
  r.resolution = 32;
  r.latent_seed = o.seed ^ std::hash<std::string>{}("a tree");
  auto want = tensor_to_image(src.generate("a tree", r));
  EXPECT_EQ(got.rgb, want.rgb);
}
