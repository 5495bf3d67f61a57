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
    // "_resized" images are another protocol: keep it visible as "-resized".
    if (ends_with(dataset, "_resized")) dataset = dataset.substr(0, dataset.size() - 8) + "-resized";
    for (auto& c : dataset) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (dataset.empty()) return std::nullopt;
    return StudyFileTask{std::string(p.task), dataset, p.zero_shot};
  }
  return std::nullopt;
}

}  // namespace joulebench
