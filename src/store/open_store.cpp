// open_store: which backend a --store names (a postgresql:// URL, else a
// SQLite file), and the checks a read-only command makes before opening one.
#include <fmt/format.h>
#include <unistd.h>

#include "joulebench/error.h"
#include "joulebench/store.h"
#include "net/postgres.h"
#include "store_backends.h"

namespace joulebench {

std::unique_ptr<Store> open_store(const std::filesystem::path& path, StoreAccess access) {
  if (store::is_postgres_url(path.string())) return net::open_postgres_store(path.string());
  if (access == StoreAccess::read && path != ":memory:") {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      throw InputError(fmt::format("no store at {}: run `joulebench import codecarbon` or `joulebench bench` first, "
                                   "or give --store PATH",
                                   path.string()));
    if (std::filesystem::is_directory(path, ec))
      throw InputError(fmt::format("--store {} is a folder; give the store's file", path.string()));
    // Writable: opened as usual, so that an older store is migrated and WAL kept.
    const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    const bool writable = ::access(path.c_str(), W_OK) == 0 && ::access(folder.c_str(), W_OK) == 0;
    return store::open_sqlite_store(path, !writable);
  }
  return store::open_sqlite_store(path, false);
}

}  // namespace joulebench
