#include "svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace joulebench::report {

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string px(double v) { return fmt::format("{:.1f}", v); }


double LogScale::operator()(double value) const {
  // Zero (nothing measured) sits on the axis's low end rather than off the chart.
  const double e = std::clamp(std::log10(std::max(value, 1e-300)), lo_exp, hi_exp);
  return a + (e - lo_exp) / (hi_exp - lo_exp) * (b - a);
}

std::vector<double> LogScale::ticks() const {
  std::vector<double> t;
  for (int e = static_cast<int>(std::ceil(lo_exp - 1e-9)); e <= static_cast<int>(std::floor(hi_exp + 1e-9)); ++e)
    t.push_back(std::pow(10.0, e));
  return t;
}

LogScale log_scale_for(const std::vector<double>& values, double a, double b) {
  double lo = 1e300, hi = 0;
  for (double v : values)
    if (v > 0) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (hi == 0) lo = hi = 1;  // nothing positive: one decade around 1
  LogScale s;
  s.lo_exp = std::floor(std::log10(lo));
  s.hi_exp = std::ceil(std::log10(hi));
  if (s.hi_exp <= s.lo_exp) s.hi_exp = s.lo_exp + 1;
  s.a = a;
  s.b = b;
  return s;
}

std::string star_points(double cx, double cy, double outer, double inner) {
  std::string pts;
  for (int i = 0; i < 10; ++i) {
    const double r = i % 2 ? inner : outer;
    const double angle = -M_PI / 2 + i * M_PI / 5;
    pts += fmt::format("{}{},{}", i ? " " : "", px(cx + r * std::cos(angle)), px(cy + r * std::sin(angle)));
  }
  return pts;
}

std::string fit_text(std::string_view text, std::size_t max_chars) {
  // Characters are counted as UTF-8 lead bytes; a cut never splits one.
  std::size_t chars = 0, at = 0;
  for (; at < text.size(); ++at)
    if ((static_cast<unsigned char>(text[at]) & 0xC0) != 0x80 && ++chars > max_chars) break;
  if (at >= text.size()) return std::string(text);
  // Room for the ellipsis: back to the start of the previous character.
  do --at;
  while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80);
  return std::string(text.substr(0, at)) + "…";
}

std::vector<std::string> wrap_words(std::string_view text, std::size_t max_chars) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find(' ', at), text.size());
    const std::string_view word = text.substr(at, end - at);
    at = end + 1;
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > max_chars) {
      lines.push_back(std::move(line));
      line.clear();
    }
    line += (line.empty() ? "" : " ") + std::string(word);
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

// Bounding boxes in page coordinates, so rotated labels and the viewBox's
// scaling are accounted for; half a pixel of anti-aliasing is allowed.
const char* const kOverflowCheckScript = R"(<script>
(function(){
  var out=[];
  document.querySelectorAll('svg').forEach(function(svg){
    var s=svg.getBoundingClientRect();
    svg.querySelectorAll('text').forEach(function(t){
      var r=t.getBoundingClientRect();
      if(r.width===0&&r.height===0)return;
      if(r.left<s.left-0.5||r.right>s.right+0.5||r.top<s.top-0.5||r.bottom>s.bottom+0.5)
        out.push((svg.id||svg.getAttribute('class')||'svg')+': "'+t.textContent+'"');
    });
  });
  var page=document.documentElement;
  if(page.scrollWidth>window.innerWidth)out.push('page: '+page.scrollWidth+' px wide in a '+window.innerWidth+' px window');
  document.querySelectorAll('table').forEach(function(t){
    if(t.getBoundingClientRect().right>page.clientWidth+0.5)out.push('table '+(t.id||'')+' wider than the page');
  });
  var check=document.getElementById('jb-check');
  check.setAttribute('data-overflow',String(out.length));
  check.setAttribute('data-overflow-items',out.join(' | '));
})();
</script>
)";

}  // namespace joulebench::report
