#pragma once

// Vendor telegrams: what fixed-mount barcode scanners and dimensioning-
// weighing-scanning (DWS) units send over plain TCP, and what they take back.
// No sockets here: the listener (net/telegram_server) feeds bytes in and
// gets scan events out; hubgen and the tests make telegrams with
// FormatTelegram().
//
//   bytes --TelegramFramer--> payload --ParseTelegram(profile)--> DeviceRead
//         --ReadMapper(role)--> ScanEvent bodies (+ CodePicker's rule)
//   SortDecision --FormatReply(profile)--> answer bytes (when the device takes one)
//
// A DeviceProfile describes a kind of device (framing, fields, strings,
// units, reply); deploy/devices/*.toml ship the known ones and
// docs/devices.md explains how to write another. A DeviceRole describes what
// one installed device does at the hub (the event kind its reads become, and
// how codes are told apart).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/v1/event.pb.h"
#include "hub/v1/session.pb.h"

namespace hub::codec {

// What one field of a telegram holds (its name in a profile's `fields`).
enum class Field {
  kIgnore,             // "-" or "ignore": skipped
  kObject,             // "object": the device's object/trigger number, echoed in replies
  kCode,               // "code": one code, or several split by code_separator
  kCodes,              // "codes": this field and every field after it are codes
                       // (Datalogic <code><sep><code>...); must be last
  kDestination,        // "destination": a destination code (sort reads)
  kWeight,             // "weight": a decimal number in weight_unit
  kWeightUnit,         // "weight_unit": "g", "kg" or "lb" (overrides the profile's)
  kLength,             // "length", "width", "height": decimals in dimension_unit
  kWidth,
  kHeight,
  kDimensionUnit,      // "dimension_unit": "mm", "cm", "m" or "in"
  kVolume,             // "volume": a decimal in volume_unit
  kScaleError,         // "scale_error": a flag (true_values)
  kLegalForTrade,      // "legal_for_trade": a flag
  kNoDimensionReason,  // "no_dimension_reason": free text, empty when measured
};

struct DeviceProfile {
  std::string name;
  // Framing: a telegram is the bytes between `header` and `terminator`
  // (STX "\u0002" and ETX "\u0003" by default). An empty header means a
  // telegram starts right after the previous terminator. Bytes outside a
  // telegram are noise: discarded and counted.
  std::string header = "\x02";
  std::string terminator = "\x03";
  std::string separator = ";";      // between fields
  std::string code_separator;       // between codes inside one `code` field ("": one code)
  std::vector<Field> fields;        // in telegram order
  std::string no_read = "NoRead";   // a code equal to it: nothing was read
  std::string multi_read;           // a code equal to it: several codes, none given ("": none)
  std::string weight_unit = "kg";   // when no weight_unit field says otherwise
  std::string dimension_unit = "mm";
  std::string volume_unit = "cm3";  // "cm3", "dm3", "m3" or "in3"
  std::vector<std::string> true_values = {"1", "Y", "y", "T", "true", "TRUE"};
  size_t max_telegram = 1024;       // longer: dropped up to the next header, counted
  // The answer to a sort read, with placeholders {object} {code} {chute}
  // {route} {load} {destination} {divert} (the divert reason, "" when routed).
  // Empty: the device takes no answer and nothing is sent.
  std::string reply;
  std::string divert_chute = "0";   // {chute} of a diverted parcel
};

// Loads a profile (TOML; deploy/devices/*.toml are examples). Throws
// std::runtime_error naming the file and what is wrong.
DeviceProfile LoadProfile(const std::string& path);
DeviceProfile ParseProfile(std::string_view toml_text, const std::string& origin);

// Cuts one connection's byte stream into telegram payloads. `profile` must
// outlive the framer. Not thread-safe.
class TelegramFramer {
 public:
  explicit TelegramFramer(const DeviceProfile& profile);
  void Append(std::string_view bytes);
  enum class Result {
    kTelegram,   // *payload holds the next telegram, without header and terminator
    kNeedMore,
    kOversized,  // a telegram longer than max_telegram was dropped (skipped to
                 // the next header); call Next() again
  };
  Result Next(std::string* payload);
  // Bytes dropped so far: outside any telegram (noise), and those of
  // oversized or cut-off telegrams.
  uint64_t discarded() const { return discarded_; }
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  const DeviceProfile& p_;
  std::string buf_;
  size_t pos_ = 0;
  bool skipping_ = false;  // inside an oversized telegram
  uint64_t discarded_ = 0;
};

// One read, as the device reported it.
struct DeviceRead {
  std::string object;
  // In telegram order; no-read strings left out, and the multi-read string
  // too unless no other code came (then it is the only code, for read_codes).
  std::vector<std::string> codes;
  bool no_read = false;     // no code at all (only no-read strings, or nothing)
  bool multi_read = false;  // the multi-read string was among the codes
  std::string destination;         // a destination field, when the profile has one
  v1::Measurement measurement;     // grams, millimetres, cm3; zeros when absent
};

// Parses one telegram payload. Returns "" or why it is malformed, naming the
// field (wrong field count, a number that does not parse, an unknown unit, a
// code that is not a printable id of 1..64 bytes, more than 16 codes).
std::string ParseTelegram(const DeviceProfile& profile, std::string_view payload, DeviceRead* out);
// The telegram, header and terminator included, that a device of this
// profile sends for `read` (hubgen, hubreplay, tests). ParseTelegram of its
// payload gives `read` back (weights and sizes within the units' precision).
std::string FormatTelegram(const DeviceProfile& profile, const DeviceRead& read);

// How one installed device tells codes apart.
struct CodeRules {
  // A code shaped like a UPU S10 item id (AA000000000AA) whose check digit
  // is wrong is not a parcel id (READ_INVALID_ID when nothing else is).
  bool validate_s10 = false;
  // Parcel id patterns (ECMAScript regex, whole code), best first. Empty:
  // every code that is not a destination is a parcel id candidate.
  std::vector<std::string> parcel_patterns;
  // Codes matching this are destination codes, not parcel ids ("": none).
  std::string destination_pattern;
};

// The rule that turns a read's codes into one parcel id (docs/devices.md):
//  1. the no-read string or no code: READ_NO_READ.
//  2. the multi-read string: READ_AMBIGUOUS (read_codes: the codes, or the
//     multi-read string itself when none came).
//  3. repeated codes count once. Codes matching destination_pattern give the
//     destination (two different ones: READ_AMBIGUOUS); a destination field
//     wins over them.
//  4. candidates by rank: valid S10 ids first, then each parcel pattern in
//     order (no patterns: every other code). Codes matching none are
//     ignored; with validate_s10, S10-shaped codes with a wrong check digit
//     are never candidates.
//  5. the best rank that has candidates: one code there is READ_SINGLE;
//     several are READ_AMBIGUOUS with every code of the read.
//  6. no candidate: READ_INVALID_ID when an S10 id failed its check, else
//     READ_NO_READ; read_codes hold every code of the read.
struct CodeChoice {
  std::string parcel_id;  // empty unless READ_SINGLE
  std::string destination;
  v1::ReadOutcome outcome = v1::READ_NO_READ;
  std::vector<std::string> read_codes;  // empty for READ_SINGLE of a one-code read
};
class CodePicker {
 public:
  // Throws std::invalid_argument for a pattern that does not compile.
  explicit CodePicker(const CodeRules& rules);
  ~CodePicker();
  CodeChoice Pick(const DeviceRead& read) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What an installed device's reads become.
enum class DeviceKind {
  kSort,    // each read: PARCEL_SORTED (no-reads and ambiguous reads too), answered
  kUnbag,   // a bag label (context_pattern): BAG_OPENED (the bag before it, if
            // not ended, gets BAG_EMPTIED first); a parcel: PARCEL_UNBAGGED
            // into the open bag; end_code: BAG_EMPTIED
  kUnload,  // a vehicle label (context_pattern): the vehicle being unloaded
            // (no event); a bag label: BAG_UNLOADED (weight from the reading);
            // end_code: VEHICLE_UNLOADED
};
struct DeviceRole {
  DeviceKind kind = DeviceKind::kSort;
  CodeRules rules;
  std::string context_pattern;  // kUnbag, kUnload: required
  std::string end_code;         // kUnbag, kUnload: optional
};

// Turns reads into event bodies (scanner_id, seq, event time and station are
// the listener's to set). Keeps the open bag / vehicle of one connection.
class ReadMapper {
 public:
  // Throws std::invalid_argument for a bad pattern or a role without a
  // context_pattern where it needs one.
  explicit ReadMapper(const DeviceRole& role);
  ~ReadMapper();
  struct Mapped {
    std::vector<v1::ScanEvent> events;  // bodies only
    bool answer = false;                // a sort read: the device waits for a reply
    std::string unused;                 // why the read gave no event ("" when it did,
                                        // or when it only named the vehicle being unloaded)
  };
  Mapped Map(const DeviceRead& read);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The answer to a sort read in the device's format; "" when the profile has
// no reply. `decision` is what the hub decided for the read's event; a read
// the hub refused is answered as diverted (DIVERT_NO_READ).
std::string FormatReply(const DeviceProfile& profile, const DeviceRead& read,
                        const v1::SortDecision& decision);

}  // namespace hub::codec
