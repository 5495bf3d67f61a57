// Inputs for the image tasks a user may give (torch-free): a folder of
// pictures, a prompt file.
#pragma once

#include <string>
#include <vector>

namespace joulebench::models::vision {

// The JPEG and PNG files of `folder` (by extension, case-insensitive: .jpg,
// .jpeg, .png), sorted by name, not recursive. Throws InputError when the
// folder does not exist or holds none.
std::vector<std::string> list_images(const std::string& folder);

// Prompts for text-to-image, one per line (surrounding spaces trimmed, blank
// lines and lines starting with '#' skipped). Throws InputError naming the
// file when it cannot be read or has no prompt.
std::vector<std::string> read_prompts(const std::string& path);

}  // namespace joulebench::models::vision
