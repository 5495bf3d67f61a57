// RFC 4180 CSV reading on top of libcsv (quoted fields, commas and newlines
// inside quotes, doubled quotes), with the physical line of every record so
// that errors can say `file:line`. Internal to joulebench (carbon tables and
// the CodeCarbon importer).
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::detail {

struct CsvRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;  // 1-based physical line where the record starts
};

struct CsvOptions {
  bool skip_comment_lines = false;  // lines starting with '#' outside quotes
  // A record longer than this is refused (file:line) before it is all read:
  // a binary file or /dev/zero must not fill the memory.
  std::size_t max_record_bytes = std::size_t{1} << 20;
};

// Reads records one at a time. A malformed file (a stray quote, an unterminated
// quoted field, a NUL byte, a record over max_record_bytes) throws InputError
// "source:line: ...".
class CsvReader {
 public:
  CsvReader(std::istream& in, std::string source_name, CsvOptions options = {});
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  std::optional<CsvRecord> next();
  const std::string& source_name() const { return source_; }

 private:
  struct Impl;
  Impl* impl_;
  std::string source_;
};

// Whole text (e.g. an embedded table) at once.
std::vector<CsvRecord> parse_csv(std::string_view text, std::string source_name, CsvOptions options = {});

// One CSV field, quoted when needed (RFC 4180).
std::string csv_escape(std::string_view field);

}  // namespace joulebench::detail
