#pragma once

// A group commit in the making (the sequencer's end of the write path,
// store/rocksdb_store.h): each applied record is added with its
// core::ApplyResult, and RocksDbStore::Commit() writes the whole group in one
// RocksDB WriteBatch. The log records, the audit rows, the hour index and
// retention's range deletes go into the WriteBatch as they are added; the
// scanner marks and seq rows, the cases and their index entries once per
// commit; retired entities are kept for the archive writer, entity touches
// for the live index. A case action whose case is not in the batch reads
// the case from the store to change its status. Layout: store/key_format.h.
//
// The batch's contents (CommitBatch::Rep) are shared with RocksDbStore
// through store/commit_batch_internal.h, which nothing outside store/ includes.

#include <cstddef>
#include <cstdint>
#include <memory>

#include <google/protobuf/message_lite.h>

#include "core/hub_state.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/record.pb.h"

namespace hub::store {

class RocksDbStore;

// A case raised or changed by a commit: the case as it is now, and the hub
// sequence of the record that raised or last changed it.
struct CaseChange {
  uint64_t hub_seq = 0;
  v1::ExceptionCase c;
};

// One group commit in the making. Not thread-safe; reusable after Commit().
class CommitBatch {
 public:
  // `store` must outlive the batch.
  explicit CommitBatch(RocksDbStore* store);
  ~CommitBatch();
  CommitBatch(const CommitBatch&) = delete;
  CommitBatch& operator=(const CommitBatch&) = delete;

  // Adds an applied record and what it produced. `result` must be the
  // outcome of applying exactly this record. kApplied is logged; an event
  // rejected with a code that consumes its seq moves its scanner's mark
  // only; other outcomes are ignored (nothing to persist). The retired entities are moved out of
  // *result: they go to the archive writer after the commit.
  // A record written through the API passes its `origin` (who, when): it
  // is logged with the record, and the record gets a row in the audit
  // index in the same batch (AuditAfter).
  void AddEvent(const v1::ScanEvent& event, core::ApplyResult* result);
  void AddReference(const v1::ReferenceChange& change, core::ApplyResult* result,
                    const v1::Origin* origin = nullptr);
  void AddCaseAction(const v1::CaseAction& action, core::ApplyResult* result,
                     const v1::Origin* origin = nullptr);
  // Logs the record and removes what it ages out (store/retention.h).
  void AddRetention(const v1::Retention& retention, core::ApplyResult* result);
  // `hub_seq` is the first record in `hour` of hub time (the time index
  // retention reads).
  void NoteHour(int64_t hour, uint64_t hub_seq);
  // Dispatches on rec's body.
  void Add(const v1::LogRecord& rec, core::ApplyResult* result);

  // Log records added so far.
  size_t records() const;
  // Nothing to write: no record and no scanner mark (a batch of rejected
  // events still moves their scanners' marks).
  bool empty() const;
  void Clear();

 private:
  friend class RocksDbStore;
  struct Rep;
  void AddRecord(int field, const google::protobuf::MessageLite& body,
                 core::ApplyResult* result, const v1::Origin* origin = nullptr);
  std::unique_ptr<Rep> rep_;
};

}  // namespace hub::store
