#include <algorithm>
#include <cctype>

#include "net/http.h"

namespace joulebench::net {

std::string header_value(const HttpHeaders& headers, std::string_view name) {
  const auto same = [name](const std::string& key) {
    return key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  };
  for (const auto& [key, value] : headers)
    if (same(key)) return value;
  return {};
}

}  // namespace joulebench::net
