#pragma once

// RocksDB adapter: the hub's durable event log plus everything derived from
// it that must be queryable (cases and their indexes, retired entities,
// scanner marks, the state checkpoint). Layout: store/key_format.h.
//
// Write path: the sequencer applies records to core::HubState, adds each
// record with its ApplyResult to a CommitBatch, and calls Commit() once per
// group; acks go out only after Commit() returns OK. A failed commit is
// sticky: every later Commit() fails too, so memory never runs ahead of disk.
//
// Off the ack path: entities that left the hub are written to the archive by
// a background writer after their commit, together with a durable cursor
// (the hub_seq through which every retirement is archived). Archive rows are
// random-key writes, about one per parcel; keeping them out of the group
// commit keeps the ack path to sequential appends (see bench/RESULTS.md).
//
// Recovery: Recover() loads the checkpoint (if any) into a fresh HubState and
// replays the log after it. Because the core is deterministic this rebuilds
// exactly the state, cases and scanner marks the core had; retirements after
// the archive cursor are handed to the archive writer again (idempotent
// puts), so a crash at any moment loses no archive row. A checkpoint is only
// written once the archive has caught up with it.
//
// Thread safety: Commit(), WriteCheckpoint() and Recover() belong to one
// writer at a time (the sequencer hands a group to its committer thread and
// waits for it before it writes again itself). A CommitBatch may be filled
// on another thread while a Commit() runs. The read methods may be called from any thread at any time;
// each reads one consistent point in time.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/hub_state.h"
#include "hub/v1/admin.pb.h"
#include "hub/v1/desk.pb.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/record.pb.h"
#include "store/commit_batch.h"
#include "store/key_format.h"
#include "store/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
struct ReadOptions;
}

namespace hub::store {

class FaultInjection;

enum class Durability {
  kWal,    // WAL written before ack: survives a process crash (kill -9)
  kFsync,  // WAL fsynced per group commit: survives power loss
};

struct StoreOptions {
  std::string path;
  Durability durability = Durability::kWal;
  // The fault seam for tests (store/fault_fs.h): RocksDB's files go through
  // it, so a test can make writes fail as on a full disk, and the store
  // asks it for its own faults (lost archive jobs, an older format).
  // nullptr in production.
  std::shared_ptr<FaultInjection> faults;
  // Low-disk guard: a commit is refused (NoSpace, sticky like any failed
  // write) while the data directory's file system has less than this free,
  // and TryResume() waits for it again. RocksDB must never meet ENOSPC
  // itself: Debian's librocksdb aborts on an assertion when a write fails
  // that way (store/disk_space.h). 0 turns the guard off.
  uint64_t min_free_bytes = 0;
};

// The layout version this code writes and reads (key_format.h). Format 1
// (before 2026-11-28) had no entity index, no sort decisions in the log and
// no (type, status, id) case index; Recover() refuses it with a way out.
inline constexpr uint64_t kStoreFormat = 2;

class RocksDbStore;

// What RocksDB's WAL recovery dropped when the store was opened: a torn or
// corrupt tail (hubd crashed or the machine lost power mid-write, or a disk
// error). The store keeps RocksDB's point-in-time recovery: replay stops at
// the first bad record, so the database is a prefix of what was written and
// never has a hole; everything after that record is dropped. Found by
// reading the WAL files before RocksDB opens them (store/wal_tail.h).
struct WalTailLoss {
  uint64_t batches = 0;       // write batches (group commits) dropped, torn ones included
  uint64_t bytes = 0;         // WAL bytes from the first bad record to the end
  std::string wal_file;       // where the first bad record is
  uint64_t offset = 0;        // its byte offset in that file
  std::string reason;         // what is wrong with it ("checksum mismatch", "truncated")
  // Hub sequences of log records inside the dropped batches that could
  // still be decoded (0, 0: none could; a torn record cannot be).
  uint64_t first_hub_seq = 0, last_hub_seq = 0;
};

// Checkpoints written while running (metrics).
struct CheckpointStats {
  uint64_t written = 0, failed = 0;
  uint64_t last_hub_seq = 0;  // of the last checkpoint written
  double last_seconds = 0;    // time that write took
  std::string last_error;     // of the last failed one
};

// One consistent point in time for a group of reads (a RocksDB snapshot).
// Reads given the same view see the same data, whatever commits meanwhile.
// Must not outlive the store that made it.
class ReadView {
 public:
  ~ReadView();
  ReadView(const ReadView&) = delete;
  ReadView& operator=(const ReadView&) = delete;

