#include "store/rocksdb_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <functional>
#include <map>
#include <unordered_map>

namespace hub::store {
namespace {

enum Cf { kDefault, kLog, kScanners, kCases, kCaseIndex, kArchive, kCheckpoint, kNumCf };
const char* const kCfNames[kNumCf] = {"default",
                                      "log", "scanners", "cases", "case_index",
                                      "archive", "checkpoint"};

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
  return Status::IOError(s.ToString());
}

void PutVarint(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

rocksdb::Slice AsSlice(const std::string& s) { return rocksdb::Slice(s.data(), s.size()); }

void ForEachEntity(const v1::ExceptionCase& c,
                   const std::function<void(keys::Kind, const std::string&)>& fn) {
  if (!c.vehicle_id().empty()) fn(keys::Kind::kVehicle, c.vehicle_id());
  if (!c.bag_id().empty()) fn(keys::Kind::kBag, c.bag_id());
  if (!c.parcel_id().empty()) fn(keys::Kind::kParcel, c.parcel_id());
  if (!c.load_id().empty()) fn(keys::Kind::kLoad, c.load_id());
}

std::string ArchiveKeyOf(const v1::ArchivedEntity& a) {
  const uint64_t seq = a.retired_at_hub_seq();
  switch (a.body_case()) {
    case v1::ArchivedEntity::kParcel: return keys::ArchiveKey(keys::Kind::kParcel, a.parcel().parcel_id(), seq);
    case v1::ArchivedEntity::kBag: return keys::ArchiveKey(keys::Kind::kBag, a.bag().bag_id(), seq);
    case v1::ArchivedEntity::kLoad: return keys::ArchiveKey(keys::Kind::kLoad, a.load().load_id(), seq);
    case v1::ArchivedEntity::kVehicle: return keys::ArchiveKey(keys::Kind::kVehicle, a.vehicle().vehicle_id(), seq);
    case v1::ArchivedEntity::BODY_NOT_SET: break;
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------

struct RocksDbStore::Rep {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;
  StoreOptions options;
  Status sticky_error;  // first failed write; fails every later commit

  rocksdb::ColumnFamilyHandle* h(Cf c) const { return cf[c]; }

  ~Rep() {
    if (!db) return;
    for (auto* handle : cf) db->DestroyColumnFamilyHandle(handle);
    db->Close();
  }
};

struct CommitBatch::Rep {
  RocksDbStore* store;
  rocksdb::WriteBatch wb;
  size_t records = 0;
  std::string scratch;
  std::unordered_map<std::string, uint64_t> marks;  // last seq per scanner
  struct PendingCase {
    v1::ExceptionCase c;
    bool stored = false;  // already in the store: its old index key goes
    v1::ExceptionStatus stored_status = v1::EXCEPTION_STATUS_UNSPECIFIED;
  };
  std::map<uint64_t, PendingCase> cases;
  Status error;  // a transition whose case could not be read
};

CommitBatch::CommitBatch(RocksDbStore* store) : rep_(std::make_unique<Rep>()) {
  rep_->store = store;
}
CommitBatch::~CommitBatch() = default;

size_t CommitBatch::records() const { return rep_->records; }

void CommitBatch::Clear() {
  rep_->wb.Clear();
  rep_->records = 0;
  rep_->marks.clear();
  rep_->cases.clear();
  rep_->error = Status::Ok();
}

void CommitBatch::AddRecord(int field, const google::protobuf::MessageLite& body,
                            const core::ApplyResult& result) {
  if (result.outcome != core::ApplyResult::Outcome::kApplied) return;
  Rep& r = *rep_;
  // A LogRecord serialised by hand: field 1 (hub_seq, varint), then the body
  // as length-delimited field `field`. Same bytes protobuf would produce.
  std::string& v = r.scratch;
  v.clear();
  v.push_back(0x08);
  PutVarint(&v, result.hub_seq);
  PutVarint(&v, (static_cast<uint64_t>(field) << 3) | 2);
  const size_t n = body.ByteSizeLong();
  PutVarint(&v, n);
  const size_t off = v.size();
  v.resize(off + n);
  body.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(v.data() + off));
  r.wb.Put(r.store->rep_->h(kLog), keys::LogKey(result.hub_seq), AsSlice(v));
  ++r.records;

  for (const auto& c : result.raised) r.cases[c.id()].c = c;
  for (const auto& a : result.retired) {
    a.SerializeToString(&v);
    r.wb.Put(r.store->rep_->h(kArchive), ArchiveKeyOf(a), AsSlice(v));
  }
  if (result.transition) {
    const auto& t = *result.transition;
    auto it = r.cases.find(t.case_id);
    if (it == r.cases.end()) {
      Rep::PendingCase pending;
      Status s = r.store->LoadCase(t.case_id, &pending.c);
      if (!s.ok()) {
        r.error = s;
        return;
      }
      pending.stored = true;
      pending.stored_status = pending.c.status();
      it = r.cases.emplace(t.case_id, std::move(pending)).first;
    }
    v1::ExceptionCase& c = it->second.c;
    c.set_status(t.action.to());
    *(t.action.to() == v1::RESOLVED ? c.mutable_resolved() : c.mutable_acknowledged()) =
        t.action.transition();
  }
}

void CommitBatch::AddEvent(const v1::ScanEvent& event, const core::ApplyResult& result) {
  if (result.outcome != core::ApplyResult::Outcome::kApplied) return;
  AddRecord(v1::LogRecord::kEvent, event, result);
  rep_->marks[event.scanner_id()] = event.seq();
}

void CommitBatch::AddReference(const v1::ReferenceChange& change,
                               const core::ApplyResult& result) {
  AddRecord(v1::LogRecord::kReference, change, result);
}

void CommitBatch::AddCaseAction(const v1::CaseAction& action, const core::ApplyResult& result) {
  AddRecord(v1::LogRecord::kCaseAction, action, result);
}

void CommitBatch::Add(const v1::LogRecord& rec, const core::ApplyResult& result) {
  switch (rec.body_case()) {
    case v1::LogRecord::kEvent: return AddEvent(rec.event(), result);
    case v1::LogRecord::kReference: return AddReference(rec.reference(), result);
    case v1::LogRecord::kCaseAction: return AddCaseAction(rec.case_action(), result);
    case v1::LogRecord::BODY_NOT_SET: return;
  }
}

// ---------------------------------------------------------------------------

RocksDbStore::RocksDbStore(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
RocksDbStore::~RocksDbStore() = default;

Status RocksDbStore::Open(const StoreOptions& options, std::unique_ptr<RocksDbStore>* out) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kNumCf; ++i) {
    rocksdb::ColumnFamilyOptions cf_options;
    if (i == kLog) {
      // The log takes nearly every byte written: larger memtables mean fewer,
      // larger flushes of an append-only key range.
      cf_options.write_buffer_size = 64 << 20;
      cf_options.max_write_buffer_number = 4;
    }
    descriptors.emplace_back(kCfNames[i], cf_options);
  }
  auto rep = std::make_unique<Rep>();
  rep->options = options;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &rep->cf, &db);
  if (!s.ok()) return FromRocks(s);
  rep->db.reset(db);
  out->reset(new RocksDbStore(std::move(rep)));
  return Status::Ok();
}

Status RocksDbStore::Commit(CommitBatch* batch) {
  Rep& r = *rep_;
  CommitBatch::Rep& b = *batch->rep_;
  if (!r.sticky_error.ok()) return r.sticky_error;
  if (!b.error.ok()) {
    r.sticky_error = b.error;
    return b.error;
  }
  std::string key, value;
  for (const auto& [scanner, seq] : b.marks) {
    value.clear();
    keys::PutBigEndian64(&value, seq);
    b.wb.Put(r.h(kScanners), scanner, AsSlice(value));
  }
  for (const auto& [id, pending] : b.cases) {
    const v1::ExceptionCase& c = pending.c;
    c.SerializeToString(&value);
    b.wb.Put(r.h(kCases), keys::CaseKey(id), AsSlice(value));
    if (pending.stored) {
      b.wb.Delete(r.h(kCaseIndex),
                  keys::CaseTypeIndexKey(c.type(), pending.stored_status, c.event_time_ms(), id));
    } else {
      ForEachEntity(c, [&](keys::Kind kind, const std::string& eid) {
        b.wb.Put(r.h(kCaseIndex), keys::CaseEntityIndexKey(kind, eid, id), rocksdb::Slice());
      });
    }
    b.wb.Put(r.h(kCaseIndex), keys::CaseTypeIndexKey(c.type(), c.status(), c.event_time_ms(), id),
             rocksdb::Slice());
  }
  rocksdb::WriteOptions wo;
  wo.sync = r.options.durability == Durability::kFsync;
  rocksdb::Status s = r.db->Write(wo, &b.wb);
  if (!s.ok()) {
    r.sticky_error = FromRocks(s);
    return r.sticky_error;
  }
  batch->Clear();
  return Status::Ok();
}

Status RocksDbStore::WriteCheckpoint(const v1::HubSnapshot& snapshot) {
  Rep& r = *rep_;
  if (!r.sticky_error.ok()) return r.sticky_error;
  rocksdb::Status s = r.db->FlushWAL(/*sync=*/true);
  if (s.ok()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = r.db->Put(wo, r.h(kCheckpoint), keys::kSnapshotKey, snapshot.SerializeAsString());
  }
  if (!s.ok()) r.sticky_error = FromRocks(s);
  return FromRocks(s);
}

Status RocksDbStore::Recover(core::HubState* state, uint64_t* replayed) {
  Rep& r = *rep_;
  std::string value;
  rocksdb::Status s = r.db->Get(rocksdb::ReadOptions(), r.h(kCheckpoint), keys::kSnapshotKey, &value);
  if (s.ok()) {
    v1::HubSnapshot snapshot;
    if (!snapshot.ParseFromString(value)) return Status::Corruption("checkpoint does not parse");
    state->Restore(snapshot);
  } else if (!s.IsNotFound()) {
    return FromRocks(s);
  }
  uint64_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it(r.db->NewIterator(rocksdb::ReadOptions(), r.h(kLog)));
  v1::LogRecord rec;
  core::ApplyResult result;
  for (it->Seek(keys::LogKey(state->last_hub_seq() + 1)); it->Valid(); it->Next()) {
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("log record does not parse at key " + it->key().ToString(true));
    if (rec.hub_seq() != keys::DecodeBigEndian64(it->key().ToStringView()))
      return Status::Corruption("log record hub_seq differs from its key");
    state->Apply(rec, &result);
    if (result.outcome != core::ApplyResult::Outcome::kApplied)
      return Status::Corruption("log record " + std::to_string(rec.hub_seq()) +
                                " does not replay: " + result.reject_reason);
    ++count;
  }
  if (!it->status().ok()) return FromRocks(it->status());
  if (replayed != nullptr) *replayed = count;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Reads

Status RocksDbStore::LastHubSeq(uint64_t* hub_seq) {
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kLog)));
  it->SeekToLast();
  *hub_seq = it->Valid() ? keys::DecodeBigEndian64(it->key().ToStringView()) : 0;
  return FromRocks(it->status());
}

