#include "joulebench/statistics.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace joulebench;

// Critical values of Student's t (two-sided 5 %) as printed in every table.
TEST(Statistics, StudentTCriticalValues) {
  EXPECT_NEAR(student_t_critical(1), 12.7062, 1e-4);
  EXPECT_NEAR(student_t_critical(4), 2.7764, 1e-4);
  EXPECT_NEAR(student_t_critical(10), 2.2281, 1e-4);
  EXPECT_NEAR(student_t_critical(30), 2.0423, 1e-4);
  EXPECT_NEAR(student_t_critical(1e6), 1.95997, 1e-4);
  EXPECT_NEAR(student_t_critical(10, 0.01), 3.1693, 1e-4);
  // The inverse of the p-value.
  EXPECT_NEAR(student_t_two_sided_p(student_t_critical(7), 7), 0.05, 1e-9);
  EXPECT_ANY_THROW(student_t_critical(0));
  EXPECT_ANY_THROW(student_t_critical(5, 1.0));
}

TEST(Statistics, IntervalOfAMean) {
  const Summary s = summarize({1.0, 2.0, 3.0, 4.0, 5.0});
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_NEAR(s.std, std::sqrt(2.5), 1e-12);
  EXPECT_NEAR(ci95_half_width(s), 2.7764 * std::sqrt(2.5) / std::sqrt(5.0), 1e-4);
  EXPECT_EQ(ci95_half_width(summarize({4.0})), 0.0) << "one value has no interval";
  EXPECT_EQ(summarize({}).n, 0u);
}
