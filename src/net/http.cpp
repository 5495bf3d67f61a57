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

std::optional<HttpUrl> split_http_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const auto path_start = url.find('/', scheme_end + 3);
  HttpUrl out;
  out.origin = std::string(url.substr(0, path_start));
  if (path_start != std::string_view::npos) out.path = std::string(url.substr(path_start));
  return out;
}

}  // namespace joulebench::net
