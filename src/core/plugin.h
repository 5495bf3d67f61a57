// Internal: finds and opens one of joulebench's plugins (the model zoo, the
// network backends). Heavy dependencies live in plugins so that commands that
// do not use them (`measure`, `sensors`, `report`) never load them: libtorch
// costs ~0.4 s, libpq + OpenSSL ~7 ms at every start.
#pragma once

#include <mutex>
#include <string>

#include "joulebench/error.h"

namespace joulebench::core {

struct PluginSpec {
  const char* file_name;     // "libjoulebench_net.so"
  const char* env_variable;  // "JOULEBENCH_NET_LIBRARY": an explicit path, not second-guessed
  const char* entry_symbol;  // the one extern "C" function the plugin exports
  const char* what;          // "the network plugin", for messages
};

// Looks in $env_variable, then beside the executable or in lib/joulebench/
// of its folder or a parent (core/paths.h: the build tree, an installed tree,
// test binaries below the build tree; no path is compiled in). Returns
// the entry symbol's address; the plugin is never closed (objects it made
// live until exit). Throws Error listing every place tried and why it failed.
void* open_plugin(const PluginSpec& spec);

// The plugin's table of entry points (a struct whose first member is
// `int abi_version`), opened once per table type: later calls return the same
// table or throw the same error. `before_load` runs once, before dlopen.
template <typename Api>
const Api& plugin_table(const PluginSpec& spec, int expected_abi, void (*before_load)() = nullptr) {
  static const Api* api = nullptr;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [&] {
    if (before_load) before_load();
    try {
      const Api* table = reinterpret_cast<const Api* (*)()>(open_plugin(spec))();
      if (table->abi_version == expected_abi)
        api = table;
      else
        failure = std::string(spec.what) + " has ABI " + std::to_string(table->abi_version) +
                  " but this joulebench expects " + std::to_string(expected_abi) + " (rebuild both)";
    } catch (const Error& e) {
      failure = e.what();
    }
  });
  if (!api) throw Error(failure);
  return *api;
}

}  // namespace joulebench::core
