#include "core/table_lines.h"

#include <gtest/gtest.h>

namespace {

using joulebench::detail::table_rows_containing;

constexpr const char* kTable =
    "# a comment that names Europe/Paris\n"
    "tz,iso3\n"
    "Europe/Paris,FRA\n"
    "America/New_York,USA\n"
    "Europe/Paris_Old,FRA\n"
    "Asia/Tokyo,JPN\r\n";

TEST(TableRowsContaining, HeaderThenTheMatchingRowsInTableOrder) {
  EXPECT_EQ(table_rows_containing(kTable, "tz,iso3", {"Europe/Paris"}),
            "tz,iso3\nEurope/Paris,FRA\nEurope/Paris_Old,FRA\n");  // no comment, each line once
  // Several needles, and a line two of them match: once, in table order.
  EXPECT_EQ(table_rows_containing(kTable, "tz,iso3", {"Tokyo", "New_York", "York"}),
            "tz,iso3\nAmerica/New_York,USA\nAsia/Tokyo,JPN\n");  // the CR of a CRLF line is dropped
}

TEST(TableRowsContaining, CaseAndEmptyNeedles) {
  EXPECT_EQ(table_rows_containing(kTable, "tz,iso3", {"tokyo"}), "tz,iso3\n");
  EXPECT_EQ(table_rows_containing(kTable, "tz,iso3", {"tokyo"}, /*ignore_case=*/true), "tz,iso3\nAsia/Tokyo,JPN\n");
  EXPECT_EQ(table_rows_containing(kTable, "tz,iso3", {""}), "tz,iso3\n");
  EXPECT_EQ(table_rows_containing(kTable, "tz,iso3", {"iso3"}), "tz,iso3\n");  // the header is not a row
}

}  // namespace
