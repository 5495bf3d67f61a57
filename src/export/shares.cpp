#include "export/shares.h"

#include <algorithm>

namespace joulebench::exporter {

void ShareTable::add(const std::string& id, const std::string& name, double energy_j) {
  if (auto it = tracked_.find(id); it != tracked_.end()) {
    it->second.energy_j += energy_j;
    it->second.seen = true;
    if (it->second.name.empty()) it->second.name = name;
    return;
  }
  pending_.push_back({id, name, energy_j});
}

void ShareTable::end_tick() {
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (!it->second.seen) {
      it = tracked_.erase(it);
    } else {
      it->second.seen = false;
      ++it;
    }
  }
  std::sort(pending_.begin(), pending_.end(),
            [](const ExportedShare& a, const ExportedShare& b) { return a.energy_j > b.energy_j; });
  for (auto& p : pending_) {
    // Only a key that used energy this tick earns a slot (idle processes stay in "other").
    if (tracked_.size() < slots_ && p.energy_j > 0.0) {
      tracked_.emplace(p.id, Entry{p.name, p.energy_j, false});
    } else {
      other_j_ += p.energy_j;
    }
  }
  pending_.clear();
}

std::vector<ExportedShare> ShareTable::tracked() const {
  std::vector<ExportedShare> out;
  out.reserve(tracked_.size());
  for (const auto& [id, e] : tracked_) out.push_back({id, e.name, e.energy_j});
  std::sort(out.begin(), out.end(), [](const ExportedShare& a, const ExportedShare& b) { return a.id < b.id; });
  return out;
}

}  // namespace joulebench::exporter
