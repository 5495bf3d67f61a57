#include "sensors/sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

#include "core/procfs.h"

namespace joulebench::sensors {

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  text = trim(text);
  std::uint64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_i64(std::string_view text) {
  text = trim(text);
  std::int64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> parse_u64_any_base(std::string_view text) {
  text = trim(text);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    std::uint64_t v = 0;
    const auto digits = text.substr(2);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
    return v;
  }
  return parse_u64(text);
}

std::string errno_text(int err) { return std::strerror(err); }

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

int read_text(const std::string& path, std::string& text) {
  const int err = procfs::read_file(path, text);
  if (err == 0) text = std::string(trim(text));
  return err;
}

namespace {

std::string describe_number_error(const std::string& path, const std::string& text) {
  if (trim(text).empty()) return path + " is empty";
  std::string shown(trim(text).substr(0, 40));
  return path + ": '" + shown + "' is not a valid number";
}

}  // namespace

std::string read_u64(const std::string& path, std::uint64_t& value) {
  std::string text;
  if (const int err = read_text(path, text); err != 0) return "cannot read " + path + ": " + errno_text(err);
  const auto v = parse_u64(text);
  if (!v) return describe_number_error(path, text);
  value = *v;
  return {};
}

bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      const auto na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      const auto sa = na.find_first_not_of('0'), sb = nb.find_first_not_of('0');
      const std::string ta = sa == std::string::npos ? "" : na.substr(sa);
      const std::string tb = sb == std::string::npos ? "" : nb.substr(sb);
      if (ta.size() != tb.size()) return ta.size() < tb.size();
      if (ta != tb) return ta < tb;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::vector<std::string> list_dir(const std::string& dir, std::string_view prefix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    if (name.substr(0, prefix.size()) == prefix) out.emplace_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), natural_less);
  return out;
}

AttributeFile::~AttributeFile() {
  if (fd_ >= 0) ::close(fd_);
}

AttributeFile::AttributeFile(AttributeFile&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

AttributeFile& AttributeFile::operator=(AttributeFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

int AttributeFile::open() {
  if (fd_ >= 0) return 0;
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  return fd_ < 0 ? errno : 0;
}

std::string AttributeFile::read_raw(std::string& text) {
  if (const int err = open(); err != 0) return "cannot read " + path_ + ": " + errno_text(err);
  char buffer[128];
  ssize_t n;
  do {
    n = ::pread(fd_, buffer, sizeof buffer - 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return "cannot read " + path_ + ": " + errno_text(errno);
  text.assign(buffer, static_cast<std::size_t>(n));
  // A number never fills the buffer; a file that does is not an attribute we know.
  if (n == static_cast<ssize_t>(sizeof buffer - 1)) return path_ + ": value too long";
  return {};
}

std::string AttributeFile::read_u64(std::uint64_t& value) {
  std::string text;
  if (auto error = read_raw(text); !error.empty()) return error;
  const auto v = parse_u64(text);
  if (!v) return describe_number_error(path_, text);
  value = *v;
  return {};
}

std::string AttributeFile::read_i64(std::int64_t& value) {
  std::string text;
  if (auto error = read_raw(text); !error.empty()) return error;
  const auto v = parse_i64(text);
  if (!v) return describe_number_error(path_, text);
  value = *v;
  return {};
}

std::vector<CpuTopology> read_cpu_topology(const std::string& sysfs_root) {
  std::vector<CpuTopology> out;
  const std::string base = sysfs_root + "/devices/system/cpu";
  for (const auto& name : list_dir(base, "cpu")) {
    const auto number = parse_u64(std::string_view(name).substr(3));
    if (!number) continue;  // cpufreq, cpuidle, ...
    CpuTopology t;
    t.cpu = static_cast<int>(*number);
    std::string text;
    const std::string topo = base + "/" + name + "/topology/";
    if (read_text(topo + "physical_package_id", text) != 0) continue;  // offline
    const auto package = parse_i64(text);
    if (!package) continue;
    // -1 on some virtual machines: treat as package 0.
    t.package = *package < 0 ? 0 : static_cast<int>(*package);
    if (read_text(topo + "core_id", text) == 0) {
      if (const auto core = parse_i64(text)) t.core = static_cast<int>(*core);
    }
    out.push_back(t);
  }
  std::sort(out.begin(), out.end(), [](const CpuTopology& a, const CpuTopology& b) { return a.cpu < b.cpu; });
  return out;
}

std::vector<std::pair<int, int>> first_cpu_per_package(const std::vector<CpuTopology>& cpus) {
  std::map<int, int> first;
  for (const auto& c : cpus) first.try_emplace(c.package, c.cpu);  // cpus sorted by number
  return {first.begin(), first.end()};
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> out;
  text = trim(text);
  if (text.empty()) return out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    const auto dash = item.find('-');
    const auto lo = parse_u64(item.substr(0, dash));
    const auto hi = dash == std::string_view::npos ? lo : parse_u64(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo || *hi > 65535) return std::nullopt;
    for (auto c = *lo; c <= *hi; ++c) out.push_back(static_cast<int>(c));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace joulebench::sensors
