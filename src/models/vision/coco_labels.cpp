#include "models/vision/coco_labels.h"

#include <algorithm>

namespace joulebench::models::vision {

const std::array<std::string_view, 80>& coco80_names() {
  static const std::array<std::string_view, 80> names = {
      "person",        "bicycle",      "car",           "motorcycle",    "airplane",     "bus",
      "train",         "truck",        "boat",          "traffic light", "fire hydrant", "stop sign",
      "parking meter", "bench",        "bird",          "cat",           "dog",          "horse",
      "sheep",         "cow",          "elephant",      "bear",          "zebra",        "giraffe",
      "backpack",      "umbrella",     "handbag",       "tie",           "suitcase",     "frisbee",
      "skis",          "snowboard",    "sports ball",   "kite",          "baseball bat", "baseball glove",
      "skateboard",    "surfboard",    "tennis racket", "bottle",        "wine glass",   "cup",
      "fork",          "knife",        "spoon",         "bowl",          "banana",       "apple",
      "sandwich",      "orange",       "broccoli",      "carrot",        "hot dog",      "pizza",
      "donut",         "cake",         "chair",         "couch",         "potted plant", "bed",
      "dining table",  "toilet",       "tv",            "laptop",        "mouse",        "remote",
      "keyboard",      "cell phone",   "microwave",     "oven",          "toaster",      "sink",
      "refrigerator",  "book",         "clock",         "vase",          "scissors",     "teddy bear",
      "hair drier",    "toothbrush"};
  return names;
}

std::string coco91_name(int id) {
  // COCO category ids that were never used (HF id2label says "N/A").
  static const std::array<int, 11> gaps = {0, 12, 26, 29, 30, 45, 66, 68, 69, 71, 83};
  if (id < 0 || id > 90 || std::find(gaps.begin(), gaps.end(), id) != gaps.end()) return "N/A";
  int skipped = static_cast<int>(std::count_if(gaps.begin(), gaps.end(), [&](int g) { return g < id; }));
  return std::string(coco80_names()[static_cast<std::size_t>(id - skipped)]);
}

}  // namespace joulebench::models::vision
