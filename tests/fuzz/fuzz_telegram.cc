// fuzz_telegram: hostile bytes on a vendor-telegram connection.
//
//   input = [selector][piece length][stream bytes ...]
//
// selector % 3 picks a shipped profile (deploy/devices/, loaded once from
// HUBD_DEVICES_DIR), selector / 3 % 3 the device kind (sort, unbag,
// unload). The stream is fed to a codec::TelegramFramer in pieces of the
// given length (0: all at once); every telegram is parsed with
// ParseTelegram and, when it parses, picked (CodePicker) and mapped
// (ReadMapper), and answered (FormatReply).
//
// Invariants checked:
//   - piecewise framing gives the same telegrams, discarded and buffered
//     counts as framing the whole stream at once;
//   - a parsed read's codes are 1..16 printable ids of 1..64 bytes;
//   - FormatTelegram of a parsed read parses back to the same read;
//   - the pick is consistent: READ_SINGLE if and only if a parcel id is
//     given, and that id and every read code are codes of the read;
//   - a sort read gives exactly one PARCEL_SORTED carrying the pick and
//     wants an answer; other kinds give events or a reason, never both
//     missing.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codec/telegram.h"
#include "core/validate.h"
#include "fuzz/fuzz_check.h"

namespace {

namespace codec = hub::codec;
namespace v1 = hub::v1;

struct Device {
  codec::DeviceProfile profile;
  codec::DeviceRole roles[3];
};

const std::vector<Device>& Devices() {
  static const std::vector<Device> devices = [] {
    std::vector<Device> out;
    for (const char* name : {"sick-dws", "datalogic-multi", "datalogic-dws"}) {
      Device d;
      d.profile = codec::LoadProfile(std::string(HUBD_DEVICES_DIR) + "/" + name + ".toml");
      codec::CodeRules rules;
      rules.validate_s10 = true;
      rules.parcel_patterns = {"JD[0-9]+", "[0-9]{10,}"};
      rules.destination_pattern = "D-[A-Z]{3}";
      d.roles[0].kind = codec::DeviceKind::kSort;
      d.roles[0].rules = rules;
      d.roles[1].kind = codec::DeviceKind::kUnbag;
      d.roles[1].context_pattern = "BAG[0-9]+";
      d.roles[1].end_code = "END";
      d.roles[2].kind = codec::DeviceKind::kUnload;
      d.roles[2].context_pattern = "V-[0-9]+";
      d.roles[2].end_code = "DONE";
      out.push_back(std::move(d));
    }
    return out;
  }();
  return devices;
}

struct Framed {
  std::vector<std::string> telegrams;  // "" + '\0' marks an oversized one
  uint64_t discarded = 0;
  size_t buffered = 0;
};

Framed Frame(const codec::DeviceProfile& p, std::string_view stream, size_t piece) {
  codec::TelegramFramer framer(p);
  Framed out;
  if (piece == 0) piece = stream.size() + 1;
  for (size_t at = 0; at <= stream.size(); at += piece) {
    framer.Append(stream.substr(at, piece));
    std::string payload;
    for (;;) {
      const auto r = framer.Next(&payload);
      if (r == codec::TelegramFramer::Result::kNeedMore) break;
      FUZZ_CHECK(r != codec::TelegramFramer::Result::kTelegram || payload.size() <= p.max_telegram,
                 "a telegram longer than max_telegram");
      out.telegrams.push_back(r == codec::TelegramFramer::Result::kTelegram ? payload
                                                                            : std::string(1, '\0'));
    }
  }
  out.discarded = framer.discarded();
  out.buffered = framer.buffered();
  return out;
}

bool IsCode(const codec::DeviceRead& read, const std::string& code) {
  for (const std::string& c : read.codes)
    if (c == code) return true;
  return false;
}

void CheckRead(const codec::DeviceProfile& p, const codec::DeviceRead& read) {
  FUZZ_CHECK(read.codes.size() <= 16, "more than 16 codes");
  for (const std::string& c : read.codes)
    FUZZ_CHECK(!c.empty() && c.size() <= 64 && !hub::core::HasControlCharacter(c),
               "a code is not an id");
  FUZZ_CHECK(read.no_read == read.codes.empty(), "no_read and codes disagree");
  codec::DeviceRead again;
  const std::string telegram = codec::FormatTelegram(p, read);
  const std::string payload =
      telegram.substr(p.header.size(), telegram.size() - p.header.size() - p.terminator.size());
  FUZZ_CHECK(codec::ParseTelegram(p, payload, &again).empty(), "a formatted read does not parse");
  FUZZ_CHECK(again.object == read.object && again.codes == read.codes &&
                 again.multi_read == read.multi_read && again.destination == read.destination &&
                 again.measurement.SerializeAsString() == read.measurement.SerializeAsString(),
             "a formatted read parses to another read");
}

void CheckMapped(const codec::DeviceRole& role, const codec::CodeChoice& choice,
                 const codec::DeviceRead& read, const codec::ReadMapper::Mapped& m) {
  FUZZ_CHECK((choice.outcome == v1::READ_SINGLE) == !choice.parcel_id.empty(),
             "outcome and parcel id disagree");
  FUZZ_CHECK(choice.parcel_id.empty() || IsCode(read, choice.parcel_id),
             "parcel id is not a code of the read");
  for (const std::string& c : choice.read_codes)
    FUZZ_CHECK(IsCode(read, c), "a read code is not a code of the read");
  if (role.kind == codec::DeviceKind::kSort) {
    FUZZ_CHECK(m.events.size() == 1 && m.events[0].has_parcel_sorted() && m.answer,
               "a sort read is one event");
    const v1::ParcelSorted& s = m.events[0].parcel_sorted();
    FUZZ_CHECK(s.parcel_id() == choice.parcel_id && s.read() == choice.outcome,
               "the event is not the pick");
    FUZZ_CHECK(s.read_codes_size() <= 16, "more than 16 read codes");
  } else {
    FUZZ_CHECK(!m.answer, "only sort reads are answered");
    FUZZ_CHECK(m.events.empty() || m.unused.empty(), "a read gives events or a reason, not both");
    // Neither: only a vehicle label at an unloading dock (the context of what follows).
    FUZZ_CHECK(!m.events.empty() || !m.unused.empty() || role.kind == codec::DeviceKind::kUnload,
               "a read that gives no event says why");
    FUZZ_CHECK(m.events.size() <= 2, "more than two events for one read");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const Device& device = Devices()[data[0] % 3];
  const codec::DeviceRole& role = device.roles[data[0] / 3 % 3];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const Framed whole = Frame(device.profile, stream, 0);
  const Framed pieces = Frame(device.profile, stream, data[1] % 17);
  FUZZ_CHECK(whole.telegrams == pieces.telegrams, "pieces give other telegrams");
  FUZZ_CHECK(whole.discarded == pieces.discarded && whole.buffered == pieces.buffered,
             "pieces give other counts");

  const codec::CodePicker picker(role.rules);
  codec::ReadMapper mapper(role);
  for (const std::string& telegram : whole.telegrams) {
    codec::DeviceRead read;
    if (!codec::ParseTelegram(device.profile, telegram, &read).empty()) continue;
    CheckRead(device.profile, read);
    const codec::CodeChoice choice = picker.Pick(read);
    const codec::ReadMapper::Mapped m = mapper.Map(read);
    CheckMapped(role, choice, read, m);
    v1::SortDecision decision;
    decision.set_parcel_id(choice.parcel_id);
    decision.set_divert(choice.outcome == v1::READ_SINGLE ? v1::DIVERT_NONE : v1::DIVERT_NO_READ);
    codec::FormatReply(device.profile, read, decision);
  }
  return 0;
}
