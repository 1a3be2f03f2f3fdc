#pragma once

// A background thread's stop request, and waits that end as soon as it comes
// (the feed's publisher and consumer).

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace hub::feed {

class StopSignal {
 public:
  void Request() {
    {
      std::lock_guard lock(mu_);
      requested_ = true;
    }
    cv_.notify_all();
  }
  bool requested() {
    std::lock_guard lock(mu_);
    return requested_;
  }
  // Sleeps for `d`, or less when a stop is requested.
  void WaitFor(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [this] { return requested_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
};

}  // namespace hub::feed
