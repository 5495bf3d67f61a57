// The real build/joulebench bench on tiny zoo presets: the --json contract,
// resume, bad names, shards + merge, Ctrl-C and SIGTERM.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "../support/cli_fixture.h"
#include "joulebench/store.h"

namespace {

namespace fs = std::filesystem;

struct BenchCli : jbtest::CliFixture {
  std::string store(const std::string& name = "s.db") { return (dir_ / name).string(); }
  void interrupt_and_check(int sig);
};

constexpr const char* kTiny = "--task text-classification --model tiny-distilbert-sst2 --idle-baseline 0 --intensity 200";

TEST_F(BenchCli, JsonContractAndResume) {
  auto r = run(std::string("bench ") + kTiny + " --n 5 --reps 2 --json --store " + store());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  for (const auto& o : j) {
    EXPECT_EQ(o["task"], "text-classification");
    EXPECT_EQ(o["model"], "tiny-distilbert-sst2");
    EXPECT_EQ(o["inferences"], 5);
    EXPECT_GT(o["duration_s"].get<double>(), 0.0);
    EXPECT_GT(o["energy_j"].get<double>(), 0.0);
    EXPECT_NEAR(o["kwh_per_1000"].get<double>(), o["energy_j"].get<double>() / 5 * 1000 / 3.6e6, 1e-15);
    EXPECT_NEAR(o["gco2e_per_1000"].get<double>(), o["kwh_per_1000"].get<double>() * 200, 1e-12);
    EXPECT_TRUE(o["provenance"].is_object());
    EXPECT_GT(o["input_tokens"].get<long>(), 5 * 20);  // 45-word texts
  }
  // The HTML report of the store, written beside it and named on stderr.
  EXPECT_TRUE(fs::exists(dir_ / "s-report.html"));
  EXPECT_NE(r.err.find("s-report.html"), std::string::npos) << r.err;
  EXPECT_NE(jbtest::slurp(dir_ / "s-report.html").find("tiny-distilbert-sst2"), std::string::npos);
  // Same command again: the cell is complete in the store, nothing is run.
  r = run(std::string("bench ") + kTiny + " --n 5 --reps 2 --json --store " + store());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 0u);
  EXPECT_NE(r.err.find("skipped"), std::string::npos);
  auto s = joulebench::open_store(store());
  ASSERT_EQ(s->list_runs().size(), 1u);
  EXPECT_EQ(s->list_runs()[0].windows, 2);
  // What ran the model is recorded with the run: libtorch and the BLAS kernel (docs/bench.md).
  const auto stored = s->load_run(s->list_runs()[0].id);
  ASSERT_TRUE(stored);
  EXPECT_FALSE(stored->software.at("libtorch").empty());
  EXPECT_TRUE(stored->software.count("blas_core"));
  EXPECT_FALSE(stored->software.at("blas_core_chosen_by").empty());
  EXPECT_FALSE(stored->machine.cpu_model.empty());
}

TEST_F(BenchCli, TorchScriptInputFlagsNeedATorchScriptModel) {
  for (const char* flag : {"--input-length 16", "--image-size 32x32", "--model-config m.toml"}) {
    const auto r = run(std::string("bench --task text-classification --model tiny-distilbert-sst2 --n 1 --reps 1 ") + flag);
    EXPECT_EQ(r.code, 2) << flag << "\n" << r.err;
    EXPECT_NE(r.err.find("TorchScript"), std::string::npos) << r.err;
  }
}

TEST_F(BenchCli, UnknownNamesListTheValidOnes) {
  auto r = run("bench --task text-clasification --store " + store());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("text-classification"), std::string::npos) << r.err;
  r = run("bench --task fill-mask --model bert-tiny --store " + store());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("tiny-bert-mlm"), std::string::npos) << r.err;
  r = run("bench --task fill-mask --model tiny-gpt2 --store " + store());
  EXPECT_EQ(r.code, 2);
  r = run("bench --shard 3/2 --task fill-mask --store " + store());
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(store()));
}

TEST_F(BenchCli, ShardsMergeIntoOneStore) {
  const std::string base = "bench --task text-classification --model tiny-distilbert-sst2 --model tiny-flan-t5 "
                           "--idle-baseline 0 -q --n 3 --reps 1 --json";
  auto a = run(base + " --shard 1/2 --store " + store("a.db"));
  ASSERT_EQ(a.code, 0) << a.err;
  auto b = run(base + " --shard 2/2 --store " + store("b.db"));
  ASSERT_EQ(b.code, 0) << b.err;
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  ASSERT_EQ(ja.size(), 1u);
  ASSERT_EQ(jb.size(), 1u);
  EXPECT_NE(ja[0]["model"], jb[0]["model"]);
  auto m = run("merge " + store("a.db") + " " + store("b.db") + " -o " + store("m.db"));
  ASSERT_EQ(m.code, 0) << m.err;
  // The merged store holds the whole campaign: running it unsharded skips both.
  auto all = run(base + " --store " + store("m.db"));
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(nlohmann::json::parse(all.out).size(), 0u);
}

