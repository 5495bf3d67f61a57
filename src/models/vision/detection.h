// Object detection presets: DETR (facebook/detr-resnet-50) and YOLOS
// (hustvl/yolos-tiny), as HF *ForObjectDetection, with HF's post-processing
// (softmax over 91 COCO classes + "no object", boxes cx,cy,w,h -> x0,y0,x1,y1
// in input pixels, score threshold). CenterNet (the real pretrained one) is in
// centernet.h.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "joulebench/models.h"

namespace joulebench::models::vision {

struct Detection {
  int label = 0;  // class index of the model's label space
  std::string name;
  float score = 0;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // pixels of the original image
};

// HF post_process_object_detection: logits [Q, C+1], boxes [Q, 4] (normalised
// cx, cy, w, h); keeps the best real class per query when its probability
// exceeds `threshold`, sorted by score.
std::vector<Detection> postprocess_set_predictions(const torch::Tensor& logits, const torch::Tensor& boxes,
                                                   int image_width, int image_height, float threshold);
// "dog 0.93 [x0,y0,x1,y1]; ..." (the InferenceOutput text of detectors).
std::string format_detections(const std::vector<Detection>& d);

std::vector<ModelInfo> detection_infos();
std::unique_ptr<Model> load_detection(const ModelInfo& info, const LoadOptions& options);

}  // namespace joulebench::models::vision
