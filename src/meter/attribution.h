// Internal: a process tree's share of the machine's CPU time over a window,
// from /proc (through core/procfs.h) and, for a command this process started
// and reaped, getrusage(RUSAGE_CHILDREN).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "joulebench/meter.h"

namespace joulebench::meter {

struct CpuSnapshot {
  bool ok = false;
  std::string error;           // why not, when !ok
  bool enabled = false;        // attribution asked for at this instant
  double machine_busy_s = 0;   // /proc/stat "cpu" line, busy part
  double tree_cpu_s = 0;       // the tree's CPU time (own + reaped children)
};

// Never throws: a failure to read /proc is reported in `error`.
CpuSnapshot take_cpu_snapshot(const std::string& procfs_root, const AttributionTarget& target);

// Whether `pid` is `root` or descends from it, following ppid links in
// /proc (a GPU lists few processes: cheaper than scanning every process).
// False when the chain cannot be read.
bool in_process_tree(const std::string& procfs_root, int root, int pid);

// The tree's share of the machine's busy CPU time between two snapshots, in
// [0, 1]; std::nullopt (with a warning appended) when it cannot be known.
std::optional<double> cpu_share(const CpuSnapshot& begin, const CpuSnapshot& end, const std::string& window,
                                std::vector<std::string>& warnings);

}  // namespace joulebench::meter
