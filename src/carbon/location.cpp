// Where the carbon settings come from: flag > environment > config file >
// system time zone > world average (with a warning).
#include <fmt/format.h>


#include <cstdlib>
#include <fstream>
#include <functional>

#include "core/toml_file.h"
#include "joulebench/carbon.h"
#include "joulebench/error.h"
#include "joulebench/limits.h"
#include "core/text_util.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;

// One level's say on the location and PUE ("--country", "JOULEBENCH_COUNTRY", "./joulebench.toml:3").
struct Level {
  std::optional<std::string> country, cloud;
  std::optional<double> intensity;
  std::optional<std::string> pue;
  std::string country_where, cloud_where, intensity_where, pue_where;
};

std::optional<GridIntensity> location_of(const Level& l, std::string* origin) {
  // Within one level the three exclude each other, as the flags do: none silently wins.
  std::vector<std::string> given;
  if (l.country) given.push_back(l.country_where);
  if (l.cloud) given.push_back(l.cloud_where);
  if (l.intensity) given.push_back(l.intensity_where);
  if (given.size() > 1)
    throw InputError(fmt::format("{} and {} both give the location; keep one: a country, a cloud region and an "
                                 "intensity exclude each other",
                                 given[0], given[1]));
  if (l.intensity) {
    *origin = l.intensity_where;
    return intensity_from_user(*l.intensity, l.intensity_where);
  }
  if (l.cloud) {
    *origin = l.cloud_where;
    try {
      return intensity_for_cloud(*l.cloud);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: {}", l.cloud_where, e.what()));
    }
  }
  if (l.country) {
    *origin = l.country_where;
    try {
      return intensity_for_country(*l.country);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: {}", l.country_where, e.what()));
    }
  }
  return std::nullopt;
}

bool parse_bool(std::string_view s, std::string_view where) {
  const std::string t = detail::to_lower(detail::trim(s));
  if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
  if (t == "0" || t == "false" || t == "no" || t == "off" || t.empty()) return false;
  throw InputError(fmt::format("{}: '{}' is not a boolean (use 1 or 0)", where, s));
}

// ---- TOML ----

struct ConfigFile {
  Level level;
  std::vector<std::pair<std::string, std::string>> equivalents;  // key=amount, where
  std::optional<bool> live;
  LiveIntensityOptions live_options;
  bool has_live_table = false;
  std::optional<std::string> project;  // [run] project
};

std::string where_in(const fs::path& file, const toml::node& n, std::string_view key) {
  return fmt::format("{}:{}: key '{}'", file.string(), n.source().begin.line, key);
}

std::string string_of(const toml::node& n, const fs::path& file, std::string_view key) {
  if (auto s = n.value<std::string>()) return *s;
  throw InputError(fmt::format("{}: expected a string", where_in(file, n, key)));
}

double number_of(const toml::node& n, const fs::path& file, std::string_view key) {
  if (auto d = n.value<double>()) return *d;  // integers convert too
  throw InputError(fmt::format("{}: expected a number", where_in(file, n, key)));
}

bool bool_of(const toml::node& n, const fs::path& file, std::string_view key) {
  if (auto b = n.value<bool>()) return *b;
  throw InputError(fmt::format("{}: expected true or false", where_in(file, n, key)));
}

void unknown_key(const fs::path& file, const toml::node& n, std::string_view key,
                 const std::vector<std::string>& known) {
  auto close = detail::closest_matches(std::string(key).substr(std::string(key).rfind('.') + 1), known, 1);
  throw InputError(fmt::format("{}: unknown key{} (known: {})", where_in(file, n, key),
                               close.empty() ? "" : fmt::format("; did you mean '{}'?", close.front()),
                               fmt::format("{}", fmt::join(known, ", "))));
}

