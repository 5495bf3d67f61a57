// Image files in and out (JPEG/PNG via Debian's libstb), torch-free so that
// callers that only read or write pictures do not compile libtorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace joulebench::models::vision {

// 8-bit RGB, row-major, interleaved (height x width x 3).
struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;
};

// Decodes a JPEG or PNG file (grey and alpha are converted to RGB). Throws
// InputError naming the file when it is missing, empty, or not an image.
Image read_image(const std::string& path);
// Decodes an in-memory JPEG/PNG; `what` names the source in errors.
Image decode_image(const std::vector<std::uint8_t>& bytes, const std::string& what);
// Writes an 8-bit RGB PNG; throws Error naming the file when it cannot.
void write_png(const std::string& path, const Image& image);

}  // namespace joulebench::models::vision
