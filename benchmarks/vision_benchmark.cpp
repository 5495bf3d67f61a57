// Vision zoo speed and memory (results: docs/benchmarks.md, "Vision models"):
// - ms per inference of each vision preset at its default resolution (end
//   to end: decode, preprocess, model, post-process), on darknet's dog.jpg;
// - Stable Diffusion by stage (CLIP text encoding, one UNet step with
//   classifier-free guidance = batch 2, VAE decode) and one whole image with
//   few steps; a 50-step image is 2 x CLIP + 51 UNet steps (PNDM) + 1 VAE;
// - bare forwards with the shapes of benchmarks/python/vision_eager.py
//   (ResNet-50 and ViT-base on one 224x224 image, one SD 1.5 UNet step), to
//   compare with PyTorch eager.
// Bare forwards take the intra-op thread count as argument: with one thread
// the CPU column is the whole work, which stays comparable when other jobs
// share the machine (wall times then do not).
// Peak memory: the process's resident high-water mark (VmHWM, reset through
// /proc/self/clear_refs before each benchmark), counter "peak_rss_MiB".
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <time.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "joulebench/models.h"
#include "joulebench/version.h"
#include "models/common/weights.h"
#include "models/registry_parts.h"
#include "models/vision/resnet.h"
#include "models/vision/sd_pipeline.h"
#include "models/vision/vit.h"

namespace {

using namespace joulebench;
using namespace joulebench::models::vision;

void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

double peak_rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Runs the timed loop and adds "process_cpu_ms" per iteration (all threads).
template <typename F>
void timed(benchmark::State& state, F&& f) {
  double c0 = process_cpu_ms();
  for (auto _ : state) f();
  state.counters["process_cpu_ms"] = (process_cpu_ms() - c0) / static_cast<double>(state.iterations());
}

std::string dog() { return std::string(JOULEBENCH_FETCHED_DATA_DIR) + "/darknet-images/dog.jpg"; }

// Presets run with $JOULEBENCH_BENCH_THREADS intra-op threads (default 2).
int preset_threads() {
  const char* env = std::getenv("JOULEBENCH_BENCH_THREADS");
  return env && *env ? std::atoi(env) : 2;
}

void run_preset(benchmark::State& state, const std::string& name, LoadOptions o, InferenceInput input) {
  torch::set_num_threads(preset_threads());
  reset_peak_rss();
  auto model = models::load_vision_model(name, o);
  std::vector<InferenceInput> in{input};
  model->infer(in);  // warm-up
  timed(state, [&] { benchmark::DoNotOptimize(model->infer(in)); });
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  state.counters["params_M"] = static_cast<double>(model->info().parameters) / 1e6;
}

void image_preset(benchmark::State& state, const std::string& name) {
  if (!std::filesystem::exists(dog())) return state.SkipWithError("run scripts/fetch_data.sh");
  InferenceInput i;
  i.image_path = dog();
  run_preset(state, name, {}, i);
}

void sd_image(benchmark::State& state, const std::string& name, int steps) {
  LoadOptions o;
  o.steps = steps;
  InferenceInput i;
  i.text = "a photograph of an astronaut riding a horse";
  run_preset(state, name, o, i);
}

// Bare forwards, shapes as benchmarks/python/vision_eager.py.
void BM_ResNet50Forward(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  reset_peak_rss();
  torch::InferenceMode g;
  auto m = ResNetModel(resnet50_config());
  models::seeded_init(*m, 0);
  m->eval();
  m->fuse_batch_norm();  // as the classification preset does after loading
  auto x = torch::randn({1, 3, 224, 224});
  m->forward(x);
  timed(state, [&] { benchmark::DoNotOptimize(m->forward(x)); });
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

void BM_ViTBaseForward(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  reset_peak_rss();
  torch::InferenceMode g;
  auto m = ViTModel(vit_base_config());
  models::seeded_init(*m, 0);
  m->eval();
  auto x = torch::randn({1, 3, 224, 224});
  m->forward(x);
  timed(state, [&] { benchmark::DoNotOptimize(m->forward(x).last_hidden_state); });
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

// One denoising step of SD at 512x512: latents 64x64, batch 2 (guidance).
void unet_step(benchmark::State& state, const UNetConfig& cfg) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  reset_peak_rss();
  torch::InferenceMode g;
  auto m = UNet2DCondition(cfg);
  models::seeded_init(*m, 0);
  m->eval();
  auto x = torch::randn({2, 4, 64, 64});
  auto ctx = torch::randn({2, 77, cfg.cross_attention_dim});
  auto t = torch::tensor(981.0);
  m->forward(x, t, ctx);
  timed(state, [&] { benchmark::DoNotOptimize(m->forward(x, t, ctx)); });
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

void BM_VaeDecode512(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  reset_peak_rss();
  torch::InferenceMode g;
  auto m = VaeDecoder(vae_sd_config());
  models::seeded_init(*m, 0);
  m->eval();
  auto z = torch::randn({1, 4, 64, 64});
  timed(state, [&] { benchmark::DoNotOptimize(m->forward(z)); });
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

void BM_ClipTextEncode(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  reset_peak_rss();
  torch::InferenceMode g;
  auto m = ClipTextModel(clip_text_sd_config());
  models::seeded_init(*m, 0);
  m->eval();
  auto ids = torch::randint(0, 49406, {2, 77}, torch::kLong);
  m->forward(ids);
  timed(state, [&] { benchmark::DoNotOptimize(m->forward(ids)); });
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

}  // namespace

#define VISION_PRESET(label, name, iters)                                                              \
  BENCHMARK_CAPTURE(image_preset, label, std::string(name))->Unit(benchmark::kMillisecond)->Iterations(iters)

VISION_PRESET(resnet50, "microsoft/resnet-50", 10);
VISION_PRESET(resnet18, "microsoft/resnet-18", 20);
VISION_PRESET(vit_base, "google/vit-base-patch16-224", 10);
VISION_PRESET(detr_resnet50, "facebook/detr-resnet-50", 3);
VISION_PRESET(yolos_tiny, "hustvl/yolos-tiny", 5);
VISION_PRESET(centernet, "vladmandic/human-centernet", 10);
VISION_PRESET(vit_gpt2_caption, "nlpconnect/vit-gpt2-image-captioning", 3);
BENCHMARK(BM_ResNet50Forward)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(20);
BENCHMARK(BM_ViTBaseForward)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(10);
BENCHMARK(BM_ClipTextEncode)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(unet_step, sd15, unet_sd15_config())->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(unet_step, bk_sdm_tiny, unet_bk_sdm_tiny_config())->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK(BM_VaeDecode512)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(sd_image, bk_sdm_tiny_2_steps, std::string("nota-ai/bk-sdm-tiny"), 2)
    ->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(sd_image, sd15_2_steps, std::string("runwayml/stable-diffusion-v1-5"), 2)
    ->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK_MAIN();
