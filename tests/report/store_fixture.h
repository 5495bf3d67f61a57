// A scratch SQLite store filled with known windows, for the HTML, label and browser tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "joulebench/store.h"

namespace jbtest {

class ScratchStore : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("jb-report-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    remove_files();
    store_ = joulebench::open_store(path_);
  }
  void TearDown() override {
    store_.reset();
    remove_files();
  }
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
  }
  // One run of `model` with one window per value (kWh for `inferences` inferences), split GPU 60 % / CPU 30 % / RAM 10 %.
  std::string add(const std::string& task, const std::string& model, const std::vector<double>& kwh,
                  std::int64_t inferences = 1000, std::optional<int> batch = std::nullopt) {
    joulebench::RunRecord run;
    run.kind = joulebench::RunKind::import;
    run.machine.gpu_model = "1 x Test GPU";
    run.machine.cpu_model = "Test CPU";
    run.intensity = joulebench::intensity_from_user(100.0);
    for (double v : kwh) {
      joulebench::WindowRecord w;
      w.task = task;
      w.model = model;
      w.dataset = "d";
      w.inferences = inferences;
      w.batch_size = batch;
      w.measurement.duration_s = v * 1000.0;  // 1 s per mWh: a time per inference for the latency chart
      for (auto [c, share] : {std::pair{joulebench::Component::gpu, 0.6}, {joulebench::Component::cpu, 0.3},
                              {joulebench::Component::dram, 0.1}}) {
        joulebench::ComponentEnergy e;
        e.component = c;
        e.energy_j = joulebench::kwh_to_joules(v * share);
        e.provenance = {joulebench::ProvenanceKind::measured, "test"};
        w.measurement.components.push_back(e);
      }
      run.windows.push_back(w);
    }
    return store_->save_run(run);
  }
  std::filesystem::path path_;
  std::unique_ptr<joulebench::Store> store_;
};

}  // namespace jbtest
