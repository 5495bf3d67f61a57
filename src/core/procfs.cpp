#include "core/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>
#include <sstream>
#include <string_view>

#include "joulebench/error.h"
#include "core/text_util.h"

namespace joulebench::procfs {
namespace {

using detail::trim;

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

int read_file(const std::string& path, std::string& text) {
  text.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      text.clear();
      return err;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return 0;
}

ProcFile::~ProcFile() {
  if (fd_ >= 0) ::close(fd_);
}

int ProcFile::read(std::string& text) {
  text.clear();
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return errno;
  }
  std::size_t used = 0;
  text.resize(std::max<std::size_t>(text.capacity(), 4096));
  for (;;) {
    const ssize_t n = ::pread(fd_, text.data() + used, text.size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      text.clear();
      return err;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used == text.size()) text.resize(text.size() * 2);
  }
  text.resize(used);
  return 0;
}

const std::string& ProcFile::read_or_throw() {
  if (const int err = read(text_); err != 0) throw Error("cannot read " + path_ + ": " + errno_text(err));
  return text_;
}

std::string read_file_or_throw(const std::string& path) {
  std::string text;
  if (const int err = read_file(path, text); err != 0)
    throw Error("cannot read " + path + ": " + errno_text(err));
  return text;
}

double clock_ticks_per_second() {
  static const double ticks = [] {
    const long v = ::sysconf(_SC_CLK_TCK);
    return v > 0 ? static_cast<double>(v) : 100.0;  // 100 is the Linux USER_HZ everywhere in practice
  }();
  return ticks;
}

StatSnapshot read_stat(const std::string& procfs_root) {
  const std::string path = procfs_root + "/stat";
  return parse_stat(read_file_or_throw(path), path);
}

StatSnapshot parse_stat(const std::string& text, const std::string& path) {
  const double tick = clock_ticks_per_second();
  StatSnapshot snap;
  bool have_total = false;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("cpu", 0) != 0) {
      // The cpu lines come first; the rest (the long "intr" line) is not needed.
      if (have_total || !snap.per_cpu.empty()) break;
      continue;
    }
    const auto fields = split_ws(line);
    if (fields.empty()) continue;
    CpuTimes t;
    const std::string_view label = fields[0];
    if (label == "cpu") {
      t.cpu = -1;
    } else if (!parse_number(label.substr(3), t.cpu) || t.cpu < 0) {
      throw Error(path + ": malformed line '" + line + "'");
    }
    // user nice system idle iowait irq softirq steal [guest guest_nice]; old kernels have fewer.
    if (fields.size() < 5) throw Error(path + ": too few fields in line '" + line + "'");
    double* targets[] = {&t.user_s, &t.nice_s, &t.system_s, &t.idle_s,
                         &t.iowait_s, &t.irq_s, &t.softirq_s, &t.steal_s};
    for (std::size_t i = 0; i < 8 && i + 1 < fields.size(); ++i) {
      std::uint64_t ticks = 0;
      if (!parse_number(fields[i + 1], ticks))
        throw Error(path + ": non-numeric field '" + std::string(fields[i + 1]) + "' in line '" + line + "'");
      *targets[i] = static_cast<double>(ticks) / tick;
    }
    if (t.cpu < 0) {
      snap.total = t;
      have_total = true;
    } else {
      snap.per_cpu.push_back(t);
    }
  }
  if (!have_total) throw Error(path + ": no 'cpu' line (is this a Linux procfs?)");
  return snap;
}

ProcessStat parse_process_stat(const std::string& text, const std::string& source) {
  // "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so it
  // runs from the first '(' to the last ')'.
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open)
    throw Error(source + ": malformed process stat (no '(comm)')");
  ProcessStat p;
  if (!parse_number(trim(std::string_view(text).substr(0, open)), p.pid))
    throw Error(source + ": malformed process stat (bad pid)");
  p.comm = text.substr(open + 1, close - open - 1);
  const auto rest = split_ws(trim(std::string_view(text).substr(close + 1)));
  // rest[0] = state (field 3), rest[1] = ppid (4), utime = field 14 -> rest[11],
  // stime 15 -> rest[12], cutime 16 -> rest[13], cstime 17 -> rest[14].
  if (rest.size() < 15) throw Error(source + ": malformed process stat (too few fields)");
  if (rest[0].size() != 1) throw Error(source + ": malformed process stat (bad state)");
  p.state = rest[0][0];
  if (!parse_number(rest[1], p.ppid)) throw Error(source + ": malformed process stat (bad ppid)");
  const double tick = clock_ticks_per_second();
  double* targets[] = {&p.utime_s, &p.stime_s, &p.cutime_s, &p.cstime_s};
  for (std::size_t i = 0; i < 4; ++i) {
    std::int64_t ticks = 0;  // cutime/cstime are signed in the kernel's format
    if (!parse_number(rest[11 + i], ticks) || ticks < 0)
      throw Error(source + ": malformed process stat (bad time field '" + std::string(rest[11 + i]) + "')");
    *targets[i] = static_cast<double>(ticks) / tick;
  }
  if (rest.size() >= 20 && !parse_number(rest[19], p.start_ticks))
    throw Error(source + ": malformed process stat (bad starttime)");
  return p;
}

