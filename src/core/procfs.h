// Internal (not public): reading Linux procfs under a configurable root, so
// tests run the real parsing code against fake trees. Used by the estimation
// sensors (CPU time used, memory in use) and by the meter's attribution (a
// process tree's share of the machine's CPU time).
//
// Errors: functions throw joulebench::Error naming the file and the cause,
// except where a missing file is an expected outcome (a process that exited),
// which is an empty std::optional.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace joulebench::procfs {

// Reads a whole (small) file. Returns 0 and fills `text`, or the errno of the
// failure (EACCES, ENOENT, ...) and leaves `text` empty. Never throws.
int read_file(const std::string& path, std::string& text);

// Reads a whole file or throws Error("cannot read <path>: <strerror>").
std::string read_file_or_throw(const std::string& path);

// A file read again and again at the sampling rate (/proc/stat, /proc/meminfo):
// kept open and re-read from offset 0 with pread, which makes the kernel
// regenerate it. The open/close pair is half the cost of a read in a VM
// (docs/benchmarks.md, section Meter).
class ProcFile {
 public:
  explicit ProcFile(std::string path) : path_(std::move(path)) {}
  ~ProcFile();
  ProcFile(const ProcFile&) = delete;
  ProcFile& operator=(const ProcFile&) = delete;

  // Returns 0 and fills `text`, or the errno of the failure and leaves `text`
  // empty. A failing descriptor is closed, so the next read opens the file again.
  int read(std::string& text);
  // Throws Error("cannot read <path>: <strerror>").
  const std::string& read_or_throw();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string text_;
  int fd_ = -1;
};

// sysconf(_SC_CLK_TCK): the unit of the tick counts in /proc/stat and /proc/PID/stat.
double clock_ticks_per_second();

// One "cpu" or "cpuN" line of /proc/stat, in seconds.
struct CpuTimes {
  int cpu = -1;  // -1 for the "cpu" total line, N for "cpuN"
  double user_s = 0, nice_s = 0, system_s = 0, idle_s = 0, iowait_s = 0;
  double irq_s = 0, softirq_s = 0, steal_s = 0;
  // Time spent doing work on this machine: user + nice + system + irq + softirq.
  // (guest time is already inside user/nice; steal is the hypervisor running
  // someone else, so it is neither busy nor idle for us.)
  double busy_s() const { return user_s + nice_s + system_s + irq_s + softirq_s; }
  // busy + idle + iowait + steal: the wall time covered, times the CPUs.
  double total_s() const { return busy_s() + idle_s + iowait_s + steal_s; }
};

struct StatSnapshot {
  CpuTimes total;                // the "cpu" line: sum over CPUs
  std::vector<CpuTimes> per_cpu;  // "cpuN" lines in file order (offline CPUs absent)
};

// <root>/stat. Throws Error when unreadable or without a valid "cpu" line.
StatSnapshot read_stat(const std::string& procfs_root);
// The same from the text of a stat file (`source` names it in errors).
StatSnapshot parse_stat(const std::string& text, const std::string& source);

// Fields of <root>/<pid>/stat that matter here, in seconds.
struct ProcessStat {
  int pid = 0;
  std::string comm;  // without the parentheses; may contain spaces and ')'
  char state = '?';
  int ppid = 0;
  double utime_s = 0, stime_s = 0;    // this process (all its threads)
  double cutime_s = 0, cstime_s = 0;  // its children that exited and were waited for
  // Field 22: when it started, in clock ticks since boot (0 when the file has
  // fewer fields). With the pid and the boot id it names a process across pid reuse.
  std::uint64_t start_ticks = 0;
  double cpu_s() const { return utime_s + stime_s; }
  // Own time plus reaped children: summing this over the live members of a
  // tree counts every descendant once, dead or alive (if reaped inside the tree).
  double cpu_with_reaped_children_s() const { return utime_s + stime_s + cutime_s + cstime_s; }
};

// Parses the text of a /proc/PID/stat file; throws Error naming `source` on
// malformed text. comm is found between the first '(' and the LAST ')'.
ProcessStat parse_process_stat(const std::string& text, const std::string& source);

// <root>/<pid>/stat; std::nullopt when the process does not exist (anymore).
// Throws Error on any other failure (unreadable, malformed).
std::optional<ProcessStat> read_process_stat(const std::string& procfs_root, int pid);

// <root>/sys/kernel/random/boot_id, trimmed: changes at every boot. Empty when unreadable.
std::string boot_id(const std::string& procfs_root);

// Every process under <root> (numeric directories), read once; processes that
// vanish during the scan or whose stat file is malformed are skipped.
std::vector<ProcessStat> read_all_process_stats(const std::string& procfs_root);

// `pid` and all its live descendants (children found through the ppid field
// of every <root>/*/stat), `pid` first. Empty when `pid` does not exist.
std::vector<int> process_tree(const std::string& procfs_root, int pid);
// Same, from an already-read scan (lets a caller scan once per sample).
std::vector<int> process_tree(const std::vector<ProcessStat>& all, int pid);

// CPU seconds of the tree rooted at `pid`: sum over live members of
// cpu_with_reaped_children_s(). 0 when `pid` does not exist.
double process_tree_cpu_s(const std::string& procfs_root, int pid);

struct MemInfo {
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;
  std::uint64_t used_bytes() const {
    return total_bytes > available_bytes ? total_bytes - available_bytes : 0;
  }
};

// <root>/meminfo (MemTotal, MemAvailable). Throws Error when either is missing.
MemInfo read_meminfo(const std::string& procfs_root);
MemInfo parse_meminfo(const std::string& text, const std::string& source);

struct CpuInfo {
  std::string vendor;      // "GenuineIntel", "AuthenticAMD", "" when absent (e.g. ARM)
  std::string model_name;  // first "model name" line, "" when absent
  int family = -1;         // "cpu family", -1 when absent
  int model = -1;          // "model", -1 when absent
  int stepping = -1;       // "stepping", -1 when absent
  int logical_cpus = 0;    // number of "processor" entries
  int packages = 0;        // distinct "physical id" values (1 when the field is absent)
  int threads_per_package = 0;  // "siblings" (logical_cpus / packages when absent)
};

// <root>/cpuinfo. Throws Error when unreadable or listing no processor.
CpuInfo read_cpuinfo(const std::string& procfs_root);

}  // namespace joulebench::procfs
