#pragma once

// What a CommitBatch holds (store/ only, as leveldb's
// write_batch_internal.h): commit_batch.cc fills it, RocksDbStore::Commit()
// writes it.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/views.h"
#include "store/commit_batch.h"
#include "store/live_index.h"
#include "store/status.h"
#include "store/store_util.h"

namespace hub::store {

struct CommitBatch::Rep {
  RocksDbStore* store;
  const std::vector<rocksdb::ColumnFamilyHandle*>* cf;  // the store's
  rocksdb::WriteBatch wb;
  size_t records = 0;
  std::string scratch;
  // Per scanner, in seq order: (seq, hub_seq it was logged as; 0 for a
  // reject that consumed it). The last seq is the scanner's new mark. A
  // scanner without seqs in this batch has an empty list: the lists keep
  // their capacity from one batch to the next.
  std::unordered_map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> seqs;
  size_t n_seqs = 0;  // seqs in use, over all scanners
  struct PendingCase {
    v1::ExceptionCase c;
    bool stored = false;  // already in the store: its old index key goes
    v1::ExceptionStatus stored_status = v1::EXCEPTION_STATUS_UNSPECIFIED;
    uint64_t changed_at = 0;  // hub_seq of the record that raised or last changed it
  };
  std::map<uint64_t, PendingCase> cases;
  std::vector<v1::ArchivedEntity> retired;  // for the archive writer
  std::optional<v1::Retention> retention;   // logged in this batch
  Touches touches;                          // for the live index
  size_t last_touches = 0;                  // in the last batch: room to reserve
  std::vector<core::EntityRef> refs;
  uint64_t last_hub_seq = 0;

  rocksdb::ColumnFamilyHandle* h(Cf c) const { return (*cf)[c]; }

  void AddTouches(uint64_t hub_seq) {
    for (const auto& ref : refs) touches.Add(hub_seq, static_cast<char>(ref.kind), *ref.id);
    refs.clear();
  }
  Status error;  // a transition whose case could not be read
};

}  // namespace hub::store
