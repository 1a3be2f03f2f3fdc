#pragma once

// The outbox publisher (SPEC §7, docs/feed.md): tails the hub's durable log
// and publishes every record, and the cases each raised, to NATS JetStream
// (proto/hub/v1/feed.proto), on its own thread. Ingest never waits for it:
// it only reads the store, and NATS being down, slow or unreachable shows
// as lag, not as slower acks.
//
// Exactly once, in hub order. The messages of the hub are a fixed sequence
// derived from durable data alone: for each log record in hub order, part
// 0 (the record), then parts 1.. (the cases it raised, in id order, as they
// were raised). The publisher only ever appends the next message of that
// sequence to the hub's stream, which holds nothing else:
//   - Where to go on comes from the stream itself. On every (re)connect and
//     after any failed publish it reads the stream's last message and its
//     Nats-Msg-Id "<hub_id>.<hub_seq>.<part>", and continues right after it.
//     So a crash between a publish and the cursor write (kill -9), a lost
//     publish ack, a NATS restart or a reconnect never re-sends what the
//     stream has, and never skips what it lacks.
//   - Each publish carries Nats-Expected-Last-Sequence: the stream sequence
//     its predecessor got, so JetStream stores it only right after that
//     one. A round of up to 1,024 records goes out without replies, and its
//     last message waits for JetStream's acknowledgement: by the chain of
//     expectations, that proves every message of the round was stored, in
//     order. If anything went wrong (a message lost, or one that landed
//     unseen after the stream was read) that last publish is refused or
//     times out, and the publisher reads the stream again. The message id
//     also lets JetStream's duplicate window drop a re-send.
//   - The durable cursor in RocksDB (RocksDbStore::WriteFeedCursor) is
//     written after JetStream acknowledged (at most once a second: a write
//     from this low-priority thread can hold up the sequencer's commit);
//     it is not needed for exactness but bounds retention (nothing
//     unpublished ages out) and reports lag while NATS is unreachable.
//   - A dispatch advice (LogRecord.dispatch) is published to DISPATCH, and
//     acknowledged, before its record's part 0: after a crash it is sent
//     again (the receiving hub applies each from_hub_seq once), never lost.
// If the stream is ahead of the hub's log (another hubd publishes as this
// hub, or the data directory was restored from an older backup) the
// publisher stops and says so: publishing would break the order.

#include <cstdint>
#include <memory>

#include "feed/feed_options.h"
#include "store/rocksdb_store.h"

namespace hub::feed {

class FeedPublisher {
 public:
  // `store` must outlive the publisher.
  FeedPublisher(FeedOptions options, store::RocksDbStore* store);
  ~FeedPublisher();
  FeedPublisher(const FeedPublisher&) = delete;
  FeedPublisher& operator=(const FeedPublisher&) = delete;

  void Start();
  // Waits for publishes in flight (bounded by the NATS timeout) and joins.
  void Stop();

  // Every record up to this hub_seq is in the stream (the retention limit).
  uint64_t published_through() const;
  // The publisher's part of the feed's status (any thread).
  void Report(FeedStatus* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hub::feed