ConfigFile read_config(const fs::path& file) {
  const toml::table root = core::read_toml_file(file);
  ConfigFile out;
  // [run]: what a measured run is labelled with (measure --store, --csv).
  if (const toml::node* run = root.get("run")) {
    const toml::table* t = run->as_table();
    if (!t) throw InputError(fmt::format("{}: key 'run' must be a table ([run])", file.string()));
    for (const auto& [k, node] : *t) {
      if (k == "project") out.project = string_of(node, file, "run.project");
      else unknown_key(file, node, "run." + std::string(k.str()), {"project"});
    }
  }
  const toml::table* carbon = root["carbon"].as_table();
  if (!carbon) {
    if (root.contains("carbon"))
      throw InputError(fmt::format("{}: key 'carbon' must be a table ([carbon])", file.string()));
    return out;
  }
  const std::vector<std::string> known{"country", "cloud", "intensity_g_per_kwh", "pue", "live_intensity",
                                       "equivalents", "live"};
  for (const auto& [k, node] : *carbon) {
    const std::string key = "carbon." + std::string(k.str());
    const std::string where = fmt::format("{}:{}", file.string(), node.source().begin.line);
    if (k == "country") {
      out.level.country = string_of(node, file, key);
      out.level.country_where = where + " (carbon.country)";
    } else if (k == "cloud") {
      out.level.cloud = string_of(node, file, key);
      out.level.cloud_where = where + " (carbon.cloud)";
    } else if (k == "intensity_g_per_kwh") {
      out.level.intensity = number_of(node, file, key);
      out.level.intensity_where = where + " (carbon.intensity_g_per_kwh)";
    } else if (k == "pue") {
      out.level.pue = node.is_string() ? string_of(node, file, key) : fmt::format("{}", number_of(node, file, key));
      out.level.pue_where = where + " (carbon.pue)";
    } else if (k == "live_intensity") {
      out.live = bool_of(node, file, key);
    } else if (k == "equivalents") {
      const toml::table* t = node.as_table();
      if (!t) throw InputError(fmt::format("{}: expected a table [carbon.equivalents]", where_in(file, node, key)));
      for (const auto& [ek, en] : *t) {
        const std::string ekey = key + "." + std::string(ek.str());
        out.equivalents.emplace_back(fmt::format("{}={}", ek.str(), number_of(en, file, ekey)),
                                     fmt::format("{}:{} ({})", file.string(), en.source().begin.line, ekey));
      }
    } else if (k == "live") {
      const toml::table* t = node.as_table();
      if (!t) throw InputError(fmt::format("{}: expected a table [carbon.live]", where_in(file, node, key)));
      out.has_live_table = true;
      const std::vector<std::string> live_known{"enabled", "url", "zone", "token", "timeout_s", "cache_dir",
                                                "cache_ttl_s"};
      auto& lo = out.live_options;
      for (const auto& [lk, ln] : *t) {
        const std::string lkey = key + "." + std::string(lk.str());
        if (lk == "enabled") out.live = bool_of(ln, file, lkey);
        else if (lk == "url") lo.url = string_of(ln, file, lkey);
        else if (lk == "zone") lo.zone = string_of(ln, file, lkey);
        else if (lk == "token") lo.token = string_of(ln, file, lkey);
        else if (lk == "timeout_s") lo.timeout_s = number_of(ln, file, lkey);
        else if (lk == "cache_dir") lo.cache_dir = string_of(ln, file, lkey);
        else if (lk == "cache_ttl_s") lo.cache_ttl_s = number_of(ln, file, lkey);
        else unknown_key(file, ln, lkey, live_known);
      }
      check_limits(lo.timeout_s, {"timeout", 0.001, 600, "s", false, ""}, file.string() + " (carbon.live.timeout_s)");
      check_limits(lo.cache_ttl_s, {"cache lifetime", 0, 86400 * 365, "s", false, ""},
                   file.string() + " (carbon.live.cache_ttl_s)");
    } else {
      unknown_key(file, node, key, known);
    }
  }
  return out;
}

// ---- time zone ----

