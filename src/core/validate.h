#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hub/v1/event.pb.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/reference.pb.h"
#include "hub/v1/session.pb.h"

namespace hub::core {

// Longest id (scanner, station, vehicle, bag, parcel, load, seal, route,
// destination) the hub accepts, in bytes.
inline constexpr size_t kMaxIdLength = 64;
// Longest free-text note accepted on an event or a case action, in bytes.
inline constexpr size_t kMaxNoteLength = 1024;
// Most codes one read may carry (ParcelSorted.read_codes); more is refused
// with REJECT_ID_TOO_LONG.
inline constexpr size_t kMaxReadCodes = 16;
// Largest HubSettings.weight_tolerance_g accepted (1000 kg); the percent is
// at most 100.
inline constexpr uint32_t kMaxWeightToleranceG = 1'000'000;

// True when `text` holds a control character: a byte below 0x20, 0x7f
// (DEL), or a C1 control U+0080..U+009F in UTF-8 (C2 80..C2 9F). Such ids are
// refused (REJECT_BAD_ID) before they reach the state, the store or a log.
bool HasControlCharacter(std::string_view text);

// Checks one scan event for the rules every event must meet before it can be
// applied: a known kind, every required id present, at most kMaxIdLength
// bytes and free of control characters, defined enum values, seq > 0, and
// for a sort scan a read outcome that agrees with parcel_id and read_codes
// (ParcelSorted.read in event.proto). Returns REJECT_NONE when the event is
// acceptable; otherwise the code, with a reason naming the field in *reason.
// Pure and thread-safe: the I/O threads call it before queueing an event.
v1::RejectCode ValidateEvent(const v1::ScanEvent& event, std::string* reason);

// Whether an event rejected with `code` still uses up its seq (see RejectCode
// in session.proto): true for the content codes (UNKNOWN_KIND, MISSING_ID,
// ID_TOO_LONG, BAD_ENUM, BAD_ID), false for the rest.
bool ConsumesSeq(v1::RejectCode code);

// A scanner id the hub can key a session and a mark on: 1..kMaxIdLength
// bytes, no control characters.
bool ValidScannerId(std::string_view id);

// A hub id ([feed] hub_id; RouteEntry.next_hub, DispatchAdvice.from_hub):
// 1..64 of [A-Za-z0-9_-], a NATS subject token (feed/feed_names.h uses it).
bool ValidHubId(std::string_view hub_id);

// Same for a reference-data change. A dispatch advice is checked as its
// from_hub, a from_hub_seq of at least 1, its vehicle as a vehicle advice
// and each bag as a bag advice (not its to_hub: the consumer chose it);
// whether it was applied already is HubState's to decide.
v1::RejectCode ValidateReference(const v1::ReferenceChange& change, std::string* reason);

// Same for a supervisor's case action (shape only; whether the life cycle
// allows it is decided by HubState, which knows the case's status).
bool ValidateCaseAction(const v1::CaseAction& action, std::string* reason);

// Short upper-case name of an event's kind ("PARCEL_SORTED"), or "UNKNOWN".
const char* EventKindName(v1::ScanEvent::BodyCase kind);
inline const char* EventKindName(const v1::ScanEvent& event) {
  return EventKindName(event.body_case());
}

}  // namespace hub::core
