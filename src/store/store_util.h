#pragma once

// Small helpers shared by the store's parts (store/ only; nothing here
// leaves the store): RocksDB status mapping, varints, the keys of archived
// rows.

#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <functional>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <google/protobuf/message_lite.h>

#include "core/views.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/record.pb.h"
#include "store/key_format.h"
#include "store/status.h"

namespace hub::store {

// The column families (store/key_format.h), in the order the store opens them.
enum Cf { kDefault, kLog, kScanners, kCases, kCaseIndex, kArchive, kCheckpoint, kSeqs, kNumCf };
inline constexpr const char* kCfNames[kNumCf] = {"default",    "log",     "scanners",   "cases",
                                                 "case_index", "archive", "checkpoint", "seqs"};

inline Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
  if (s.IsNoSpace()) return Status::NoSpace(s.ToString());
  return Status::IOError(s.ToString());
}

inline void PutVarint(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

// Reads a varint off the front of *v; false at the end or on a bad one.
inline bool ReadVarint(std::string_view* v, uint64_t* out) {
  *out = 0;
  for (int shift = 0; !v->empty() && shift < 64; shift += 7) {
    const auto b = static_cast<uint8_t>(v->front());
    v->remove_prefix(1);
    *out |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Appends `m` as length-delimited field `field`.
inline void PutMessageField(std::string* dst, int field, const google::protobuf::MessageLite& m) {
  PutVarint(dst, (static_cast<uint64_t>(field) << 3) | 2);
  const size_t n = m.ByteSizeLong();
  PutVarint(dst, n);
  const size_t at = dst->size();
  dst->resize(at + n);
  m.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(dst->data() + at));
}

inline rocksdb::Slice AsSlice(const std::string& s) { return rocksdb::Slice(s.data(), s.size()); }

inline void ForEachEntity(const v1::ExceptionCase& c,
                   const std::function<void(keys::Kind, const std::string&)>& fn) {
  if (!c.vehicle_id().empty()) fn(keys::Kind::kVehicle, c.vehicle_id());
  if (!c.bag_id().empty()) fn(keys::Kind::kBag, c.bag_id());
  if (!c.parcel_id().empty()) fn(keys::Kind::kParcel, c.parcel_id());
  if (!c.load_id().empty()) fn(keys::Kind::kLoad, c.load_id());
}

// The entity an archived row is about.
inline std::pair<keys::Kind, const std::string*> EntityOf(const v1::ArchivedEntity& a) {
  switch (a.body_case()) {
    case v1::ArchivedEntity::kParcel: return {keys::Kind::kParcel, &a.parcel().parcel_id()};
    case v1::ArchivedEntity::kBag: return {keys::Kind::kBag, &a.bag().bag_id()};
    case v1::ArchivedEntity::kLoad: return {keys::Kind::kLoad, &a.load().load_id()};
    case v1::ArchivedEntity::kVehicle:
    case v1::ArchivedEntity::BODY_NOT_SET: break;
  }
  return {keys::Kind::kVehicle, &a.vehicle().vehicle_id()};
}

// The entity index key (kind byte + id) of an archived row.
inline std::string EntityKeyOf(const v1::ArchivedEntity& a) {
  auto [kind, id] = EntityOf(a);
  return core::EntityKey(kind, *id);
}

inline std::string ArchiveKeyOf(const v1::ArchivedEntity& a) {
  auto [kind, id] = EntityOf(a);
  return keys::ArchiveKey(kind, *id, a.retired_at_hub_seq());
}

}  // namespace hub::store
