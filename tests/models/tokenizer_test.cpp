// Tokenizers on small vocabularies written here, and on the real fetched
// vocabularies when scripts/fetch_data.sh has run.
#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "joulebench/error.h"
#include "joulebench/version.h"
#include "models/tokenizers/tokenizer.h"

namespace fs = std::filesystem;
using namespace joulebench::models;

namespace {

fs::path temp_dir(const std::string& name) {
  // Per test: ctest runs each test as its own process, two at a time, and
  // tests sharing a folder removed each other's files.
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = fs::path(JOULEBENCH_TEST_BINARY_DIR) / "tokenizer_test" /
             (std::string(test->test_suite_name()) + "." + test->name()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

const std::vector<std::string> kWordPieceVocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat",
                                                  "##s",   "un",    "##want", "##ed", ",",     "!",      "runn", "##ing",
                                                  "cafe"};

std::int64_t wp(const std::string& tok) {
  return std::find(kWordPieceVocab.begin(), kWordPieceVocab.end(), tok) - kWordPieceVocab.begin();
}

std::unique_ptr<Tokenizer> wordpiece_from_file() {
  auto dir = temp_dir("wordpiece");
  std::string text;
  for (const auto& t : kWordPieceVocab) text += t + "\n";
  write(dir / "vocab.txt", text);
  return load_tokenizer_dir(dir);
}

}  // namespace

TEST(WordPiece, SplitsWordsIntoLongestPieces) {
  auto tok = wordpiece_from_file();
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "wordpiece");
  const std::vector<std::int64_t> expected = {wp("the"), wp("cat"), wp("##s"), wp("sat"), wp(","),
                                              wp("un"),  wp("##want"), wp("##ed"), wp("!")};
  EXPECT_EQ(tok->encode("The cats sat, unwanted!"), expected);
  EXPECT_EQ(tok->encode("  running\t"), (std::vector<std::int64_t>{wp("runn"), wp("##ing")}));
}

TEST(WordPiece, UnknownCharactersAndAccents) {
  auto tok = wordpiece_from_file();
  // A word with no matching pieces is one [UNK]; accents are stripped when uncased.
  EXPECT_EQ(tok->encode("the dog"), (std::vector<std::int64_t>{wp("the"), wp("[UNK]")}));
  EXPECT_EQ(tok->encode("CAFÉ"), (std::vector<std::int64_t>{wp("cafe")}));
  EXPECT_EQ(tok->encode("the \xe2\x98\x83 cat"), (std::vector<std::int64_t>{wp("the"), wp("[UNK]"), wp("cat")}));
  // Invalid UTF-8 becomes U+FFFD, which BERT's text cleaning drops.
  EXPECT_EQ(tok->encode("the \xff cat"), (std::vector<std::int64_t>{wp("the"), wp("cat")}));
}

TEST(WordPiece, EmptyInputAndDecode) {
  auto tok = wordpiece_from_file();
  EXPECT_TRUE(tok->encode("").empty());
  EXPECT_TRUE(tok->encode(" \n\t ").empty());
  const std::vector<std::int64_t> ids = {wp("[CLS]"), wp("the"), wp("cat"), wp("##s"), wp("[SEP]")};
  EXPECT_EQ(tok->decode(ids), "the cats");
  EXPECT_EQ(tok->token_id("[MASK]"), wp("[MASK]"));
  EXPECT_FALSE(tok->token_id("[NOPE]").has_value());
}

