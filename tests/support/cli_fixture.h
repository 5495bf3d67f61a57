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
    CliResult r;
    const int status = std::system(command(args, env).c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ / "out.txt");
    r.err = slurp(dir_ / "err.txt");
    return r;
  }

  // The same in the background (long-running commands: exporter, bench):
  // the returned pid is joulebench's own (the shell and env exec it), so a
  // signal sent to it reaches joulebench. Collect it with finish().
  pid_t start(const std::string& args, const std::string& env = "") {
    const std::string cmd = command(args, env);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  }
  // Waits for a start()ed command; code is 128 + N when signal N ended it.
  CliResult finish(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    CliResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
    r.out = slurp(dir_ / "out.txt");
    r.err = slurp(dir_ / "err.txt");
    return r;
  }
  // What a running command has written to stderr so far.
  std::string err_so_far() const { return slurp(dir_ / "err.txt"); }

  std::filesystem::path dir_;

 private:
  std::string command(const std::string& args, const std::string& env) const {
    return "cd '" + dir_.string() + "' && exec env -i PATH=/usr/bin:/bin HOME='" + dir_.string() + "' TZ=Etc/UTC " +
           env + " '" + JOULEBENCH_BINARY + "' " + args + " >out.txt 2>err.txt";
  }
};

}  // namespace jbtest
