// N sockets that connect to a loopback port and say nothing, as a slow or
// hostile client does; one the server closed (its idle timeout) is opened
// again at once, so that N are always held. For the exporter's tests and its
// load benchmark (issue 16: idle connections must not stall a scrape).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace jbtest {

class IdleConnections {
 public:
  IdleConnections(int port, int n) : port_(port), fds_(static_cast<std::size_t>(n), -1) {
    for (auto& fd : fds_) fd = open_one();
    thread_ = std::thread([this] {
      while (!stop_) {
        for (auto& fd : fds_) {
          char c;
          if (fd < 0 || ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
            if (fd >= 0) ::close(fd);
            fd = open_one();
            ++reopened_;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  ~IdleConnections() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }
  IdleConnections(const IdleConnections&) = delete;
  IdleConnections& operator=(const IdleConnections&) = delete;

  // How many were opened again after the server dropped them.
  long reopened() const { return reopened_; }
  // How many are connected now.
  int held() const {
    int n = 0;
    for (int fd : fds_) n += fd >= 0;
    return n;
  }

 private:
  int open_one() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  int port_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<long> reopened_{0};
  std::thread thread_;
};

}  // namespace jbtest
