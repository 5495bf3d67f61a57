// The one real pretrained model of the zoo: CenterNet with a MobileNetV3
// backbone, trained on COCO-80 (github.com/610265158/mobilenetv3_centernet),
// as shipped in npm @vladmandic/human (models/centernet.json + .bin, a tfjs
// graph model, weights float16). Read by models/tfjs and run in libtorch with
// human's pre- and post-processing: bilinear resize to 512x512 (0..255 RGB),
// the graph's own top-100 decoding, then non-maximum suppression.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "joulebench/models.h"
#include "models/vision/detection.h"

namespace joulebench::models::vision {

struct NmsOptions {
  float iou_threshold = 0.4f;   // human's config.object defaults
  float min_confidence = 0.2f;
  int max_detected = 10;
  // Suppress only boxes of the same class (torchvision's batched_nms, COCO
  // evaluation). human itself runs class-agnostic NMS, which keeps one label
  // per box: on dog.jpg the pick-up is "car" 0.56 and "truck" 0.32 on the same
  // box, and class-agnostic NMS would drop the truck.
  bool per_class = true;
};

// Greedy NMS over boxes sorted by score (highest first).
std::vector<Detection> non_max_suppression(std::vector<Detection> d, const NmsOptions& o);

// Where the fetched model lives (third_party/data/human-centernet/centernet.json).
std::string default_centernet_path();

std::vector<ModelInfo> centernet_infos();
std::unique_ptr<Model> load_centernet(const ModelInfo& info, const LoadOptions& options);

}  // namespace joulebench::models::vision
