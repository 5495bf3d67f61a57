// A real PostgreSQL server for the tests (Debian package postgresql): initdb
// into a temporary folder as the 'postgres' user when the test runs as root,
// pg_ctl start on a free port with its unix socket in that folder (no TCP),
// one fresh database per test, pg_ctl stop at the end. stop() and start()
// in between let a test take the server away mid-run and bring it back on
// the same URL. Register one per test binary as a gtest Environment.
// Targets using it link libpqxx (fresh databases are made through it).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <filesystem>
#include <string>
#include <vector>

#include "free_port.h"

extern char** environ;

namespace jbtest {

inline std::string pg_bin() {
  for (const char* v : {"17", "16", "15", "14", "13"}) {
    const std::string dir = std::string("/usr/lib/postgresql/") + v + "/bin";
    if (std::filesystem::exists(dir + "/initdb")) return dir;
  }
  return {};
}

class PostgresServer : public ::testing::Environment {
 public:
  void SetUp() override {
    bin_ = pg_bin();
    if (bin_.empty()) {
      why_not_ = "PostgreSQL server binaries not installed (scripts/setup.sh installs the Debian package postgresql)";
      return;
    }
    user_ = ::geteuid() == 0 ? "postgres" : "";
    if (::geteuid() == 0 && ::getpwnam("postgres") == nullptr) {
      why_not_ = "running as root without a 'postgres' user to run the server as";
      return;
    }
    dir_ = std::filesystem::path("/tmp") / ("jb-pg-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "socket");
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid);
      ::chown((dir_ / "socket").c_str(), pw->pw_uid, pw->pw_gid);
    }
    port_ = free_loopback_port();
    if (run({bin_ + "/initdb", "-D", (dir_ / "data").string(), "-A", "trust", "-U", "joulebench", "-E", "UTF8",
             "--no-sync"}) != 0) {
      why_not_ = "initdb failed";
      return;
    }
    if (!start()) why_not_ = "pg_ctl start failed; see " + (dir_ / "server.log").string();
  }
  void TearDown() override {
    if (running_) stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Starts the server (again) on the same port and socket: the same URLs work.
  bool start() {
    running_ = run({bin_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-l", (dir_ / "server.log").string(), "-w",
                    "-t", "30", "-o",
                    "-p " + std::to_string(port_) + " -k " + (dir_ / "socket").string() +
                        " -c listen_addresses= -c fsync=off",
                    "start"}) == 0;
    if (running_) started_ = true;
    return running_;
  }
  // Stops it at once (-m immediate: clients lose their connections as in a crash).
  void stop() {
    run({bin_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"});
    running_ = false;
  }

  bool started() const { return started_; }  // it came up at least once: the tests can run
  bool running() const { return running_; }
  const std::string& why_not() const { return why_not_; }
  std::string url(const std::string& db) const {
    return "postgresql://joulebench@/" + db + "?host=" + (dir_ / "socket").string() + "&port=" + std::to_string(port_);
  }
  int port() const { return port_; }

  // A new empty database (dropped first if a previous run left it); its URL.
  std::string fresh_database(const std::string& name) const {
    pqxx::connection admin(url("postgres"));
    pqxx::nontransaction t(admin);
    t.exec("DROP DATABASE IF EXISTS " + t.quote_name(name));
    t.exec("CREATE DATABASE " + t.quote_name(name));
    return url(name);
  }

 private:
  // Runs argv (no shell), as user_ through runuser when this process is root.
  int run(std::vector<std::string> argv) const {
    if (::geteuid() == 0) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", user_, "--"});
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    // Their progress lines are noise in the test log; errors still go to stderr.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string bin_, user_, why_not_;
  std::filesystem::path dir_;
  int port_ = 0;
  bool started_ = false, running_ = false;
};

}  // namespace jbtest
