// COCO class names: the 80 detection classes, and HF's 91-id layout (DETR,
// YOLOS id2label: the original COCO category ids with "N/A" in the gaps).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace joulebench::models::vision {

const std::array<std::string_view, 80>& coco80_names();
std::string coco91_name(int id);

}  // namespace joulebench::models::vision
