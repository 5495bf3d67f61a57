// A test fixture that runs the built `joulebench` (JOULEBENCH_BINARY, defined
// per test target) in a fresh folder with a clean environment: no user
// config, no time-zone guess, only what the test says.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace jbtest {

struct CliResult {
  int code = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("jb-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_suite()->name() + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `joulebench ARGS` in dir_ with `env` (e.g. "JOULEBENCH_COUNTRY=FRA") added.
  CliResult run(const std::string& args, const std::string& env = "") {
    const std::string cmd = "cd '" + dir_.string() + "' && env -i PATH=/usr/bin:/bin HOME='" + dir_.string() +
                            "' TZ=Etc/UTC " + env + " '" + JOULEBENCH_BINARY + "' " + args + " >out.txt 2>err.txt";
    CliResult r;
    const int status = std::system(cmd.c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ / "out.txt");
    r.err = slurp(dir_ / "err.txt");
    return r;
  }

  std::filesystem::path dir_;
};

}  // namespace jbtest
