// Internal helpers shared by the sensor backends: reading small sysfs/devfs
// attributes with errno kept (EACCES must become an explanation, not a
// crash), strict number parsing (garbage is an error, never a zero), and
// directory listing in natural order (hwmon2 before hwmon10).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/text_util.h"

namespace joulebench::sensors {

using detail::parse_double;  // strict: the whole (trimmed) text must be a finite number
using detail::trim;

// Strict parsers: the whole (trimmed) text must be the number.
std::optional<std::uint64_t> parse_u64(std::string_view text);
std::optional<std::int64_t> parse_i64(std::string_view text);
// Accepts decimal or 0x-prefixed hexadecimal ("0x02").
std::optional<std::uint64_t> parse_u64_any_base(std::string_view text);

std::string errno_text(int err);
bool exists(const std::string& path);
bool is_directory(const std::string& path);

// Reads a small file, trimmed. Returns 0 or the errno.
int read_text(const std::string& path, std::string& text);
// Reads a file holding one non-negative integer. Returns "" on success, or a
// message naming the file: "cannot read P: Permission denied", "P: 'abc' is
// not a number", "P is empty".
std::string read_u64(const std::string& path, std::uint64_t& value);

// Names of the entries of `dir` starting with `prefix`, natural order. Empty
// when `dir` does not exist.
std::vector<std::string> list_dir(const std::string& dir, std::string_view prefix = {});

// Natural ordering: digit runs compare as numbers ("hwmon2" < "hwmon10").
bool natural_less(const std::string& a, const std::string& b);

// A file kept open and re-read with pread at offset 0 (sysfs attributes and
// regular files both give fresh contents): saves an open/close per sample.
class AttributeFile {
 public:
  AttributeFile() = default;
  explicit AttributeFile(std::string path) : path_(std::move(path)) {}
  ~AttributeFile();
  AttributeFile(AttributeFile&& other) noexcept;
  AttributeFile& operator=(AttributeFile&& other) noexcept;
  AttributeFile(const AttributeFile&) = delete;
  AttributeFile& operator=(const AttributeFile&) = delete;

  const std::string& path() const { return path_; }
  // Opens the file; 0 or the errno.
  int open();
  // "" on success or a message naming the file (as read_u64).
  std::string read_u64(std::uint64_t& value);
  std::string read_i64(std::int64_t& value);

 private:
  std::string read_raw(std::string& text);
  std::string path_;
  int fd_ = -1;
};

// Logical CPUs with their package, from <sysfs>/devices/system/cpu/cpuN/topology.
struct CpuTopology {
  int cpu = 0;
  int package = 0;
  int core = 0;
};
// Online CPUs (those with a topology directory), by CPU number.
std::vector<CpuTopology> read_cpu_topology(const std::string& sysfs_root);
// First CPU of each package, ordered by package id: {package, cpu}.
std::vector<std::pair<int, int>> first_cpu_per_package(const std::vector<CpuTopology>& cpus);

// Parses a Linux CPU list ("0-3,8,10-11").
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

}  // namespace joulebench::sensors
