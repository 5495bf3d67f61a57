// Live carbon intensity from an Electricity Maps-style HTTP API, with an
// on-disk cache. Never throws for network trouble: callers fall back to the
// tables with a warning (the reason comes back in `why_not`).
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "joulebench/carbon.h"
#include "joulebench/limits.h"
#include "net/http.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;

fs::path cache_dir_for(const LiveIntensityOptions& o) {
  if (!o.cache_dir.empty()) return o.cache_dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "joulebench";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "joulebench";
  return fs::temp_directory_path() / "joulebench-cache";
}

std::string safe_name(std::string_view zone) {
  std::string out;
  for (char c : zone) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return out;
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Turns the API's JSON into an intensity, or says why not.
std::optional<GridIntensity> from_response(const std::string& body, std::string_view zone, std::string* why) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *why = "the answer is not JSON";
    return std::nullopt;
  }
  auto it = j.find("carbonIntensity");
  if (it == j.end() || !it->is_number()) {
    *why = "the answer has no numeric \"carbonIntensity\"";
    return std::nullopt;
  }
  const double g = it->get<double>();
  if (const std::string bad = limits_violation(g, kIntensityLimits); !bad.empty()) {
    *why = fmt::format("the answer's carbonIntensity refused: {}", bad);
    return std::nullopt;
  }
  GridIntensity out;
  out.g_per_kwh = g;
  out.origin = IntensityOrigin::live;
  std::string when = j.value("datetime", std::string());
  out.source = fmt::format("live, Electricity Maps-style API, zone {}{}{}", zone, when.empty() ? "" : " at ", when);
  out.zone = std::string(zone);
  if (when.size() >= 4) {
    try {
      out.year = std::stoi(when.substr(0, 4));
    } catch (...) {
    }
  }
  return out;
}

}  // namespace

std::optional<GridIntensity> fetch_live_intensity(const LiveIntensityOptions& options, std::string_view zone,
                                                  std::string* why_not) {
  std::string ignored;
  std::string& why = why_not ? *why_not : ignored;
  if (zone.empty()) {
    why = "no zone: give carbon.live.zone or a country";
    return std::nullopt;
  }
  const fs::path cache = cache_dir_for(options) / ("intensity-" + safe_name(zone) + ".json");
  std::error_code ec;
  // Cache: {"fetched_at": seconds since epoch, "body": "<API answer>"}.
  if (options.cache_ttl_s > 0 && fs::exists(cache, ec)) {
    std::ifstream in(cache);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_discarded() && j.contains("fetched_at") && j.contains("body") && j["fetched_at"].is_number() &&
        now_s() - j["fetched_at"].get<double>() < options.cache_ttl_s) {
      std::string reason;
      if (auto g = from_response(j["body"].get<std::string>(), zone, &reason)) {
        g->source += fmt::format(" (cached in {})", cache.string());
        return g;
      }
    }
  }

  const auto url = net::split_http_url(options.url);
  if (!url) {
    why = fmt::format("live intensity URL '{}' must start with http:// or https://", options.url);
    return std::nullopt;
  }
  const std::string& origin = url->origin;
  std::string path = url->path.empty() ? "/" : url->path;
  path += (path.find('?') == std::string::npos ? "?" : "&") + std::string("zone=") + url_encode(zone);

  try {
    const auto client = net::connect_http(origin, options.timeout_s);
    net::HttpHeaders headers;
    if (!options.token.empty()) headers.emplace_back("auth-token", options.token);
    std::string error;
    const auto res = client->get(path, headers, error);
    if (!res) {
      why = fmt::format("{}: {}", origin, error);
      return std::nullopt;
    }
    if (res->status != 200) {
      why = fmt::format("{}{}: HTTP {}{}", origin, path, res->status,
                        res->status == 401 || res->status == 403 ? " (check the auth token)" : "");
      return std::nullopt;
    }
    auto g = from_response(res->body, zone, &why);
    if (!g) return std::nullopt;
    fs::create_directories(cache.parent_path(), ec);
    if (!ec) {
      std::ofstream out(cache);
      out << nlohmann::json{{"fetched_at", now_s()}, {"body", res->body}}.dump();
    }
    return g;
  } catch (const std::exception& e) {
    why = fmt::format("{}: {}", origin, e.what());
    return std::nullopt;
  }
}

}  // namespace joulebench