std::optional<std::pair<std::string, std::string>> system_time_zone(const CarbonEnvironment& env) {
  if (env.getenv) {
    if (auto tz = env.getenv("TZ"); tz && !tz->empty()) {
      std::string name = *tz;
      if (name.front() == ':') name.erase(0, 1);
      const auto pos = name.find("zoneinfo/");
      if (pos != std::string::npos) name = name.substr(pos + 9);
      return std::make_pair(name, std::string("TZ"));
    }
  }
  std::error_code ec;
  if (fs::exists(env.timezone_file, ec)) {
    std::ifstream in(env.timezone_file);
    std::string line;
    if (std::getline(in, line) && !detail::trim(line).empty())
      return std::make_pair(std::string(detail::trim(line)), env.timezone_file.string());
  }
  if (fs::is_symlink(env.localtime_link, ec)) {
    const std::string target = fs::read_symlink(env.localtime_link, ec).string();
    const auto pos = target.find("zoneinfo/");
    if (!ec && pos != std::string::npos)
      return std::make_pair(target.substr(pos + 9), env.localtime_link.string() + " link");
  }
  return std::nullopt;
}

}  // namespace

CarbonEnvironment CarbonEnvironment::system() {
  CarbonEnvironment env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  env.config_files.push_back("joulebench.toml");
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    env.config_files.push_back(fs::path(xdg) / "joulebench" / "config.toml");
  else if (const char* home = std::getenv("HOME"); home && *home)
    env.config_files.push_back(fs::path(home) / ".config" / "joulebench" / "config.toml");
  return env;
}

namespace {

// An environment variable, with "" (or blanks) as unset.
using Getenv = std::function<std::optional<std::string>(const char*)>;

Level flags_level(const CarbonRequest& request) {
  Level flags;
  flags.country = request.country;
  flags.country_where = "--country";
  flags.cloud = request.cloud;
  flags.cloud_where = "--cloud";
  flags.intensity = request.intensity_g_per_kwh;
  flags.intensity_where = "--intensity";
  flags.pue = request.pue;
  flags.pue_where = "--pue";
  return flags;
}

Level environment_level(const Getenv& getenv) {
  Level environment;
  environment.country = getenv("JOULEBENCH_COUNTRY");
  environment.country_where = "JOULEBENCH_COUNTRY";
  environment.cloud = getenv("JOULEBENCH_CLOUD");
  environment.cloud_where = "JOULEBENCH_CLOUD";
  if (auto v = getenv("JOULEBENCH_INTENSITY")) {
    auto d = detail::parse_double(*v);
    if (!d) throw InputError(fmt::format("JOULEBENCH_INTENSITY: '{}' is not a number (g CO2e per kWh)", *v));
    environment.intensity = *d;
  }
  environment.intensity_where = "JOULEBENCH_INTENSITY";
  environment.pue = getenv("JOULEBENCH_PUE");
  environment.pue_where = "JOULEBENCH_PUE";
  return environment;
}

// --config, else JOULEBENCH_CONFIG, else the first of the usual files that exists.
ConfigFile config_level(const CarbonRequest& request, const CarbonEnvironment& env, const Getenv& getenv) {
  std::error_code ec;
  std::optional<fs::path> config_path = request.config_file;
  if (!config_path) {
    if (auto v = getenv("JOULEBENCH_CONFIG")) config_path = fs::path(*v);
  }
  if (config_path) {
    if (!fs::exists(*config_path, ec))
      throw InputError(fmt::format("config file {} does not exist", config_path->string()));
    return read_config(*config_path);
  }
  for (const auto& f : env.config_files)
    if (fs::exists(f, ec)) return read_config(f);  // a folder of that name is refused by name, not skipped
  return {};
}

// No location given anywhere: the time zone's country, said as a guess, else
// the world average with a warning.
void guess_location(const CarbonEnvironment& env, CarbonSettings& s) {
  std::optional<std::pair<std::string, std::string>> tz;
  if (env.use_time_zone) tz = system_time_zone(env);
  std::optional<std::string> iso3 = tz ? country_for_time_zone(tz->first) : std::nullopt;
  if (iso3 && find_country(*iso3)) {
    s.intensity = intensity_for_country(*iso3);
    s.location_origin = fmt::format("time zone {} ({})", tz->first, tz->second);
    s.warnings.push_back(fmt::format("location guessed from the time zone {} ({}): {} ({}); give --country "
                                     "or --cloud to be sure",
                                     tz->first, tz->second, s.intensity.country_name, *iso3));
    return;
  }
  s.intensity = world_average_intensity();
  s.location_origin = "default";
  s.warnings.push_back(fmt::format(
      "location unknown (no --country/--cloud/--intensity, JOULEBENCH_COUNTRY, or joulebench.toml{}): "
      "using the world average {} g CO2e/kWh (IEA 2019); real grids range from under 50 to over 800",
      tz ? fmt::format(", and time zone {} names no country", tz->first) : std::string(),
      kWorldAverageIntensityGPerKwh));
}

// Live intensity replaces a table's figure (never one given outright); when
// the service cannot answer, the table's figure stays, with a warning.
void apply_live_intensity(const CarbonRequest& request, const ConfigFile& config, const Getenv& getenv,
                          CarbonSettings& s) {
  bool live = config.live.value_or(false);
  if (auto v = getenv("JOULEBENCH_LIVE_INTENSITY")) live = parse_bool(*v, "JOULEBENCH_LIVE_INTENSITY");
  if (request.live) live = *request.live;
  if (!live || s.intensity.origin == IntensityOrigin::user) return;
  LiveIntensityOptions lo = config.live_options;
  if (auto v = getenv("JOULEBENCH_LIVE_URL")) lo.url = *v;
  if (auto v = getenv("JOULEBENCH_LIVE_ZONE")) lo.zone = *v;
  if (auto v = getenv("ELECTRICITYMAPS_TOKEN")) lo.token = *v;
  if (auto v = getenv("JOULEBENCH_LIVE_TOKEN")) lo.token = *v;
  std::string zone = lo.zone;
  if (zone.empty() && !s.intensity.country_iso3.empty())
    if (const auto* c = find_country(s.intensity.country_iso3)) zone = c->iso2;
  std::string why;
  if (auto g = fetch_live_intensity(lo, zone, &why)) {
    g->country_iso3 = s.intensity.country_iso3;
    g->country_name = s.intensity.country_name;
    g->cloud_provider = s.intensity.cloud_provider;
    g->cloud_region = s.intensity.cloud_region;
    s.intensity = *g;
  } else {
    s.warnings.push_back(fmt::format("live carbon intensity unavailable ({}); using {} g CO2e/kWh from {}", why,
                                     s.intensity.g_per_kwh, s.intensity.source));
  }
}

}  // namespace

