// The few statistics the reports share: a sample's mean and spread, Student's
// t (two-sided p-values and critical values) and the 95 % interval of a mean.
#pragma once

#include <cstddef>
#include <vector>

namespace joulebench {

struct Summary {
  std::size_t n = 0;
  double mean = 0.0;
  double std = 0.0;  // sample standard deviation (n - 1); 0 for n < 2
};
Summary summarize(const std::vector<double>& values);

// Two-sided p-value of Student's t with `df` degrees of freedom (df > 0).
double student_t_two_sided_p(double t, double df);

// The t with two-sided p-value `p` at `df` degrees of freedom (df > 0, 0 < p < 1):
// 12.71 for df 1 and p 0.05, 1.96 as df grows.
double student_t_critical(double df, double p = 0.05);

// Half the width of the 95 % confidence interval of the mean, t * sd / sqrt(n);
// 0 when n < 2 (one value has no interval to give).
double ci95_half_width(const Summary& s);

}  // namespace joulebench
