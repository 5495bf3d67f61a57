// The AI Energy Score star rule, in one place for bench tables and labels.
#pragma once

namespace joulebench {

// A task's range of energy values [task_min, task_max] cut into 5 equal
// bands: the lowest-energy band gets 5 stars, the highest 1. With one value
// (or all equal) there is nothing to rank against: 5.
int stars_for(double value, double task_min, double task_max);

}  // namespace joulebench
