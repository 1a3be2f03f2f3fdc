#pragma once

// GET /v1/exceptions/stream: every case raised or changed, as server-sent
// events, to every subscriber whose filter it matches, in hub order, each
// once. The sequencer hands each durable commit's case changes to Publish()
// (cheap: a queue under a lock); the stream's own thread renders and
// writes them, and sends a keep-alive comment every 15 s of quiet. A
// subscriber that falls too far behind gets `event: overflow` and is
// dropped; one that went away is dropped at the next write.
//
// Thread safety: every method from any thread.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hub/v1/exception.pb.h"
#include "net/http_server.h"
#include "sequencer/sequencer_probe.h"
#include "store/rocksdb_store.h"

namespace hub::api {

struct CaseFilter {
  v1::ExceptionType type = v1::EXCEPTION_TYPE_UNSPECIFIED;
  v1::ExceptionStatus status = v1::EXCEPTION_STATUS_UNSPECIFIED;
  std::string id;  // parcel, bag, vehicle or load id the case names
  bool Matches(const v1::ExceptionCase& c) const;
};

class CaseStream {
 public:
  static constexpr size_t kMaxSubscribers = 64;
  // A subscriber with more than this many bytes unsent (about 10,000
  // events) overflows; well under net::HttpStream's own hard limit, so the
  // overflow event always fits.
  static constexpr size_t kMaxUnsent = 4 << 20;

  explicit CaseStream(const sequencer::SequencerProbe* probe);
  ~CaseStream();

  void Publish(std::vector<store::CaseChange>&& changes);
  // Starts sending to `out` (hello first); false when kMaxSubscribers are
  // already listening.
  bool Subscribe(std::shared_ptr<net::HttpStream> out, CaseFilter filter);
  // Ends every stream and the thread.
  void Stop();
  size_t subscribers() const;

 private:
  struct Subscriber {
    std::shared_ptr<net::HttpStream> out;
    CaseFilter filter;
    uint64_t after = 0;  // hub_seq in its hello: changes at or below it were before it
  };
  void Run();

  const sequencer::SequencerProbe* probe_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<store::CaseChange> queue_;
  std::vector<Subscriber> subscribers_;
  uint64_t published_ = 0;  // hub_seq of the latest change published
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace hub::api
