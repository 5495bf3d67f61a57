// What the HTML report and the energy label know beyond the store, gathered
// once for report and bench: parameter counts, multi-purpose and off-task
// models (the zoo's presets, then the study's table, which wins) and the
// study's published task means as reference marks.
#pragma once

#include <vector>

#include "joulebench/models.h"
#include "joulebench/report_html.h"

namespace joulebench::cli {

HtmlReportOptions report_facts(const std::vector<ModelInfo>& zoo);

}  // namespace joulebench::cli
