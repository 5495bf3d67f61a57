// The `joulebench` binary reaches libtorch (the model zoo) and the network
// libraries (cpp-httplib/OpenSSL, libpq) through dlopened plugins, so that
// commands that use neither never load them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "../support/cli_fixture.h"

namespace {

using Plugins = jbtest::CliFixture;

// What the dynamic loader maps at start, without running the program.
std::string linked_libraries() {
  const std::string out = std::filesystem::temp_directory_path() / ("jb-ldd-" + std::to_string(::getpid()));
  EXPECT_EQ(std::system((std::string("ldd '") + JOULEBENCH_BINARY + "' >" + out).c_str()), 0);
  std::string text = jbtest::slurp(out);
  std::filesystem::remove(out);
  return text;
}

TEST_F(Plugins, BinaryLinksNeitherLibtorchNorTheNetworkLibraries) {
  const std::string ldd = linked_libraries();
  ASSERT_NE(ldd.find("libc.so"), std::string::npos) << ldd;  // ldd did run
  for (const char* lib : {"libtorch", "libc10", "libssl", "libcrypto", "libpq", "libcpp-httplib", "libgssapi"})
    EXPECT_EQ(ldd.find(lib), std::string::npos) << lib << " is linked:\n" << ldd;
}

TEST_F(Plugins, ModelsAreListedThroughTheZooPlugin) {
  const auto r = run("models --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::set<std::string> tasks;
  for (const auto& m : j) tasks.insert(m.at("task").get<std::string>());
  EXPECT_TRUE(tasks.count("text-generation")) << r.out;
  EXPECT_TRUE(tasks.count("text-to-image")) << r.out;
}

TEST_F(Plugins, MissingZooPluginIsAClearErrorNotACrash) {
  const auto r = run("models", "JOULEBENCH_ZOO_LIBRARY=/nonexistent/libjoulebench_zoo.so");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("libjoulebench_zoo.so"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("JOULEBENCH_ZOO_LIBRARY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/libjoulebench_zoo.so: not found"), std::string::npos) << r.err;
}

TEST_F(Plugins, MissingNetworkPluginIsAClearErrorNotACrash) {
  const auto r = run("exporter --listen 127.0.0.1:0", "JOULEBENCH_NET_LIBRARY=/nonexistent/libjoulebench_net.so");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("JOULEBENCH_NET_LIBRARY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/libjoulebench_net.so: not found"), std::string::npos) << r.err;
}

TEST_F(Plugins, NetworkPluginIsFoundBesideTheBinary) {
  // A postgresql:// store goes through the plugin: with no server there, the
  // error is PostgreSQL's (connection refused), not a missing plugin.
  const auto r = run("report --store postgresql://joulebench@127.0.0.1:1/none");
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.find("could not be loaded"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1"), std::string::npos) << r.err;
}

TEST_F(Plugins, MeasureAndSensorsWorkWithoutEitherPlugin) {
  const std::string env = "JOULEBENCH_ZOO_LIBRARY=/nonexistent JOULEBENCH_NET_LIBRARY=/nonexistent";
  EXPECT_EQ(run("sensors --json", env).code, 0);
  const auto r = run("measure -q -- true", env);
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
