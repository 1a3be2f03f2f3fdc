#pragma once

// The feed's names on NATS (proto/hub/v1/feed.proto, docs/feed.md): subjects,
// stream names and message ids. Pure: no NATS, shared by hubd's publisher,
// hubctl feed tail and the tests.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/validate.h"
#include "hub/v1/feed.pb.h"

namespace hub::feed {

inline constexpr uint32_t kSchemaVersion = 1;
inline constexpr std::string_view kDispatchStream = "DISPATCH";

// A hub id is a NATS subject token and part of a stream name: 1..64 of
// [A-Za-z0-9_-] (the core checks RouteEntry.next_hub the same way).
using core::ValidHubId;

// "HUB_<hub_id>": the stream of one hub's subjects, hub.<hub_id>.>.
std::string HubStream(std::string_view hub_id);
// "hub.<hub_id>.>"
std::string HubSubjects(std::string_view hub_id);
// "dispatch.<to_hub>"
std::string DispatchSubject(std::string_view to_hub);

// The subject a message goes to: hub.<hub_id>.events.<kind>,
// hub.<hub_id>.reference, hub.<hub_id>.cases or hub.<hub_id>.retention.
// Empty for a message without a body.
std::string SubjectOf(const v1::FeedMessage& m);
// The field name of a scan event's body ("parcel_sorted"); empty if none.
std::string EventKind(const v1::ScanEvent& e);

// Nats-Msg-Id of a hub message: "<hub_id>.<hub_seq>.<part>".
std::string MessageId(std::string_view hub_id, uint64_t hub_seq, uint32_t part);
// Where a message id stands in the hub's order; nullopt when `id` is not
// one of this hub's message ids.
struct Position {
  uint64_t hub_seq = 0;
  uint32_t part = 0;
  auto operator<=>(const Position&) const = default;
};
std::optional<Position> ParseMessageId(std::string_view hub_id, std::string_view id);
// Nats-Msg-Id of a dispatch advice: "<from_hub>.<from_hub_seq>".
std::string DispatchMessageId(std::string_view from_hub, uint64_t from_hub_seq);

}  // namespace hub::feed
