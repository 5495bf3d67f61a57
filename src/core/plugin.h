// Internal: finds and opens one of joulebench's plugins (the model zoo, the
// network backends). Heavy dependencies live in plugins so that commands that
// do not use them (`measure`, `sensors`, `report`) never load them: libtorch
// costs ~0.4 s, libpq + OpenSSL ~7 ms at every start.
#pragma once

#include <string>

namespace joulebench::core {

struct PluginSpec {
  const char* file_name;     // "libjoulebench_net.so"
  const char* env_variable;  // "JOULEBENCH_NET_LIBRARY": an explicit path, not second-guessed
  const char* entry_symbol;  // the one extern "C" function the plugin exports
  const char* what;          // "the network plugin", for messages
};

// Looks in $env_variable, then beside the executable, then in
// ../lib/joulebench/ (an installed tree), then in the build tree this loader
// was compiled in (tests and benchmarks run from subfolders of it). Returns
// the entry symbol's address; the plugin is never closed (objects it made
// live until exit). Throws Error listing every place tried and why it failed.
void* open_plugin(const PluginSpec& spec);

}  // namespace joulebench::core
