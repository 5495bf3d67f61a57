// Internal: bounded label cardinality for attributed energy. At most `slots`
// keys get a series of their own; the energy of every other key goes to
// "other". A key keeps its slot while it is alive, so each series and
// "other" stay monotonic: slots are never taken from a live key, only given
// to new keys when one frees (its process exited, its cgroup emptied).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "joulebench/exporter.h"

namespace joulebench::exporter {

class ShareTable {
 public:
  explicit ShareTable(std::size_t slots) : slots_(slots) {}

  // Energy of `id` over the current tick (call once per id per tick).
  void add(const std::string& id, const std::string& name, double energy_j);
  // Ends the tick: ids not seen this tick lose their slot; free slots go to
  // this tick's largest untracked ids; the rest of the tick's energy goes to
  // other.
  void end_tick();

  std::vector<ExportedShare> tracked() const;
  double other_j() const { return other_j_; }

 private:
  struct Entry {
    std::string name;
    double energy_j = 0.0;
    bool seen = false;
  };
  std::size_t slots_;
  std::unordered_map<std::string, Entry> tracked_;
  std::vector<ExportedShare> pending_;  // untracked ids of this tick
  double other_j_ = 0.0;
};

}  // namespace joulebench::exporter
