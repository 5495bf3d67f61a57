// `joulebench doctor` against the built binary: its JSON contract, a generic
// BLAS kernel reported as a failure with the fix, and stuck counters named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../support/cli_fixture.h"

namespace {

class Doctor : public jbtest::CliFixture {};

const nlohmann::json* check(const nlohmann::json& j, const std::string& name) {
  for (const auto& c : j.at("checks"))
    if (c.at("name") == name) return &c;
  return nullptr;
}

}  // namespace

TEST_F(Doctor, JsonContractAndTheBlasKernelInUse) {
  const auto r = run("doctor --json");
  ASSERT_TRUE(r.code == 0 || r.code == 1) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.at("checks").is_array());
  for (const auto& c : j.at("checks")) {
    for (const char* k : {"name", "status", "detail", "fix"}) EXPECT_TRUE(c.contains(k)) << k << " in " << c.dump();
    const std::string status = c.at("status");
    EXPECT_TRUE(status == "ok" || status == "warn" || status == "fail") << status;
    if (status != "ok") {
      EXPECT_TRUE(c.at("fix").is_string()) << "a problem comes with what to do: " << c.dump();
    }
  }
  for (const char* name : {"energy source: cpu", "stuck counters", "perf_event_paranoid", "CPU frequency governor",
                           "threads", "libtorch"})
    EXPECT_NE(check(j, name), nullptr) << name;
  const auto& blas = j.at("blas");
  for (const char* k : {"library", "version", "core", "chosen_by"}) EXPECT_TRUE(blas.contains(k)) << k;
  if (blas.at("core").is_null()) GTEST_SKIP() << "libtorch's BLAS here is not OpenBLAS";
  EXPECT_NE(blas.at("library").get<std::string>().find("OpenBLAS"), std::string::npos);
  EXPECT_EQ(check(j, "BLAS")->at("status"), r.code == 1 ? "fail" : "ok");
}

TEST_F(Doctor, AGenericBlasKernelFailsWithTheFix) {
  const auto r = run("doctor --json", "OPENBLAS_CORETYPE=Prescott");
  const auto j = nlohmann::json::parse(r.out);
  if (j.at("blas").at("core").is_null()) GTEST_SKIP() << "libtorch's BLAS here is not OpenBLAS";
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(j.at("blas").at("core"), "Prescott");
  EXPECT_NE(j.at("blas").at("chosen_by").get<std::string>().find("OPENBLAS_CORETYPE=Prescott"), std::string::npos);
  const auto* b = check(j, "BLAS");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->at("status"), "fail");
  EXPECT_NE(b->at("fix").get<std::string>().find("OPENBLAS_CORETYPE"), std::string::npos);
}

TEST_F(Doctor, StuckCountersAreNamed) {
  const auto dir = dir_;
  std::filesystem::create_directories(dir / "sys/class/powercap/intel-rapl:0");
  std::ofstream(dir / "sys/class/powercap/intel-rapl:0/name") << "psys\n";
  std::ofstream(dir / "sys/class/powercap/intel-rapl:0/energy_uj") << "1000\n";
  std::ofstream(dir / "sys/class/powercap/intel-rapl:0/max_energy_range_uj") << "262143328850\n";
  const auto r = run("doctor --json --sysfs-root " + (dir / "sys").string());
  const auto j = nlohmann::json::parse(r.out);
  const auto* stuck = check(j, "stuck counters");
  ASSERT_NE(stuck, nullptr);
  EXPECT_EQ(stuck->at("status"), "warn");
  EXPECT_NE(stuck->at("detail").get<std::string>().find("rapl-powercap:psys: stuck"), std::string::npos)
      << stuck->dump();
}