Status RocksDbStore::ScannerMarks(std::vector<v1::ScannerMark>* marks) {
  marks->clear();
  std::unique_ptr<rocksdb::Iterator> it(
      rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kScanners)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto* m = &marks->emplace_back();
    m->set_scanner_id(it->key().ToString());
    m->set_seq(keys::DecodeBigEndian64(it->value().ToStringView()));
  }
  return FromRocks(it->status());
}

Status RocksDbStore::ReadLog(uint64_t from_hub_seq, size_t limit, std::vector<v1::LogRecord>* out) {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kLog)));
  for (it->Seek(keys::LogKey(from_hub_seq)); it->Valid() && out->size() < limit; it->Next()) {
    if (!out->emplace_back().ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("log record does not parse");
  }
  return FromRocks(it->status());
}

Status RocksDbStore::LoadCase(uint64_t case_id, v1::ExceptionCase* out) {
  return GetCase(case_id, out);
}

Status RocksDbStore::GetCase(uint64_t case_id, v1::ExceptionCase* out) {
  std::string value;
  rocksdb::Status s = rep_->db->Get(rocksdb::ReadOptions(), rep_->h(kCases), keys::CaseKey(case_id), &value);
  if (!s.ok()) return FromRocks(s);
  if (!out->ParseFromString(value)) return Status::Corruption("case does not parse");
  return Status::Ok();
}

