// The endpoint runner against a small OpenAI-compatible server started here
// on 127.0.0.1: request bodies, usage tokens, retries, timeout, a campaign.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "joulebench/bench.h"
#include "joulebench/error.h"
#include "../support/expect_throw.h"

namespace joulebench {
namespace {

struct FakeServer {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::atomic<int> requests{0};
  std::atomic<int> fail_first{0};  // answer HTTP 503 to this many requests first
  nlohmann::json last_body;
  std::mutex mutex;

  FakeServer() {
    auto words = [](const std::string& s) {
      std::int64_t n = 0;
      bool in = false;
      for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c))) in = false;
        else if (!in) in = true, ++n;
      }
      return n;
    };
    server.Post("/v1/completions", [this, words](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      if (fail_first > 0) {
        --fail_first;
        res.status = 503;
        return;
      }
      auto j = nlohmann::json::parse(req.body);
      {
        std::lock_guard lock(mutex);
        last_body = j;
      }
      const int max_tokens = j.value("max_tokens", 16);
      nlohmann::json answer = {{"choices", {{{"text", " and so on"}, {"index", 0}}}},
                               {"usage",
                                {{"prompt_tokens", words(j["prompt"])},
                                 {"completion_tokens", max_tokens},
                                 {"total_tokens", words(j["prompt"]) + max_tokens}}}};
      res.set_content(answer.dump(), "application/json");
    });
    server.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      auto j = nlohmann::json::parse(req.body);
      {
        std::lock_guard lock(mutex);
        last_body = j;
      }
      res.set_content(R"({"choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":7,"completion_tokens":2}})",
                      "application/json");
    });
    server.Post("/slow/v1/completions", [this](const httplib::Request&, httplib::Response& res) {
      ++requests;
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      res.set_content("{}", "application/json");
    });
    server.Post("/bad/v1/completions", [this](const httplib::Request&, httplib::Response& res) {
      ++requests;
      res.status = 400;
      res.set_content(R"({"error":"unknown model"})", "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    server.stop();
    thread.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

InferenceInput text(std::string t) {
  InferenceInput in;
  in.text = std::move(t);
  return in;
}

TEST(Endpoint, CompletionsBodyAndUsage) {
  FakeServer s;
  EndpointOptions o;
  o.url = s.url("/v1/completions");
  o.model = "gpt2";
  auto m = make_endpoint_model(o, Task::text_generation);
  std::vector<InferenceInput> batch = {text("once upon a time"), text("far away")};
  const auto out = m->infer(batch);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].input_tokens, 4);
  EXPECT_EQ(out[1].input_tokens, 2);
  EXPECT_EQ(out[0].output_tokens, 10);  // the study's 10 new tokens asked for
  EXPECT_EQ(out[0].text, " and so on");
  EXPECT_EQ(s.requests, 2);
  EXPECT_EQ(s.last_body["model"], "gpt2");
  EXPECT_EQ(s.last_body["max_tokens"], 10);
  EXPECT_EQ(s.last_body["prompt"], "far away");
}

TEST(Endpoint, ChatMessages) {
  FakeServer s;
  EndpointOptions o;
  o.url = s.url("/v1/chat/completions");
  auto m = make_endpoint_model(o, Task::summarization);
  std::vector<InferenceInput> batch = {text("summarise this")};
  const auto out = m->infer(batch);
  EXPECT_EQ(out[0].output_tokens, 2);
  EXPECT_EQ(out[0].text, "hi");
  EXPECT_EQ(s.last_body["messages"][0]["content"], "summarise this");
  EXPECT_FALSE(s.last_body.contains("model"));
}

TEST(Endpoint, RetriesAreBounded) {
  FakeServer s;
  EndpointOptions o;
  o.url = s.url("/v1/completions");
  o.retries = 2;
  o.retry_backoff_s = 0.01;
  s.fail_first = 2;  // two 503s, then an answer: within the bound
  auto m = make_endpoint_model(o, Task::text_generation);
  std::vector<InferenceInput> batch = {text("a b")};
  EXPECT_EQ(m->infer(batch).size(), 1u);
  EXPECT_EQ(s.requests, 3);
  s.requests = 0;
  s.fail_first = 5;  // more than the bound: fails after 3 attempts
  {
    const std::string message = jbtest::thrown_message<Error>([&] { m->infer(batch); });
    EXPECT_NE(message.find("3 attempt"), std::string::npos) << message;
    EXPECT_NE(message.find("HTTP 503"), std::string::npos) << message;
  }
  EXPECT_EQ(s.requests, 3);
}

TEST(Endpoint, TimeoutAndClientErrors) {
  FakeServer s;
  EndpointOptions o;
  o.url = s.url("/slow/v1/completions");
  o.timeout_s = 0.2;
  o.retries = 1;
  o.retry_backoff_s = 0.01;
  auto slow = make_endpoint_model(o, Task::text_generation);
  std::vector<InferenceInput> batch = {text("x")};
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(slow->infer(batch), Error);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.1);
  o.url = s.url("/bad/v1/completions");
  s.requests = 0;
  auto bad = make_endpoint_model(o, Task::text_generation);
  EXPECT_THROW_MSG(bad->infer(batch), Error, "unknown model");
  EXPECT_EQ(s.requests, 1);  // a 400 is not retried
  o.url = "http://127.0.0.1:1/v1/completions";  // nothing listens there
  o.timeout_s = 1;
  auto down = make_endpoint_model(o, Task::text_generation);
  EXPECT_THROW(down->infer(batch), Error);
  o.url = "ftp://x/v1/completions";
  EXPECT_THROW(make_endpoint_model(o, Task::text_generation), InputError);
  o.url = "http://127.0.0.1:9/v1/models";
  EXPECT_THROW(make_endpoint_model(o, Task::text_generation), InputError);
}

TEST(Endpoint, CampaignThroughTheServer) {
  FakeServer s;
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(JOULEBENCH_TEST_BINARY_DIR) / ("endpoint_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    auto store = open_store(dir / "s.db");
    SensorOptions so;
    so.disabled_backends = {"nvml"};
    TrackerOptions to;
    to.sensors = so;
    Tracker tracker(to);
    CarbonSettings carbon;
    EndpointOptions o;
    o.url = s.url("/v1/completions");
    BenchContext ctx{tracker, *store, carbon,
                     [&](const std::string&, const LoadOptions&) { return make_endpoint_model(o, Task::text_generation); },
                     MachineInfo{}, 0.0, {}};
    auto inputs = std::make_shared<BenchInputSet>();
    inputs->name = "prompts";
    inputs->inputs = {text("one two"), text("three four five")};
    BenchSettings settings;
    settings.n = 4;
    settings.reps = 2;
    settings.warmup = 1;
    const auto result = run_campaign({BenchCell{Task::text_generation, "server", inputs, 1}}, settings, ctx);
    ASSERT_EQ(result.runs.size(), 2u);
    EXPECT_EQ(result.runs[0].output_tokens, 40);
    EXPECT_EQ(result.runs[0].input_tokens, 2 + 3 + 2 + 3);
    EXPECT_EQ(s.requests, 1 + 8);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace joulebench
