// Sensors whose readings the test scripts: the meter's real code runs
// against them, without any backend.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "joulebench/sensor.h"

namespace joulebench::testing {

// What the next read() returns, set by the test at any time.
struct ScriptState {
  std::mutex mutex;
  double time_s = 0.0;
  double value = 0.0;  // joules (cumulative) or watts
  bool fail = false;
  std::string error = "scripted failure";
  // Real-time mode: time is the steady clock; value = rate x elapsed for a
  // counter, `value` for power.
  bool real_time = false;
  double rate_w = 0.0;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  // What device_process_ids() answers (GPU attribution); nullopt: cannot tell.
  std::optional<std::vector<int>> pids;
  int reads = 0;
  std::set<std::thread::id> reader_threads;

  void set(double t, double v) {
    std::lock_guard lock(mutex);
    time_s = t;
    value = v;
  }
};

inline SensorInfo make_info(std::string name, std::string backend, Component component, std::string device,
                            SensorKind kind, ProvenanceKind pk, double max_read_interval_s = 0.0) {
  SensorInfo info;
  info.name = std::move(name);
  info.backend = backend;
  info.component = component;
  info.device = std::move(device);
  info.description = "scripted test sensor";
  info.kind = kind;
  info.provenance = Provenance{pk, std::move(backend)};
  info.max_read_interval_s = max_read_interval_s;
  return info;
}

class ScriptedSensor final : public Sensor {
 public:
  ScriptedSensor(SensorInfo info, std::shared_ptr<ScriptState> state)
      : info_(std::move(info)), state_(std::move(state)) {}
  const SensorInfo& info() const override { return info_; }
  SensorStatus status() const override { return {true, {}}; }
  SensorReading read() override {
    std::lock_guard lock(state_->mutex);
    ++state_->reads;
    state_->reader_threads.insert(std::this_thread::get_id());
    if (state_->fail) return SensorReading::failure(state_->error);
    if (state_->real_time) {
      const double t =
          std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - state_->t0).count();
      const double v = info_.kind == SensorKind::power ? state_->value : state_->rate_w * elapsed;
      return SensorReading::success({t, v});
    }
    return SensorReading::success({state_->time_s, state_->value});
  }
  std::optional<std::vector<int>> device_process_ids() override {
    std::lock_guard lock(state_->mutex);
    return state_->pids;
  }

 private:
  SensorInfo info_;
  std::shared_ptr<ScriptState> state_;
};

// Builds a SensorList and keeps each sensor's script for the test.
struct FakeRig {
  SensorList sensors;
  std::shared_ptr<ScriptState> add(SensorInfo info) {
    auto state = std::make_shared<ScriptState>();
    sensors.push_back(std::make_unique<ScriptedSensor>(std::move(info), state));
    return state;
  }
  void add_unavailable(SensorInfo info, std::string reason) {
    sensors.push_back(std::make_unique<UnavailableSensor>(std::move(info), std::move(reason)));
  }
};

}  // namespace joulebench::testing
