// Fakes for the campaign tests: an energy counter that rises at a known
// power in real time, a model that counts its calls and can fail or ask the
// campaign to stop at a given call, and a small input set. No libtorch.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "joulebench/bench.h"
#include "joulebench/error.h"

namespace joulebench::testing {

// A counter that rises by kWatts every second of real time.
inline constexpr double kWatts = 10.0;
class RampCounter final : public Sensor {
 public:
  RampCounter() {
    info_.name = "fake:package-0";
    info_.backend = "fake";
    info_.component = Component::cpu;
    info_.kind = SensorKind::energy_counter;
    info_.provenance = Provenance{ProvenanceKind::measured, "fake-counter"};
  }
  const SensorInfo& info() const override { return info_; }
  SensorStatus status() const override { return {true, {}}; }
  SensorReading read() override {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    return SensorReading::success({t, kWatts * (t - t0_)});
  }

 private:
  SensorInfo info_;
  double t0_ = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
};

struct FakeState {
  int calls = 0;
  int loads = 0;
  int throw_at_call = -1;               // this call (1-based) throws
  int stop_at_call = -1;                // this call sets the stop flag
  std::atomic<bool>* stop = nullptr;
  std::function<void(int call)> on_call;  // called first at every call (fault injection)
};

class FakeModel final : public Model {
 public:
  FakeModel(std::string name, FakeState& state) : state_(state) { info_.name = std::move(name); }
  const ModelInfo& info() const override { return info_; }
  std::vector<InferenceOutput> infer(std::span<const InferenceInput> batch) override {
    ++state_.calls;
    if (state_.on_call) state_.on_call(state_.calls);
    if (state_.calls == state_.throw_at_call) throw Error("fake model: out of memory");
    if (state_.calls == state_.stop_at_call && state_.stop) state_.stop->store(true);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::vector<InferenceOutput> out;
    for (const auto& in : batch) {
      InferenceOutput o;
      std::istringstream words(in.text);
      for (std::string w; words >> w;) ++o.input_tokens;
      o.output_tokens = 3;
      out.push_back(o);
    }
    return out;
  }

 private:
  ModelInfo info_;
  FakeState& state_;
};

inline std::shared_ptr<const BenchInputSet> inputs(std::string name = "toy") {
  auto set = std::make_shared<BenchInputSet>();
  set->name = std::move(name);
  for (const char* t : {"one two three", "four five", "six"}) {
    InferenceInput in;
    in.text = t;
    set->inputs.push_back(in);
  }
  return set;
}

}  // namespace joulebench::testing
