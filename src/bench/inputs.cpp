// Input sets: the built-in ones made from fetched real texts and images, and
// the user's files. Built-in text lengths follow the study's datasets (mean
// input tokens, ../shared/reference/STUDY.md) at ~1.3 tokens per English word;
// the tokens each model really saw are recorded with every run.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/csv_reader.h"
#include "joulebench/bench.h"
#include "joulebench/error.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;

constexpr double kTokensPerWord = 1.3;
constexpr std::size_t kBuiltinSetSize = 200;  // distinct inputs; cycled beyond

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(fmt::format("cannot read {}", p.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string join(const std::vector<std::string>& words, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end && i < words.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += words[i];
  }
  return out;
}

fs::path need_dir(const fs::path& data_dir, const std::string& name) {
  const fs::path dir = data_dir / name;
  if (!fs::is_directory(dir))
    throw InputError(fmt::format("built-in inputs: {} is missing; run scripts/fetch_data.sh (it extracts the real "
                                 "texts and images from Debian packages), or give your own with --data",
                                 dir.string()));
  return dir;
}

// Fortunes: '%'-separated short texts.
std::vector<std::string> read_fortunes(const fs::path& data_dir) {
  const fs::path dir = need_dir(data_dir, "fortunes");
  std::vector<std::string> texts;
  for (const char* file : {"fortunes", "literature", "riddles"}) {
    if (!fs::exists(dir / file)) continue;
    std::istringstream in(read_file(dir / file));
    std::string line, current;
    auto flush = [&] {
      const auto words = split_words(current);
      if (!words.empty()) texts.push_back(join(words, 0, words.size()));
      current.clear();
    };
    while (std::getline(in, line)) {
      if (line == "%") flush();
      else current += line + "\n";
    }
    flush();
  }
  if (texts.empty()) throw InputError(fmt::format("no fortunes in {}; run scripts/fetch_data.sh", dir.string()));
  return texts;
}

std::string between(const std::string& s, const std::string& open, const std::string& close) {
  const auto a = s.find(open);
  if (a == std::string::npos) return {};
  const auto b = s.find(close, a + open.size());
  if (b == std::string::npos) return {};
  return s.substr(a + open.size(), b - a - open.size());
}

std::string unescape_xml(std::string s) {
  const std::pair<const char*, const char*> entities[] = {
      {"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities)
    for (std::size_t p; (p = s.find(from)) != std::string::npos;) s.replace(p, std::string(from).size(), to);
  return s;
}

struct Article {
  std::string title;
  std::vector<std::string> body_words;
};

// Reuters-21578 articles (r-cran-tm): <TITLE> and <BODY> of each file.
std::vector<Article> read_reuters(const fs::path& data_dir) {
  const fs::path dir = need_dir(data_dir, "reuters");
  std::vector<fs::path> files;
  for (const char* sub : {"acq", "crude"})
    if (fs::is_directory(dir / sub))
      for (const auto& e : fs::directory_iterator(dir / sub))
        if (e.path().extension() == ".xml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Article> articles;
  for (const auto& f : files) {
    const std::string xml = read_file(f);
    Article a;
    a.title = join(split_words(unescape_xml(between(xml, "<TITLE>", "</TITLE>"))), 0, SIZE_MAX);
    auto words = split_words(unescape_xml(between(xml, "<BODY>", "</BODY>")));
    if (!words.empty() && words.back() == "Reuter") words.pop_back();
    a.body_words = std::move(words);
    if (!a.body_words.empty()) articles.push_back(std::move(a));
  }
  if (articles.empty()) throw InputError(fmt::format("no articles in {}; run scripts/fetch_data.sh", dir.string()));
  return articles;
}

std::size_t words_for_tokens(double tokens) {
  return static_cast<std::size_t>(std::lround(tokens / kTokensPerWord));
}

// Consecutive fortunes joined until `words` words, cut there: texts of one length.
std::vector<std::string> texts_of_length(const std::vector<std::string>& fortunes, std::size_t words) {
  std::vector<std::string> out;
  std::vector<std::string> pool;
  for (std::size_t i = 0; out.size() < kBuiltinSetSize; i = (i + 1) % fortunes.size()) {
    for (auto& w : split_words(fortunes[i])) pool.push_back(std::move(w));
    if (pool.size() >= words) {
      out.push_back(join(pool, 0, words));
      pool.clear();
    }
  }
  return out;
}

InferenceInput text_input(std::string text) {
  InferenceInput in;
  in.text = std::move(text);
  return in;
}

std::vector<std::string> image_files(const fs::path& folder) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(folder)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// One length-matched set per study dataset whose mean input length is known.
struct LengthTarget {
  const char* dataset;  // as in the set's name
  const char* label;    // as in the description
  double tokens;
};

BenchInputSet classification_set(const fs::path& data_dir, const LengthTarget& t) {
  BenchInputSet set;
  set.name = fmt::format("fortunes-{}-length", t.dataset);
  set.description =
      fmt::format("fortunes (fortunes-min) joined and cut to the mean length of {} ({:g} tokens)", t.label, t.tokens);
  for (auto& text : texts_of_length(read_fortunes(data_dir), words_for_tokens(t.tokens)))
    set.inputs.push_back(text_input(std::move(text)));
  return set;
}

BenchInputSet qa_set(const fs::path& data_dir, const LengthTarget& t) {
  BenchInputSet set;
  set.name = fmt::format("reuters-qa-{}-length", t.dataset);
  set.description = fmt::format(
      "Reuters-21578 articles as contexts cut to the mean length of {} ({:g} tokens), the question asking about the "
      "headline",
      t.label, t.tokens);
  for (const auto& a : read_reuters(data_dir)) {
    InferenceInput in;
    in.text = fmt::format("What happened: {}?", a.title);
    in.context = join(a.body_words, 0, words_for_tokens(t.tokens));
    set.inputs.push_back(std::move(in));
  }
  return set;
}

BenchInputSet summarization_set(const fs::path& data_dir, const LengthTarget& t) {
  BenchInputSet set;
  set.name = fmt::format("reuters-{}-length", t.dataset);
  set.description =
      fmt::format("Reuters-21578 articles (r-cran-tm) cut to the mean length of {} ({:g} tokens)", t.label, t.tokens);
  for (const auto& a : read_reuters(data_dir))
    set.inputs.push_back(text_input(join(a.body_words, 0, words_for_tokens(t.tokens))));
  return set;
}

// Mean input tokens of the study's datasets (../shared/reference/STUDY.md).
constexpr LengthTarget kClassification[] = {
    {"imdb", "IMDB", 58.7}, {"rotten-tomatoes", "Rotten Tomatoes", 30.1}, {"sst2", "SST-2", 28.4}};
constexpr LengthTarget kQa[] = {{"squad", "SQuAD", 134.0}, {"squad-v2", "SQuAD v2", 115.9}, {"sciq", "SciQ", 113.1}};
constexpr LengthTarget kSummarization[] = {
    {"cnn", "CNN-DailyMail", 54.0}, {"samsum", "SAMSum", 47.8}, {"xsum", "XSum", 53.9}};

}  // namespace

std::vector<BenchInputSet> study_input_sets(Task task, const fs::path& data_dir) {
  std::vector<BenchInputSet> sets;
  switch (task) {
    case Task::text_classification:
      for (const auto& t : kClassification) sets.push_back(classification_set(data_dir, t));
      break;
    case Task::question_answering:
      for (const auto& t : kQa) sets.push_back(qa_set(data_dir, t));
      break;
    case Task::summarization:
      for (const auto& t : kSummarization) sets.push_back(summarization_set(data_dir, t));
      break;
    default:
      sets.push_back(builtin_inputs(task, data_dir));
  }
  return sets;
}

BenchInputSet builtin_inputs(Task task, const fs::path& data_dir) {
  BenchInputSet set;
  switch (task) {
    case Task::text_classification:
      // IMDB's mean input length, the study's longest classification set.
      return classification_set(data_dir, kClassification[0]);
    case Task::token_classification: {
      // News sentences are full of names, places and organisations: what NER tags.
      set.name = "reuters-sentences";
      set.description = "Reuters-21578 articles (r-cran-tm) cut into 30-word pieces";
      for (const auto& a : read_reuters(data_dir))
        for (std::size_t i = 0; i + 30 <= a.body_words.size() && set.inputs.size() < kBuiltinSetSize; i += 30)
          set.inputs.push_back(text_input(join(a.body_words, i, i + 30)));
      break;
    }
    case Task::question_answering:
      return qa_set(data_dir, kQa[0]);
    case Task::fill_mask: {
      set.name = "fortunes-masked";
      set.description = "fortunes (fortunes-min), 30 words with the middle word replaced by [MASK]";
      for (auto& t : texts_of_length(read_fortunes(data_dir), 30)) {
        auto words = split_words(t);
        words[words.size() / 2] = "[MASK]";
        set.inputs.push_back(text_input(join(words, 0, words.size())));
      }
      break;
    }
    case Task::text_generation: {
      // The study cut prompts to their first 20 words.
      set.name = "fortunes-prompts-20w";
      set.description = "fortunes (fortunes-min) as prompts, cut to their first 20 words as in the study";
      for (auto& t : texts_of_length(read_fortunes(data_dir), 20)) set.inputs.push_back(text_input(std::move(t)));
      break;
    }
    case Task::summarization:
      return summarization_set(data_dir, kSummarization[0]);
    case Task::text_to_image: {
      // The study cut image-generation prompts to 50 words.
      set.name = "fortunes-image-prompts";
      set.description = "fortunes (fortunes-min) as prompts, at most 50 words as in the study";
      for (const auto& f : read_fortunes(data_dir)) {
        const auto words = split_words(f);
        set.inputs.push_back(text_input(join(words, 0, std::min<std::size_t>(words.size(), 50))));
        if (set.inputs.size() >= kBuiltinSetSize) break;
      }
      break;
    }
    case Task::image_classification:
    case Task::object_detection:
    case Task::image_to_text: {
      set.name = "darknet-skimage-photos";
      set.description = "the darknet test photos and scikit-image's sample photos";
      for (const char* sub : {"darknet-images", "skimage-images"})
        for (auto& f : image_files(need_dir(data_dir, sub))) {
          InferenceInput in;
          in.image_path = std::move(f);
          set.inputs.push_back(std::move(in));
        }
      break;
    }
  }
  if (set.inputs.empty())
    throw InputError(fmt::format("built-in inputs for {}: nothing found under {}; run scripts/fetch_data.sh",
                                 to_string(task), data_dir.string()));
  return set;
}

namespace {

// A .jsonl file: one object per line, its `text_column` (and "context").
std::vector<InferenceInput> jsonl_inputs(const fs::path& path, const std::string& text, const std::string& text_column) {
  std::vector<InferenceInput> inputs;
  std::istringstream in(text);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      throw InputError(fmt::format("{}:{}: not JSON: {}", path.string(), line_no, e.what()));
    }
    if (!j.is_object() || !j.contains(text_column) || !j[text_column].is_string())
      throw InputError(fmt::format("{}:{}: no string field '{}' (choose it with --text-column)", path.string(),
                                   line_no, text_column));
    InferenceInput input = text_input(j[text_column].get<std::string>());
    if (j.contains("context") && j["context"].is_string()) input.context = j["context"].get<std::string>();
    inputs.push_back(std::move(input));
  }
  return inputs;
}

// A .csv file, through the one CSV reader (libcsv, strict): an unclosed
// quote is file:line, not a silently merged row.
std::vector<InferenceInput> csv_inputs(const fs::path& path, const std::string& text, const std::string& text_column) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  detail::CsvReader reader(in, path.string());
  while (auto record = reader.next()) rows.push_back(std::move(record->fields));
  if (rows.empty()) throw InputError(fmt::format("{}: empty CSV file", path.string()));
  const auto& header = rows.front();
  const auto col = std::find(header.begin(), header.end(), text_column);
  if (col == header.end())
    throw InputError(fmt::format("{}: no column '{}' in the header (choose it with --text-column)", path.string(),
                                 text_column));
  const auto idx = static_cast<std::size_t>(col - header.begin());
  const auto ctx = std::find(header.begin(), header.end(), "context");
  std::vector<InferenceInput> inputs;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (idx >= rows[r].size()) continue;
    InferenceInput input = text_input(rows[r][idx]);
    if (ctx != header.end() && static_cast<std::size_t>(ctx - header.begin()) < rows[r].size())
      input.context = rows[r][static_cast<std::size_t>(ctx - header.begin())];
    inputs.push_back(std::move(input));
  }
  return inputs;
}

