#include "attribution.h"

#include <fmt/core.h>
#include <sys/resource.h>

#include <algorithm>

#include "core/procfs.h"
#include "joulebench/error.h"

namespace joulebench::meter {
namespace {

double own_reaped_children_cpu_s() {
  rusage usage{};
  if (::getrusage(RUSAGE_CHILDREN, &usage) != 0) return 0.0;
  auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

CpuSnapshot take_cpu_snapshot(const std::string& procfs_root, const AttributionTarget& target) {
  CpuSnapshot snap;
  snap.enabled = target.enabled();
  if (!snap.enabled) return snap;
  try {
    snap.machine_busy_s = procfs::read_stat(procfs_root).total.busy_s();
    double tree = 0.0;
    // Skip the scan of every /proc/*/stat when the root is gone (a reaped
    // command): its time is in RUSAGE_CHILDREN then.
    if (target.pid > 0 && procfs::read_process_stat(procfs_root, target.pid))
      tree = procfs::process_tree_cpu_s(procfs_root, target.pid);
    if (target.include_reaped_children) tree += own_reaped_children_cpu_s();
    snap.tree_cpu_s = tree;
    snap.ok = true;
  } catch (const Error& e) {
    snap.error = e.what();
  }
  return snap;
}

bool in_process_tree(const std::string& procfs_root, int root, int pid) {
  // Depth guard: ppid chains are short; a cycle would mean a broken /proc.
  for (int depth = 0; depth < 256 && pid > 1; ++depth) {
    if (pid == root) return true;
    try {
      const auto stat = procfs::read_process_stat(procfs_root, pid);
      if (!stat) return false;
      pid = stat->ppid;
    } catch (const Error&) {
      return false;
    }
  }
  return pid == root;
}

std::optional<double> cpu_share(const CpuSnapshot& begin, const CpuSnapshot& end, const std::string& window,
                                std::vector<std::string>& warnings) {
  if (!end.enabled) return std::nullopt;
  if (!begin.ok || !end.ok) {
    warnings.push_back(fmt::format("window '{}': no attributed energy: cannot read CPU times: {}", window,
                                   !begin.ok && begin.enabled ? begin.error : end.error));
    return std::nullopt;
  }
  // A tree that did not exist (or was not asked for) at begin counts from 0.
  const double tree_begin = begin.enabled ? begin.tree_cpu_s : 0.0;
  const double tree = std::max(0.0, end.tree_cpu_s - tree_begin);
  const double busy = end.machine_busy_s - begin.machine_busy_s;
  if (busy <= 0.0) {
    warnings.push_back(fmt::format(
        "window '{}': no attributed energy: the machine's CPU time did not advance in /proc/stat, which counts "
        "whole clock ticks of {:.0f} ms (a window shorter than one, or a machine idle throughout, shows none)",
        window, 1000.0 / procfs::clock_ticks_per_second()));
    return std::nullopt;
  }
  double share = tree / busy;
  if (share > 1.0) {
    // /proc/stat counts whole ticks while RUSAGE_CHILDREN is exact; a short
    // window can show slightly more than 100 %.
    if (share > 1.1)
      warnings.push_back(fmt::format(
          "window '{}': the process tree's CPU time ({:.3f} s) exceeds the machine's busy time ({:.3f} s); "
          "share capped at 100 %",
          window, tree, busy));
    share = 1.0;
  }
  return share;
}

}  // namespace joulebench::meter
