// The options that say where the electricity comes from, shared by every
// command that turns energy into carbon (carbon, measure, bench, report):
// one place, one spelling. Contract: docs/carbon.md.
#pragma once

#include <string>

#include "joulebench/carbon.h"

namespace CLI {
class App;
}

namespace joulebench::cli {

// Adds --country ISO3 | --cloud PROVIDER:REGION | --intensity G (mutually
// exclusive), --pue P|PRESET, --equivalent KEY=AMOUNT (repeatable),
// --live-intensity, --config FILE, writing into `request` (which must outlive
// parsing).
void add_carbon_options(CLI::App& app, CarbonRequest& request);

// Prints the settings' warnings on stderr ("joulebench: warning: ...").
void print_carbon_warnings(const CarbonSettings& settings);

// --store PATH (default ./joulebench.db).
void add_store_option(CLI::App& app, std::string& path);

}  // namespace joulebench::cli
