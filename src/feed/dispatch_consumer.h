#pragma once

// The receiving side of hub-to-hub dispatch advice (SPEC §7, docs/feed.md):
// a durable JetStream pull consumer ("hubd_<hub_id>") on stream DISPATCH,
// subject dispatch.<hub_id>, on its own thread. Each advice is applied
// through the sequencer as one reference change (dispatch_advice) and
// acknowledged after the commit that made it durable.
//
// Exactly once: the core remembers, per sending hub, the highest
// from_hub_seq it applied (in its state and snapshot), and refuses an
// advice at or below it. So a re-delivery (hubd crashed after the commit,
// before the ack; an ack lost; the sender published again) changes
// nothing and is acknowledged. Advices are handled one at a time in stream
// order; one that cannot be applied now (the store cannot write) is tried
// again before any later one, so none is overtaken and then refused. An
// advice that does not parse, names another hub or is invalid is logged,
// counted and terminated (never re-delivered).

#include <memory>

#include "feed/feed_options.h"
#include "sequencer/sequencer.h"

namespace hub::feed {

class DispatchConsumer {
 public:
  // `sequencer` must outlive the consumer; Stop() the consumer first.
  DispatchConsumer(FeedOptions options, sequencer::Sequencer* sequencer);
  ~DispatchConsumer();
  DispatchConsumer(const DispatchConsumer&) = delete;
  DispatchConsumer& operator=(const DispatchConsumer&) = delete;

  void Start();
  void Stop();
  // The consumer's part of the feed's status (any thread).
  void Report(FeedStatus* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hub::feed