 private:
  friend class RocksDbStore;
  ReadView() = default;
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

class RocksDbStore {
 public:
  // Opens (creating if needed) the database at options.path.
  static Status Open(const StoreOptions& options, std::unique_ptr<RocksDbStore>* out);
  // Flushes and closes the database.
  ~RocksDbStore();

  // Writes the batch atomically (WAL synced in kFsync mode) and clears it.
  // A failure clears it too (nothing of it is written) and is sticky until
  // TryResume() succeeds. On success, `changed` (if given) gets the cases
  // the batch raised or changed, in hub order.
  Status Commit(CommitBatch* batch, std::vector<CaseChange>* changed = nullptr);

  // Stores `snapshot` as the recovery starting point, with the entity index
  // at the same hub_seq. The caller guarantees every record up to
  // snapshot.last_hub_seq() is committed. Flushes the archive through it and
  // syncs the WAL first, so the checkpoint is never ahead of a durable log.
  // Waits for a background checkpoint in progress; a failure is sticky.
  Status WriteCheckpoint(const v1::HubSnapshot& snapshot);
  // The same on the checkpoint writer's thread, while commits go on (the
  // writer thread takes the snapshot; this returns at once). False when the
  // previous one is still being written or the store has failed: try later.
  // A failure is logged and counted (Checkpoints()), not sticky: the log
  // still holds everything, recovery just replays more.
  bool CheckpointInBackground(v1::HubSnapshot&& snapshot);
  // The same for a snapshot at `hub_seq` that `serialize` produces on the
  // writer's thread (the sequencer's forked child: sequencer/forked_snapshot.h).
  bool CheckpointInBackground(uint64_t hub_seq,
                              std::function<Status(std::string* serialized)> serialize);
  bool CheckpointBusy();
  CheckpointStats Checkpoints();
  // Hub_seq of the newest durable checkpoint (recovered or written since).
  uint64_t CheckpointedThrough();

  // --- Retention -----------------------------------------------------------
  // What has aged out so far (0s: nothing).
  struct Retained {
    uint64_t through_hub_seq = 0, through_case_id = 0;
    int64_t cutoff_ms = 0;
  };
  Retained RetainedSoFar() const;
  // The Retention to log now for records older than `cutoff_ms` of hub
  // time (whole hours), through `limit` at most: false when nothing more
  // has aged out.
  Status RetentionPoint(int64_t cutoff_ms, uint64_t limit, v1::Retention* out, bool* due);

  // Rebuilds `state` (which must be fresh) from the checkpoint and the log.
  // *replayed gets the number of log records applied after the checkpoint.
  // A database of another store format is refused (InvalidArgument); the
  // read methods (ReadLog for an export) still work on it.
  Status Recover(core::HubState* state, uint64_t* replayed = nullptr);

  // What WAL recovery dropped at Open() (nullopt: nothing).
  const std::optional<WalTailLoss>& wal_tail_loss() const;

  // --- Failed writes ---------------------------------------------------------
  // True while a write has failed and none has succeeded since (sticky).
  bool failed() const;
  // Tries to leave the failed state, from the writer thread: asks RocksDB
  // to resume (it flushes the memtables to a new WAL, which needs the disk
  // to take writes again) and, when it does, clears the sticky error. OK
  // when the store was not failed or writes again; the error otherwise.
  // After OK the caller must rebuild its HubState with Reload(): the
  // batches that failed were applied in memory but are not on disk.
  Status TryResume();
  // Rebuilds `state` from what is durable (checkpoint, log, scanner marks),
  // as Recover() does, without touching the entity index or the archive
  // (both only ever hold committed data). Writer thread only.
  Status Reload(core::HubState* state);

