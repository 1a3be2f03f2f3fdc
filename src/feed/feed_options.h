#pragma once

// The feed's configuration ([feed] in hubd's TOML, --feed-* flags) and the
// status it reports (/metrics, /healthz/detail). Plain data: the daemon's
// options and endpoints see these without seeing NATS.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hub::feed {

struct NatsOptions {
  std::vector<std::string> servers{"nats://127.0.0.1:4222"};
  std::string name = "hubd";        // shown by the server's monitoring
  std::string creds_file;           // NATS credentials (JWT + seed); empty: none
  std::string ca_file;              // TLS: trusted CAs; set: TLS on
  std::string cert_file, key_file;  // TLS client certificate; empty: none
  int64_t timeout_ms = 2000;        // connect and JetStream API timeout
  // Reconnect for ever after a lost connection (hubd's feed); else give up
  // after the library's few attempts (a tool).
  bool reconnect_forever = false;
  // Called on the library's thread when the connection is lost (false) and
  // back (true, also after the first connect); must not block.
  std::function<void(bool up)> on_state;
};

struct FeedOptions {
  bool enabled = false;  // off by default: the embedded default needs no server
  // This hub's id on the network (subjects hub.<hub_id>.*, dispatch.<hub_id>):
  // 1..64 of [A-Za-z0-9_-]; required when the feed is on.
  std::string hub_id;
  NatsOptions nats;
  // The stream of this hub's subjects; empty: HUB_<hub_id>.
  std::string stream;
  // Create the hub's stream and DISPATCH when they are missing (file
  // storage, `replicas` copies); off: an operator creates them.
  bool create_streams = true;
  int replicas = 1;
  // Days the hub's stream keeps a message, when hubd creates it (0: for
  // ever). DISPATCH, when hubd creates it, keeps advices for 72 hours.
  int max_age_days = 30;
  // Consume dispatch advices addressed to this hub (dispatch.<hub_id>) and
  // apply them as vehicle and bag advice.
  bool consume_dispatch = true;
  // How the publisher (and its NATS client) get the CPU. "idle": only CPU
  // time nothing else wants (SCHED_IDLE), so it never delays a scanner's
  // ack, but it stands still while the machine is saturated. "low": nice
  // 19, a small share even then. "normal": as ingest (a machine where the
  // feed matters as much as the acks).
  std::string priority = "idle";
};

// What the feed reports; every field is a snapshot of atomics.
struct FeedStatus {
  bool enabled = false;
  // off, connecting, publishing, caught_up, stopped (an error an operator
  // must mend, e.g. the stream is ahead of this hub's log)
  std::string state = "off";
  bool connected = false;
  uint64_t cursor_hub_seq = 0;     // every record up to here is in the stream
  uint64_t last_hub_seq = 0;       // the hub's newest committed record
  double lag_seconds = 0;          // the age of the oldest record not yet published
  uint64_t messages_published = 0;  // acknowledged by JetStream, since start
  uint64_t records_published = 0;
  uint64_t dispatch_published = 0;
  uint64_t publish_errors = 0;     // failed publishes and resyncs
  // Messages over the server's max_payload: published without their body
  // (FeedMessage.omitted_bytes), dispatch advices not published at all.
  uint64_t oversize = 0;
  std::string last_error;
  // The dispatch consumer.
  bool consuming = false;
  uint64_t advices_applied = 0, advices_duplicate = 0, advices_invalid = 0;
  std::string consumer_error;
};

}  // namespace hub::feed
