#include "models/vision/sd_pipeline.h"

#include <fmt/format.h>

#include <cctype>
#include <filesystem>

#include "joulebench/error.h"
#include "models/vision/image_io.h"
#include "models/vision/image_ops.h"
#include "models/vision/model_common.h"

namespace joulebench::models::vision {

SdConfig sd15_config() { return SdConfig{clip_text_sd_config(), unet_sd15_config(), vae_sd_config(), 512}; }
SdConfig bk_sdm_tiny_config() {
  return SdConfig{clip_text_sd_config(), unet_bk_sdm_tiny_config(), vae_sd_config(), 512};
}
SdConfig sd_tiny_config() {
  auto c = SdConfig{clip_text_tiny_config(), unet_tiny_config(), vae_tiny_config(), 32};
  c.unet.cross_attention_dim = c.text.hidden_size;
  return c;
}

StableDiffusion::StableDiffusion(const SdConfig& c) : config_(c) {
  text_encoder = ClipTextModel(c.text);
  unet = UNet2DCondition(c.unet);
  vae = VaeDecoder(c.vae);
}

torch::Tensor StableDiffusion::tokenize(const std::string& prompt) const {
  const auto& t = config_.text;
  std::vector<std::int64_t> ids{t.bos_token_id};
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char ch : word) h = (h ^ ch) * 1099511628211ULL;
    ids.push_back(static_cast<std::int64_t>(h % static_cast<std::uint64_t>(t.bos_token_id)));
    word.clear();
  };
  for (unsigned char ch : prompt) {
    if (std::isalnum(ch)) {
      word += static_cast<char>(std::tolower(ch));
    } else {
      flush();
      if (!std::isspace(ch)) {
        word = std::string(1, static_cast<char>(ch));
        flush();
      }
    }
  }
  flush();
  const auto max_len = static_cast<std::size_t>(t.max_position_embeddings);
  if (ids.size() > max_len - 1) ids.resize(max_len - 1);  // truncation, as the tokenizer does
  ids.resize(max_len, t.eos_token_id);                    // EOS, then EOS padding
  return torch::tensor(ids, torch::kLong).unsqueeze(0);
}

torch::Tensor StableDiffusion::encode_prompt(const std::string& prompt) { return text_encoder(tokenize(prompt)); }

torch::Tensor StableDiffusion::initial_latents(int resolution, std::uint64_t seed, double init_sigma) const {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  int64_t side = resolution / 8;
  return torch::randn({1, config_.unet.in_channels, side, side}, gen, torch::kFloat32) * init_sigma;
}

torch::Tensor StableDiffusion::decode(const torch::Tensor& latents) {
  return (vae(latents).to(torch::kFloat32) / 2 + 0.5).clamp(0, 1);
}

torch::Tensor StableDiffusion::generate(const std::string& prompt, const SdRunOptions& o) {
  const int multiple = 8 << (config_.unet.block_out_channels.size() - 1);
  if (o.resolution <= 0 || o.resolution % multiple != 0)
    throw InputError(fmt::format("resolution must be a positive multiple of {} for this UNet, got {}", multiple,
                                 o.resolution));
  auto dtype = unet->parameters().front().scalar_type();
  auto scheduler = make_scheduler(o.scheduler, o.steps);
  const bool batched = o.guidance_scale > 1.0 || o.force_batched_guidance;
  auto cond = encode_prompt(prompt);
  auto context = batched ? torch::cat({encode_prompt(""), cond}) : cond;
  auto latents = initial_latents(o.resolution, o.latent_seed, scheduler->init_noise_sigma());
  const auto& ts = scheduler->timesteps();
  for (std::size_t i = 0; i < ts.size(); ++i) {
    auto x = scheduler->scale_model_input(batched ? torch::cat({latents, latents}) : latents, i);
    auto eps = unet(x.to(dtype), torch::tensor(ts[i]), context).to(torch::kFloat32);
    if (batched) {
      auto halves = eps.chunk(2);
      eps = halves[0] + o.guidance_scale * (halves[1] - halves[0]);
    }
    latents = scheduler->step(eps, i, latents);
  }
  return decode(latents.to(dtype));
}

