#include "store/retention.h"

#include "store/key_format.h"
#include "store/store_util.h"

namespace hub::store {

std::string RetentionMark::Encode() const {
  std::string v;
  keys::PutBigEndian64(&v, through_hub_seq.load());
  keys::PutBigEndian64(&v, through_case_id.load());
  keys::PutBigEndian64(&v, static_cast<uint64_t>(cutoff_ms.load()));
  return v;
}

bool RetentionMark::Decode(std::string_view value) {
  if (value.size() != 24) return false;
  through_hub_seq = keys::DecodeBigEndian64(value);
  through_case_id = keys::DecodeBigEndian64(value.substr(8));
  cutoff_ms = static_cast<int64_t>(keys::DecodeBigEndian64(value.substr(16)));
  return true;
}

uint64_t LastLoggedHubSeq(std::string_view row) {
  // (varint seq step, varint hub step)...: hub step = 2 x (hub_seq - the
  // last logged one), or 1 for a consumed reject (key_format.h).
  uint64_t hub = 0, seq_step = 0, hub_step = 0;
  while (ReadVarint(&row, &seq_step) && ReadVarint(&row, &hub_step))
    if ((hub_step & 1) == 0) hub += hub_step >> 1;
  return hub;
}

bool RetentionFilter::Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& value,
                             std::string* /*new_value*/, bool* /*value_changed*/) const {
  auto trailing = [&key] {
    return key.size() >= 8 ? keys::DecodeBigEndian64(std::string_view(key.data() + key.size() - 8, 8))
                           : UINT64_MAX;
  };
  switch (family_) {
    case Family::kCaseIndex: return trailing() <= mark_->through_case_id.load();
    case Family::kArchive: return trailing() <= mark_->through_hub_seq.load();
    case Family::kSeqs: {
      const uint64_t last = LastLoggedHubSeq(value.ToStringView());
      return last != 0 && last <= mark_->through_hub_seq.load();
    }
  }
  return false;
}

}  // namespace hub::store
