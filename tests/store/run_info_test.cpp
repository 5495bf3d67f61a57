#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "joulebench/store.h"

using namespace joulebench;

TEST(RunInfo, UuidsAreVersion4AndDistinct) {
  std::set<std::string> seen;
  const std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 200; ++i) {
    auto u = make_uuid();
    EXPECT_TRUE(std::regex_match(u, re)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(RunInfo, UtcTimesRoundTripAndReadCodeCarbonStamps) {
  auto t = parse_utc("2023-09-08T12:50:22");  // CodeCarbon: no zone, UTC
  ASSERT_TRUE(t);
  EXPECT_EQ(format_utc(*t), "2023-09-08T12:50:22Z");
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 1694177422);
  EXPECT_EQ(format_utc(*parse_utc("2023-09-08T14:50:22+02:00")), "2023-09-08T12:50:22Z");
  EXPECT_EQ(format_utc(*parse_utc("2023-09-08 12:50:22.75Z")), "2023-09-08T12:50:22Z");
  EXPECT_FALSE(parse_utc("yesterday"));
  EXPECT_FALSE(parse_utc("2023-13-01T00:00:00"));
}

TEST(RunInfo, MachineFromAFakeProc) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("jb-fakeproc-" + std::to_string(::getpid()));
  fs::create_directories(root);
  std::ofstream(root / "cpuinfo") << "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU @ 3GHz\n\n"
                                     "processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU @ 3GHz\n";
  std::ofstream(root / "meminfo") << "MemTotal:       16777216 kB\nMemAvailable:    8000000 kB\n";
  auto m = detect_machine(root.string());
  fs::remove_all(root);
  EXPECT_EQ(m.cpu_model, "Test CPU @ 3GHz");
  EXPECT_EQ(m.cpu_count, 2);
  ASSERT_TRUE(m.ram_total_gb);
  EXPECT_DOUBLE_EQ(*m.ram_total_gb, 16.0);  // 16 GiB
  EXPECT_FALSE(m.hostname.empty());
  // An empty /proc leaves the fields empty rather than failing.
  auto none = detect_machine("/nonexistent-proc");
  EXPECT_TRUE(none.cpu_model.empty());
  EXPECT_FALSE(none.ram_total_gb);
}
