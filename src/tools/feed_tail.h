#pragma once

// hubctl feed tail: one hub's feed (proto/hub/v1/feed.proto) read from NATS
// JetStream and printed as JSON lines, a line per message in stream order.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hub::tools {

// What --kind reads: a stream and the subject filter within it.
struct FeedSelection {
  std::string stream;
  std::string subject;
  bool dispatch = false;  // bodies are DispatchAdvice (stream DISPATCH), else FeedMessage
};

// The kinds --kind takes, for the help and the error: "events,
// events.<kind>, cases, reference, retention, dispatch".
std::string FeedKinds();

// The stream and subject of `kind` for hub `hub` (a valid hub id): empty
// kind every subject of the hub's stream HUB_<hub> (hub.<hub>.>), events
// hub.<hub>.events.>, events.<kind> (a ScanEvent body's field name, such as
// events.parcel_sorted), cases, reference or retention hub.<hub>.<kind>;
// dispatch the advices to the hub, dispatch.<hub> in stream DISPATCH. A
// non-empty `stream` replaces the default stream name. nullopt with *error
// set (naming the kinds) for anything else.
std::optional<FeedSelection> SelectFeed(std::string_view hub, std::string_view kind,
                                        std::string_view stream, std::string* error);

// "URL[,URL...]" as a list; blanks around each URL are dropped.
std::vector<std::string> SplitServers(std::string_view urls);

// One output line (without the newline): `data` parsed as a DispatchAdvice
// (`dispatch`) or a FeedMessage, in protobuf's JSON mapping with the .proto
// field names (zero and empty fields left out, 64-bit numbers as strings,
// as hubd's API prints them), and "subject" and "msg_id" put first. False
// when `data` does not parse.
bool FeedJsonLine(bool dispatch, std::string_view subject, std::string_view msg_id,
                  std::string_view data, std::string* line);

struct FeedTailOptions {
  std::vector<std::string> servers;  // NATS URLs
  std::string creds_file;            // NATS credentials; empty: none
  std::string ca_file;               // TLS: trusted CAs; empty: TLS only for tls:// URLs
  std::string hub;
  FeedSelection selection;
  // Hub messages with hub_seq >= from_seq only (the start found by a binary
  // search over the stream, which is in hub_seq order); dispatch advices
  // with from_hub_seq >= from_seq (a filter: the stream mixes sending hubs).
  uint64_t from_seq = 0;
  // Keep printing new messages until `stop`; else end after the stream's
  // last message as of the start.
  bool follow = true;
};

// Prints the selected messages to `out`, each line flushed, until the end
// (see follow) or until `stop` turns true (checked every 250 ms; set it
// from a signal handler). A message that does not parse is skipped with a
// warning on stderr. Returns 0, or with *error set: 1 when NATS refuses
// (the stream does not exist, JetStream is off, a request fails), 3 when
// NATS cannot be reached or the connection is lost for good.
int FeedTail(const FeedTailOptions& options, std::FILE* out, const std::atomic<bool>& stop,
             std::string* error);

}  // namespace hub::tools
