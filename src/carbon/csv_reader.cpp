#include "csv_reader.h"

#include <csv.h>
#include <fmt/core.h>

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
  }
};

namespace {
int never_space(unsigned char) { return 0; }  // keep fields exactly as written
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
    if (!std::getline(*s.in, text)) {
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
