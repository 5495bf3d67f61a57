#include "report_facts.h"

#include "joulebench/study.h"

namespace joulebench::cli {

HtmlReportOptions report_facts(const std::vector<ModelInfo>& zoo) {
  HtmlReportOptions h;
  // Parameter counts (docs/models.md "Parameter counts"): the checkpoint's total for the study's models.
  for (const auto& m : zoo) h.facts[m.name] = {m.parameters + m.head_parameters, m.multi_purpose, m.purpose};
  for (const auto& m : study_models())
    if (m.total_parameters > 0) {
      auto& f = h.facts[m.model];
      f.parameters = m.total_parameters;
      f.multi_purpose = m.multi_purpose;
    }
  for (const auto& f : published_study_figures())
    if (f.table == "tasks" && f.metric == "kwh_per_1000_mean") h.reference_kwh_per_1000[f.row] = f.value;
  h.reference_source = std::string("Table 2 of ") + kStudyCitation;
  return h;
}

}  // namespace joulebench::cli
