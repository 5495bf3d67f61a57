#include "joulebench/stars.h"

#include <algorithm>
#include <cmath>

namespace joulebench {

int stars_for(double value, double task_min, double task_max) {
  if (!(task_max > task_min)) return 5;
  const double band = (task_max - task_min) / 5.0;
  // The maximum itself belongs to the top band.
  const int index = std::clamp(static_cast<int>(std::floor((value - task_min) / band)), 0, 4);
  return 5 - index;
}

}  // namespace joulebench
