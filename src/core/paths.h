// Where joulebench finds what it installs beside itself, found from the
// running executable rather than compiled in: an installed tree
// (PREFIX/bin/joulebench, PREFIX/lib/joulebench/*.so, PREFIX/share/joulebench/)
// works wherever it is copied, and the binary holds no build or source path.
// The build tree has the same shape: build/joulebench and its plugins side by
// side, build/share/joulebench a link to the fetched data (third_party/data).
#pragma once

#include <filesystem>
#include <vector>

namespace joulebench::core {

// The running executable's folder and its parents, nearest first, `levels`
// of them (test binaries sit two folders below the build tree).
std::vector<std::filesystem::path> executable_folders(int levels = 3);

// Where a plugin (a .so joulebench builds beside itself) may be, in order:
// beside the executable or in lib/joulebench/, in executable_folders().
std::vector<std::filesystem::path> plugin_paths(const std::filesystem::path& file_name);

// The data that scripts/fetch_data.sh extracts (texts, images, vocabularies,
// weights): $JOULEBENCH_DATA_DIR, else the nearest share/joulebench of
// executable_folders(); when there is none, where an installed tree has it
// (PREFIX/share/joulebench), for the message that says it is missing.
std::filesystem::path data_dir();

}  // namespace joulebench::core
