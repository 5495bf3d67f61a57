// A fake energy counter that advances as a real one does: a thread rewrites
// the file every millisecond, in place (readers keep it open and pread it),
// with start + k x step, zero-padded so each write is one same-size pwrite.
// Fake trees whose files stand still are stuck counters (docs/measurement.md).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

namespace jbtest {

class CounterTicker {
 public:
  CounterTicker(const std::filesystem::path& file, std::uint64_t start, std::uint64_t step_per_ms)
      : fd_(::open(file.c_str(), O_WRONLY | O_CREAT, 0644)), value_(start), step_(step_per_ms) {
    write_value();
    thread_ = std::thread([this] {
      while (!stop_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        value_ += step_;
        write_value();
      }
    });
  }
  ~CounterTicker() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  CounterTicker(const CounterTicker&) = delete;
  CounterTicker& operator=(const CounterTicker&) = delete;

 private:
  void write_value() {
    char text[32];
    const int len = std::snprintf(text, sizeof text, "%020llu\n", static_cast<unsigned long long>(value_.load()));
    [[maybe_unused]] const auto n = ::pwrite(fd_, text, static_cast<std::size_t>(len), 0);
  }
  int fd_;
  std::atomic<std::uint64_t> value_;
  std::uint64_t step_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace jbtest
