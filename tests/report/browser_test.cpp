// The HTML report rendered by a real browser (headless Chromium, Debian
// package chromium): a screenshot that is a real picture, no script errors,
// and the charts' marks counted by the page's own script after it ran.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "joulebench/report_html.h"
#include "report/svg.h"
#include "store_fixture.h"

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

const char* kChromium = "/usr/bin/chromium";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

std::string attribute(const std::string& tag, const std::string& name) {
  std::smatch m;
  if (std::regex_search(tag, m, std::regex(name + "=\"([^\"]*)\""))) return m[1];
  return "<missing>";
}

class Browser : public jbtest::ScratchStore {
 protected:
  // Chromium with networking and background services off, a fresh profile.
  int chromium(const std::string& extra, const fs::path& page, const fs::path& stdout_file) {
    const fs::path profile = dir() / "profile";
    fs::remove_all(profile);
    const std::string cmd = std::string("timeout 60 ") + kChromium +
                            " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                            "--disable-background-networking --disable-component-update --disable-sync "
                            "--user-data-dir='" + profile.string() + "' " + extra + " 'file://" + page.string() +
                            "' >'" + stdout_file.string() + "' 2>'" + (dir() / "chromium.err").string() + "'";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  fs::path dir() {
    const fs::path d = path_.string() + ".d";
    fs::create_directories(d);
    return d;
  }
  void TearDown() override {
    fs::remove_all(path_.string() + ".d");
    ScratchStore::TearDown();
  }
};

}  // namespace

TEST_F(Browser, RendersWithoutScriptErrorsAndWithTheExpectedMarks) {
  if (!fs::exists(kChromium)) GTEST_SKIP() << "chromium not installed (scripts/setup.sh test installs it)";
  add("text-classification", "bert-a", {0.002, 0.004});
  add("text-classification", "bert-b", {0.003});
  add("text-classification", "google/flan-t5-base", {0.03, 0.02});
  add("image-classification", "resnet", {0.007});
  add("text-to-image", "sd", {2.5, 3.0});
  // A long model name and the study's reference marks: the layouts most likely to overflow.
  add("text-classification", "an-organisation-with-a-long-name/a-model-name-that-goes-on-and-on-v2", {0.0025});
  HtmlReportOptions o;
  o.facts["bert-a"] = {110000000, false};
  o.facts["sd"] = {1066000000, false};
  o.reference_kwh_per_1000 = {{"text-classification", 0.002}, {"image-classification", 0.007},
                              {"text-to-image", 2.907}};
  o.reference_source = "Table 2 of the study";
  const fs::path page = dir() / "report.html";
  {
    std::ofstream out(page);
    out << render_html_report(*store_, o);
  }

  const fs::path dom = dir() / "dom.html";
  // A laptop's window: the charts scale to it, the tables must fit in it.
  ASSERT_EQ(chromium("--window-size=1000,2000 --dump-dom", page, dom), 0) << slurp(dir() / "chromium.err");
  const std::string text = slurp(dom);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("<output id=\"jb-check\"[^>]*>"))) << text.substr(0, 2000);
  const std::string check = m[0];
  EXPECT_EQ(attribute(check, "data-ready"), "1") << "the page's script did not run to its end";
  EXPECT_EQ(attribute(check, "data-errors"), "0") << attribute(check, "data-error-messages");
  EXPECT_EQ(attribute(check, "data-marks-task"), "6");
  EXPECT_EQ(attribute(check, "data-marks-co2e"), "6");
  EXPECT_EQ(attribute(check, "data-marks-latency"), "6");
  EXPECT_EQ(attribute(check, "data-marks-bars"), "6");
  EXPECT_EQ(attribute(check, "data-marks-params"), "2");
  EXPECT_EQ(attribute(check, "data-marks-purpose"), "4");
  // Nothing drawn outside its chart, no table or page wider than the window (#17).
  EXPECT_EQ(attribute(check, "data-overflow"), "0") << attribute(check, "data-overflow-items");

  const fs::path png = dir() / "shot.png";
  ASSERT_EQ(chromium("--window-size=1000,2000 --screenshot='" + png.string() + "'", page, dir() / "shot.out"), 0)
      << slurp(dir() / "chromium.err");
  const std::string image = slurp(png);
  ASSERT_GT(image.size(), 24u);
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(be32(image, 16), 1000u);  // IHDR width
  EXPECT_EQ(be32(image, 20), 2000u);  // IHDR height
  // A blank page compresses to a few kB; charts and tables do not.
  EXPECT_GT(image.size(), 30000u);
  if (const char* keep = std::getenv("JOULEBENCH_KEEP_SCREENSHOT")) fs::copy_file(png, keep, fs::copy_options::overwrite_existing);
}

// The energy label in a page of its own, checked by the same script: no text
// outside the label (#17: its footer was clipped), for the longest note.
TEST_F(Browser, EnergyLabelHasNoTextOutsideIt) {
  if (!fs::exists(kChromium)) GTEST_SKIP() << "chromium not installed (scripts/setup.sh test installs it)";
  for (int i = 0; i < 5; ++i) add("text-classification", "sentiment-" + std::to_string(i), {0.001 * (i + 1)});
  add("text-classification", "an-organisation-with-a-long-name/fasttext-lid-176-with-a-long-suffix", {0.00001});
  for (const std::string model : {"sentiment-0", "an-organisation-with-a-long-name/fasttext-lid-176-with-a-long-suffix"}) {
    EnergyLabel label = make_energy_label(*store_, model);
    label.hardware = "8 x NVIDIA H100 80GB HBM3 with a long board name, AMD EPYC 9654 96-Core Processor";
    label.provenance = "estimated";
    label.band_factor = 1.5;
    const fs::path page = dir() / "label.html";
    {
      std::ofstream out(page);
      out << "<!DOCTYPE html><html><body><output id=\"jb-check\" hidden></output>\n"
          << render_energy_label_svg(label) << report::kOverflowCheckScript << "</body></html>\n";
    }
    const fs::path dom = dir() / "label-dom.html";
    ASSERT_EQ(chromium("--dump-dom", page, dom), 0) << slurp(dir() / "chromium.err");
    const std::string text = slurp(dom);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(text, m, std::regex("<output id=\"jb-check\"[^>]*>"))) << text.substr(0, 2000);
    const std::string check = m[0];
    EXPECT_EQ(attribute(check, "data-overflow"), "0") << model << ": " << attribute(check, "data-overflow-items");
  }
}
