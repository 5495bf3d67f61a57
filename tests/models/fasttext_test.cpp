// The fastText loader on the real lid.176.ftz (fetched by scripts/fetch_data.sh):
// it must name the language of real sentences.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "joulebench/error.h"
#include "joulebench/version.h"
#include "models/fasttext/fasttext.h"

namespace fs = std::filesystem;
using joulebench::models::FastTextClassifier;

namespace {
fs::path lid_path() { return fs::path(JOULEBENCH_FETCHED_DATA_DIR) / "fasttext-lid" / "lid.176.ftz"; }
}  // namespace

TEST(FastText, NamesTheLanguageOfRealSentences) {
  if (!fs::exists(lid_path())) GTEST_FAIL() << "run scripts/fetch_data.sh for lid.176.ftz";
  const auto lid = FastTextClassifier::load(lid_path());
  EXPECT_EQ(lid.labels(), 176);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"en", "The weather is lovely today and we are going to the beach."},
      {"fr", "Le chat dort sur le canapé pendant que les enfants jouent dans le jardin."},
      {"de", "Ich habe gestern ein sehr interessantes Buch über die Geschichte Berlins gelesen."},
      {"es", "Mañana vamos a visitar a mis abuelos que viven en un pueblo cerca de la montaña."},
      {"it", "La cucina italiana è famosa in tutto il mondo per la pasta e la pizza."},
      {"pt", "Eu gosto muito de ler livros e de ouvir música quando estou em casa."},
      {"nl", "Het is vandaag erg koud en het regent de hele dag in Amsterdam."},
      {"ru", "Сегодня очень холодно, поэтому мы останемся дома и будем пить чай."},
      {"ja", "今日はとても良い天気なので、公園に散歩に行きましょう。"},
      {"zh", "我今天早上去市场买了很多新鲜的水果和蔬菜。"},
      {"ar", "ذهبت إلى المكتبة لأستعير بعض الكتب عن تاريخ العلوم."},
      {"fi", "Suomen kieli on hyvin erilainen kuin useimmat muut Euroopan kielet."},
  };
  for (const auto& [lang, text] : cases) {
    const auto top = lid.predict(text, 2);
    ASSERT_FALSE(top.empty());
    EXPECT_EQ(top[0].first, lang) << text;
    EXPECT_GT(top[0].second, 0.5f) << text;
    EXPECT_LE(top[0].second, 1.0f);
    EXPECT_GE(top[0].second, top[1].second);
  }
}

TEST(FastText, RejectsFilesThatAreNotModels) {
  const auto dir = fs::path(JOULEBENCH_TEST_BINARY_DIR) / "fasttext_test";
  fs::create_directories(dir);
  {
    std::ofstream(dir / "bad.ftz") << "not a model at all";
  }
  EXPECT_THROW(FastTextClassifier::load(dir / "bad.ftz"), joulebench::InputError);
  EXPECT_THROW(FastTextClassifier::load(dir / "missing.ftz"), joulebench::InputError);
  if (fs::exists(lid_path())) {
    // A truncated copy of the real model.
    std::ifstream in(lid_path(), std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), 4096);
    std::ofstream(dir / "truncated.ftz", std::ios::binary) << head;
    EXPECT_THROW(FastTextClassifier::load(dir / "truncated.ftz"), joulebench::InputError);
  }
}
