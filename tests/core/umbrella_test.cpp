// The umbrella header compiles on its own (first include of this file, so no
// other header hides a missing include) and names every public header: a new
// header left out of it fails here.
#include "joulebench/joulebench.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace joulebench {
namespace {

TEST(Umbrella, IncludesEveryPublicHeader) {
  const std::filesystem::path dir = std::filesystem::path(JOULEBENCH_TEST_SOURCE_DIR) / "../../include/joulebench";
  std::ifstream in(dir / "joulebench.h");
  ASSERT_TRUE(in) << dir;
  std::stringstream text;
  text << in.rdbuf();
  int headers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".h" || name == "joulebench.h") continue;
    ++headers;
    EXPECT_NE(text.str().find("#include \"joulebench/" + name + "\""), std::string::npos)
        << "include/joulebench/joulebench.h does not include " << name;
  }
  EXPECT_GT(headers, 20);
  // Names from several headers, used together: no clash between them.
  Summary summary = summarize({1.0, 2.0, 3.0});
  Sample sample{1.0, 2.0};
  EXPECT_DOUBLE_EQ(summary.mean, 2.0);
  EXPECT_DOUBLE_EQ(sample.value, 2.0);
}

}  // namespace
}  // namespace joulebench
