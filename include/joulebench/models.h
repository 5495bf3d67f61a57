// The model zoo seen from outside: a light header (no libtorch) so that the
// CLI, bench and reports can list and run models without compiling torch.
#pragma once

#include <array>
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
// Every task's name, ", "-separated: what an error about a task lists.
std::string task_names();
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
  // Its job when not the task's usual one ("language identification" for
  // fastText lid under text-classification): not ranked against the task's models.
  std::string purpose;
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

// ---- TorchScript files (`bench --model path/to/model.pt`) --------------------
// A user's model saved with torch.jit.script(...).save() / torch.jit.trace or
// torch::jit::Module::save, run as one task's model. How forward() is called
// and what its output means (docs/bench.md, "TorchScript files"):
struct TorchScriptSpec {
  std::string path;         // the .pt file
  std::string config_path;  // the TOML it was described in (empty: none), for messages
  std::string name;         // the model's name in the store and tables (empty: `path`)
  std::optional<Task> task;  // the TOML's `task`; the campaign's task (LoadOptions::task) wins
  // Text tasks: forward(ids) with ids int64 [batch, length] (question, then context, for QA).
  int input_length = 0;     // ids cut and padded to this; 0: each batch padded to its longest input
  std::string tokenizer;    // empty: the built-in tokenizer; else a tokenizer.json or a folder of vocab files
  std::int64_t vocab_size = 30522;  // built-in tokenizer: ids in [8, vocab_size)
  std::int64_t pad_id = 0;
  bool attention_mask = false;  // forward(ids, mask), mask int64 [batch, length], 1 = token
  // Image tasks: forward(pixels) with pixels [batch, 3, height, width], RGB in [0, 1]
  // resized, then (x - mean) / std; float32 (or the --dtype).
  int image_height = 224;
  int image_width = 224;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // ImageNet's, as most vision models
  std::array<float, 3> std_dev{0.229f, 0.224f, 0.225f};
  // Output: the first tensor forward() returns (also inside a tuple, list or
  // dict), one row per input. Generated tokens: "none"; "all" = its dimension
  // 1; "new" = dimension 1 minus the input length (models that return prompt
  // + continuation, as Hugging Face generate() does).
  std::string output_tokens = "none";
  std::vector<std::string> labels;  // class names: a row's argmax names the output (else its index)
};

// Whether a --model value names a TorchScript file: it ends in .pt, .pth or
// .ptl, or is an existing file (zoo preset names are neither).
bool is_torchscript_path(std::string_view model);

// The description of TorchScript file `path`: read from `config` (a TOML
// file), or when `config` is empty from PATH's name with .toml (model.pt ->
// model.toml) when that file exists, else the defaults. Checks that `path`
// exists and is a zip archive (TorchScript's format). Throws InputError
// naming the file and what to do.
TorchScriptSpec read_torchscript_spec(const std::string& path, const std::string& config = "");

// Loads `spec.path` with torch::jit::load (in the zoo plugin) for task
// `options.task` (else spec.task) and runs forward() once on a sample input
// of the described shape, so that a description that does not fit fails
// here. Throws InputError naming the file and what to do: not found, not a
// TorchScript archive, forward() failing on the described input.
std::unique_ptr<Model> load_torchscript(const TorchScriptSpec& spec, const LoadOptions& options = {});

// The zoo's machinery as it runs: libtorch, CUDA, and the BLAS kernel its
// matrix products use (docs/measurement.md, "The BLAS kernel"). Loads the
// zoo plugin (and so libtorch) when it is not loaded yet.
struct RuntimeInfo {
  std::string torch_version;  // "2.0.1"
  bool cuda_available = false;
  int cuda_devices = 0;
  int intra_op_threads = 0;   // at::get_num_threads()
  std::string blas_library;   // OpenBLAS's openblas_get_config() ("OpenBLAS 0.3.21 DYNAMIC_ARCH ..."), "" unknown
  std::string blas_core;      // the kernel in use ("Zen", "SkylakeX", "Prescott"), "" unknown
  std::string blas_core_chosen_by;  // who chose it, in words
};
RuntimeInfo zoo_runtime_info();

// Every preset of the zoo (text and vision).
std::vector<ModelInfo> list_models();
// Throws InputError naming the valid presets when `name` is unknown.
std::unique_ptr<Model> load_model(std::string_view name, const LoadOptions& options = {});

}  // namespace joulebench