  // --- Backup ----------------------------------------------------------------
  // Writes an online backup into `dir` (store/backup.h: an absolute path
  // that does not exist yet) while commits go on; every commit that
  // returned before the call is in it. *out gets its manifest (hub_seq
  // included). Any thread; backups run one at a time.
  Status Backup(const std::string& dir, v1::BackupManifest* out);

  // --- The feed's cursor (feed/feed_publisher.h) ------------------------------
  // Every feed message up to (hub_seq, part) is in the feed's stream; 0, 0
  // when nothing is (or the feed never ran). Any thread.
  Status ReadFeedCursor(uint64_t* hub_seq, uint32_t* part);
  Status WriteFeedCursor(uint64_t hub_seq, uint32_t part);

  // --- Reads ---------------------------------------------------------------
  // The case reads below take an optional view; without one each call reads
  // the latest committed data.
  std::unique_ptr<ReadView> NewReadView();
  Status LastHubSeq(uint64_t* hub_seq);
  // Durable high-water mark of every scanner, sorted by scanner id.
  Status ScannerMarks(std::vector<v1::ScannerMark>* marks);
  Status ReadLog(uint64_t from_hub_seq, size_t limit, std::vector<v1::LogRecord>* out);
  Status GetCase(uint64_t case_id, v1::ExceptionCase* out, const ReadView* view = nullptr);
  // Every case, in id order.
  Status AllCases(std::vector<v1::ExceptionCase>* out);
  // Up to `limit` cases with id > after that satisfy `keep`, in id order.
  Status CasesAfter(uint64_t after, size_t limit,
                    const std::function<bool(const v1::ExceptionCase&)>& keep,
                    std::vector<v1::ExceptionCase>* out, const ReadView* view = nullptr);
  // Newest first: up to `limit` cases with id < before that satisfy `keep`,
  // looking at no more than `max_examined`; *last_examined is the smallest
  // id looked at (0 when the scan reached the oldest case).
  Status CasesBefore(uint64_t before, size_t limit, size_t max_examined,
                     const std::function<bool(const v1::ExceptionCase&)>& keep,
                     std::vector<v1::ExceptionCase>* out, uint64_t* last_examined,
                     const ReadView* view = nullptr);
  // Up to `limit` cases of this type, in one of `statuses`, with id > after,
  // that satisfy `keep`, in id order (reads only cases of that type).
  Status CasesByType(v1::ExceptionType type, const std::vector<v1::ExceptionStatus>& statuses,
                     uint64_t after, size_t limit,
                     const std::function<bool(const v1::ExceptionCase&)>& keep,
                     std::vector<v1::ExceptionCase>* out, const ReadView* view = nullptr);
  // Number of cases with this type and status and from_ms <= event time <= to_ms.
  // Each case of this type and status with event time in [from_ms, to_ms],
  // in time order: fn(event_time_ms, case_id).
  Status ForEachCaseInWindow(v1::ExceptionType type, v1::ExceptionStatus status, int64_t from_ms,
                             int64_t to_ms, const std::function<void(int64_t, uint64_t)>& fn,
                             const ReadView* view = nullptr);
  // The oldest open case (smallest id) of this type; 0 when none.
  Status OldestOpenCase(v1::ExceptionType type, uint64_t* case_id, const ReadView* view = nullptr);
  Status CountCases(v1::ExceptionType type, v1::ExceptionStatus status, int64_t from_ms,
                    int64_t to_ms, uint64_t* count, const ReadView* view = nullptr);
  // The audit trail: up to `limit` entries with hub_seq > after that pass
  // `filter`, oldest first, each built from its log record
  // (core::AuditEntryOf), all read at one point in time. Rows that fail the
  // filter cost a step of an iterator over the (small) audit index, not a
  // log read. Records from before the audit trail existed have no entry.
  struct AuditFilter {
    int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;  // on at_ms, inclusive
    std::string who;                                 // empty: anyone
  };
  Status AuditAfter(uint64_t after, size_t limit, const AuditFilter& filter,
                    std::vector<v1::AuditEntry>* out, const ReadView* view = nullptr);
  // Case ids that involve this vehicle / bag / parcel / load, in id order.
  Status CaseIdsForEntity(keys::Kind kind, const std::string& id, std::vector<uint64_t>* ids,
                          const ReadView* view = nullptr);
  // Blocks until every retirement up to `hub_seq` is archived (durable
  // cursor written), or the writer failed.
  Status FlushArchive(uint64_t hub_seq);
  // Hub_seq through which the archive is complete.
  uint64_t ArchiveCursor();
  // Every archived row of one entity, oldest first.
  Status Archived(keys::Kind kind, const std::string& id, std::vector<v1::ArchivedEntity>* out,
                  const ReadView* view = nullptr);