TEST(WordPiece, ReadsTokenizerJson) {
  auto dir = temp_dir("wordpiece_json");
  nlohmann::json vocab = nlohmann::json::object();
  for (std::size_t i = 0; i < kWordPieceVocab.size(); ++i) vocab[kWordPieceVocab[i]] = i;
  nlohmann::json j = {{"model", {{"type", "WordPiece"}, {"vocab", vocab}, {"unk_token", "[UNK]"}}},
                      {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", true}}}};
  write(dir / "tokenizer.json", j.dump());
  auto tok = load_tokenizer_dir(dir);
  EXPECT_EQ(tok->encode("cats"), (std::vector<std::int64_t>{wp("cat"), wp("##s")}));
}

TEST(WordPiece, VocabularyWithoutUnknownTokenIsAnError) {
  EXPECT_THROW(make_wordpiece({"a", "b"}), joulebench::InputError);
}

namespace {

// GPT-2's byte -> printable code point map, written out independently of the library.
std::vector<std::string> gpt2_byte_symbols() {
  std::vector<int> printable;
  for (int b = '!'; b <= '~'; ++b) printable.push_back(b);
  for (int b = 0xa1; b <= 0xac; ++b) printable.push_back(b);
  for (int b = 0xae; b <= 0xff; ++b) printable.push_back(b);
  std::vector<std::string> table(256);
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    const bool p = std::find(printable.begin(), printable.end(), b) != printable.end();
    std::string s;
    utf8_append(s, static_cast<char32_t>(p ? b : 256 + n++));
    table[static_cast<std::size_t>(b)] = s;
  }
  return table;
}

std::unique_ptr<Tokenizer> small_bpe(const fs::path& dir) {
  const auto bytes = gpt2_byte_symbols();
  nlohmann::json vocab = nlohmann::json::object();
  std::int64_t id = 0;
  for (const auto& s : bytes) vocab[s] = id++;
  std::vector<std::string> merges = {"h e", "l l", "he ll", "hell o", "\xc4\xa0 hello"};  // "Ġ hello"
  for (const char* m : {"he", "ll", "hell", "hello", "\xc4\xa0hello"}) vocab[m] = id++;
  vocab["<|endoftext|>"] = id++;
  write(dir / "vocab.json", vocab.dump());
  std::string text = "#version: 0.2\n";
  for (const auto& m : merges) text += m + "\n";
  write(dir / "merges.txt", text);
  return load_tokenizer_dir(dir);
}

}  // namespace

TEST(ByteBpe, MergesByRankWithLeadingSpaces) {
  auto tok = small_bpe(temp_dir("bpe"));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "bpe");
  const auto hello = *tok->token_id("hello"), space_hello = *tok->token_id("\xc4\xa0hello");
  EXPECT_EQ(tok->encode("hello hello"), (std::vector<std::int64_t>{hello, space_hello}));
  // " world" has no merges: one id per byte, the space as Ġ (byte 32 -> U+0120).
  const auto ids = tok->encode(" world");
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids[0], 32);  // the test vocabulary gives each byte symbol its byte value as id
}

TEST(ByteBpe, AnyUtf8RoundTripsAndEmptyIsEmpty) {
  auto tok = small_bpe(temp_dir("bpe_utf8"));
  for (const std::string s : {"héllo wörld", "naïve café\n\n  end", "emoji \xf0\x9f\x98\x80!", "tabs\tand 123 456"}) {
    EXPECT_EQ(tok->decode(tok->encode(s)), s) << s;
  }
  EXPECT_TRUE(tok->encode("").empty());
  EXPECT_EQ(tok->decode({}), "");
}

TEST(ByteBpe, SplitsContractionsAndWhitespaceAsGpt2) {
  auto tok = small_bpe(temp_dir("bpe_split"));
  // "don't" -> "don", "'t": the apostrophe-t is one pre-token of two bytes.
  EXPECT_EQ(tok->encode("don't").size(), 5u);
  // Two spaces before a word: the first stays alone, the second joins the word.
  const auto ids = tok->encode("  hello");
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[1], *tok->token_id("\xc4\xa0hello"));
}

TEST(Template, TruncatesToMaxLengthLongestFirst) {
  auto tok = wordpiece_from_file();
  const SpecialTemplate t{{wp("[CLS]")}, {wp("[SEP]")}, {wp("[SEP]")}};
  auto e = encode_with_template(*tok, "the cat sat the cat sat", "", t, 5);
  EXPECT_TRUE(e.truncated);
  EXPECT_EQ(e.ids, (std::vector<std::int64_t>{wp("[CLS]"), wp("the"), wp("cat"), wp("sat"), wp("[SEP]")}));
  // A pair: the longer text loses tokens first.
  auto p = encode_with_template(*tok, "cat", "the cat sat the cat", t, 7);
  EXPECT_EQ(p.ids.size(), 7u);
  EXPECT_EQ(p.first_length, 1);
  EXPECT_EQ(p.second_length, 3);
  EXPECT_EQ(p.ids[static_cast<std::size_t>(p.second_offset)], wp("the"));
  auto whole = encode_with_template(*tok, "cat", "", t, 0);
  EXPECT_FALSE(whole.truncated);
  auto empty = encode_with_template(*tok, "", "", t, 10);
  EXPECT_EQ(empty.ids, (std::vector<std::int64_t>{wp("[CLS]"), wp("[SEP]")}));
}

