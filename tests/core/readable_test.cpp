#include "joulebench/readable.h"

#include <gtest/gtest.h>

namespace {

using namespace joulebench;

TEST(Readable, NumbersHaveThreeSignificantDigitsAndNoExponent) {
  EXPECT_EQ(readable_number(0), "0");
  EXPECT_EQ(readable_number(12.34), "12.3");
  EXPECT_EQ(readable_number(1.0), "1.00");
  EXPECT_EQ(readable_number(0.0123456), "0.0123");
  EXPECT_EQ(readable_number(2.58e-05), "0.0000258");
  EXPECT_EQ(readable_number(-0.5), "-0.500");
  EXPECT_EQ(readable_number(999.6), "1,000");
  EXPECT_EQ(readable_number(9.996), "10.0");  // rounding adds a digit: one decimal fewer
  EXPECT_EQ(readable_number(1234.5), "1,230");
  EXPECT_EQ(readable_number(5060890.0), "5,060,000");
  EXPECT_EQ(readable_number(12.34, 2), "12");
  for (double v : {1e-12, 3.3e-7, 4.2e15})
    EXPECT_EQ(readable_number(v).find('e'), std::string::npos) << readable_number(v);
}

TEST(Readable, CountsHaveThousandsSeparators) {
  EXPECT_EQ(readable_count(0), "0");
  EXPECT_EQ(readable_count(999), "999");
  EXPECT_EQ(readable_count(1000), "1,000");
  EXPECT_EQ(readable_count(1032071643), "1,032,071,643");
  EXPECT_EQ(readable_count(-1234567), "-1,234,567");
}

TEST(Readable, EnergyMassAndPowerTakeTheUnitThatReadsOneToAThousand) {
  EXPECT_EQ(readable_kwh(2.391e-05), "23.9 mWh");
  EXPECT_EQ(readable_kwh(0.0165), "16.5 Wh");
  EXPECT_EQ(readable_kwh(5.67e-07), "567 µWh");
  EXPECT_EQ(readable_kwh(1234.0), "1.23 MWh");
  EXPECT_EQ(readable_kwh(0), "0 Wh");
  EXPECT_EQ(readable_wh(0.99996), "1.00 Wh");  // not "1,000 mWh"
  EXPECT_EQ(readable_grams(5.06089e+09), "5,060 t");
  EXPECT_EQ(readable_grams(0.000183), "183 µg");
  EXPECT_EQ(readable_grams(2.5), "2.50 g");
  EXPECT_EQ(readable_joules(0.001387), "1.39 mJ");
  EXPECT_EQ(readable_joules(86400.0), "86.4 kJ");
  EXPECT_EQ(readable_watts(312.4), "312 W");
  EXPECT_EQ(readable_watts(0.0421), "42.1 mW");
}

TEST(Readable, MeanAndSpreadShareTheMeansUnit) {
  EXPECT_EQ(readable_kwh_pm(2.391e-05, 2.3e-06), "23.9 ± 2.3 mWh");
  EXPECT_EQ(readable_grams_pm(0.000183, 0.00013), "183 ± 130 µg");
  EXPECT_EQ(readable_kwh_pm(3.852e-07, 2.7e-07), "385 ± 270 µWh");
}

}  // namespace
