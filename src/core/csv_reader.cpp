#include "core/csv_reader.h"

#include <csv.h>
#include <fmt/core.h>

#include <algorithm>
#include <deque>
#include <sstream>

#include "joulebench/error.h"

namespace joulebench::detail {

struct CsvReader::Impl {
  std::istream* in = nullptr;
  CsvOptions options;
  csv_parser parser{};
  std::size_t line = 0;           // physical lines consumed so far
  std::size_t record_start = 0;   // line where the current record began
  bool in_record = false;
  std::size_t record_bytes = 0;  // of the record being read, over its lines
  std::vector<std::string> fields;
  std::deque<CsvRecord> ready;
  bool finished = false;

  static void on_field(void* data, std::size_t len, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    self->in_record = true;
    self->fields.emplace_back(data ? static_cast<const char*>(data) : "", data ? len : 0);
  }
  static void on_record(int, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    self->ready.push_back(CsvRecord{std::move(self->fields), self->record_start});
    self->fields.clear();
    self->in_record = false;
    self->record_bytes = 0;
  }
};

namespace {
int never_space(unsigned char) { return 0; }  // keep fields exactly as written

enum class LineRead { line, end, nul, too_long };

// std::getline with a bound and a NUL check, so that a binary file fails at
// its first bad byte rather than after reading it all.
LineRead read_line(std::istream& in, std::string& text, std::size_t limit) {
  text.clear();
  std::streambuf* buf = in.rdbuf();
  for (;;) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) return text.empty() ? LineRead::end : LineRead::line;
    if (c == '\n') return LineRead::line;
    if (c == 0) return LineRead::nul;
    if (text.size() >= limit) return LineRead::too_long;
    text.push_back(static_cast<char>(c));
  }
}
}  // namespace

CsvReader::CsvReader(std::istream& in, std::string source_name, CsvOptions options)
    : impl_(new Impl), source_(std::move(source_name)) {
  impl_->in = &in;
  impl_->options = options;
  if (csv_init(&impl_->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
    delete impl_;
    throw Error("cannot initialise the CSV parser (out of memory)");
  }
  csv_set_space_func(&impl_->parser, never_space);
}

CsvReader::~CsvReader() {
  csv_free(&impl_->parser);
  delete impl_;
}

std::optional<CsvRecord> CsvReader::next() {
  Impl& s = *impl_;
  std::string text;
  while (s.ready.empty() && !s.finished) {
    const std::size_t room = s.options.max_record_bytes - std::min(s.record_bytes, s.options.max_record_bytes);
    const LineRead got = read_line(*s.in, text, room);
    if (got == LineRead::nul)
      throw InputError(fmt::format("{}:{}: a NUL byte: this is a binary file, not CSV text", source_, s.line + 1));
    if (got == LineRead::too_long)
      throw InputError(fmt::format("{}:{}: a record longer than {} bytes: not a CSV log (or a quoted field is "
                                   "not closed)",
                                   source_, s.record_start && s.in_record ? s.record_start : s.line + 1,
                                   s.options.max_record_bytes));
    if (got == LineRead::end) {
      if (csv_fini(&s.parser, Impl::on_field, Impl::on_record, &s) != 0)
        throw InputError(fmt::format("{}:{}: malformed CSV: {} (a quoted field is not closed)", source_,
                                     s.record_start ? s.record_start : s.line,
                                     csv_strerror(csv_error(&s.parser))));
      s.finished = true;
      break;
    }
    ++s.line;
    if (s.parser.pstate == 0 && !s.in_record) s.record_start = s.line;
    if (s.line == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // UTF-8 BOM
    // parser state 0 = between records: a '#' line there is a comment, not data.
    if (s.options.skip_comment_lines && s.parser.pstate == 0 && !text.empty() && text[0] == '#') continue;
    text.push_back('\n');
    s.record_bytes += text.size();
    if (csv_parse(&s.parser, text.data(), text.size(), Impl::on_field, Impl::on_record, &s) != text.size())
      throw InputError(fmt::format("{}:{}: malformed CSV: {} (a quote inside an unquoted field, or "
                                   "text after a closing quote)",
                                   source_, s.line, csv_strerror(csv_error(&s.parser))));
  }
  if (s.ready.empty()) return std::nullopt;
  CsvRecord r = std::move(s.ready.front());
  s.ready.pop_front();
  return r;
}

std::vector<CsvRecord> parse_csv(std::string_view text, std::string source_name, CsvOptions options) {
  std::istringstream in{std::string(text)};
  CsvReader reader(in, std::move(source_name), options);
  std::vector<CsvRecord> out;
  while (auto r = reader.next()) out.push_back(std::move(*r));
  return out;
}

std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace joulebench::detail
