// Task and dataset from the file names of the study's logs
// (github sashavor/co2_inference, data/emissions/complete/).
#include <array>
#include <cctype>

#include "joulebench/codecarbon.h"

namespace joulebench {
namespace {

struct Prefix {
  std::string_view prefix;
  std::string_view task;
  bool zero_shot;
};

// Longest prefixes first: "zeroshot_qa_" before "qa_", "text_classif_" before "textgen_".
constexpr std::array<Prefix, 17> kPrefixes{{
    {"zeroshot_sentiment_", "text-classification", true},
    {"zeroshot_summarize_", "summarization", true},
    {"zeroshot_qa_", "question-answering", true},
    {"token_classif_", "token-classification", false},
    {"text_classif_", "text-classification", false},
    {"obj_detection_", "object-detection", false},
    {"obj_detect_", "object-detection", false},
    {"image_class_", "image-classification", false},
    {"summarize_", "summarization", false},
    {"fillmask_", "fill-mask", false},
    {"fill_mask_", "fill-mask", false},
    {"textgen_", "text-generation", false},
    {"itt_", "image-to-text", false},
    {"tti_", "text-to-image", false},
    {"qa_", "question-answering", false},
    {"ner_", "token-classification", false},
    {"summ_", "summarization", false},
}};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string normalize_dataset_name(std::string_view name) {
  std::string d;
  for (char c : name)
    if (!std::isspace(static_cast<unsigned char>(c))) d += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // "_resized" images are another protocol: their own dataset, kept visible as "-resized".
  std::string suffix;
  for (std::string_view r : {"_resized", "-resized"})
    if (ends_with(d, r)) {
      d.resize(d.size() - r.size());
      suffix = "-resized";
    }
  // The study spells some sets two ways (qa_squadv2 and zeroshot_qa_squad2).
  static constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
      {"squad2", "squadv2"},       {"squad_v2", "squadv2"},  {"squad-v2", "squadv2"},
      {"rotten_tomatoes", "tomatoes"}, {"rotten-tomatoes", "tomatoes"}, {"cnn_dailymail", "cnn"},
      {"cnn-dailymail", "cnn"},    {"sst-2", "sst2"},        {"conll-2003", "conll2003"},
      {"cppe-5", "cppe"},          {"cppe5", "cppe"},        {"visual_genome", "visualgenome"},
  };
  for (const auto& [from, to] : kAliases)
    if (d == from) d = std::string(to);
  return d.empty() ? d : d + suffix;
}

std::optional<StudyFileTask> study_task_from_file_name(std::string_view stem) {
  if (ends_with(stem, ".csv")) stem.remove_suffix(4);
  for (const auto& p : kPrefixes) {
    if (stem.substr(0, p.prefix.size()) != p.prefix) continue;
    std::string dataset(stem.substr(p.prefix.size()));
    // Variants of the same dataset: "_bloomz" (which models), "_15" (summary length).
    if (ends_with(dataset, "_bloomz")) dataset.resize(dataset.size() - 7);
    const auto underscore = dataset.rfind('_');
    if (underscore != std::string::npos && underscore + 1 < dataset.size()) {
      bool digits = true;
      for (char c : dataset.substr(underscore + 1)) digits = digits && std::isdigit(static_cast<unsigned char>(c));
      if (digits) dataset.resize(underscore);
    }
    dataset = normalize_dataset_name(dataset);
    if (dataset.empty()) return std::nullopt;
    return StudyFileTask{std::string(p.task), dataset, p.zero_shot};
  }
  return std::nullopt;
}

}  // namespace joulebench
