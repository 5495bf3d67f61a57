// The OpenAI-compatible test server (tests/support/openai_server.h, backed by
// zoo models) checked with a real client, the `openai` npm package that
// scripts/fetch_data.sh fetches, run by Node.js; then `joulebench bench
// --endpoint` against the same server on each API it serves. Node and the
// package are installed by scripts/setup.sh: missing, the test fails.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../support/cli_fixture.h"
#include "../support/openai_server.h"
#include "joulebench/version.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out;
};

Result capture(const std::string& command) {
  Result r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) r.out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class OpenAiClient : public jbtest::CliFixture {
 protected:
  static void SetUpTestSuite() {
    // This process loads zoo models for the server, through the plugin.
    ::setenv("JOULEBENCH_ZOO_LIBRARY", JOULEBENCH_ZOO_PLUGIN, 1);
  }
};

TEST_F(OpenAiClient, TheOpenAiNpmClientGetsTheZooModelsAnswers) {
  const fs::path package = fs::path(JOULEBENCH_FETCHED_DATA_DIR) / "openai";
  ASSERT_TRUE(fs::exists(package / "package.json")) << package << " missing: run scripts/fetch_data.sh";
  const Result node = capture("node --version 2>&1");
  ASSERT_EQ(node.code, 0) << "Node.js is needed (scripts/setup.sh installs nodejs): " << node.out;

  jbtest::OpenAiTestServer server;
  const fs::path script = fs::path(JOULEBENCH_TEST_SOURCE_DIR) / "openai_client.cjs";
  const Result r = capture("node '" + script.string() + "' '" + package.string() + "' " + server.base_url() + " " +
                           server.generator() + " " + server.encoder() + " 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["models"], (nlohmann::json{server.generator(), server.encoder()}));
  // The client's text is the zoo model's greedy continuation of the same prompt.
  const auto fox = server.generate("The quick brown fox", 5);
  EXPECT_EQ(j["completion"]["text"], fox.text);
  EXPECT_EQ(j["completion"]["usage"]["prompt_tokens"], fox.input_tokens);
  EXPECT_EQ(j["completion"]["usage"]["completion_tokens"], 5);
  EXPECT_EQ(j["batch"]["texts"][1], server.generate("two more words", 3).text);
  EXPECT_EQ(j["batch"]["usage"]["prompt_tokens"],
            server.generate("one", 3).input_tokens + server.generate("two more words", 3).input_tokens);
  const auto chat = server.generate(jbtest::OpenAiTestServer::chat_prompt(j["chat"]["messages"]), 4);
  EXPECT_EQ(j["chat"]["text"], chat.text);
  EXPECT_EQ(j["chat"]["usage"]["prompt_tokens"], chat.input_tokens);
  // base64 (the client's default, decoded by it) and float give the same vector.
  const auto expected = jbtest::OpenAiTestServer::embedding("energy per inference");
  ASSERT_EQ(j["embedding_base64"].size(), expected.size());
  ASSERT_EQ(j["embeddings_float"][0].size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_FLOAT_EQ(j["embedding_base64"][i].get<float>(), expected[i]) << i;
    EXPECT_FLOAT_EQ(j["embeddings_float"][0][i].get<float>(), expected[i]) << i;
  }
  EXPECT_NE(j["embeddings_float"][1], j["embeddings_float"][0]);
  EXPECT_NE(j["not_found"].get<std::string>().find("no-such-model"), std::string::npos) << j["not_found"];
  EXPECT_NE(j["bad_request"].get<std::string>().find("messages"), std::string::npos) << j["bad_request"];
}

// joulebench's own client on each API of the same server: N requests per
// repetition after the warm-up, the server's token counts in the results.
TEST_F(OpenAiClient, BenchEndpointOnEachApi) {
  jbtest::OpenAiTestServer server;
  const std::string common = " --n 3 --reps 2 --warmup 1 --max-tokens 4 --idle-baseline 0 --intensity 100 --json -q "
                             "--no-report --store s.db";
  struct Case {
    std::string path, task;
    bool generates;
  };
  for (const Case& c : {Case{"/completions", "text-generation", true}, Case{"/chat/completions", "summarization", true},
                        Case{"/embeddings", "text-classification", false}}) {
    SCOPED_TRACE(c.path);
    const int before = server.requests();
    const std::size_t served_before = server.prompt_tokens().size();
    const auto r = run("bench --endpoint " + server.base_url() + c.path + " --task " + c.task + common);
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(server.requests() - before, 1 + 2 * 3);
    // The prompt tokens the server counted, repetition by repetition.
    const auto served = server.prompt_tokens();
    ASSERT_EQ(served.size() - served_before, 7u);
    for (int rep = 0; rep < 2; ++rep) {
      std::int64_t expected = 0;
      for (int i = 0; i < 3; ++i) expected += served[served_before + 1 + static_cast<std::size_t>(rep * 3 + i)];
      EXPECT_EQ(j[rep]["input_tokens"], expected) << rep;
      EXPECT_EQ(j[rep]["output_tokens"], c.generates ? 3 * 4 : 0) << rep;
      EXPECT_EQ(j[rep]["status"], "complete");
      EXPECT_EQ(j[rep]["inferences"], 3);
    }
  }
  // A model the server does not serve: OpenAI's 404 error, not retried; the cell fails (exit 3).
  const auto r = run("bench --endpoint " + server.base_url() + "/completions --model gpt-4 --task text-generation" +
                     common);
  EXPECT_EQ(r.code, 3) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_NE(j[0]["error"].get<std::string>().find("gpt-4"), std::string::npos) << j[0]["error"];
}

}  // namespace
