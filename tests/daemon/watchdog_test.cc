#include "daemon/watchdog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

namespace hub::testing {
namespace {

using std::chrono::milliseconds;

// Waits until `pred` holds, for at most 10 s.
template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 1000 && !pred(); ++i) std::this_thread::sleep_for(milliseconds(10));
  return pred();
}

TEST(WatchdogTest, PingsWhileTheHeartbeatMovesAndNeverWhileItStands) {
  std::atomic<bool> stuck{false};
  std::atomic<uint64_t> beats{0}, pings{0}, looks_while_stuck{0};
  daemon::Watchdog watchdog(
      milliseconds(20),
      [&] {
        if (!stuck) return ++beats;
        ++looks_while_stuck;
        return beats.load();
      },
      [&] { ++pings; });
  ASSERT_TRUE(WaitFor([&] { return pings >= 3; })) << "no pings from a live heartbeat";

  stuck = true;
  // Once the watchdog has looked twice at the still heartbeat, the look
  // that was under way when it stopped (the only one that may still ping)
  // is over; ten more looks must send nothing.
  ASSERT_TRUE(WaitFor([&] { return looks_while_stuck >= 2; }));
  const uint64_t before = pings;
  ASSERT_TRUE(WaitFor([&] { return looks_while_stuck >= 12; }));
  EXPECT_EQ(pings, before) << "pinged for a heartbeat that stood still";

  stuck = false;
  EXPECT_TRUE(WaitFor([&] { return pings >= before + 3; })) << "no pings after the heartbeat moved again";
}

TEST(WatchdogTest, NoPingAfterDestruction) {
  std::atomic<uint64_t> beats{0}, pings{0};
  {
    daemon::Watchdog watchdog(milliseconds(5), [&] { return ++beats; }, [&] { ++pings; });
    ASSERT_TRUE(WaitFor([&] { return pings >= 1; }));
  }
  const uint64_t after = pings;
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(pings, after);
}

// Sets an environment variable for one scope.
struct Env {
  Env(const char* name, const std::string& value) : name(name) { setenv(name, value.c_str(), 1); }
  ~Env() { unsetenv(name); }
  const char* name;
};

TEST(WatchdogTest, SystemdIntervalIsHalfTheTimeoutForThisProcessOnly) {
  EXPECT_EQ(daemon::Watchdog::SystemdInterval().count(), 0) << "no WATCHDOG_USEC: no watchdog";
  {
    Env usec("WATCHDOG_USEC", "400000");
    Env pid("WATCHDOG_PID", std::to_string(::getpid()));
    EXPECT_EQ(daemon::Watchdog::SystemdInterval().count(), 200000);
  }
  {
    Env usec("WATCHDOG_USEC", "400000");
    Env pid("WATCHDOG_PID", std::to_string(::getpid() + 1));
    EXPECT_EQ(daemon::Watchdog::SystemdInterval().count(), 0) << "the watchdog is another process's";
  }
}

}  // namespace
}  // namespace hub::testing
