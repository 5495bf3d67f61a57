// The energy label of one model as a standalone SVG, in the manner of the AI
// Energy Score label: model, task, Wh per 1,000 queries, 1-5 stars, hardware, date.
#include <fmt/format.h>

#include <algorithm>

#include "joulebench/readable.h"
#include "joulebench/report_html.h"
#include "joulebench/stars.h"
#include "joulebench/version.h"
#include "svg.h"

namespace joulebench {

std::string render_energy_label_svg(const EnergyLabel& l) {
  using report::px;
  using report::xml_escape;
  const double w = 320, h = 440;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"jb-label\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" data-model=\"{2}\" data-task=\"{3}\" data-stars=\"{4}\" "
      "data-wh-per-1000=\"{5:.6g}\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n",
      w, h, xml_escape(l.model), xml_escape(l.task), l.stars, l.wh_per_1000);
  s += fmt::format("<title>Energy label: {} ({})</title>\n", xml_escape(l.model), xml_escape(l.task));
  s += fmt::format("<rect x=\"1\" y=\"1\" width=\"{}\" height=\"{}\" rx=\"14\" fill=\"#ffffff\" stroke=\"#1f3b2c\" "
                   "stroke-width=\"2\"/>\n",
                   w - 2, h - 2);
  s += fmt::format("<rect x=\"1\" y=\"1\" width=\"{}\" height=\"54\" rx=\"14\" fill=\"#1f3b2c\"/>\n", w - 2);
  s += fmt::format("<rect x=\"1\" y=\"30\" width=\"{}\" height=\"25\" fill=\"#1f3b2c\"/>\n", w - 2);
  s += "<text x=\"20\" y=\"36\" font-size=\"20\" font-weight=\"bold\" fill=\"#ffffff\">AI ENERGY LABEL</text>\n";
  s += "<text x=\"20\" y=\"84\" font-size=\"12\" fill=\"#555\">model</text>\n";
  // A long Hugging Face id on two smaller lines, cut after its organisation.
  if (l.model.size() <= 28) {
    s += fmt::format("<text x=\"20\" y=\"104\" font-size=\"15\" font-weight=\"bold\" class=\"jb-label-model\">{}"
                     "</text>\n",
                     xml_escape(l.model));
  } else {
    const auto slash = l.model.find('/');
    const std::size_t cut = slash != std::string::npos && slash < 40 ? slash + 1 : 40;
    s += fmt::format("<text x=\"20\" y=\"99\" font-size=\"12\" font-weight=\"bold\" class=\"jb-label-model\">"
                     "<tspan>{}</tspan><tspan x=\"20\" dy=\"14\">{}</tspan></text>\n",
                     xml_escape(l.model.substr(0, cut)), xml_escape(report::fit_text(l.model.substr(cut), 40)));
  }
  s += "<text x=\"20\" y=\"130\" font-size=\"12\" fill=\"#555\">task</text>\n";
  s += fmt::format("<text x=\"20\" y=\"148\" font-size=\"14\" class=\"jb-label-task\">{}</text>\n",
                   xml_escape(l.task.empty() ? "(unknown)" : l.task));
  // Stars: filled ones first.
  for (int i = 0; i < 5; ++i) {
    const bool filled = i < l.stars;
    s += fmt::format("<polygon class=\"jb-star\" data-filled=\"{}\" points=\"{}\" fill=\"{}\" stroke=\"#c58f00\" "
                     "stroke-width=\"1.5\"/>\n",
                     filled ? 1 : 0, report::star_points(48 + i * 56, 200, 24, 10), filled ? "#f5b700" : "#ffffff");
  }
  s += fmt::format("<text x=\"{}\" y=\"268\" font-size=\"34\" font-weight=\"bold\" text-anchor=\"middle\" "
                   "class=\"jb-label-energy\">{}</text>\n",
                   px(w / 2), readable_wh(l.wh_per_1000));
  // An estimate says so where the figure is, with its model's band.
  const bool estimated = l.provenance == "estimated";
  s += fmt::format("<text x=\"{}\" y=\"290\" font-size=\"13\" text-anchor=\"middle\">per 1,000 queries{}</text>\n",
                   px(w / 2), estimated ? ", estimated" : "");
  if (estimated && l.band_factor > 1.0)
    s += fmt::format("<text x=\"{}\" y=\"304\" font-size=\"10\" fill=\"#555\" text-anchor=\"middle\" "
                     "class=\"jb-label-band\">between {} and {} (the power model's band)</text>\n",
                     px(w / 2), readable_wh(l.wh_per_1000 / l.band_factor), readable_wh(l.wh_per_1000 * l.band_factor));
  s += fmt::format("<line x1=\"20\" y1=\"313\" x2=\"{}\" y2=\"313\" stroke=\"#ccc\"/>\n", w - 20);
  // GPU and CPU on their own lines (a full CPU name does not fit beside the GPU's).
  const auto cut = l.hardware.find(", ");
  std::string first = l.hardware.substr(0, cut), second = cut == std::string::npos ? "" : l.hardware.substr(cut + 2);
  s += fmt::format("<text x=\"20\" y=\"328\" font-size=\"11\" class=\"jb-label-hardware\">hardware: {}</text>\n",
                   xml_escape(report::fit_text(first, 32)));
  if (!second.empty())
    s += fmt::format("<text x=\"20\" y=\"342\" font-size=\"11\">{}</text>\n", xml_escape(report::fit_text(second, 42)));
  s += fmt::format("<text x=\"20\" y=\"358\" font-size=\"11\">measured: {} ({})</text>\n", xml_escape(l.date),
                   xml_escape(l.provenance));
  // The stars' basis, or why there are none, wrapped to the label's width (10 px text: about 50 characters).
  std::vector<std::string> basis;
  if (l.stars > 0) {
    basis = report::wrap_words(fmt::format("stars: {} models, {} to {}, in 5 bands equal on a log scale; lowest "
                                           "energy = 5 stars",
                                           l.models_in_task, readable_wh(l.task_min_wh), readable_wh(l.task_max_wh)),
                               50);
  } else {
    basis = report::wrap_words(l.stars_note, 50);
  }
  basis.resize(std::min<std::size_t>(basis.size(), 3));
  for (std::size_t i = 0; i < basis.size(); ++i)
    s += fmt::format("<text x=\"20\" y=\"{}\" font-size=\"10\" fill=\"#555\"{}>{}</text>\n", 372 + 12 * i,
                     l.stars > 0 ? "" : " class=\"jb-label-unranked\"", xml_escape(basis[i]));
  s += "<text x=\"20\" y=\"410\" font-size=\"10\" fill=\"#555\">energy: GPU + CPU + RAM, no PUE</text>\n";
  s += fmt::format("<text x=\"20\" y=\"428\" font-size=\"10\" fill=\"#888\">joulebench {}</text>\n",
                   JOULEBENCH_VERSION);
  s += "</svg>\n";
  return s;
}

}  // namespace joulebench
