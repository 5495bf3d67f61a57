// SentencePiece models (T5's spiece.model) through Debian's libsentencepiece,
// reached through a dlopen()ed shim (see sentencepiece_shim.cpp for why).
#include <dlfcn.h>
#include <fmt/format.h>

#include <mutex>

#include "joulebench/error.h"
#include "models/tokenizers/tokenizer.h"
#include "core/paths.h"

namespace joulebench::models {
namespace {

struct ShimApi {
  void* (*load)(const char*, char*, int) = nullptr;
  void (*destroy)(void*) = nullptr;
  int (*encode)(void*, const char*, int, int**) = nullptr;
  int (*decode)(void*, const int*, int, char**) = nullptr;
  void (*free_fn)(void*) = nullptr;
  int (*piece_size)(void*) = nullptr;
  int (*piece_to_id)(void*, const char*) = nullptr;
  int (*is_control)(void*, int) = nullptr;
};

const ShimApi& shim() {
  static std::once_flag once;
  static ShimApi api;
  static std::string error;
  std::call_once(once, [] {
    void* lib = nullptr;
    // Found as the other plugins are (core/paths.h), then by the loader's own search.
    auto paths = core::plugin_paths("libjoulebench_sentencepiece.so");
    paths.emplace_back("libjoulebench_sentencepiece.so");
    for (const auto& path : paths) {
      lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (lib) break;
      if (const char* why = dlerror()) error = why;
    }
    if (!lib) return;
    auto sym = [&](const char* name) { return dlsym(lib, name); };
    api.load = reinterpret_cast<decltype(api.load)>(sym("jb_spm_load"));
    api.destroy = reinterpret_cast<decltype(api.destroy)>(sym("jb_spm_destroy"));
    api.encode = reinterpret_cast<decltype(api.encode)>(sym("jb_spm_encode"));
    api.decode = reinterpret_cast<decltype(api.decode)>(sym("jb_spm_decode"));
    api.free_fn = reinterpret_cast<decltype(api.free_fn)>(sym("jb_spm_free"));
    api.piece_size = reinterpret_cast<decltype(api.piece_size)>(sym("jb_spm_piece_size"));
    api.piece_to_id = reinterpret_cast<decltype(api.piece_to_id)>(sym("jb_spm_piece_to_id"));
    api.is_control = reinterpret_cast<decltype(api.is_control)>(sym("jb_spm_is_control"));
  });
  if (!api.load) {
    throw Error(fmt::format("SentencePiece support is not available: cannot load libjoulebench_sentencepiece.so ({}); "
                            "install libsentencepiece0 and rebuild",
                            error));
  }
  return api;
}

class SentencePiece final : public Tokenizer {
 public:
  explicit SentencePiece(const std::filesystem::path& model) : api_(shim()) {
    char err[512] = {0};
    handle_ = api_.load(model.string().c_str(), err, sizeof err);
    if (!handle_) throw InputError(fmt::format("cannot load SentencePiece model '{}': {}", model.string(), err));
  }
  ~SentencePiece() override { api_.destroy(handle_); }
  SentencePiece(const SentencePiece&) = delete;
  SentencePiece& operator=(const SentencePiece&) = delete;

  std::vector<std::int64_t> encode(std::string_view text) const override {
    if (text.empty()) return {};
    int* ids = nullptr;
    const int n = api_.encode(handle_, text.data(), static_cast<int>(text.size()), &ids);
    if (n < 0) throw Error("SentencePiece encode failed");
    std::vector<std::int64_t> out(ids, ids + n);
    api_.free_fn(ids);
    return out;
  }
  std::string decode(std::span<const std::int64_t> ids) const override {
    std::vector<int> kept;
    const int size = api_.piece_size(handle_);
    for (auto id : ids) {
      if (id >= 0 && id < size && !api_.is_control(handle_, static_cast<int>(id))) kept.push_back(static_cast<int>(id));
    }
    char* text = nullptr;
    const int n = api_.decode(handle_, kept.data(), static_cast<int>(kept.size()), &text);
    if (n < 0) throw Error("SentencePiece decode failed");
    std::string out(text, static_cast<std::size_t>(n));
    api_.free_fn(text);
    return out;
  }
  std::int64_t vocab_size() const override { return api_.piece_size(handle_); }
  std::optional<std::int64_t> token_id(std::string_view token) const override {
    const int id = api_.piece_to_id(handle_, std::string(token).c_str());
    if (id < 0) return std::nullopt;
    return id;
  }
  std::string kind() const override { return "sentencepiece"; }

 private:
  const ShimApi& api_;
  void* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file) {
  return std::make_unique<SentencePiece>(model_file);
}

}  // namespace joulebench::models
