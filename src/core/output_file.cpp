#include "core/output_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "joulebench/error.h"

namespace joulebench {
namespace fs = std::filesystem;
namespace {

bool is_stdout(const std::string& path) { return path == "-"; }

// Kernel-provided names (/dev/stdout, /proc/self/fd/1) may resolve to a pipe
// or to the file a shell redirected into: they are written, never replaced.
bool is_system_path(const std::string& path) {
  return path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0;
}

// The file a chain of symlinks ends at (which may not exist yet).
fs::path follow_symlinks(fs::path p) {
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::error_code ec;
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) return p;
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  throw InputError(fmt::format("{}: too many levels of symbolic links; give the file itself", p.string()));
}

enum class Kind { missing, regular, directory, special };

Kind kind_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return Kind::missing;
  if (S_ISREG(st.st_mode)) return Kind::regular;
  if (S_ISDIR(st.st_mode)) return Kind::directory;
  return Kind::special;
}

fs::path folder_of(const fs::path& p) { return p.has_parent_path() ? p.parent_path() : fs::path("."); }

void write_all(int fd, std::string_view text, const std::string& name) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(fmt::format("writing {} failed: {}", name, std::strerror(errno)));
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void write_in_place(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("cannot open {} for writing: {}", path, std::strerror(errno)));
  try {
    write_all(fd, text, path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void replace_atomically(const fs::path& target, std::string_view text) {
  const fs::path tmp = folder_of(target) / fmt::format(".{}.tmp.{}", target.filename().string(), ::getpid());
  struct stat old {};
  const bool existed = ::stat(target.c_str(), &old) == 0;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, existed ? (old.st_mode & 07777) : 0666);
  if (fd < 0)
    throw InputError(fmt::format("cannot write {}: {} (check that its folder exists and is writable)",
                                 target.string(), std::strerror(errno)));
  try {
    write_all(fd, text, target.string());
    if (existed) (void)::fchmod(fd, old.st_mode & 07777);  // not subject to the umask, unlike open's mode
    if (::fsync(fd) != 0) throw Error(fmt::format("writing {} failed: {}", target.string(), std::strerror(errno)));
    if (::close(fd) != 0) throw Error(fmt::format("writing {} failed: {}", target.string(), std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(fmt::format("cannot replace {}: {}", target.string(), std::strerror(err)));
  }
}

}  // namespace

void check_output_file(const std::string& path, std::string_view option) {
  if (path.empty()) throw InputError(fmt::format("{}: empty file name; give a file, or - for stdout", option));
  if (is_stdout(path)) return;
  if (is_system_path(path)) {
    if (::access(path.c_str(), W_OK) != 0)
      throw InputError(fmt::format("{} {}: cannot write: {}", option, path, std::strerror(errno)));
    return;
  }
  const fs::path target = follow_symlinks(path);
  switch (kind_of(target)) {
    case Kind::directory:
      throw InputError(fmt::format("{} {}: is a folder; give a file name inside it", option, path));
    case Kind::special:
      if (::access(target.c_str(), W_OK) != 0)
        throw InputError(fmt::format("{} {}: cannot write: {}", option, path, std::strerror(errno)));
      return;
    case Kind::regular:
    case Kind::missing: {
      const fs::path folder = folder_of(target);
      if (kind_of(folder) != Kind::directory)
        throw InputError(fmt::format("{} {}: the folder {} does not exist; create it first", option, path,
                                     folder.string()));
      if (::access(folder.c_str(), W_OK | X_OK) != 0)
        throw InputError(fmt::format("{} {}: cannot write in the folder {}: {}", option, path, folder.string(),
                                     std::strerror(errno)));
      return;
    }
  }
}

void write_output_file(const std::string& path, std::string_view text) {
  if (is_stdout(path)) {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
      throw Error(fmt::format("writing to stdout failed: {}", std::strerror(errno)));
    return;
  }
  if (is_system_path(path)) return write_in_place(path, text);
  const fs::path target = follow_symlinks(path);
  switch (kind_of(target)) {
    case Kind::directory:
      throw InputError(fmt::format("{}: is a folder; give a file name inside it", path));
    case Kind::special:
      return write_in_place(target.string(), text);
    case Kind::regular:
    case Kind::missing:
      return replace_atomically(target, text);
  }
}

}  // namespace joulebench
