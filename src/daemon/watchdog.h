#pragma once

// The systemd watchdog (WatchdogSec= in the unit): a thread that tells
// systemd hubd is alive (sd_notify WATCHDOG=1) only while the sequencer's
// loop turns. Each interval it reads the heartbeat; moved since the last
// look: ping; still: no ping (logged once per stall), so a sequencer that is
// stuck (a commit that never returns, a deadlock) gets hubd restarted by
// systemd instead of leaving scanners unanswered behind a live process.
//
// Thread safety: construct and destroy on one thread; `heartbeat` and
// `notify` are called on the watchdog's own thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace hub::daemon {

class Watchdog {
 public:
  using Heartbeat = std::function<uint64_t()>;
  using Notify = std::function<void()>;

  // The interval systemd asks for: half of WATCHDOG_USEC when WATCHDOG_PID
  // (if set) is this process (sd_watchdog_enabled); zero when there is no
  // watchdog.
  static std::chrono::microseconds SystemdInterval();

  // Starts the thread: every `interval`, `notify` when `heartbeat` returned
  // another value than the time before.
  Watchdog(std::chrono::microseconds interval, Heartbeat heartbeat, Notify notify);
  // Stops and joins the thread; no ping after it returns.
  ~Watchdog();

  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void Run();

  const std::chrono::microseconds interval_;
  const Heartbeat heartbeat_;
  const Notify notify_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace hub::daemon