CarbonSettings resolve_carbon_settings(const CarbonRequest& request, const CarbonEnvironment& env) {
  const Getenv getenv = [&](const char* name) -> std::optional<std::string> {
    if (!env.getenv) return std::nullopt;
    auto v = env.getenv(name);
    if (v && detail::trim(*v).empty()) return std::nullopt;
    return v;
  };
  const Level flags = flags_level(request);
  const Level environment = environment_level(getenv);
  const ConfigFile config = config_level(request, env, getenv);

  CarbonSettings s;
  s.config_project = config.project;
  // Location and intensity: flags > environment > config > time zone > world.
  std::string origin;
  std::optional<GridIntensity> found;
  for (const Level* l : {&flags, &environment, &config.level})
    if ((found = location_of(*l, &origin))) break;
  if (found) {
    s.intensity = *found;
    s.location_origin = origin;
  } else {
    guess_location(env, s);
  }
  // PUE: flag > environment > config > default.
  for (const Level* l : {&flags, &environment, &config.level}) {
    if (l->pue) {
      s.pue = parse_pue(*l->pue, l->pue_where);
      break;
    }
  }
  // Equivalents: config first, flags override it.
  for (const auto& [kv, where] : config.equivalents) override_equivalent(s.equivalents, kv, where);
  for (const auto& kv : request.equivalent_overrides) override_equivalent(s.equivalents, kv, "--equivalent");
  apply_live_intensity(request, config, getenv, s);
  return s;
}

}  // namespace joulebench