namespace {

ModelInfo sd_info(std::string name, std::string size, std::int64_t text, std::int64_t unet, std::int64_t vae) {
  ModelInfo m = preset_info(std::move(name), Task::text_to_image, "stable-diffusion", std::move(size), text + unet + vae);
  m.parts = {{"text_encoder", text}, {"unet", unet}, {"vae_decoder", vae}};
  return m;
}

class TextToImageModel : public Model {
 public:
  TextToImageModel(ModelInfo info, const LoadOptions& given) : info_(std::move(info)) {
    const LoadOptions options = resolve_weights(info_.name, given, "unet");
    rt_ = apply_load_options(options);
    auto cfg = info_.size_class == "tiny"                ? sd_tiny_config()
               : info_.name == "runwayml/stable-diffusion-v1-5" ? sd15_config()
                                                                : bk_sdm_tiny_config();
    sd_ = std::make_unique<StableDiffusion>(cfg);
    // diffusers folders: text_encoder/, unet/, vae/ (the VAE's encoder is not used).
    auto part_options = [&](const std::string& sub, std::uint64_t salt) {
      LoadOptions o = options;
      o.seed = options.seed * 1000003ULL + salt;  // different random weights per part
      if (!options.weights_dir.empty()) o.weights_dir = (std::filesystem::path(options.weights_dir) / sub).string();
      return o;
    };
    StateDictRules vae_rules;
    vae_rules.ignore_unexpected = {std::regex("encoder\\..*"), std::regex("quant_conv\\..*")};
    StateDictRules text_rules;
    text_rules.ignore_unexpected = {std::regex(".*position_ids")};
    bool a = init_weights(*sd_->text_encoder, part_options("text_encoder", 1), rt_, text_rules);
    bool b = init_weights(*sd_->unet, part_options("unet", 2), rt_);
    bool c = init_weights(*sd_->vae, part_options("vae", 3), rt_, vae_rules, rename_legacy_vae_attention);
    info_.weights_found = a && b && c;
    if (info_.weights_found) info_.weights_path = options.weights_dir;
    info_.parts = {{"text_encoder", count_parameters(*sd_->text_encoder)},
                   {"unet", count_parameters(*sd_->unet)},
                   {"vae_decoder", count_parameters(*sd_->vae)}};
    info_.parameters = 0;
    for (const auto& p : info_.parts) info_.parameters += p.parameters;
    run_.steps = options.steps.value_or(50);
    run_.resolution = options.resolution.value_or(cfg.default_resolution);
    run_.guidance_scale = options.guidance_scale.value_or(7.5);
    run_.scheduler = options.scheduler.empty() ? "pndm" : options.scheduler;
    make_scheduler(run_.scheduler, run_.steps);  // validate now, not at the first inference
    seed_ = options.seed;
    output_dir_ = options.output_dir;
  }

  const ModelInfo& info() const override { return info_; }

  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override {
    torch::InferenceMode guard;
    std::vector<InferenceOutput> out;
    for (const auto& in : batch) {
      SdRunOptions o = run_;
      // Latents depend on the seed and the prompt only: the same prompt gives the same image.
      o.latent_seed = seed_ ^ std::hash<std::string>{}(in.text);
      auto image = sd_->generate(in.text, o);
      InferenceOutput r;
      r.input_tokens = static_cast<std::int64_t>(sd_->config().text.max_position_embeddings);
      r.text = fmt::format("{}x{} image, {} steps ({}), guidance {}", run_.resolution, run_.resolution, run_.steps,
                           run_.scheduler, run_.guidance_scale);
      if (!output_dir_.empty()) {
        std::filesystem::create_directories(output_dir_);
        auto path = std::filesystem::path(output_dir_) / fmt::format("image-{:05d}.png", written_++);
        write_png(path.string(), tensor_to_image(image));
        r.image_png_path = path.string();
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  ModelInfo info_;
  RuntimeOptions rt_;
  std::unique_ptr<StableDiffusion> sd_;
  SdRunOptions run_;
  std::uint64_t seed_ = 0;
  std::string output_dir_;
  int written_ = 0;
};

}  // namespace

std::vector<ModelInfo> text_to_image_infos() {
  // Hugging Face counts: CLIPTextModel 123,060,480; UNet2DConditionModel
  // 859,520,964 (SD 1.5); AutoencoderKL decoder + post_quant_conv 49,490,199.
  return {
      sd_info("runwayml/stable-diffusion-v1-5", "study", 123'060'480, 859'520'964, 49'490'199),
      sd_info("nota-ai/bk-sdm-tiny", "small", 123'060'480, 323'384'964, 49'490'199),
      sd_info("segmind/tiny-sd", "small", 123'060'480, 323'384'964, 49'490'199),
      sd_info("stable-diffusion-tiny", "tiny", 0, 0, 0),
  };
}

std::unique_ptr<Model> load_text_to_image(const ModelInfo& info, const LoadOptions& options) {
  return std::make_unique<TextToImageModel>(info, options);
}

}  // namespace joulebench::models::vision
