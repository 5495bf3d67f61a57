// The `joulebench` binary reaches the model zoo through a dlopened plugin, so
// that commands without models never load libtorch.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <sys/wait.h>

namespace {

struct Result {
  int exit_code = -1;
  std::string output;
};

Result shell(const std::string& command) {
  Result r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe)) r.output += buffer.data();
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(ZooPlugin, BinaryDoesNotLinkLibtorch) {
  const Result r = shell(std::string("ldd ") + JOULEBENCH_BINARY);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("libtorch"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("libc10"), std::string::npos) << r.output;
}

TEST(ZooPlugin, ModelsAreListedThroughThePlugin) {
  const Result r = shell(std::string(JOULEBENCH_BINARY) + " models --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  std::set<std::string> tasks;
  for (const auto& m : j) tasks.insert(m.at("task").get<std::string>());
  EXPECT_TRUE(tasks.count("text-generation")) << r.output;
  EXPECT_TRUE(tasks.count("text-to-image")) << r.output;
}

TEST(ZooPlugin, MissingPluginIsAClearErrorNotACrash) {
  const Result r =
      shell(std::string("JOULEBENCH_ZOO_LIBRARY=/nonexistent/libjoulebench_zoo.so ") + JOULEBENCH_BINARY +
            " models 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("libjoulebench_zoo.so"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("JOULEBENCH_ZOO_LIBRARY"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/libjoulebench_zoo.so: not found"), std::string::npos) << r.output;
}

TEST(ZooPlugin, SensorsWorkWithoutThePlugin) {
  const Result r = shell(std::string("JOULEBENCH_ZOO_LIBRARY=/nonexistent ") + JOULEBENCH_BINARY +
                         " sensors --json >/dev/null 2>&1");
  EXPECT_EQ(r.exit_code, 0);
}

}  // namespace
