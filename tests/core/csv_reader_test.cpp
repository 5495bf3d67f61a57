#include <gtest/gtest.h>

#include <sstream>

#include "core/csv_reader.h"
#include "joulebench/error.h"
#include "../support/expect_throw.h"

using joulebench::InputError;
using namespace joulebench::detail;

TEST(CsvReader, QuotedFieldsWithCommasQuotesAndNewlines) {
  auto rows = parse_csv("a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",z\n3,,\n", "t.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"1", "x, y", "say \"hi\""}));
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"2", "two\nlines", "z"}));
  EXPECT_EQ(rows[3].fields, (std::vector<std::string>{"3", "", ""}));
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[2].line, 3u);
  EXPECT_EQ(rows[3].line, 5u);  // after the two-line record
}

TEST(CsvReader, CrLfAndMissingFinalNewlineAndBlankLines) {
  auto rows = parse_csv("a,b\r\n1,2\r\n\r\n3,4", "t.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(rows[2].line, 4u);
}

TEST(CsvReader, SpacesAreKept) {
  auto rows = parse_csv(" a , b \n", "t.csv");
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{" a ", " b "}));
}

TEST(CsvReader, CommentsSkippedOnlyWhenAskedAndOnlyOutsideQuotes) {
  auto rows = parse_csv("# c\nk,v\n\"#x\ny\",1\n# tail\n", "t.csv", {.skip_comment_lines = true});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].fields[0], "#x\ny");
  EXPECT_EQ(parse_csv("# c\nk,v\n", "t.csv").size(), 2u);
}

TEST(CsvReader, MalformedQuotingSaysFileAndLine) {
  EXPECT_THROW_MSG(parse_csv("a,b\n1,2\n3,\"open\n", "bad.csv"), InputError, "bad.csv:3");
  EXPECT_THROW_MSG(parse_csv("a,b\n1,\"x\"y\n", "bad2.csv"), InputError, "bad2.csv:2");
}

// A binary file or an endless line fails at its first bad byte, before it is
// all read (a 300 MB line took 900 MB of memory).
TEST(CsvReader, NulBytesAndOverlongRecordsAreRefusedEarly) {
  EXPECT_THROW_MSG(parse_csv(std::string("a,b\n1,x\0y\n", 10), "nul.csv"), InputError, "nul.csv:2: a NUL byte");
  std::istringstream long_line("a,b\n" + std::string(5000, 'x') + "\n");
  CsvOptions small;
  small.max_record_bytes = 1000;
  CsvReader reader(long_line, "long.csv", small);
  EXPECT_TRUE(reader.next());
  try {
    reader.next();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("long.csv:2: a record longer than 1000 bytes"), std::string::npos)
        << e.what();
  }
  // Over several lines (an unclosed quote) the record's bytes add up.
  std::istringstream open_quote("a\n\"" + std::string(400, 'y') + "\n" + std::string(400, 'y') + "\n" +
                                std::string(400, 'y') + "\n");
  CsvReader quoted(open_quote, "quote.csv", small);
  EXPECT_TRUE(quoted.next());
  EXPECT_THROW(quoted.next(), InputError);
}

TEST(CsvReader, EscapeRoundTrips) {
  const std::vector<std::string> fields{"plain", "a,b", "q\"q", "multi\nline", ""};
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_escape(fields[i]);
  auto rows = parse_csv(line + "\n", "t.csv");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, fields);
}