// Any other file: prompts, one per line; blank lines and '#' lines skipped.
std::vector<InferenceInput> prompt_lines(const std::string& text) {
  std::vector<InferenceInput> inputs;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find_first_not_of(" \t\r");
    if (a == std::string::npos || line[a] == '#') continue;
    const auto b = line.find_last_not_of(" \t\r");
    inputs.push_back(text_input(line.substr(a, b - a + 1)));
  }
  return inputs;
}

}  // namespace

BenchInputSet user_inputs(Task task, const fs::path& path, const std::string& text_column) {
  BenchInputSet set;
  set.name = path.filename().string();
  if (set.name.empty()) set.name = path.parent_path().filename().string();
  set.description = "user data: " + path.string();
  const bool image_task = modality(task) == "image";
  if (fs::is_directory(path)) {
    if (!image_task)
      throw InputError(fmt::format("--data {}: a folder of images is for the image tasks, not {}; give a .jsonl or "
                                   ".csv file with a '{}' column",
                                   path.string(), to_string(task), text_column));
    for (auto& f : image_files(path)) {
      InferenceInput in;
      in.image_path = std::move(f);
      set.inputs.push_back(std::move(in));
    }
    if (set.inputs.empty())
      throw InputError(fmt::format("--data {}: no .jpg, .jpeg or .png file in the folder", path.string()));
    return set;
  }
  if (image_task)
    throw InputError(fmt::format("--data {}: {} needs a folder of JPEG/PNG images", path.string(), to_string(task)));
  if (!fs::exists(path)) throw InputError(fmt::format("--data {}: no such file", path.string()));
  const std::string text = read_file(path);
  const std::string ext = path.extension().string();
  if (ext == ".jsonl") set.inputs = jsonl_inputs(path, text, text_column);
  else if (ext == ".csv") set.inputs = csv_inputs(path, text, text_column);
  else set.inputs = prompt_lines(text);
  if (set.inputs.empty()) throw InputError(fmt::format("--data {}: no input in the file", path.string()));
  if (task == Task::question_answering)
    for (const auto& in : set.inputs)
      if (in.context.empty())
        throw InputError(fmt::format("--data {}: question answering needs a 'context' field beside '{}'",
                                     path.string(), text_column));
  return set;
}

}  // namespace joulebench