  // Every log record that involved one entity, in hub order (at most
  // `limit`, the newest), read at one point in time: *view is set to that
  // point so the caller can read the entity's cases consistently. *retired
  // gets the hub_seqs at which the entity left the hub (one per life).
  // Covers every record committed before the call.
  struct EntityHistory {
    std::vector<v1::LogRecord> records;
    std::vector<uint64_t> retired_at;
    std::vector<uint64_t> forgotten_at;  // those of retired_at that forgot an idle entity
    bool truncated = false;  // more than `limit` records
    bool aged_out = false;   // older records of the entity aged out (retention)
    std::unique_ptr<ReadView> view;
  };
  Status History(keys::Kind kind, const std::string& id, size_t limit, EntityHistory* out);
  // What a re-sent event (seq at or below its scanner's mark) is, checked
  // against what its seq was used for (CF "seqs"): the same event again
  // (with the decision it got, for a sort scan), or another one under a
  // used seq (reused, with the reason for the scanner). A seq without a row
  // (logged before the family existed, or aged out) is taken for the same
  // event.
  struct ResendCheck {
    bool reused = false;
    std::string reason;
    std::optional<v1::SortDecision> decision;
  };
  Status CheckResend(const v1::ScanEvent& resent, ResendCheck* out);
  // The hub_seq a scanner's seq was logged as (0: a reject that consumed
  // the seq); NotFound when the store has no row for it.
  Status LoggedAs(const std::string& scanner_id, uint64_t seq, uint64_t* hub_seq);
  // The decision the log holds for a scanner's sort scan: the record of
  // `parcel_id`'s history whose event is (scanner_id, seq). A no-read (empty
  // parcel_id) is always DIVERT_NO_READ and needs no read. NotFound when the
  // parcel has no such scan (a re-send whose content differs from the
  // original, or a record aged out).
  Status SortDecisionOf(const std::string& scanner_id, uint64_t seq, const std::string& parcel_id,
                        v1::SortDecision* out);
  // Compacts every column family down to its last level (an operator's
  // `hubd --compact`, and the storage benchmark).
  Status CompactAll();
  // Bytes on disk by column family (live SST files) and of the WAL.
  struct FamilySpace {
    std::string family;
    uint64_t sst_bytes = 0;
    uint64_t sst_files = 0;
  };
  Status SpaceUsed(std::vector<FamilySpace>* families, uint64_t* wal_bytes);
  // Number of entities in the in-memory entity index (for metrics and tests).
  size_t LiveIndexSize();
  // Bytes RocksDB holds in memory in its write buffers (memtables, over
  // every column family, flushed ones not yet freed included).
  uint64_t MemtableBytes();

 private:
  friend class CommitBatch;
  struct Rep;
  explicit RocksDbStore(std::unique_ptr<Rep> rep);
  // For CommitBatch: the column family handles, by store_util.h's Cf.
  const std::vector<rocksdb::ColumnFamilyHandle*>& families() const;
  static rocksdb::ReadOptions ReadOptionsFor(const ReadView* view);
  // Recover() and Reload(): checkpoint + log replay (+ index and archive
  // when `rebuild_index`) + scanner marks.
  Status Replay(core::HubState* state, bool rebuild_index, uint64_t* replayed);
  // The low-disk guard (StoreOptions::min_free_bytes).
  Status CheckFreeSpace();
  std::unique_ptr<Rep> rep_;
};

}  // namespace hub::store
