// A user's TorchScript file as a joulebench::Model: torch::jit::load, inputs
// made as the TorchScriptSpec describes them (token ids, or resized and
// normalised pixels), forward(), one output per row of its first tensor.
#include <fmt/format.h>
#include <torch/script.h>

#include <filesystem>

#include "joulebench/error.h"
#include "models/common/weights.h"
#include "models/tokenizers/tokenizer.h"
#include "models/vision/image_ops.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;

// The text of the load-time check.
constexpr const char* kSampleText = "The quick brown fox jumps over the lazy dog.";

// The names docs/bench.md uses (int64, float32), else libtorch's.
std::string dtype_name(c10::ScalarType t) {
  switch (t) {
    case torch::kInt64: return "int64";
    case torch::kFloat32: return "float32";
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat16: return "float16";
    default: return c10::toString(t);
  }
}

std::string shape_text(const torch::Tensor& t) {
  std::string s;
  for (auto d : t.sizes()) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return "[" + s + "]";
}

// The first tensor of a forward() result: a tensor, or the first one inside
// a tuple, list or dict (Hugging Face models return (logits, ...)).
std::optional<torch::Tensor> first_tensor(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor();
  if (v.isTuple())
    for (const auto& e : v.toTupleRef().elements())
      if (auto t = first_tensor(e)) return t;
  if (v.isList())
    for (const c10::IValue& e : v.toListRef())
      if (auto t = first_tensor(e)) return t;
  if (v.isGenericDict())
    for (const auto& kv : v.toGenericDict())
      if (auto t = first_tensor(kv.value())) return t;
  return std::nullopt;
}

