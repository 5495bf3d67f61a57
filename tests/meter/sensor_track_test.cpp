#include "meter/sensor_track.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace joulebench::meter {
namespace {

SensorReading ok(double t, double v) { return SensorReading::success({t, v}); }

TEST(SensorTrack, CounterAddsDeltasFromTheFirstRead) {
  SensorTrack t(SensorKind::energy_counter);
  t.apply(ok(0.0, 1000.0));  // counters start anywhere: the first read is the origin
  EXPECT_EQ(t.energy_j(), 0.0);
  t.apply(ok(0.1, 1003.5));
  t.apply(ok(0.2, 1010.0));
  EXPECT_DOUBLE_EQ(t.energy_j(), 10.0);
  EXPECT_EQ(t.failures(), 0u);
}

TEST(SensorTrack, PowerTrapezoidsAreExact) {
  SensorTrack t(SensorKind::power);
  t.apply(ok(0.0, 10.0));
  t.apply(ok(1.0, 20.0));  // (10+20)/2 x 1 = 15
  t.apply(ok(3.0, 20.0));  // 20 x 2 = 40
  t.apply(ok(3.5, 0.0));   // (20+0)/2 x 0.5 = 5
  EXPECT_DOUBLE_EQ(t.energy_j(), 60.0);
}

TEST(SensorTrack, FailedReadIsCountedAndAddsNothing) {
  SensorTrack t(SensorKind::energy_counter);
  t.apply(ok(0.0, 5.0));
  t.apply(SensorReading::failure("EIO on energy_uj"));
  EXPECT_EQ(t.failures(), 1u);
  EXPECT_EQ(t.last_error(), "EIO on energy_uj");
  EXPECT_EQ(t.energy_j(), 0.0);
  // The counter kept counting during the failure: the next delta has it all.
  t.apply(ok(0.2, 9.0));
  EXPECT_DOUBLE_EQ(t.energy_j(), 4.0);
  const auto snap = t.snapshot();
  EXPECT_EQ(snap.good_reads, 2u);
  EXPECT_EQ(snap.failures, 1u);
}

TEST(SensorTrack, CounterGoingBackwardsIsAFailureNotNegativeEnergy) {
  SensorTrack t(SensorKind::energy_counter);
  t.apply(ok(0.0, 50.0));
  t.apply(ok(0.1, 60.0));
  t.apply(ok(0.2, 3.0));  // reset
  EXPECT_DOUBLE_EQ(t.energy_j(), 10.0);
  EXPECT_EQ(t.failures(), 1u);
  EXPECT_NE(t.last_error().find("backwards"), std::string::npos);
  t.apply(ok(0.3, 7.0));  // continues from the new origin
  EXPECT_DOUBLE_EQ(t.energy_j(), 14.0);
}

TEST(SensorTrack, GarbageReadingsAreFailures) {
  SensorTrack p(SensorKind::power);
  p.apply(ok(0.0, 10.0));
  p.apply(ok(1.0, -5.0));
  p.apply(ok(2.0, std::numeric_limits<double>::quiet_NaN()));
  p.apply(ok(-1.0, 10.0));  // time going backwards
  EXPECT_EQ(p.failures(), 3u);
  EXPECT_EQ(p.energy_j(), 0.0);
  p.apply(ok(3.0, 10.0));
  EXPECT_DOUBLE_EQ(p.energy_j(), 30.0);  // bridged linearly from t=0
}

TEST(SensorTrack, FailureWithoutReasonStillHasOne) {
  SensorTrack t(SensorKind::power);
  t.apply(SensorReading::failure(""));
  EXPECT_FALSE(t.last_error().empty());
}

TEST(SensorTrack, SlowCounterUpdatePeriodAndRecentPower) {
  SensorTrack t(SensorKind::energy_counter);
  t.apply(ok(0.0, 0.0));
  EXPECT_LT(t.recent_power_w(), 0.0);
  t.apply(ok(0.1, 0.0));  // no change: the counter updates more slowly than we read
  t.apply(ok(0.2, 4.0));
  EXPECT_DOUBLE_EQ(t.slow_update_period_s(), 0.2);
  EXPECT_DOUBLE_EQ(t.recent_power_w(), 20.0);
  t.apply(ok(0.3, 6.0));  // changed on the very next read
  EXPECT_DOUBLE_EQ(t.slow_update_period_s(), 0.0);
  EXPECT_DOUBLE_EQ(t.recent_power_w(), 20.0);
}

}  // namespace
}  // namespace joulebench::meter
