// fuzz_frame: hostile bytes on a scanner connection, down to the core.
//
//   input = [max_frame selector][k][k piece lengths][stream bytes ...]
//
// The stream is fed to a codec::FrameDecoder in pieces whose lengths cycle
// through the k given ones (a length 0 is an empty Append), as a socket
// would deliver it. Each frame is parsed as a v1::ClientFrame; each event is
// validated (core::ValidateEvent) and applied to a core::HubState that
// starts from a small reference table, so the core sees hostile but
// well-formed events.
//
// Invariants checked:
//   - piecewise decoding yields the same frames and the same end state as
//     decoding the whole stream at once;
//   - a parsed frame re-encoded with codec::AppendFrame decodes to exactly
//     its serialization, and that parses back to the same bytes;
//   - ApplyEvent agrees with ValidateEvent, numbers applied records 1, 2, ...
//     and treats seq <= the scanner's mark as a duplicate;
//   - a reject that consumes its seq moves the scanner's mark past it;
//   - recovery: replaying the applied records into a fresh HubState, or into
//     one restored from a snapshot taken half way, then raising the marks
//     the store keeps for consumed rejects, gives the same Snapshot() bytes,
//     and Restore(Snapshot()) round-trips.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "codec/frame_codec.h"
#include "core/hub_state.h"
#include "core/validate.h"
#include "fuzz/fuzz_check.h"
#include "hub/v1/record.pb.h"
#include "hub/v1/session.pb.h"

