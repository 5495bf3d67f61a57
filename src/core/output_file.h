// Where a command writes a file it was given (--json, --html, -o, ...):
// docs/cli.md "Output files". One writer serves every command, so that no
// command replaces /dev/stdout, leaves half a file, or loses a symlink.
#pragma once

#include <string>
#include <string_view>

namespace joulebench {

// Fails (InputError naming `option` and the path) unless `path` can be
// written: "-" (stdout), a device or FIFO, or a file whose folder is
// writable. Creates nothing, so that a run refused later leaves no empty file.
void check_output_file(const std::string& path, std::string_view option);

// Writes `text` to `path`:
//  - "-" is stdout;
//  - a character device, FIFO or socket, and anything under /dev/ or /proc/
//    (/dev/stdout, /proc/self/fd/N), is written in place;
//  - a symlink is followed, and the file it names is replaced;
//  - a regular file is replaced atomically: written to a hidden temporary
//    beside it, synced, then renamed over it (keeping its permissions).
// A failed write (disk full) throws Error and leaves neither a temporary nor a
// changed target.
void write_output_file(const std::string& path, std::string_view text);

}  // namespace joulebench