TEST(SentencePiece, TrainedModelRoundTrips) {
  auto dir = temp_dir("spm");
  std::string corpus;
  for (int i = 0; i < 200; ++i) {
    corpus += "the quick brown fox jumps over the lazy dog number " + std::to_string(i) + "\n";
    corpus += "summarize: energy use of machine learning models is measured in joules\n";
  }
  write(dir / "corpus.txt", corpus);
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      "--input=" + (dir / "corpus.txt").string() + " --model_prefix=" + (dir / "spiece").string() +
      " --vocab_size=60 --model_type=unigram --minloglevel=2");
  ASSERT_TRUE(status.ok()) << status.ToString();
  auto tok = load_tokenizer_dir(dir);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "sentencepiece");
  EXPECT_EQ(tok->vocab_size(), 60);
  const std::string text = "the lazy fox measured energy";
  const auto ids = tok->encode(text);
  EXPECT_FALSE(ids.empty());
  EXPECT_EQ(tok->decode(ids), text);
  EXPECT_TRUE(tok->encode("").empty());
  // Characters never seen in training map to the unknown id, not to a crash.
  const auto unk = tok->encode("\xe6\xbc\xa2");
  ASSERT_FALSE(unk.empty());
  EXPECT_EQ(*tok->token_id("<unk>"), unk.back());
}

TEST(SentencePiece, MissingModelIsAnInputError) {
  EXPECT_THROW(load_sentencepiece("/nonexistent/spiece.model"), joulebench::InputError);
}

namespace {
const char* kEnglish =
    "The study measured the energy and carbon cost of running machine learning models for inference. "
    "It found that generative tasks, such as summarization and text generation, use far more energy than "
    "classification tasks, and that image generation is the most expensive of all. Multi-purpose models "
    "were more costly than task-specific ones for the same task, even when they were smaller.";
std::size_t word_count(const std::string& s) {
  std::istringstream in(s);
  std::string w;
  std::size_t n = 0;
  while (in >> w) ++n;
  return n;
}
}  // namespace

TEST(Builtin, DeterministicWithEnglishLikeTokenCounts) {
  auto a = make_builtin(50257), b = make_builtin(50257);
  const auto ids = a->encode(kEnglish);
  EXPECT_EQ(ids, b->encode(kEnglish));
  for (auto id : ids) {
    EXPECT_GE(id, 8);
    EXPECT_LT(id, 50257);
  }
  const double per_word = static_cast<double>(ids.size()) / static_cast<double>(word_count(kEnglish));
  EXPECT_GT(per_word, 1.0);
  EXPECT_LT(per_word, 1.6);
  EXPECT_TRUE(a->encode("").empty());
  EXPECT_FALSE(a->decode(ids).empty());
}

TEST(RealVocabularies, Gpt2BpeAndBertWordPiece) {
  const fs::path data(JOULEBENCH_FETCHED_DATA_DIR);
  if (!fs::exists(data / "gpt2-bpe" / "encoder.json")) GTEST_FAIL() << "run scripts/fetch_data.sh";
  auto gpt2 = load_byte_bpe(data / "gpt2-bpe" / "encoder.json", data / "gpt2-bpe" / "vocab.bpe");
  EXPECT_EQ(gpt2->vocab_size(), 50257);
  // Ids of GPT-2's published vocabulary.
  EXPECT_EQ(gpt2->encode("Hello world"), (std::vector<std::int64_t>{15496, 995}));
  EXPECT_EQ(gpt2->token_id("<|endoftext|>"), 50256);
  EXPECT_EQ(gpt2->decode(gpt2->encode(kEnglish)), kEnglish);
  // The built-in tokenizer's count is within 25% of real BPE's on English.
  const auto real = static_cast<double>(gpt2->encode(kEnglish).size());
  const auto builtin = static_cast<double>(make_builtin(50257)->encode(kEnglish).size());
  EXPECT_NEAR(builtin / real, 1.0, 0.25);

  const auto spec = data / "bert-base-uncased-vocab" / "bert_qa_spec.json";
  if (!fs::exists(spec)) GTEST_FAIL() << "run scripts/fetch_data.sh";
  std::ifstream in(spec);
  std::stringstream lines(nlohmann::json::parse(in).at("vocabulary_bert").get<std::string>());
  std::vector<std::string> vocab;
  for (std::string line; std::getline(lines, line);) vocab.push_back(line);
  auto bert = make_wordpiece(vocab);
  EXPECT_EQ(bert->vocab_size(), 30522);
  EXPECT_EQ(bert->encode("Hello, World!"), (std::vector<std::int64_t>{7592, 1010, 2088, 999}));
}
