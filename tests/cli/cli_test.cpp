// Runs the real build/joulebench binary against fake sysfs/procfs trees
// (through --sysfs-root / --procfs-root) and checks exit codes, signal
// forwarding, stdout/stderr separation and the JSON contracts of docs/cli.md.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../support/counter_ticker.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("joulebench-cli-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    // One RAPL package with a core subzone; a /proc with CPU times and memory.
    write_zone("intel-rapl:0", "package-0", 1'000'000);
    write_zone("intel-rapl:0:0", "core", 400'000);
    write("proc/stat", "cpu  1000 0 500 90000 0 0 0 0 0 0\ncpu0 1000 0 500 90000 0 0 0 0 0 0\n");
    write("proc/meminfo", "MemTotal:       16384000 kB\nMemAvailable:    8192000 kB\n");
    write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n\n");
    fs::create_directories(root_ / "dev");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void write_zone(const std::string& zone, const std::string& name, long energy_uj) {
    const std::string dir = "sys/class/powercap/" + zone + "/";
    write(dir + "name", name + "\n");
    write(dir + "energy_uj", std::to_string(energy_uj) + "\n");
    write(dir + "max_energy_range_uj", "262143328850\n");
  }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }

  // The sensor-source options pointing into the fake tree; the estimation
  // backend is off so that figures come from the fake counters only.
  std::vector<std::string> fake_sources() const {
    return {"--sysfs-root",   path("sys"),   "--procfs-root", path("proc"),      "--dev-root",
            path("dev"),      "--nvml-library", path("no-libnvidia-ml.so.1"), "--disable-sensor", "estimate"};
  }

  std::vector<std::string> args(std::initializer_list<std::string> before, bool fake = true,
                                std::initializer_list<std::string> after = {}) const {
    std::vector<std::string> a(before);
    if (fake) {
      for (const auto& s : fake_sources()) a.push_back(s);
    }
    a.insert(a.end(), after);
    return a;
  }

  pid_t spawn(const std::vector<std::string>& arguments) {
    std::vector<std::string> all{JOULEBENCH_BINARY};
    all.insert(all.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, path("stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, path("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(err, 0) << "cannot start " << JOULEBENCH_BINARY;
    return pid;
  }
  Outcome wait_for(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    Outcome r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(root_ / "stdout");
    r.err = slurp(root_ / "stderr");
    return r;
  }
  Outcome run(const std::vector<std::string>& arguments) { return wait_for(spawn(arguments)); }

  json read_json(const std::string& rel) {
    std::ifstream f(root_ / rel);
    EXPECT_TRUE(f.good()) << rel << " was not written";
    return json::parse(f);
  }

  fs::path root_;
};

const json* component(const json& j, const std::string& name) {
  for (const auto& c : j.at("components"))
    if (c.at("component") == name) return &c;
  return nullptr;
}

TEST_F(Cli, SensorsJsonContract) {
  // Live counters: the sensors command probes that they advance (about 1 W).
  jbtest::CounterTicker package_counter(root_ / "sys/class/powercap/intel-rapl:0/energy_uj", 1'000'000, 1'000);
  jbtest::CounterTicker core_counter(root_ / "sys/class/powercap/intel-rapl:0:0/energy_uj", 400'000, 500);
  const Outcome r = run(args({"sensors", "--json"}, true));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_FALSE(j.empty());
  bool package = false;
  for (const auto& s : j) {
    for (const char* key : {"name", "component", "available", "reason", "provenance", "kind", "device",
                            "description", "max_read_interval_s", "role", "backend"})
      EXPECT_TRUE(s.contains(key)) << key << " missing in " << s.dump();
    EXPECT_TRUE(s.at("available").is_boolean());
    if (!s.at("available").get<bool>()) {
      EXPECT_FALSE(s.at("reason").get<std::string>().empty()) << s.dump();
    }
    if (s.at("available").get<bool>() && s.at("component") == "cpu") {
      package = true;
      EXPECT_EQ(s.at("provenance"), "measured:rapl-powercap");
      EXPECT_EQ(s.at("kind"), "energy_counter");
      EXPECT_EQ(s.at("role"), "used");
    }
  }
  EXPECT_TRUE(package) << r.out;
}

TEST_F(Cli, SensorsTableSaysWhyNot) {
  fs::remove_all(root_ / "sys/class/powercap");
  const Outcome r = run(args({"sensors"}, true));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SENSOR"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("why not:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unavailable"), std::string::npos) << r.out;
}

TEST_F(Cli, MeasureJsonContractAndExactCounterEnergy) {
  // The command itself advances the fake counters: +2.5 J package, +1 J core.
  const std::string script = "echo 3500000 > " + path("sys/class/powercap/intel-rapl:0/energy_uj") + "; echo 1400000 > " +
                             path("sys/class/powercap/intel-rapl:0:0/energy_uj") + "; echo hello";
  const Outcome r = run(args({"measure", "--json", path("m.json")}, true, {"--", "sh", "-c", script}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n") << "the command's stdout must stay clean";
  EXPECT_NE(r.err.find("cpu"), std::string::npos) << r.err;
  const json j = read_json("m.json");
  for (const char* key : {"schema_version", "duration_s", "exit_code", "components", "total_energy_j", "warnings",
                          "command", "carbon", "interval_s", "start_time"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j.at("schema_version"), 1);
  EXPECT_EQ(j.at("exit_code"), 0);
  EXPECT_GT(j.at("duration_s").get<double>(), 0.0);
  EXPECT_EQ(j.at("command"), json({"sh", "-c", script}));
  const json* cpu = component(j, "cpu");
  ASSERT_NE(cpu, nullptr) << j.dump(2);
  for (const char* key : {"component", "energy_j", "attributed_energy_j", "dynamic_energy_j", "provenance", "sources"})
    EXPECT_TRUE(cpu->contains(key)) << key;
  EXPECT_DOUBLE_EQ(cpu->at("energy_j").get<double>(), 2.5);
  EXPECT_EQ(cpu->at("provenance"), "measured:rapl-powercap");
  EXPECT_TRUE(cpu->at("dynamic_energy_j").is_null()) << "no idle baseline was asked for";
  const json* core = component(j, "core");
  ASSERT_NE(core, nullptr);
  EXPECT_DOUBLE_EQ(core->at("energy_j").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j.at("total_energy_j").get<double>(), 2.5) << "core is inside cpu: not added";
  // A reading has no band: its ends are the figure itself.
  EXPECT_EQ(cpu->at("band_factor"), 1.0);
  EXPECT_DOUBLE_EQ(cpu->at("energy_low_j").get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(cpu->at("energy_high_j").get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(j.at("total_energy_low_j").get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(j.at("total_energy_high_j").get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(j.at("g_co2e_low").get<double>(), j.at("carbon").at("g_co2e").get<double>());
}

// measure --store: the run in the store with what it was (issue 17): project,
// tags, task, model and N; report --runs and report by model show it; the
// CSV row names the project, and re-importing it keeps it a project.
TEST_F(Cli, MeasureStoresTheRunWithItsProjectTaskAndModel) {
  const std::string script = "echo 3500000 > " + path("sys/class/powercap/intel-rapl:0/energy_uj");
  const std::string db = path("m.db");
  const Outcome r = run(args({"measure", "--store", db, "--project", "demo", "--tag", "batch=8", "--task",
                              "text-generation", "--model", "gpt2", "--inferences", "100", "--country", "FRA",
                              "--csv", path("e.csv")},
                             true, {"--", "sh", "-c", script}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stored as run"), std::string::npos) << r.err;
  const Outcome runs = run({"report", "--runs", "--json", "--store", db});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  const json list = json::parse(runs.out);
  ASSERT_EQ(list.size(), 1u) << list.dump(2);
  EXPECT_EQ(list[0]["kind"], "measure");
  EXPECT_EQ(list[0]["project"], "demo");
  EXPECT_EQ(list[0]["task"], "text-generation");
  EXPECT_EQ(list[0]["model"], "gpt2");
  EXPECT_NEAR(list[0]["energy_kwh"].get<double>(), 2.5 / 3.6e6, 1e-12);
  const Outcome table = run({"report", "--runs", "--store", db});
  EXPECT_NE(table.out.find("demo"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("694 µWh"), std::string::npos) << table.out;  // 2.5 J
  // 100 inferences: per 1,000 in the report.
  const Outcome by_model = run({"report", "--by", "model", "--json", "--store", db});
  ASSERT_EQ(by_model.exit_code, 0) << by_model.err;
  EXPECT_NEAR(json::parse(by_model.out)[0]["kwh_per_1000_mean"].get<double>(), 2.5 / 3.6e6 * 10, 1e-12);
  // The CSV row's project_name is the project; imported back it stays one.
  const std::string db2 = path("i.db");
  ASSERT_EQ(run({"import", "codecarbon", path("e.csv"), "--store", db2}).exit_code, 0);
  const json imported = json::parse(run({"report", "--runs", "--json", "--store", db2}).out);
  ASSERT_EQ(imported.size(), 1u);
  EXPECT_EQ(imported[0]["project"], "demo");
  EXPECT_TRUE(imported[0]["model"].is_null()) << imported.dump(2);
  // Bad input is refused before the command runs, and names what to do.
  const Outcome tag = run(args({"measure", "--store", db, "--tag", "batch"}, true, {"--", "true"}));
  EXPECT_EQ(tag.exit_code, 2);
  EXPECT_NE(tag.err.find("--tag batch: expected KEY=VALUE"), std::string::npos) << tag.err;
  const Outcome no_store = run(args({"measure", "--model", "gpt2"}, true, {"--", "true"}));
  EXPECT_EQ(no_store.exit_code, 2);
  EXPECT_NE(no_store.err.find("give --store too"), std::string::npos) << no_store.err;
  EXPECT_EQ(json::parse(run({"report", "--runs", "--json", "--store", db}).out).size(), 1u);
  // No --project: [run] project of the config file; a misspelt key there is refused by name.
  write("jb.toml", "[run]\nproject = \"from-config\"\n[carbon]\ncountry = \"FRA\"\n");
  ::setenv("JOULEBENCH_CONFIG", path("jb.toml").c_str(), 1);
  const Outcome configured = run(args({"measure", "-q", "--store", db}, true, {"--", "true"}));
  write("bad.toml", "[run]\nprojet = \"x\"\n");
  ::setenv("JOULEBENCH_CONFIG", path("bad.toml").c_str(), 1);
  const Outcome misspelt = run(args({"measure", "-q", "--store", db}, true, {"--", "true"}));
  ::unsetenv("JOULEBENCH_CONFIG");
  ASSERT_EQ(configured.exit_code, 0) << configured.err;
  EXPECT_EQ(json::parse(run({"report", "--runs", "--json", "--store", db}).out)[1]["project"], "from-config");
  EXPECT_EQ(misspelt.exit_code, 2);
  EXPECT_NE(misspelt.err.find("did you mean 'project'?"), std::string::npos) << misspelt.err;
}

TEST_F(Cli, EstimatesCarryTheirBandToEnergyAndCarbon) {
  // No hardware anywhere: only the models of the fake /proc (an unknown CPU,
  // 8 GB in use).
  const Outcome r = run({"measure", "--json", path("m.json"), "--sysfs-root", path("no-sys"), "--procfs-root",
                         path("proc"), "--dev-root", path("dev"), "--nvml-library", path("no-libnvidia-ml.so.1"),
                         "--country", "FRA", "--", "sleep", "0.2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("range (estimates)"), std::string::npos) << r.err;
  const json j = read_json("m.json");
  const json* cpu = component(j, "cpu");
  const json* dram = component(j, "dram");
  ASSERT_TRUE(cpu && dram) << j.dump(2);
  EXPECT_EQ(cpu->at("band_factor"), 2.5) << "an unknown CPU: the mean per-thread coefficients";
  EXPECT_EQ(dram->at("band_factor"), 2.0);
  const double e = cpu->at("energy_j"), low = cpu->at("energy_low_j"), high = cpu->at("energy_high_j");
  EXPECT_GT(e, 0.0);
  EXPECT_DOUBLE_EQ(low, e / 2.5);
  EXPECT_DOUBLE_EQ(high, e * 2.5);
  const double total = j.at("total_energy_j");
  EXPECT_NEAR(j.at("total_energy_low_j").get<double>(), e / 2.5 + dram->at("energy_j").get<double>() / 2, 1e-12);
  EXPECT_NEAR(j.at("total_energy_high_j").get<double>(), e * 2.5 + dram->at("energy_j").get<double>() * 2, 1e-12);
  const double g = j.at("carbon").at("g_co2e");
  EXPECT_NEAR(j.at("g_co2e_low").get<double>(), g * j.at("total_energy_low_j").get<double>() / total, 1e-15);
  EXPECT_NEAR(j.at("g_co2e_high").get<double>(), g * j.at("total_energy_high_j").get<double>() / total, 1e-15);
  EXPECT_LT(j.at("g_co2e_low").get<double>(), g);
  EXPECT_GT(j.at("g_co2e_high").get<double>(), g);
}

TEST_F(Cli, EstimateGivesTheModelWithItsBand) {
  Outcome r = run({"estimate", "--cpu", "AMD EPYC 8024P 8-Core Processor", "--threads", "16", "--load", "0.5",
                   "--ram-gb", "8", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  for (const char* key : {"power_w", "low_w", "high_w", "model", "source", "description", "fallback", "band_factor"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j.at("model"), "tdp-curve");
  EXPECT_NEAR(j.at("power_w").get<double>(), 0.67 * 90 * std::log(7.0) / std::log(13.0), 1e-9);
  EXPECT_DOUBLE_EQ(j.at("low_w").get<double>(), j.at("power_w").get<double>() / 2);
  EXPECT_DOUBLE_EQ(j.at("high_w").get<double>(), j.at("power_w").get<double>() * 2);
  EXPECT_EQ(j.at("fallback"), false);
  EXPECT_NEAR(j.at("ram").at("power_w").get<double>(), 8 * 0.392, 1e-12);

  // An unknown CPU is not an error: it falls back, and says so.
  r = run({"estimate", "--cpu", "Mystery Chip 9000", "--threads", "4", "--load", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j.at("fallback"), true);
  EXPECT_EQ(j.at("model"), "mean-microarchitecture-curve");
  EXPECT_GT(j.at("power_w").get<double>(), 0.0);
  r = run({"estimate", "--cpu", "Mystery Chip 9000", "--threads", "4", "--load", "1"});
  EXPECT_NE(r.out.find("fallback"), std::string::npos) << r.out;

  // Without --cpu: this machine.
  r = run({"estimate", "--load", "0.25", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(json::parse(r.out).at("power_w").get<double>(), 0.0);

  // Bad input names what is wrong.
  r = run({"estimate", "--cpu", "AMD EPYC 8024P", "--load", "0.5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--threads"), std::string::npos) << r.err;
  r = run({"estimate", "--load", "1.5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("CPU load"), std::string::npos) << r.err;
}

TEST_F(Cli, MeasureAttributesWhenMachineCpuTimeAdvances) {
  // The fake machine gets 2000 busy ticks during the command; the command's
  // own (real) CPU time is a tiny share of that.
  const std::string script = "echo 2000000 > " + path("sys/class/powercap/intel-rapl:0/energy_uj") +
                             "; echo 'cpu  2000 0 1500 90000 0 0 0 0 0 0' > " + path("proc/stat");
  const Outcome r = run(args({"measure", "-q", "--json", path("m.json")}, true, {"--", "sh", "-c", script}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json("m.json");
  const json* cpu = component(j, "cpu");
  ASSERT_NE(cpu, nullptr);
  ASSERT_TRUE(cpu->at("attributed_energy_j").is_number()) << cpu->dump();
  EXPECT_GE(cpu->at("attributed_energy_j").get<double>(), 0.0);
  EXPECT_LT(cpu->at("attributed_energy_j").get<double>(), 0.5 * cpu->at("energy_j").get<double>());
}

TEST_F(Cli, MeasureReturnsTheCommandsExitCode) {
  EXPECT_EQ(run(args({"measure", "-q"}, true, {"--", "sh", "-c", "exit 0"})).exit_code, 0);
  EXPECT_EQ(run(args({"measure", "-q"}, true, {"--", "sh", "-c", "exit 5"})).exit_code, 5);
  const Outcome killed = run(args({"measure", "-q", "--json", path("k.json")}, true, {"--", "sh", "-c", "kill -KILL $$"}));
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL);
  const json j = read_json("k.json");
  EXPECT_EQ(j.at("exit_code"), 128 + SIGKILL);
  EXPECT_EQ(j.at("signal"), SIGKILL);
}

TEST_F(Cli, CarbonOptionsAndRepeatableOptionsBeforeTheSeparator) {
  const Outcome r = run(args({"measure", "-q", "--country", "FRA", "--equivalent", "smartphone_charges=0.012", "--json",
                              path("m.json")},
                             true, {"--", "sh", "-c", "exit 3"}));
  ASSERT_EQ(r.exit_code, 3) << r.err;
  const json j = read_json("m.json");
  EXPECT_EQ(j.at("carbon").at("country_iso3"), "FRA") << j.at("carbon").dump(2);
  EXPECT_EQ(run(args({"measure", "-q", "--country", "XXX"}, true, {"--", "true"})).exit_code, 2);
}

TEST_F(Cli, NothingMeasurableGivesNoFigureRatherThanZero) {
  fs::remove_all(root_ / "sys/class/powercap");  // and the estimates are disabled
  const Outcome r = run(args({"measure", "--json", path("m.json"), "--csv", path("e.csv")}, true, {"--", "true"}));
  EXPECT_EQ(r.exit_code, 1) << "the CSV row could not be written: a lost result is not success";
  EXPECT_NE(r.err.find("no energy was measured"), std::string::npos) << r.err;
  const json j = read_json("m.json");
  EXPECT_TRUE(j.at("components").empty()) << j.dump(2);
  EXPECT_TRUE(j.at("carbon").is_null());
  EXPECT_FALSE(fs::exists(root_ / "e.csv")) << "no row, so no file (not even an empty one)";
}

TEST_F(Cli, QuietPrintsNothing) {
  const Outcome r = run(args({"measure", "--quiet"}, true, {"--", "true"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "");
}

TEST_F(Cli, CommandThatCannotStartIs127WithAMessage) {
  const Outcome missing = run(args({"measure"}, true, {"--", "joulebench-no-such-command-xyz"}));
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("cannot run 'joulebench-no-such-command-xyz'"), std::string::npos) << missing.err;
  write("not-executable", "#!/bin/sh\n");
  const Outcome denied = run(args({"measure"}, true, {"--", path("not-executable")}));
  EXPECT_EQ(denied.exit_code, 127);
  EXPECT_NE(denied.err.find("Permission denied"), std::string::npos) << denied.err;
}

TEST_F(Cli, BadUsageIs2) {
  EXPECT_EQ(run(args({"measure"}, true)).exit_code, 2);  // no command
  EXPECT_EQ(run(args({"measure", "--interval", "0"}, true, {"--", "true"})).exit_code, 2);
  EXPECT_EQ(run(args({"measure", "--idle-baseline", "-1"}, true, {"--", "true"})).exit_code, 2);
  const Outcome r = run(args({"measure", "--json", path("no/such/dir/m.json")}, true, {"--", "true"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--json"), std::string::npos) << r.err;
}

TEST_F(Cli, SignalsAreForwardedToTheCommand) {
  // The command exits 42 on SIGTERM: joulebench must pass the signal on and
  // then return the command's own status.
  const std::string ready = path("ready");
  const std::string script = "trap 'exit 42' TERM; touch " + ready + "; while :; do sleep 0.02; done";
  const pid_t pid = spawn(args({"measure", "-q"}, true, {"--", "sh", "-c", script}));
  for (int i = 0; i < 500 && !fs::exists(ready); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(ready)) << "the command never started";
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  // Without forwarding the command would loop forever: give up after 10 s.
  int status = 0;
  for (int i = 0; i < 1000 && ::waitpid(pid, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (::kill(pid, 0) == 0 && ::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "joulebench did not end after SIGTERM: the signal was not forwarded";
  }
  ASSERT_TRUE(WIFEXITED(status)) << "joulebench itself was killed by signal " << WTERMSIG(status);
  Outcome r;
  r.exit_code = WEXITSTATUS(status);
  r.err = slurp(root_ / "stderr");
  EXPECT_EQ(r.exit_code, 42) << r.err;
}

TEST_F(Cli, IdleBaselineGivesDynamicEnergy) {
  // The package draws about 1 W all along (1,000 uJ a millisecond): idle and command alike.
  fs::remove_all(root_ / "sys/class/powercap/intel-rapl:0:0");  // core: not needed here
  jbtest::CounterTicker ticker(root_ / "sys/class/powercap/intel-rapl:0/energy_uj", 1'000'000, 1'000);
  const Outcome r = run(args({"measure", "-q", "--idle-baseline", "0.3", "--json", path("m.json")}, true,
                             {"--", "sleep", "0.2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json("m.json");
  ASSERT_TRUE(j.at("idle_baseline").is_object()) << j.dump(2);
  double idle_w = -1;
  for (const auto& c : j.at("idle_baseline").at("components"))
    if (c.at("component") == "cpu") idle_w = c.at("power_w").get<double>();
  EXPECT_GT(idle_w, 0.3) << "the counter advanced during the idle period: about 1 W, never 0";
  EXPECT_LT(idle_w, 1.5);
  const json* cpu = component(j, "cpu");
  ASSERT_NE(cpu, nullptr) << j.dump(2);
  ASSERT_TRUE(cpu->at("dynamic_energy_j").is_number());
  const double energy = cpu->at("energy_j").get<double>();
  const double duration = j.at("duration_s").get<double>();
  EXPECT_GT(energy, 0.3 * duration);
  EXPECT_NEAR(cpu->at("dynamic_energy_j").get<double>(), std::max(0.0, energy - idle_w * duration), 1e-6);
}

TEST_F(Cli, AStuckCounterIsNeverZeroJoulesMeasured) {
  // The fake counters stand still for 0.2 s: stuck (as a VM's perf psys).
  // measure falls back to the estimate and says why; sensors calls them stuck.
  std::vector<std::string> a{"measure", "-q", "--json", path("m.json")};
  for (const auto& s : fake_sources())
    if (s != "--disable-sensor" && s != "estimate") a.push_back(s);
  for (const std::string s : {"--", "sleep", "0.2"}) a.push_back(s);
  const Outcome r = run(a);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = read_json("m.json");
  const json* cpu = component(j, "cpu");
  ASSERT_NE(cpu, nullptr) << j.dump(2);
  EXPECT_EQ(cpu->at("provenance"), "estimated:cpu-power-model") << j.dump(2);
  bool said = false;
  for (const auto& w : j.at("warnings")) said = said || w.get<std::string>().find("stuck") != std::string::npos;
  EXPECT_TRUE(said) << j.at("warnings").dump(2);
  EXPECT_EQ(component(j, "core"), nullptr) << "no figure rather than a stuck 0 J";

  const Outcome s = run(args({"sensors", "--json"}, true));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  for (const auto& sensor : json::parse(s.out))
    if (sensor.at("name") == "rapl-powercap:package-0") {
      EXPECT_FALSE(sensor.at("available").get<bool>());
      EXPECT_NE(sensor.at("reason").get<std::string>().find("stuck: its counter did not advance"),
                std::string::npos)
          << sensor.dump();
    }
}

TEST_F(Cli, CsvIsCodeCarbonCompatible) {
  const Outcome r = run(args({"measure", "-q", "--csv", path("emissions.csv")}, true, {"--", "true"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  run(args({"measure", "-q", "--csv", path("emissions.csv")}, true, {"--", "true"}));
  std::ifstream f(root_ / "emissions.csv");
  std::string header, row1, row2, extra;
  std::getline(f, header);
  std::getline(f, row1);
  std::getline(f, row2);
  EXPECT_NE(header.find("energy_consumed"), std::string::npos) << header;
  EXPECT_NE(header.find("emissions"), std::string::npos) << header;
  EXPECT_FALSE(row1.empty());
  EXPECT_FALSE(row2.empty()) << "a second run appends a row";
  EXPECT_FALSE(std::getline(f, extra)) << "the header is written once";
}

}  // namespace

// Human output has readable units and never scientific notation (issue 17):
// tiny and huge figures alike.
TEST(ReadableOutput, NoScientificNotationForTinyOrHugeFigures) {
  const std::regex exponent(R"(\d[eE][+-]?\d)");
  auto run_text = [](const std::string& args) {
    const std::string cmd = std::string(JOULEBENCH_BINARY) + " " + args + " 2>&1";
    std::string text;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
      ::pclose(p);
    }
    return text;
  };
  for (const std::string args :
       {"carbon --kwh 0.0000000123 --country FRA", "carbon --kwh 123456789 --country USA",
        "project --kwh-per-request 0.0000000029 --requests-per-day 10 --country FRA",
        "project --kwh-per-request 0.003 --requests-per-day 1000000000000 --days 3650 --country USA",
        "measure --country FRA -- true"}) {
    const std::string text = run_text(args);
    EXPECT_FALSE(std::regex_search(text, exponent)) << args << ":\n" << text;
    EXPECT_FALSE(text.empty()) << args;
  }
  const std::string carbon = run_text("carbon --kwh 0.0000123 --country FRA");
  EXPECT_NE(carbon.find("689 µg CO2e  = 12.3 mWh"), std::string::npos) << carbon;
  const std::string huge = run_text("project --kwh-per-request 0.003 --requests-per-day 1000000000000 --country USA");
  EXPECT_NE(huge.find(" t"), std::string::npos) << huge;  // tonnes, not 5.06089e+06 kg
}
