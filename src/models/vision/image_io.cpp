#include "models/vision/image_io.h"

#include <fmt/format.h>
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "joulebench/error.h"

namespace joulebench::models::vision {

Image decode_image(const std::vector<std::uint8_t>& bytes, const std::string& what) {
  if (bytes.empty()) throw InputError(fmt::format("image '{}' is empty: give a JPEG or PNG file", what));
  int w = 0, h = 0, channels = 0;
  // Only JPEG and PNG are promised; stb also reads BMP/GIF/..., which is harmless.
  stbi_uc* data = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels, 3);
  if (data == nullptr) {
    const char* reason = stbi_failure_reason();
    throw InputError(fmt::format("cannot decode image '{}' ({}): give a JPEG or PNG file", what,
                                 reason ? reason : "unknown format"));
  }
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(data, data + static_cast<std::size_t>(w) * h * 3);
  stbi_image_free(data);
  return img;
}

Image read_image(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(fmt::format("image '{}' does not exist or is not a regular file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("cannot open image '{}' for reading", path));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_image(bytes, path);
}

void write_png(const std::string& path, const Image& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != static_cast<std::size_t>(image.width) * image.height * 3)
    throw Error(fmt::format("cannot write '{}': image buffer does not match {}x{} RGB", path, image.width,
                            image.height));
  if (stbi_write_png(path.c_str(), image.width, image.height, 3, image.rgb.data(), image.width * 3) == 0)
    throw Error(fmt::format("cannot write PNG '{}': check that the folder exists and is writable", path));
}

}  // namespace joulebench::models::vision