// The line of an exception's message that says what went wrong: libtorch
// appends C++ stack traces, and the TorchScript interpreter puts its own
// traceback first and the model's error ("AssertionError: ...") last.
std::string reason_of(const std::exception& e) {
  const auto* c = dynamic_cast<const c10::Error*>(&e);
  const std::string msg = c ? c->what_without_backtrace() : e.what();
  if (msg.find("Traceback of TorchScript") == std::string::npos) return msg.substr(0, msg.find('\n'));
  auto end = msg.find_last_not_of(" \n");
  if (end == std::string::npos) return msg;
  const auto begin = msg.rfind('\n', end);
  return msg.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

class TorchScriptModel final : public Model {
 public:
  TorchScriptModel(TorchScriptSpec spec, Task task, const LoadOptions& options) : spec_(std::move(spec)) {
    rt_ = models::apply_load_options(options);
    text_ = modality(task) == "text";
    std::error_code ec;
    if (!fs::is_regular_file(spec_.path, ec))
      throw InputError(fmt::format("TorchScript file '{}' not found", spec_.path));
    try {
      module_ = torch::jit::load(spec_.path, rt_.device);
    } catch (const std::exception& e) {
      throw InputError(fmt::format(
          "{}: torch::jit::load cannot read it ({}); is it TorchScript? Save the model with "
          "torch.jit.script(model).save(path) or torch.jit.trace(model, example).save(path): a state_dict or "
          "torch.save(model) file is not",
          spec_.path, reason_of(e)));
    }
    if (!module_.find_method("forward"))
      throw InputError(fmt::format("{}: the TorchScript archive has no forward() method (tensors or a state_dict saved "
                                   "with torch.save?); save the model itself with torch.jit.script(model).save(path)",
                                   spec_.path));
    module_.eval();
    if (rt_.dtype != torch::kFloat32) module_.to(rt_.dtype);

    info_.name = spec_.name.empty() ? spec_.path : spec_.name;
    info_.task = task;
    info_.family = "torchscript";
    info_.size_class = "user";
    for (const auto& p : module_.parameters()) info_.parameters += p.numel();
    info_.weights_found = true;
    info_.weights_path = spec_.path;

    if (text_) {
      if (spec_.tokenizer.empty()) {
        tokenizer_ = models::make_builtin(spec_.vocab_size);
      } else if (fs::is_directory(spec_.tokenizer, ec)) {
        tokenizer_ = models::load_tokenizer_dir(spec_.tokenizer);
        if (!tokenizer_)
          throw InputError(fmt::format("{}: tokenizer folder {} has no tokenizer.json, vocab.txt, vocab.json + "
                                       "merges.txt or spiece.model",
                                       spec_.path, spec_.tokenizer));
      } else {
        tokenizer_ = models::load_tokenizer_json(spec_.tokenizer);
      }
    }
    check_forward();
  }

  const ModelInfo& info() const override { return info_; }

  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override {
    c10::InferenceMode guard;
    Prepared p = prepare(batch);
    return run(p);
  }

 private:
  // forward()'s arguments for one batch, with what the outputs need to know.
  struct Prepared {
    std::vector<c10::IValue> args;
    std::vector<std::int64_t> input_tokens;  // per input
    std::int64_t input_length = 0;           // dimension 1 of the ids (text)
  };

  Prepared prepare(std::span<const InferenceInput> batch) const {
    Prepared p;
    const auto b = static_cast<std::int64_t>(batch.size());
    if (!text_) {
      std::vector<torch::Tensor> pixels;
      for (const auto& in : batch) {
        if (in.image_path.empty())
          throw InputError(fmt::format("{}: task {} needs images (an input without image_path)", spec_.path,
                                       to_string(info_.task)));
        pixels.push_back(pixels_of(models::vision::image_to_tensor(models::vision::read_image(in.image_path))));
      }
      p.args.emplace_back(torch::cat(pixels).to(rt_.device, rt_.dtype));
      p.input_tokens.assign(batch.size(), 0);
      return p;
    }
    std::vector<std::vector<std::int64_t>> ids;
    for (const auto& in : batch) {
      auto row = tokenizer_->encode(in.context.empty() ? in.text : in.text + "\n" + in.context);
      if (spec_.input_length > 0 && row.size() > static_cast<std::size_t>(spec_.input_length))
        row.resize(static_cast<std::size_t>(spec_.input_length));
      p.input_tokens.push_back(static_cast<std::int64_t>(row.size()));
      p.input_length = std::max(p.input_length, p.input_tokens.back());
      ids.push_back(std::move(row));
    }
    if (spec_.input_length > 0) p.input_length = spec_.input_length;
    p.input_length = std::max<std::int64_t>(p.input_length, 1);
    auto x = torch::full({b, p.input_length}, spec_.pad_id, torch::kInt64);
    auto mask = torch::zeros({b, p.input_length}, torch::kInt64);
    for (std::int64_t i = 0; i < b; ++i) {
      const auto& row = ids[static_cast<std::size_t>(i)];
      const auto n = static_cast<std::int64_t>(row.size());
      if (n == 0) continue;
      x[i].slice(0, 0, n).copy_(torch::tensor(row, torch::kInt64));
      mask[i].slice(0, 0, n).fill_(1);
    }
    p.args.emplace_back(x.to(rt_.device));
    if (spec_.attention_mask) p.args.emplace_back(mask.to(rt_.device));
    return p;
  }

  std::vector<InferenceOutput> run(Prepared& p) {
    const auto b = static_cast<std::int64_t>(p.input_tokens.size());
    c10::IValue result;
    try {
      result = module_.forward(p.args);
    } catch (const std::exception& e) {
      throw Error(fmt::format("{}: forward() failed on {}: {}. Describe the model's inputs in {} (docs/bench.md, "
                              "\"TorchScript files\") or with --input-length / --image-size",
                              spec_.path, describe(p.args), reason_of(e), config_name()));
    }
    const auto out = first_tensor(result);
    if (!out)
      throw Error(fmt::format("{}: forward() returned {}, no tensor; bench expects a tensor with one row per input",
                              spec_.path, result.tagKind()));
    if (out->dim() == 0 || out->size(0) != b)
      throw Error(fmt::format("{}: forward() returned a tensor of shape {} for a batch of {}; bench expects one row "
                              "per input (dimension 0 = batch)",
                              spec_.path, shape_text(*out), b));
    // The work belongs to the caller's window.
    if (rt_.device.is_cuda()) torch::cuda::synchronize();

    const std::int64_t width = out->dim() >= 2 ? out->size(1) : 1;
    std::int64_t generated = 0;
    if (spec_.output_tokens == "all") generated = width;
    else if (spec_.output_tokens == "new") generated = std::max<std::int64_t>(0, width - p.input_length);
    // Only what the outputs need leaves the device (not whole logits).
    const auto rows = out->reshape({b, -1});
    const bool decode = text_ && generated > 0 && !rows.is_floating_point();
    torch::Tensor cpu;
    if (decode) cpu = rows.slice(1, rows.size(1) - generated).to(torch::kCPU, torch::kInt64).contiguous();
    else if (rows.size(1) > 0) cpu = rows.argmax(1).to(torch::kCPU, torch::kInt64).contiguous();
    std::vector<InferenceOutput> outputs(static_cast<std::size_t>(b));
    for (std::int64_t i = 0; i < b; ++i) {
      auto& o = outputs[static_cast<std::size_t>(i)];
      o.input_tokens = p.input_tokens[static_cast<std::size_t>(i)];
      o.output_tokens = generated;
      if (!cpu.defined()) continue;
      if (decode) {  // generated ids: the text of the counted ones
        const auto ids = cpu[i];
        o.text = tokenizer_->decode({ids.data_ptr<std::int64_t>(), static_cast<std::size_t>(ids.numel())});
      } else {  // a class: the row's argmax
        const auto k = cpu[i].item<std::int64_t>();
        o.text = k < static_cast<std::int64_t>(spec_.labels.size()) ? spec_.labels[static_cast<std::size_t>(k)]
                                                                   : std::to_string(k);
      }
    }
    return outputs;
  }

  static std::string describe(const std::vector<c10::IValue>& args) {
    std::string s;
    for (const auto& a : args) {
      const auto& t = a.toTensor();
      s += fmt::format("{}{} {}", s.empty() ? "" : " and ", dtype_name(t.scalar_type()), shape_text(t));
    }
    return s;
  }

  std::string config_name() const {
    return spec_.config_path.empty() ? fs::path(spec_.path).replace_extension(".toml").string() : spec_.config_path;
  }

  // [1, 3, H, W] in [0, 1] -> the described size, normalised.
  torch::Tensor pixels_of(const torch::Tensor& image01) const {
    namespace v = models::vision;
    return v::normalize(v::resize(image01, spec_.image_height, spec_.image_width, v::Resample::bilinear), spec_.mean,
                        spec_.std_dev);
  }

  // One forward() on a sample of the described shape (a short sentence, a
  // mid-grey picture), so that a description that does not fit the model is
  // bad input at load, before anything is measured.
  void check_forward() {
    c10::InferenceMode guard;
    try {
      Prepared p;
      if (text_) {
        InferenceInput sample;
        sample.text = kSampleText;
        p = prepare(std::span<const InferenceInput>(&sample, 1));
      } else {
        p.args.emplace_back(pixels_of(torch::full({1, 3, spec_.image_height, spec_.image_width}, 0.5f))
                                .to(rt_.device, rt_.dtype));
        p.input_tokens = {0};
      }
      (void)run(p);
    } catch (const std::exception& e) {
      throw InputError(e.what());
    }
  }

  TorchScriptSpec spec_;
  models::RuntimeOptions rt_;
  bool text_ = true;
  torch::jit::Module module_;
  std::unique_ptr<models::Tokenizer> tokenizer_;
  ModelInfo info_;
};

}  // namespace

std::unique_ptr<Model> load_torchscript(const TorchScriptSpec& spec, const LoadOptions& options) {
  const auto task = options.task ? options.task : spec.task;
  if (!task)
    throw InputError(fmt::format("{}: which task does this TorchScript model serve? Give --task or task = \"...\" "
                                 "in its TOML (docs/bench.md, \"TorchScript files\")",
                                 spec.path));
  return std::make_unique<TorchScriptModel>(spec, *task, options);
}

}  // namespace joulebench
