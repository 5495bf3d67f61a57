// A small OpenAI-compatible HTTP server on 127.0.0.1 backed by zoo models,
// for tests: GET /v1/models, POST /v1/completions and /v1/chat/completions
// (greedy generation with a zoo text-generation preset, exactly max_tokens
// new tokens), POST /v1/embeddings (a zoo encoder runs on the text and
// counts its tokens; the vector is a stand-in: the zoo's Model API returns
// no hidden states). Answers and errors have OpenAI's JSON shapes, so that
// real clients (the `openai` npm package, joulebench bench --endpoint) can
// talk to it. No streaming. Needs the zoo (the plugin, through load_model).
#pragma once

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "joulebench/models.h"

namespace jbtest {

class OpenAiTestServer {
 public:
  static constexpr int kEmbeddingDimensions = 16;

  explicit OpenAiTestServer(std::string generator = "tiny-gpt2", std::string encoder = "tiny-bert-mlm")
      : generator_(std::move(generator)), encoder_(std::move(encoder)) {
    server_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      nlohmann::json data = nlohmann::json::array();
      for (const auto& id : {generator_, encoder_})
        data.push_back({{"id", id}, {"object", "model"}, {"created", kCreated}, {"owned_by", "joulebench"}});
      res.set_content(nlohmann::json{{"object", "list"}, {"data", data}}.dump(), "application/json");
    });
    post("/v1/completions", [this](const nlohmann::json& body) { return completions(body); });
    post("/v1/chat/completions", [this](const nlohmann::json& body) { return chat(body); });
    post("/v1/embeddings", [this](const nlohmann::json& body) { return embeddings(body); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~OpenAiTestServer() {
    server_.stop();
    thread_.join();
  }
  OpenAiTestServer(const OpenAiTestServer&) = delete;
  OpenAiTestServer& operator=(const OpenAiTestServer&) = delete;

  // http://127.0.0.1:PORT/v1, the base URL OpenAI clients take.
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  const std::string& generator() const { return generator_; }
  const std::string& encoder() const { return encoder_; }
  int requests() const { return requests_; }
  // prompt_tokens of every answered request, in order.
  std::vector<std::int64_t> prompt_tokens() {
    std::lock_guard lock(mutex_);
    return prompt_tokens_;
  }

  // What the server answers, for tests to compare with what a client got.
  joulebench::InferenceOutput generate(const std::string& prompt, int max_tokens) {
    std::lock_guard lock(mutex_);
    return run_generator(prompt, max_tokens);
  }
  // The one prompt a chat becomes: "role: content" lines, then "assistant:".
  static std::string chat_prompt(const nlohmann::json& messages) {
    std::string prompt;
    for (const auto& m : messages) {
      const auto& c = m.at("content");
      std::string text;
      if (c.is_string()) text = c.get<std::string>();
      else
        for (const auto& part : c)
          if (part.value("type", "") == "text") text += part.at("text").get<std::string>();
      prompt += m.at("role").get<std::string>() + ": " + text + "\n";
    }
    return prompt + "assistant:";
  }
  // A unit vector from the text's words (hashed into kEmbeddingDimensions buckets).
  static std::vector<float> embedding(const std::string& text) {
    std::vector<float> v(kEmbeddingDimensions, 0.0f);
    std::uint64_t h = 1469598103934665603ULL;
    for (char c : text + " ") {
      if (c == ' ') {
        v[h % kEmbeddingDimensions] += 1.0f;
        h = 1469598103934665603ULL;
      } else {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
      }
    }
    float norm = 0.0f;
    for (float x : v) norm += x * x;
    for (float& x : v) x /= std::sqrt(std::max(norm, 1e-12f));
    return v;
  }

 private:
  static constexpr std::int64_t kCreated = 1700000000;
  struct Failure {
    int status;
    std::string message, code;
  };

  void post(const std::string& path, std::function<nlohmann::json(const nlohmann::json&)> handler) {
    server_.Post(path, [this, handler](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      try {
        const auto body = nlohmann::json::parse(req.body);
        if (!body.is_object()) throw Failure{400, "the request body must be a JSON object", "invalid_body"};
        if (body.value("stream", false)) throw Failure{400, "this test server does not stream", "unsupported"};
        res.set_content(handler(body).dump(), "application/json");
      } catch (const Failure& f) {
        fail(res, f);
      } catch (const nlohmann::json::exception& e) {
        fail(res, {400, std::string("bad request: ") + e.what(), "invalid_request"});
      } catch (const std::exception& e) {
        fail(res, {500, e.what(), "server_error"});
      }
    });
  }
  // OpenAI's error object, as clients parse it.
  static void fail(httplib::Response& res, const Failure& f) {
    res.status = f.status;
    res.set_content(nlohmann::json{{"error",
                                    {{"message", f.message},
                                     {"type", "invalid_request_error"},
                                     {"param", nullptr},
                                     {"code", f.code}}}}
                        .dump(),
                    "application/json");
  }
  std::string model_of(const nlohmann::json& body, const std::string& served) const {
    const std::string model = body.value("model", served);
    if (model != served)
      throw Failure{404, "The model '" + model + "' does not exist or is not served here (" + served + ")",
                    "model_not_found"};
    return model;
  }
  static int max_tokens_of(const nlohmann::json& body) {
    int n = body.value("max_tokens", body.value("max_completion_tokens", 16));
    if (n < 1) throw Failure{400, "max_tokens must be at least 1", "invalid_value"};
    return n;
  }
  std::string next_id(const char* prefix) { return prefix + std::to_string(++ids_); }

  // Under mutex_. One model per max_tokens: the zoo fixes it at load.
  joulebench::InferenceOutput run_generator(const std::string& prompt, int max_tokens) {
    auto& model = generators_[max_tokens];
    if (!model) {
      joulebench::LoadOptions o;
      o.task = joulebench::Task::text_generation;
      o.max_new_tokens = max_tokens;
      o.min_new_tokens = max_tokens;
      model = joulebench::load_model(generator_, o);
    }
    joulebench::InferenceInput in;
    in.text = prompt;
    return model->infer(std::span<const joulebench::InferenceInput>(&in, 1)).at(0);
  }

  // Under mutex_. Embeddings have no completion tokens.
  nlohmann::json usage(std::int64_t prompt, std::optional<std::int64_t> completion) {
    prompt_tokens_.push_back(prompt);
    nlohmann::json u = {{"prompt_tokens", prompt}, {"total_tokens", prompt + completion.value_or(0)}};
    if (completion) u["completion_tokens"] = *completion;
    return u;
  }

  nlohmann::json completions(const nlohmann::json& body) {
    const auto model = model_of(body, generator_);
    const int max_tokens = max_tokens_of(body);
    std::vector<std::string> prompts;
    const auto& p = body.at("prompt");
    if (p.is_string()) prompts.push_back(p.get<std::string>());
    else if (p.is_array())
      for (const auto& e : p) prompts.push_back(e.get<std::string>());
    else throw Failure{400, "prompt must be a string or an array of strings", "invalid_prompt"};
    std::lock_guard lock(mutex_);
    nlohmann::json choices = nlohmann::json::array();
    std::int64_t in = 0, out = 0;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      const auto o = run_generator(prompts[i], max_tokens);
      in += o.input_tokens;
      out += o.output_tokens;
      choices.push_back({{"text", o.text}, {"index", i}, {"logprobs", nullptr}, {"finish_reason", "length"}});
    }
    return {{"id", next_id("cmpl-")}, {"object", "text_completion"}, {"created", kCreated}, {"model", model},
            {"choices", choices}, {"usage", usage(in, out)}};
  }

  nlohmann::json chat(const nlohmann::json& body) {
    const auto model = model_of(body, generator_);
    const int max_tokens = max_tokens_of(body);
    const auto& messages = body.at("messages");
    if (!messages.is_array() || messages.empty())
      throw Failure{400, "messages must be a non-empty array", "invalid_messages"};
    const std::string prompt = chat_prompt(messages);
    std::lock_guard lock(mutex_);
    const auto o = run_generator(prompt, max_tokens);
    nlohmann::json message = {{"role", "assistant"}, {"content", o.text}, {"refusal", nullptr}};
    return {{"id", next_id("chatcmpl-")},
            {"object", "chat.completion"},
            {"created", kCreated},
            {"model", model},
            {"choices", {{{"index", 0}, {"message", message}, {"logprobs", nullptr}, {"finish_reason", "length"}}}},
            {"usage", usage(o.input_tokens, o.output_tokens)}};
  }

  nlohmann::json embeddings(const nlohmann::json& body) {
    const auto model = model_of(body, encoder_);
    std::vector<std::string> texts;
    const auto& input = body.at("input");
    if (input.is_string()) texts.push_back(input.get<std::string>());
    else if (input.is_array())
      for (const auto& e : input) texts.push_back(e.get<std::string>());
    else throw Failure{400, "input must be a string or an array of strings", "invalid_input"};
    const std::string format = body.value("encoding_format", "float");
    if (format != "float" && format != "base64")
      throw Failure{400, "encoding_format must be float or base64", "invalid_encoding_format"};
    std::lock_guard lock(mutex_);
    if (!encoder_model_) {
      joulebench::LoadOptions o;
      o.task = joulebench::Task::fill_mask;
      encoder_model_ = joulebench::load_model(encoder_, o);
    }
    nlohmann::json data = nlohmann::json::array();
    std::int64_t tokens = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      joulebench::InferenceInput in;
      in.text = texts[i];
      tokens += encoder_model_->infer(std::span<const joulebench::InferenceInput>(&in, 1)).at(0).input_tokens;
      const auto v = embedding(texts[i]);
      nlohmann::json e = {{"object", "embedding"}, {"index", i}};
      if (format == "float") e["embedding"] = v;
      else e["embedding"] = base64(reinterpret_cast<const unsigned char*>(v.data()), v.size() * sizeof(float));
      data.push_back(e);
    }
    return {{"object", "list"}, {"data", data}, {"model", model}, {"usage", usage(tokens, std::nullopt)}};
  }

  // OpenAI sends base64 embeddings as the float32 little-endian bytes.
  static std::string base64(const unsigned char* p, std::size_t n) {
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < n; i += 3) {
      const std::uint32_t v = (std::uint32_t(p[i]) << 16) | (i + 1 < n ? std::uint32_t(p[i + 1]) << 8 : 0) |
                              (i + 2 < n ? std::uint32_t(p[i + 2]) : 0);
      out += kAlphabet[(v >> 18) & 63];
      out += kAlphabet[(v >> 12) & 63];
      out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
      out += i + 2 < n ? kAlphabet[v & 63] : '=';
    }
    return out;
  }

  std::string generator_, encoder_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<int> ids_{0};
  std::mutex mutex_;
  std::map<int, std::unique_ptr<joulebench::Model>> generators_;
  std::unique_ptr<joulebench::Model> encoder_model_;
  std::vector<std::int64_t> prompt_tokens_;
};

}  // namespace jbtest
