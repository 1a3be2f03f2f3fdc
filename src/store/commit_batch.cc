#include "store/commit_batch.h"

#include "core/validate.h"
#include "store/commit_batch_internal.h"
#include "store/key_format.h"
#include "store/retention.h"
#include "store/rocksdb_store.h"
#include "store/store_util.h"

namespace hub::store {

CommitBatch::CommitBatch(RocksDbStore* store) : rep_(std::make_unique<Rep>()) {
  rep_->store = store;
  rep_->cf = &store->families();
}
CommitBatch::~CommitBatch() = default;

size_t CommitBatch::records() const { return rep_->records; }
bool CommitBatch::empty() const { return rep_->records == 0 && rep_->n_seqs == 0; }

void CommitBatch::Clear() {
  rep_->wb.Clear();
  rep_->records = 0;
  // Scanners come and go over a year: keep the lists of a working set only.
  if (rep_->seqs.size() > 4096) {
    rep_->seqs.clear();
  } else {
    for (auto& [scanner, used] : rep_->seqs) used.clear();
  }
  rep_->n_seqs = 0;
  rep_->cases.clear();
  rep_->retired.clear();
  rep_->retention.reset();
  rep_->touches.clear();  // handed to the archive writer: grows again
  rep_->touches.reserve(rep_->last_touches);
  rep_->error = Status::Ok();
}

void CommitBatch::AddRecord(int field, const google::protobuf::MessageLite& body,
                            core::ApplyResult* applied, const v1::Origin* origin) {
  if (applied->outcome != core::ApplyResult::Outcome::kApplied) return;
  const core::ApplyResult& result = *applied;
  Rep& r = *rep_;
  r.last_hub_seq = result.hub_seq;
  // A LogRecord serialised by hand: field 1 (hub_seq, varint), the body as
  // length-delimited field `field`, then the decision (field 5) of a sort
  // scan, the origin (field 7) of an API write and the dispatch advice
  // (field 8) of a departure to a next hub. Same bytes protobuf would
  // produce.
  std::string& v = r.scratch;
  v.clear();
  v.push_back(0x08);
  PutVarint(&v, result.hub_seq);
  PutMessageField(&v, field, body);
  if (result.has_decision) PutMessageField(&v, v1::LogRecord::kDecisionFieldNumber, result.decision);
  if (origin != nullptr) PutMessageField(&v, v1::LogRecord::kOriginFieldNumber, *origin);
  if (result.dispatch) PutMessageField(&v, v1::LogRecord::kDispatchFieldNumber, *result.dispatch);
  r.wb.Put(r.h(kLog), keys::LogKey(result.hub_seq), AsSlice(v));
  ++r.records;
  if (origin != nullptr) {
    v.clear();
    keys::PutBigEndian64(&v, static_cast<uint64_t>(origin->at_ms()));
    v += origin->who();
    r.wb.Put(r.h(kDefault), keys::AuditKey(result.hub_seq), AsSlice(v));
  }

  for (const auto& c : result.raised) {
    auto& pending = r.cases[c.id()];
    pending.c = c;
    pending.changed_at = result.hub_seq;
  }
  for (auto& a : applied->retired) r.retired.push_back(std::move(a));
  applied->retired.clear();
  if (result.transition) {
    const auto& t = *result.transition;
    auto it = r.cases.find(t.case_id);
    if (it == r.cases.end()) {
      Rep::PendingCase pending;
      Status s = r.store->GetCase(t.case_id, &pending.c);
      if (!s.ok()) {
        r.error = s;
        return;
      }
      pending.stored = true;
      pending.stored_status = pending.c.status();
      it = r.cases.emplace(t.case_id, std::move(pending)).first;
    }
    it->second.changed_at = result.hub_seq;
    t.ApplyTo(&it->second.c);
  }
}

void CommitBatch::AddEvent(const v1::ScanEvent& event, core::ApplyResult* result) {
  Rep& r = *rep_;
  uint64_t logged_as = 0;
  if (result->outcome == core::ApplyResult::Outcome::kApplied) {
    AddRecord(v1::LogRecord::kEvent, event, result);
    logged_as = result->hub_seq;
  } else if (result->outcome != core::ApplyResult::Outcome::kRejected ||
             !core::ConsumesSeq(result->reject_code) || !core::ValidScannerId(event.scanner_id())) {
    return;  // a re-send, or a reject that leaves the seq to be sent again
  }
  // The seq is used (by a logged record, or by a reject that consumes it):
  // the resume point covers it, and a re-send is checked against it.
  r.seqs[event.scanner_id()].emplace_back(event.seq(), logged_as);
  ++r.n_seqs;
  if (logged_as == 0) return;
  core::EntitiesOf(event, result->has_decision ? &result->decision : nullptr, &rep_->refs);
  rep_->AddTouches(result->hub_seq);
}

void CommitBatch::AddReference(const v1::ReferenceChange& change, core::ApplyResult* result,
                               const v1::Origin* origin) {
  if (result->outcome != core::ApplyResult::Outcome::kApplied) return;
  AddRecord(v1::LogRecord::kReference, change, result, origin);
  core::EntitiesOf(change, &rep_->refs);
  rep_->AddTouches(result->hub_seq);
}

void CommitBatch::AddCaseAction(const v1::CaseAction& action, core::ApplyResult* result,
                                const v1::Origin* origin) {
  AddRecord(v1::LogRecord::kCaseAction, action, result, origin);
}

void CommitBatch::AddRetention(const v1::Retention& retention, core::ApplyResult* result) {
  if (result->outcome != core::ApplyResult::Outcome::kApplied) return;
  AddRecord(v1::LogRecord::kRetention, retention, result);
  Rep& r = *rep_;
  r.wb.DeleteRange(r.h(kLog), keys::LogKey(0), keys::LogKey(retention.through_hub_seq() + 1));
  r.wb.DeleteRange(r.h(kCases), keys::CaseKey(0), keys::CaseKey(retention.through_case_id() + 1));
  r.wb.DeleteRange(r.h(kDefault), keys::HourKey(0),
                   keys::HourKey(retention.cutoff_ms() / core::kHourMs));
  r.wb.DeleteRange(r.h(kDefault), keys::AuditKey(0),
                   keys::AuditKey(retention.through_hub_seq() + 1));
  RetentionMark mark;
  mark.through_hub_seq = retention.through_hub_seq();
  mark.through_case_id = retention.through_case_id();
  mark.cutoff_ms = retention.cutoff_ms();
  r.wb.Put(r.h(kDefault), keys::kRetentionKey, mark.Encode());
  r.retention = retention;
}

void CommitBatch::NoteHour(int64_t hour, uint64_t hub_seq) {
  std::string value;
  keys::PutBigEndian64(&value, hub_seq);
  rep_->wb.Put(rep_->h(kDefault), keys::HourKey(hour), AsSlice(value));
}

void CommitBatch::Add(const v1::LogRecord& rec, core::ApplyResult* result) {
  switch (rec.body_case()) {
    case v1::LogRecord::kRetention: return AddRetention(rec.retention(), result);
    case v1::LogRecord::kEvent: return AddEvent(rec.event(), result);
    case v1::LogRecord::kReference:
      return AddReference(rec.reference(), result, rec.has_origin() ? &rec.origin() : nullptr);
    case v1::LogRecord::kCaseAction:
      return AddCaseAction(rec.case_action(), result, rec.has_origin() ? &rec.origin() : nullptr);
    case v1::LogRecord::BODY_NOT_SET: return;
  }
}

}  // namespace hub::store
