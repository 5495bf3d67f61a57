// How a user's TorchScript file is fed (torch-free, so that the CLI can
// check a description before the zoo plugin and libtorch are loaded):
// the TOML beside the .pt file, or the one named with --model-config.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/toml_file.h"
#include "joulebench/error.h"
#include "joulebench/models.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kTopKeys{"task", "name", "input", "output"};
const std::vector<std::string> kInputKeys{"length", "tokenizer", "vocab_size", "pad_id", "attention_mask",
                                          "height", "width", "mean", "std"};
const std::vector<std::string> kOutputKeys{"tokens", "labels"};

class TomlReader {
 public:
  explicit TomlReader(fs::path file) : file_(std::move(file)) {}

  std::string where(const toml::node& n, std::string_view key) const {
    return fmt::format("{}:{}: '{}'", file_.string(), n.source().begin.line, key);
  }
  void check_keys(const toml::table& t, const std::vector<std::string>& known, std::string_view table) const {
    for (const auto& [k, v] : t)
      if (std::find(known.begin(), known.end(), k.str()) == known.end())
        throw InputError(fmt::format("{}: unknown key{} (known: {})", where(v, k.str()),
                                     table.empty() ? "" : fmt::format(" in [{}]", table), fmt::join(known, ", ")));
  }
  template <class T>
  T get(const toml::node& n, std::string_view key, std::string_view expected) const {
    if (auto v = n.value<T>()) return *v;
    throw InputError(fmt::format("{}: expected {}", where(n, key), expected));
  }
  std::int64_t integer(const toml::node& n, std::string_view key, std::int64_t min) const {
    const auto v = get<std::int64_t>(n, key, "an integer");
    if (v < min) throw InputError(fmt::format("{}: expected at least {}, got {}", where(n, key), min, v));
    return v;
  }
  std::array<float, 3> triple(const toml::node& n, std::string_view key) const {
    const auto* a = n.as_array();
    if (!a || a->size() != 3) throw InputError(fmt::format("{}: expected 3 numbers (R, G, B)", where(n, key)));
    std::array<float, 3> out{};
    for (std::size_t i = 0; i < 3; ++i) out[i] = static_cast<float>(get<double>(*a->get(i), key, "a number"));
    return out;
  }
  const toml::table& table(const toml::node& n, std::string_view key) const {
    if (const auto* t = n.as_table()) return *t;
    throw InputError(fmt::format("{}: expected a table ([{}])", where(n, key), key));
  }

 private:
  fs::path file_;
};

void read_config(const fs::path& file, TorchScriptSpec& spec) {
  const toml::table root = core::read_toml_file(file);
  const TomlReader r(file);
  r.check_keys(root, kTopKeys, "");
  if (const auto* n = root.get("task")) {
    const auto name = r.get<std::string>(*n, "task", "a task name");
    spec.task = task_from_string(name);
    if (!spec.task) {
      throw InputError(fmt::format("{}: unknown task '{}'; valid tasks: {}", r.where(*n, "task"), name, task_names()));
    }
  }
  if (const auto* n = root.get("name")) spec.name = r.get<std::string>(*n, "name", "a string");
  if (const auto* n = root.get("input")) {
    const auto& in = r.table(*n, "input");
    r.check_keys(in, kInputKeys, "input");
    if (const auto* v = in.get("length")) spec.input_length = static_cast<int>(r.integer(*v, "length", 0));
    if (const auto* v = in.get("tokenizer")) {
      fs::path t = r.get<std::string>(*v, "tokenizer", "a path (tokenizer.json or a folder)");
      // Relative to the TOML's folder, as a user writes it next to the model.
      spec.tokenizer = t.is_absolute() ? t.string() : (file.parent_path() / t).lexically_normal().string();
    }
    if (const auto* v = in.get("vocab_size")) spec.vocab_size = r.integer(*v, "vocab_size", 9);
    if (const auto* v = in.get("pad_id")) spec.pad_id = r.integer(*v, "pad_id", 0);
    if (const auto* v = in.get("attention_mask")) spec.attention_mask = r.get<bool>(*v, "attention_mask", "true or false");
    if (const auto* v = in.get("height")) spec.image_height = static_cast<int>(r.integer(*v, "height", 1));
    if (const auto* v = in.get("width")) spec.image_width = static_cast<int>(r.integer(*v, "width", 1));
    if (const auto* v = in.get("mean")) spec.mean = r.triple(*v, "mean");
    if (const auto* v = in.get("std")) spec.std_dev = r.triple(*v, "std");
  }
  if (const auto* n = root.get("output")) {
    const auto& out = r.table(*n, "output");
    r.check_keys(out, kOutputKeys, "output");
    if (const auto* v = out.get("tokens")) {
      spec.output_tokens = r.get<std::string>(*v, "tokens", "\"none\", \"all\" or \"new\"");
      if (spec.output_tokens != "none" && spec.output_tokens != "all" && spec.output_tokens != "new")
        throw InputError(fmt::format("{}: '{}': expected \"none\", \"all\" or \"new\"", r.where(*v, "tokens"),
                                     spec.output_tokens));
    }
    if (const auto* v = out.get("labels")) {
      const auto* a = v->as_array();
      if (!a) throw InputError(fmt::format("{}: expected an array of strings", r.where(*v, "labels")));
      for (const auto& e : *a) spec.labels.push_back(r.get<std::string>(e, "labels", "a string"));
    }
  }
}

}  // namespace

bool is_torchscript_path(std::string_view model) {
  const fs::path p(model);
  const auto ext = p.extension().string();
  if (ext == ".pt" || ext == ".pth" || ext == ".ptl") return true;
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

TorchScriptSpec read_torchscript_spec(const std::string& path, const std::string& config) {
  TorchScriptSpec spec;
  spec.path = path;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw InputError(fmt::format("TorchScript file '{}' not found (--model takes a zoo preset, `joulebench models` "
                                 "lists them, or the path of a model saved with torch.jit.save)",
                                 path));
  // TorchScript archives are zip files; a pickle from torch.save(model) is not.
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  if (!in || std::string_view(magic, 4) != std::string_view("PK\x03\x04", 4))
    throw InputError(fmt::format("{}: not a TorchScript archive (not a zip file); save the model with "
                                 "torch.jit.script(model).save(path) or torch.jit.trace(model, example).save(path)",
                                 path));
  fs::path toml = config;
  if (toml.empty()) {
    fs::path beside = fs::path(path).replace_extension(".toml");
    if (fs::is_regular_file(beside, ec)) toml = beside;
  } else if (!fs::is_regular_file(toml, ec)) {
    throw InputError(fmt::format("--model-config {}: file not found", toml.string()));
  }
  if (!toml.empty()) {
    spec.config_path = toml.string();
    read_config(toml, spec);
  }
  return spec;
}

}  // namespace joulebench
