// Fake sysfs/procfs/devfs trees written by the tests, so the real reading
// code runs against them. Removed when the test ends.
#pragma once

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "joulebench/sensor.h"

namespace joulebench::testing {

class FakeTree {
 public:
  FakeTree() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::filesystem::temp_directory_path() /
            ("joulebench-sensors-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    // Readable by other users: the permission tests drop root.
    ::chmod(root_.c_str(), 0755);
  }
  ~FakeTree() { std::filesystem::remove_all(root_); }
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  // Writes (truncating in place, so files kept open see the new contents).
  void write(const std::string& rel, const std::string& text) const {
    const auto p = root_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::in | std::ios::out | std::ios::trunc);
    if (!f) std::ofstream(p) << text;
    else f << text;
  }
  void mkdir(const std::string& rel) const { std::filesystem::create_directories(root_ / rel); }
  void chmod(const std::string& rel, mode_t mode) const { ::chmod((root_ / rel).c_str(), mode); }
  std::string path(const std::string& rel = {}) const { return (root_ / rel).string(); }

  // Options with every root pointing inside this tree.
  SensorOptions options() const {
    SensorOptions o;
    o.paths.sysfs_root = path("sys");
    o.paths.procfs_root = path("proc");
    o.paths.dev_root = path("dev");
    o.paths.nvml_library = path("no-libnvidia-ml.so.1");
    // The fake files stand still unless a test moves them: no liveness probe
    // here (its own tests turn it on: discover_test.cpp, "Stuck").
    o.liveness_probe_s = 0.0;
    return o;
  }

 private:
  std::filesystem::path root_;
};

inline const Sensor* find_sensor(const SensorList& list, const std::string& name) {
  for (const auto& s : list)
    if (s->info().name == name) return s.get();
  return nullptr;
}
inline Sensor* find_sensor_mut(SensorList& list, const std::string& name) {
  for (auto& s : list)
    if (s->info().name == name) return s.get();
  return nullptr;
}

// Runs `fn` without root's power to read any file: as root (the test machine
// runs as root) in a forked child that switched to uid/gid 65534, otherwise
// directly. Returns fn's result, or nullopt when root could not be dropped.
// Lets the EACCES paths run through the real open() with a real file mode.
inline std::optional<std::string> run_without_root(const std::function<std::string()>& fn) {
  if (::geteuid() != 0) return fn();
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::close(fds[0]);
    std::string result = "\x01";
    if (::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 && ::setuid(65534) == 0) result = fn();
    const char* p = result.data();
    std::size_t left = result.size();
    while (left > 0) {
      const ssize_t n = ::write(fds[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string result;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) result.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (result == "\x01" || !WIFEXITED(status)) return std::nullopt;
  return result;
}

}  // namespace joulebench::testing
