#include "daemon/watchdog.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

namespace hub::daemon {

std::chrono::microseconds Watchdog::SystemdInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
  // sd_watchdog_enabled(3): ping at half the timeout.
  return std::chrono::microseconds(static_cast<int64_t>(usec / 2));
}

Watchdog::Watchdog(std::chrono::microseconds interval, Heartbeat heartbeat, Notify notify)
    : interval_(interval), heartbeat_(std::move(heartbeat)), notify_(std::move(notify)) {
  thread_ = std::thread([this] { Run(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Watchdog::Run() {
  uint64_t last = heartbeat_();
  auto stalled_since = std::chrono::steady_clock::time_point();
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, interval_, [this] { return stop_; })) {
    const uint64_t now = heartbeat_();
    if (now != last) {
      notify_();
      if (stalled_since != std::chrono::steady_clock::time_point()) {
        spdlog::warn("event=watchdog_resumed stalled_ms={}",
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - stalled_since)
                         .count());
        stalled_since = {};
      }
    } else if (stalled_since == std::chrono::steady_clock::time_point()) {
      stalled_since = std::chrono::steady_clock::now() - interval_;
      spdlog::error("event=watchdog_withheld reason={} interval_ms={}", "sequencer_stalled",
                    std::chrono::duration_cast<std::chrono::milliseconds>(interval_).count());
    }
    last = now;
  }
}

}  // namespace hub::daemon
