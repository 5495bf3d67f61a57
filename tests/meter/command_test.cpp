// run_command through the library (the CLI tests cover signals and output).
#include <gtest/gtest.h>

#include "../support/fake_sensors.h"
#include "joulebench/tracker.h"

namespace joulebench {
namespace {

using testing::FakeRig;
using testing::make_info;

Tracker make_tracker(std::shared_ptr<testing::ScriptState>* cpu = nullptr) {
  FakeRig rig;
  auto c = rig.add(make_info("rapl:pkg", "rapl-powercap", Component::cpu, "p", SensorKind::energy_counter,
                             ProvenanceKind::measured));
  {
    std::lock_guard l(c->mutex);
    c->real_time = true;
    c->rate_w = 20.0;
  }
  if (cpu) *cpu = c;
  TrackerOptions o;
  o.interval_s = 0.01;
  return Tracker(std::move(rig.sensors), o);
}

TEST(RunCommand, ExitStatusAndEnergyOfTheCommand) {
  Tracker tracker = make_tracker();
  const CommandResult r = run_command(tracker, {"sh", "-c", "sleep 0.05; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_EQ(r.measurement.name, "sh");
  EXPECT_GE(r.measurement.duration_s, 0.05);
  ASSERT_NE(r.measurement.find(Component::cpu), nullptr);
  // 20 W for the window's duration; the counter is read a little after the
  // window's clock stops, and on a busy 2-core machine "a little" reached 1.8 ms:
  // 3 ms (0.06 J) of slack, still 5 % of the 1.1 J expected.
  EXPECT_NEAR(r.measurement.find(Component::cpu)->energy_j, 20.0 * r.measurement.duration_s, 0.06);
}

TEST(RunCommand, KilledBySignalIs128PlusSignal) {
  Tracker tracker = make_tracker();
  const CommandResult r = run_command(tracker, {"sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.term_signal, 15);
  EXPECT_EQ(r.exit_code, 128 + 15);
}

TEST(RunCommand, ErrorsAndWindowNames) {
  Tracker tracker = make_tracker();
  EXPECT_THROW(run_command(tracker, {}), InputError);
  EXPECT_THROW(run_command(tracker, {"joulebench-no-such-program-xyz"}), CommandStartError);
  EXPECT_FALSE(tracker.meter().window_open("joulebench-no-such-program-xyz")) << "a failed start closes its window";
  tracker.begin_window("true");  // the caller's own window of that name stays untouched
  const CommandResult r = run_command(tracker, {"true"});
  EXPECT_EQ(r.measurement.name, "true#2");
  EXPECT_TRUE(tracker.meter().window_open("true"));
  tracker.end_window("true");
  EXPECT_FALSE(tracker.meter().attribution().enabled()) << "the caller's attribution target is restored";
}

}  // namespace
}  // namespace joulebench
