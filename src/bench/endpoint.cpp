// A live OpenAI-compatible inference server as a Model: one HTTP request per
// input, token counts from the response's `usage`, bounded retries with a
// timeout. The energy is the machine's (the usual case: the server runs on
// this host) and the server's process tree with --server-pid.
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "joulebench/bench.h"
#include "joulebench/error.h"
#include "net/http.h"

namespace joulebench {
namespace {

enum class Api { completions, chat, embeddings, images };

Api api_of(const std::string& path) {
  if (path.ends_with("/chat/completions")) return Api::chat;
  if (path.ends_with("/completions")) return Api::completions;
  if (path.ends_with("/embeddings")) return Api::embeddings;
  if (path.ends_with("/images/generations")) return Api::images;
  throw InputError(fmt::format("--endpoint {}: expected a path ending in /v1/completions, /v1/chat/completions, "
                               "/v1/embeddings or /v1/images/generations",
                               path));
}

class EndpointModel final : public Model {
 public:
  EndpointModel(EndpointOptions options, Task task) : options_(std::move(options)) {
    const auto url = net::split_http_url(options_.url);
    if (!url) throw InputError(fmt::format("--endpoint {}: must start with http:// or https://", options_.url));
    origin_ = url->origin;
    path_ = url->path.empty() ? "/v1/completions" : url->path;
    api_ = api_of(path_);
    if (options_.retries < 0) throw InputError("--retries: expected 0 or more");
    if (options_.timeout_s <= 0) throw InputError("--timeout: expected seconds above 0");
    info_.name = options_.model.empty() ? options_.url : options_.model;
    info_.task = task;
    info_.family = "endpoint";
    info_.size_class = "endpoint";
  }

  const ModelInfo& info() const override { return info_; }

  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override {
    std::vector<InferenceOutput> out;
    out.reserve(batch.size());
    for (const auto& in : batch) out.push_back(one(in));
    return out;
  }

 private:
  nlohmann::json body(const InferenceInput& in) const {
    std::string prompt = in.text;
    if (!in.context.empty()) prompt = fmt::format("{}\n\nQuestion: {}\nAnswer:", in.context, in.text);
    nlohmann::json j;
    if (!options_.model.empty()) j["model"] = options_.model;
    switch (api_) {
      case Api::completions:
        j["prompt"] = prompt;
        j["max_tokens"] = options_.max_tokens;
        j["temperature"] = 0;
        break;
      case Api::chat:
        j["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", prompt}}});
        j["max_tokens"] = options_.max_tokens;
        j["temperature"] = 0;
        break;
      case Api::embeddings:
        j["input"] = prompt;
        break;
      case Api::images:
        j["prompt"] = prompt;
        j["n"] = 1;
        j["size"] = options_.image_size;
        break;
    }
    return j;
  }

  InferenceOutput one(const InferenceInput& in) {
    const std::string payload = body(in).dump();
    std::string last_error;
    for (int attempt = 0; attempt <= options_.retries; ++attempt) {
      if (attempt > 0)
        std::this_thread::sleep_for(std::chrono::duration<double>(options_.retry_backoff_s * attempt));
      // One kept-alive connection for the campaign, as real clients hold.
      if (!client_) client_ = net::connect_http(origin_, options_.timeout_s);
      net::HttpHeaders headers;
      if (!options_.api_key.empty()) headers.emplace_back("Authorization", "Bearer " + options_.api_key);
      const auto res = client_->post(path_, headers, payload, "application/json", last_error);
      if (!res) {
        client_.reset();  // connection refused, timeout: worth another try, on a new connection
        continue;
      }
      if (res->status >= 500 || res->status == 429) {
        last_error = fmt::format("HTTP {}", res->status);
        continue;
      }
      if (res->status != 200)  // the request itself is wrong: retrying will not help
        throw Error(fmt::format("endpoint {}{}: HTTP {}: {}", origin_, path_, res->status, res->body.substr(0, 200)));
      const auto j = nlohmann::json::parse(res->body, nullptr, false);
      if (!j.is_object())
        throw Error(fmt::format("endpoint {}{}: the answer is not a JSON object", origin_, path_));
      InferenceOutput o;
      if (j.contains("usage") && j["usage"].is_object()) {
        o.input_tokens = j["usage"].value("prompt_tokens", std::int64_t{0});
        o.output_tokens = j["usage"].value("completion_tokens", std::int64_t{0});
      }
      if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
        const auto& c = j["choices"][0];
        if (c.contains("text") && c["text"].is_string()) o.text = c["text"];
        else if (c.contains("message") && c["message"].is_object()) o.text = c["message"].value("content", "");
      }
      return o;
    }
    throw Error(fmt::format("endpoint {}{}: no answer after {} attempt(s) (timeout {:g} s): {}", origin_, path_,
                            options_.retries + 1, options_.timeout_s, last_error));
  }

  EndpointOptions options_;
  ModelInfo info_;
  std::string origin_, path_;
  Api api_ = Api::completions;
  std::unique_ptr<net::HttpClient> client_;
};

}  // namespace

std::unique_ptr<Model> make_endpoint_model(const EndpointOptions& options, Task task) {
  return std::make_unique<EndpointModel>(options, task);
}

}  // namespace joulebench
