// Where a store is: a SQLite file or a PostgreSQL URL, and how to show it
// without its password.
#include <filesystem>
#include <string>
#include <string_view>

#include "joulebench/store.h"
#include "store_backends.h"

namespace joulebench {

bool is_store_url(std::string_view location) { return store::is_postgres_url(location); }

bool store_exists(const std::filesystem::path& location) {
  std::error_code ec;
  return is_store_url(location.string()) || std::filesystem::exists(location, ec);
}

std::string display_store_location(std::string_view location) {
  std::string s(location);
  if (!is_store_url(s)) return s;
  // scheme://user:PASSWORD@host... -> scheme://user@host...
  const auto start = s.find("://") + 3;
  const auto at = s.find('@', start);
  const auto slash = s.find('/', start);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    const auto colon = s.find(':', start);
    if (colon != std::string::npos && colon < at) s.erase(colon, at - colon);
  }
  // ...?a=1&password=PASSWORD&b=2 -> ...?a=1&b=2
  for (auto p = s.find("password="); p != std::string::npos; p = s.find("password=", p)) {
    if (p == 0 || (s[p - 1] != '?' && s[p - 1] != '&')) {
      ++p;
      continue;
    }
    const auto end = s.find('&', p);
    s.erase(p, end == std::string::npos ? std::string::npos : end + 1 - p);
  }
  while (!s.empty() && (s.back() == '&' || s.back() == '?')) s.pop_back();
  return s;
}

namespace store {

bool is_postgres_url(std::string_view s) { return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0; }

}  // namespace store
}  // namespace joulebench