TEST_F(BenchCli, LiveEndpointWithServerPid) {
  // An OpenAI-compatible server in this test process; its PID is the server's.
  httplib::Server server;
  std::atomic<int> requests{0};
  server.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    ++requests;
    const auto j = nlohmann::json::parse(req.body);
    // CPU work for the attributed scope: ~5 ms a request, so that a run spans
    // several of /proc/stat's 10 ms ticks even over a kept-alive connection.
    volatile double x = 0;
    for (int i = 0; i < 3000000; ++i) x = x + i * 0.5;
    res.set_content(nlohmann::json{{"choices", {{{"text", "ok"}}}},
                                   {"usage", {{"prompt_tokens", 20}, {"completion_tokens", j["max_tokens"]}}}}
                        .dump(),
                    "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1/completions";
  auto r = run("bench --endpoint " + url + " --model served-model --task text-generation --n 6 --reps 2 --warmup 1 "
               "--idle-baseline 0 --max-tokens 7 --json -q --server-pid " + std::to_string(::getpid()) +
               " --store " + store());
  server.stop();
  t.join();
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["model"], "served-model");
  EXPECT_EQ(j[0]["output_tokens"], 6 * 7);
  EXPECT_EQ(j[0]["input_tokens"], 6 * 20);
  EXPECT_EQ(requests, 1 + 2 * 6);
  EXPECT_FALSE(j[0]["attributed_energy_j"].is_null()) << j[0].dump();
  // Endpoint down: the cell fails with the reason, exit 3.
  r = run("bench --endpoint " + url + " --task text-generation --n 2 --reps 1 --idle-baseline 0 --timeout 1 "
          "--retries 1 --json -q --store " + store("down.db"));
  EXPECT_EQ(r.code, 3);
  const auto down = nlohmann::json::parse(r.out);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0]["status"], "failed");
  EXPECT_NE(down[0]["error"].get<std::string>().find("2 attempt"), std::string::npos);
}

// Ctrl-C, or SIGTERM as Slurm's scancel and Kubernetes send it: the partial
// cell is discarded, the exit status is 128 + the signal.
void BenchCli::interrupt_and_check(int sig) {
  const pid_t pid = start("bench --task text-classification --model tiny-distilbert-sst2 --idle-baseline 0 "
                          "--n 1000000 --reps 1 --store " + store());
  ASSERT_GT(pid, 0);
  // Wait for the measurement to start.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  bool exited = false;  // e.g. the binary could not be started
  while (err_so_far().find("measure") == std::string::npos && std::chrono::steady_clock::now() < deadline &&
         !(exited = ::waitpid(pid, &status, WNOHANG) == pid))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(exited) << "joulebench ended before it was interrupted: " << err_so_far();
  ::kill(pid, sig);
  const auto r = finish(pid);
  EXPECT_EQ(r.code, 128 + sig) << r.err;
  EXPECT_NE(r.err.find(sig == SIGTERM ? "interrupted (SIGTERM)" : "interrupted (SIGINT)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("resume"), std::string::npos) << r.err;
  auto s = joulebench::open_store(store());
  EXPECT_TRUE(s->list_runs().empty());  // the partial cell was discarded
}

TEST_F(BenchCli, CtrlCKeepsTheStoreConsistentAndSaysHowToResume) { interrupt_and_check(SIGINT); }

TEST_F(BenchCli, SigtermFromASchedulerIsHandledAsCtrlC) { interrupt_and_check(SIGTERM); }

}  // namespace

namespace {
// The final table and the report read as people write: units such as µWh and
// mJ, no scientific notation even for the tiny presets' micro-watt-hours.
TEST_F(BenchCli, TablesHaveReadableUnits) {
  auto r = run(std::string("bench ") + kTiny + " --n 3 --reps 2 --no-report --store " + store());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::regex exponent(R"(\d[eE][+-]?\d)");
  EXPECT_FALSE(std::regex_search(r.out, exponent)) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\d ± [\d.]+ (µ|m)?Wh)"))) << r.out;
  auto report = run("report --by model --store " + store());
  ASSERT_EQ(report.code, 0) << report.err;
  EXPECT_FALSE(std::regex_search(report.out, exponent)) << report.out;
  EXPECT_NE(report.out.find("energy/1k mean ± sd"), std::string::npos) << report.out;
}
}  // namespace
