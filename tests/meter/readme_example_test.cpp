// The README's "Library" example must be the file that is built and run here.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(ReadmeExample, IsTheBuiltExample) {
  const std::string readme = slurp(std::string(JOULEBENCH_TEST_SOURCE_DIR) + "/../../README.md");
  const std::string example = slurp(std::string(JOULEBENCH_TEST_SOURCE_DIR) + "/readme_example.cpp");
  ASSERT_FALSE(example.empty());
  const auto section = readme.find("## Library");
  ASSERT_NE(section, std::string::npos) << "README.md has no '## Library' section";
  const auto begin = readme.find("```cpp\n", section);
  ASSERT_NE(begin, std::string::npos);
  const auto end = readme.find("```\n", begin + 7);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(readme.substr(begin + 7, end - begin - 7), example)
      << "README.md's Library example differs from tests/meter/readme_example.cpp: copy one onto the other";
}

}  // namespace
