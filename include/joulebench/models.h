// The model zoo seen from outside: a light header (no libtorch) so that the
// CLI, bench and reports can list and run models without compiling torch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench {

// The study's ten tasks; to_string gives the kebab-case names of the contract
// ("text-classification", ..., "image-to-text", "text-to-image").
enum class Task {
  text_classification,
  token_classification,
  question_answering,
  fill_mask,
  text_generation,
  summarization,
  image_classification,
  object_detection,
  image_to_text,
  text_to_image,
};

std::string_view to_string(Task t);
std::optional<Task> task_from_string(std::string_view s);
const std::vector<Task>& all_tasks();
// "text" or "image" (the modality of the task's input).
std::string_view modality(Task t);

struct ModelPart {
  std::string name;  // "text_encoder", "unet", "vae_decoder"
  std::int64_t parameters = 0;
};

struct ModelInfo {
  std::string name;         // Hugging Face id for the study's models, else a preset name
  Task task = Task::text_classification;
  std::string family;       // "bert", "gpt2", "resnet", "stable-diffusion", ...
  std::string size_class;   // "tiny" (tests), "small" (default bench), "study"
  bool multi_purpose = false;        // Flan-T5, BLOOMz used zero-shot
  std::int64_t parameters = 0;       // bare model, as HF num_parameters() of the base model
  std::int64_t head_parameters = 0;  // task head on top
  std::vector<ModelPart> parts;      // pipelines: the sum of parts is `parameters`
  bool weights_found = false;        // real weights found locally (else seeded random)
  std::string weights_path;
};

// One inference input. Text tasks use `text` (and `context` for extractive QA);
// image tasks use `image_path`; text-to-image uses `text` as the prompt.
struct InferenceInput {
  std::string text;
  std::string context;
  std::string image_path;
};

struct InferenceOutput {
  std::string text;  // label, answer span, generated text, caption, detections summary
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;  // generated tokens (0 for non-generative tasks)
  std::string image_png_path;      // text-to-image, when LoadOptions::output_dir is set
};

struct LoadOptions {
  std::string device = "cpu";  // "cpu", "cuda", "cuda:1"
  std::string dtype = "fp32";  // "fp32", "bf16", "fp16"
  int threads = 0;             // 0 = libtorch default
  std::uint64_t seed = 0;      // seeded random weights when no checkpoint is found
  std::string weights_dir;     // a folder with config.json + *.safetensors (optional)
  std::optional<int> max_new_tokens;  // generation override (else the study's value)
  std::optional<int> min_new_tokens;
  std::optional<int> steps;           // diffusion steps (default 50)
  std::optional<int> resolution;      // image side in pixels
  std::optional<double> guidance_scale;  // text-to-image classifier-free guidance (default 7.5; <= 1: one pass)
  std::string scheduler;              // text-to-image: "pndm" (default, as SD 1.5), "ddim", "euler"
  std::string output_dir;             // where generated images go (empty: not written)
  // Multi-purpose models (Flan-T5, BLOOMz) serve several tasks under one name:
  // the task whose zero-shot prompt to use (else the first listed).
  std::optional<Task> task;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;
  // Runs one batch and returns one output per input. Synchronises the device
  // before returning, so that the work belongs to the caller's window.
  virtual std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) = 0;
};

// Every preset of the zoo (text and vision).
std::vector<ModelInfo> list_models();
// Throws InputError naming the valid presets when `name` is unknown.
std::unique_ptr<Model> load_model(std::string_view name, const LoadOptions& options = {});

}  // namespace joulebench