namespace {

using hub::codec::FrameDecoder;
using hub::core::ApplyResult;
using hub::core::HubState;
namespace v1 = hub::v1;

constexpr size_t kMaxFrames[] = {65536, 64, 300, 4096};

struct Decoded {
  std::vector<std::string> frames;
  FrameDecoder::Result end = FrameDecoder::Result::kNeedMore;
  size_t buffered = 0;
};

// Drains every complete frame; frames are copied (Append invalidates views).
void Drain(FrameDecoder& d, Decoded* out) {
  std::string_view frame;
  while ((out->end = d.Next(&frame)) == FrameDecoder::Result::kFrame) out->frames.emplace_back(frame);
}

Decoded DecodeWhole(std::string_view stream, size_t max_frame) {
  FrameDecoder d(max_frame);
  Decoded out;
  d.Append(stream.data(), stream.size());
  Drain(d, &out);
  out.buffered = d.buffered();
  return out;
}

Decoded DecodeInPieces(std::string_view stream, const uint8_t* lengths, size_t k,
                       size_t max_frame) {
  FrameDecoder d(max_frame);
  Decoded out;
  size_t i = 0;
  for (size_t piece = 0; i < stream.size() || piece == 0; ++piece) {
    size_t n = k == 0 ? stream.size() : lengths[piece % k];
    n = std::min(n, stream.size() - i);
    d.Append(stream.data() + i, n);
    i += n;
    Drain(d, &out);
    if (out.end != FrameDecoder::Result::kNeedMore) break;  // sticky: the session closes
    if (k > 0 && piece > stream.size() + k) break;          // only empty pieces left
  }
  if (i < stream.size() && out.end == FrameDecoder::Result::kNeedMore) {
    d.Append(stream.data() + i, stream.size() - i);
    Drain(d, &out);
  }
  out.buffered = d.buffered();
  return out;
}

void CheckReencoding(const v1::ClientFrame& frame) {
  std::string bytes;
  hub::codec::AppendFrame(frame, &bytes);
  const std::string serialized = frame.SerializeAsString();
  FrameDecoder d(bytes.size() + 16);
  d.Append(bytes.data(), bytes.size());
  std::string_view payload;
  FUZZ_CHECK(d.Next(&payload) == FrameDecoder::Result::kFrame, "re-encoded frame decodes");
  FUZZ_CHECK(payload == serialized, "re-encoded payload is the serialization");
  FUZZ_CHECK(d.buffered() == 0, "nothing left after one re-encoded frame");
  v1::ClientFrame again;
  FUZZ_CHECK(again.ParseFromArray(payload.data(), static_cast<int>(payload.size())),
             "re-encoded frame parses");
  FUZZ_CHECK(again.SerializeAsString() == serialized, "serialization is stable");
}

// Reference data every run starts from, so sort scans can be routed and
// advices and holds compared (ids the dictionary and corpus also use).
std::vector<v1::LogRecord> Preamble() {
  std::vector<v1::LogRecord> out;
  auto add = [&out]() { return out.emplace_back().mutable_reference(); };
  for (int d = 1; d <= 2; ++d) {
    auto* r = add()->mutable_upsert_route();
    r->set_destination("D" + std::to_string(d));
    r->set_route_code("R" + std::to_string(d));
    r->set_chute("C" + std::to_string(d));
    r->set_load_id("L" + std::to_string(d));
  }
  auto* va = add()->mutable_vehicle_advice();
  va->set_vehicle_id("V1");
  va->set_seal_id("S1");
  va->add_bag_ids("B1");
  va->add_bag_ids("B2");
  auto* ba = add()->mutable_bag_advice();
  ba->set_bag_id("B1");
  ba->add_parcel_ids("P1");
  ba->add_parcel_ids("P2");
  auto* h = add()->mutable_add_hold();
  h->set_parcel_id("P9");
  h->set_reason(v1::HOLD_REASON_SECURITY);
  return out;
}

// Applies a log record the way recovery does (hub_seq set); must apply.
void Replay(HubState& state, const v1::LogRecord& rec, ApplyResult* result) {
  state.Apply(rec, result);
  FUZZ_CHECK(result->outcome == ApplyResult::Outcome::kApplied, "logged record replays");
  FUZZ_CHECK(result->hub_seq == rec.hub_seq(), "replay keeps the hub_seq");
}

// What recovery has besides the log: the marks of rejects that used up a
// seq (the store's "scanners" family), by scanner.
using Marks = std::map<std::string, uint64_t>;

void ApplyToCore(HubState& state, const v1::ScanEvent& event, ApplyResult* result,
                 std::vector<v1::LogRecord>* log, Marks* consumed) {
  std::string reason;
  const v1::RejectCode code = hub::core::ValidateEvent(event, &reason);
  FUZZ_CHECK(code == v1::REJECT_NONE || !reason.empty(), "a reject names its reason");
  const uint64_t before = state.last_hub_seq();
  const uint64_t mark = code == v1::REJECT_NONE ? state.ScannerMark(event.scanner_id()) : 0;
  state.ApplyEvent(event, result);
  if (code != v1::REJECT_NONE) {
    FUZZ_CHECK(result->outcome == ApplyResult::Outcome::kRejected, "invalid event rejected");
    FUZZ_CHECK(result->reject_code == code, "core rejects with the validator's code");
    FUZZ_CHECK(state.last_hub_seq() == before, "a rejected event takes no hub_seq");
    if (hub::core::ConsumesSeq(code) && hub::core::ValidScannerId(event.scanner_id())) {
      FUZZ_CHECK(state.ScannerMark(event.scanner_id()) >= event.seq(), "a consumed seq moves the mark");
      uint64_t& m = (*consumed)[event.scanner_id()];
      m = std::max(m, event.seq());
    }
    return;
  }
  if (event.seq() <= mark) {
    FUZZ_CHECK(result->outcome == ApplyResult::Outcome::kDuplicate, "re-sent event is a duplicate");
    FUZZ_CHECK(state.last_hub_seq() == before, "a duplicate takes no hub_seq");
    FUZZ_CHECK(result->raised.empty(), "a duplicate raises nothing");
    return;
  }
  FUZZ_CHECK(result->outcome == ApplyResult::Outcome::kApplied, "valid new event applies");
  FUZZ_CHECK(result->hub_seq == before + 1 && state.last_hub_seq() == before + 1,
             "applied records are numbered 1, 2, ...");
  FUZZ_CHECK(state.ScannerMark(event.scanner_id()) == event.seq(), "mark follows the seq");
  FUZZ_CHECK(result->has_decision == (event.body_case() == v1::ScanEvent::kParcelSorted),
             "a decision exactly for a sort scan");
  for (const auto& c : result->raised)
    FUZZ_CHECK(c.hub_seq() == result->hub_seq && c.id() > 0, "raised case carries its record");
  v1::LogRecord& rec = log->emplace_back();
  rec.set_hub_seq(result->hub_seq);
  *rec.mutable_event() = event;
}

void CheckRecovery(const HubState& live, const std::vector<v1::LogRecord>& log,
                   const Marks& consumed) {
  const std::string expected = live.Snapshot().SerializeAsString();
  ApplyResult result;
  HubState replayed;
  const size_t half = log.size() / 2;
  for (size_t i = 0; i < half; ++i) Replay(replayed, log[i], &result);
  HubState restored;
  restored.Restore(replayed.Snapshot());
  for (size_t i = half; i < log.size(); ++i) {
    Replay(replayed, log[i], &result);
    Replay(restored, log[i], &result);
  }
  for (const auto& [scanner, seq] : consumed) {
    replayed.AdvanceScannerMark(scanner, seq);
    restored.AdvanceScannerMark(scanner, seq);
  }
  FUZZ_CHECK(replayed.Snapshot().SerializeAsString() == expected, "replay rebuilds the state");
  FUZZ_CHECK(restored.Snapshot().SerializeAsString() == expected,
             "checkpoint + replay rebuilds the state");
  HubState round_trip;
  round_trip.Restore(live.Snapshot());
  FUZZ_CHECK(round_trip.Snapshot().SerializeAsString() == expected, "Restore(Snapshot()) round-trips");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A frame with invalid UTF-8 in a string does not parse; protobuf would
  // log each one.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t max_frame = kMaxFrames[data[0] & 3];
  const size_t k = std::min<size_t>(data[1], size - 2);
  const uint8_t* lengths = data + 2;
  const std::string_view stream(reinterpret_cast<const char*>(data + 2 + k), size - 2 - k);

  const Decoded whole = DecodeWhole(stream, max_frame);
  const Decoded pieces = DecodeInPieces(stream, lengths, k, max_frame);
  FUZZ_CHECK(pieces.frames == whole.frames, "the split does not change the frames");
  FUZZ_CHECK(pieces.end == whole.end, "the split does not change how the stream ends");
  if (whole.end == FrameDecoder::Result::kNeedMore)
    FUZZ_CHECK(pieces.buffered == whole.buffered, "the split does not change what is buffered");
  for (const auto& f : whole.frames) FUZZ_CHECK(f.size() <= max_frame, "frames respect max_frame");

  HubState state;
  ApplyResult result;
  std::vector<v1::LogRecord> log = Preamble();
  Marks consumed;
  for (size_t i = 0; i < log.size(); ++i) {
    log[i].set_hub_seq(i + 1);
    Replay(state, log[i], &result);
  }
  for (const auto& payload : whole.frames) {
    v1::ClientFrame frame;
    if (!frame.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) continue;
    CheckReencoding(frame);
    if (frame.has_event()) ApplyToCore(state, frame.event(), &result, &log, &consumed);
  }
  CheckRecovery(state, log, consumed);
  return 0;
}