Status RocksDbStore::AllCases(std::vector<v1::ExceptionCase>* out) {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kCases)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!out->emplace_back().ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("case does not parse");
  }
  return FromRocks(it->status());
}

namespace {
Status IdsUnderPrefix(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& prefix,
                      std::vector<uint64_t>* ids) {
  ids->clear();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string_view k = it->key().ToStringView();
    ids->push_back(keys::DecodeBigEndian64(k.substr(k.size() - 8)));
  }
  return FromRocks(it->status());
}
}  // namespace

Status RocksDbStore::CaseIdsByTypeStatus(v1::ExceptionType type, v1::ExceptionStatus status,
                                         std::vector<uint64_t>* ids) {
  return IdsUnderPrefix(rep_->db.get(), rep_->h(kCaseIndex), keys::CaseTypeIndexPrefix(type, status), ids);
}

Status RocksDbStore::CaseIdsForEntity(keys::Kind kind, const std::string& id,
                                      std::vector<uint64_t>* ids) {
  return IdsUnderPrefix(rep_->db.get(), rep_->h(kCaseIndex), keys::CaseEntityIndexPrefix(kind, id), ids);
}

Status RocksDbStore::Archived(keys::Kind kind, const std::string& id,
                              std::vector<v1::ArchivedEntity>* out) {
  out->clear();
  const std::string prefix = keys::ArchivePrefix(kind, id);
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kArchive)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!out->emplace_back().ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("archived entity does not parse");
  }
  return FromRocks(it->status());
}

}  // namespace hub::store