std::string boot_id(const std::string& procfs_root) {
  std::string text;
  if (read_file(procfs_root + "/sys/kernel/random/boot_id", text) != 0) return {};
  return std::string(trim(text));
}

std::optional<ProcessStat> read_process_stat(const std::string& procfs_root, int pid) {
  const std::string path = procfs_root + "/" + std::to_string(pid) + "/stat";
  std::string text;
  const int err = read_file(path, text);
  if (err == ENOENT || err == ESRCH) return std::nullopt;  // exited
  if (err != 0) throw Error("cannot read " + path + ": " + errno_text(err));
  if (text.empty()) return std::nullopt;  // raced with exit
  return parse_process_stat(text, path);
}

std::vector<ProcessStat> read_all_process_stats(const std::string& procfs_root) {
  std::vector<ProcessStat> out;
  DIR* dir = ::opendir(procfs_root.c_str());
  if (!dir) throw Error("cannot list " + procfs_root + ": " + errno_text(errno));
  while (const dirent* entry = ::readdir(dir)) {
    int pid = 0;
    if (!parse_number(std::string_view(entry->d_name), pid) || pid <= 0) continue;
    try {
      if (auto p = read_process_stat(procfs_root, pid)) out.push_back(std::move(*p));
    } catch (const Error&) {
      // A process we may not read or that changed under us is not part of any
      // tree we can account for; skip it rather than fail the whole scan.
    }
  }
  ::closedir(dir);
  return out;
}

std::vector<int> process_tree(const std::vector<ProcessStat>& all, int pid) {
  const bool exists = std::any_of(all.begin(), all.end(), [&](const ProcessStat& p) { return p.pid == pid; });
  if (!exists) return {};
  std::vector<int> tree{pid};
  std::set<int> seen{pid};
  // Breadth-first over ppid links; `seen` guards against pid reuse loops.
  for (std::size_t i = 0; i < tree.size(); ++i) {
    for (const auto& p : all) {
      if (p.ppid == tree[i] && seen.insert(p.pid).second) tree.push_back(p.pid);
    }
  }
  return tree;
}

std::vector<int> process_tree(const std::string& procfs_root, int pid) {
  return process_tree(read_all_process_stats(procfs_root), pid);
}

double process_tree_cpu_s(const std::string& procfs_root, int pid) {
  const auto all = read_all_process_stats(procfs_root);
  const auto tree = process_tree(all, pid);
  double sum = 0.0;
  for (const auto& p : all)
    if (std::find(tree.begin(), tree.end(), p.pid) != tree.end()) sum += p.cpu_with_reaped_children_s();
  return sum;
}

MemInfo read_meminfo(const std::string& procfs_root) {
  const std::string path = procfs_root + "/meminfo";
  return parse_meminfo(read_file_or_throw(path), path);
}

MemInfo parse_meminfo(const std::string& text, const std::string& path) {
  std::optional<std::uint64_t> total, available;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto key = std::string_view(line).substr(0, colon);
    if (key != "MemTotal" && key != "MemAvailable") continue;
    const auto fields = split_ws(trim(std::string_view(line).substr(colon + 1)));
    std::uint64_t kib = 0;
    if (fields.empty() || !parse_number(fields[0], kib) || (fields.size() > 1 && fields[1] != "kB"))
      throw Error(path + ": malformed line '" + line + "'");
    if (kib > (UINT64_MAX >> 10)) throw Error(path + ": implausible value in line '" + line + "'");
    (key == "MemTotal" ? total : available) = kib * 1024;
    if (total && available) break;
  }
  if (!total) throw Error(path + ": no MemTotal line");
  if (!available) throw Error(path + ": no MemAvailable line (kernel older than 3.14?)");
  return MemInfo{*total, *available};
}

CpuInfo read_cpuinfo(const std::string& procfs_root) {
  const std::string path = procfs_root + "/cpuinfo";
  const std::string text = read_file_or_throw(path);
  CpuInfo info;
  std::set<int> physical_ids;
  int siblings = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto key = trim(std::string_view(line).substr(0, colon));
    const auto value = trim(std::string_view(line).substr(colon + 1));
    auto set_int_once = [&](int& field) {
      int v = 0;
      if (field < 0 && parse_number(value, v)) field = v;
    };
    if (key == "processor") {
      ++info.logical_cpus;
    } else if (key == "vendor_id" && info.vendor.empty()) {
      info.vendor = value;
    } else if (key == "model name" && info.model_name.empty()) {
      info.model_name = value;
    } else if (key == "cpu family") {
      set_int_once(info.family);
    } else if (key == "model") {
      set_int_once(info.model);
    } else if (key == "stepping") {
      set_int_once(info.stepping);
    } else if (key == "physical id") {
      int v = 0;
      if (parse_number(value, v)) physical_ids.insert(v);
    } else if (key == "siblings" && siblings == 0) {
      int v = 0;
      if (parse_number(value, v) && v > 0) siblings = v;
    }
  }
  if (info.logical_cpus == 0) throw Error(path + ": lists no processor");
  info.packages = physical_ids.empty() ? 1 : static_cast<int>(physical_ids.size());
  info.threads_per_package = siblings > 0 ? siblings : std::max(1, info.logical_cpus / info.packages);
  return info;
}

}  // namespace joulebench::procfs
