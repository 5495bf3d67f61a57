#include <joulebench/joulebench.h>

#include <cstdio>

static void run_my_model() { /* your inference here */ }

int main() {
  joulebench::Tracker tracker;  // discovers this machine's sensors, starts sampling
  tracker.begin_window("inference");
  run_my_model();
  joulebench::Measurement m = tracker.end_window("inference");

  for (const joulebench::ComponentEnergy& c : m.components)
    std::printf("%-6s %10.3f J  %s\n", std::string(joulebench::to_string(c.component)).c_str(), c.energy_j,
                c.provenance.to_string().c_str());
  std::printf("total  %10.3f J (cpu + dram + gpu)\n", m.total_energy_j());
  for (const std::string& w : m.warnings) std::printf("warning: %s\n", w.c_str());
}
