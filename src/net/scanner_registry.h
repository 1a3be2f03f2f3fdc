#pragma once

// One owner per scanner id. A session that says hello claims its scanner id
// here before it is welcomed; a claim on an id that already has an owner
// fences that owner (Kafka's producer epoch is the model):
//
//   session A owns S          session B: hello S
//        |                          |
//        |  <------- Fence() ---- Claim(S, B)  -> false: B waits
//   stops reading frames,           |
//   its submitted events are        |
//   applied and answered,           |
//   Release(S, A) ------- Grant() ->|
//   Reject FENCED, close            submits its hello: the Welcome's
//                                   mark covers everything A had acked
//
// So two sessions never feed events of one scanner at the same time, and a
// new session's resume point is taken only after the old session's events
// are durable. A claim that arrives while another waits supersedes it: the
// waiting one is fenced without ever being granted.
//
// Thread safety: every method from any thread. Fence() and Grant() are
// called with the registry's lock held, so they must only post work to the
// owner's own thread; calls to one owner keep the order of the decisions.

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hub::net {

class ScannerOwner {
 public:
  virtual ~ScannerOwner() = default;
  // A newer hello wants this owner's scanner id: stop taking frames, finish
  // what was submitted, then Release(). An owner that was still waiting (no
  // Grant yet) is no longer in the registry and must not wait for a Grant.
  virtual void Fence() = 0;
  // The scanner id is this owner's now (it waited for a fenced owner).
  virtual void Grant() = 0;
};

class ScannerRegistry {
 public:
  // True: `owner` owns `scanner_id` now. False: it waits for the current
  // owner, which is being fenced, and will get Grant() (or Fence(), if a
  // newer claim overtakes it).
  bool Claim(const std::string& scanner_id, std::shared_ptr<ScannerOwner> owner);
  // `owner` is done with `scanner_id` (it owned it and everything it
  // submitted is answered, or it was waiting and gives up). The waiting
  // claim, if any, is granted. A no-op for an owner the registry does not
  // hold for that id.
  void Release(const std::string& scanner_id, const ScannerOwner* owner);
  // Scanner ids with an owner or a waiting claim (for tests and metrics).
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<ScannerOwner> active, waiting;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace hub::net
