#pragma once

#include <rocksdb/db.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "hub/v1/record.pb.h"
#include "store/fault_fs.h"
#include "store/live_index.h"
#include "store/status.h"

namespace hub::store {

// Keeps the live index and writes retired entities to the archive column
// family, on its own thread, off the single writer. A job is one commit's
// work: its touches go into the live index (which gives the retired rows
// their hub_seqs), then its rows go to the archive with the cursor
// "archive_cursor" (default CF) in one WriteBatch. Jobs arrive in hub order,
// only after the log records that produced them are committed; a job whose
// rows are written is not indexed again.
class ArchiveWriter {
 public:
  // Rows and touches queued; then Enqueue() blocks.
  static constexpr size_t kMaxQueued = 1 << 21;
  // Commits without retired rows queued before the thread is woken for them.
  static constexpr size_t kWakeJobs = 64;

  // `guard` is asked before each write (the store's low-disk guard); a
  // failure keeps the jobs for Resume() like a failed write.
  // `faults` (tests only; may be null) can drop every job or hold the thread.
  ArchiveWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* archive, LiveIndex* index,
                const FaultInjection* faults, uint64_t cursor,
                std::function<Status()> guard = nullptr);
  ~ArchiveWriter();

  // Queues one commit of records up to `through`: what they touched, the
  // rows they retired (hub_seqs still to be filled in by the index) and,
  // for a retention record, the hub_seq it aged records out through. Blocks
  // while the queue is full. Called by one commit at a time (the store's
  // Commit), in hub order.
  void Enqueue(uint64_t through, Touches&& touches, std::vector<v1::ArchivedEntity>&& rows,
               std::optional<uint64_t> aged_through);
  // Queues rows whose hub_seqs are filled in already (recovery indexes as
  // it replays).
  void EnqueueIndexed(uint64_t through, std::vector<v1::ArchivedEntity>&& rows);

  // Waits until every row retired through `through` is durable (and the
  // index covers `through`).
  Status Flush(uint64_t through);

  // Wakes the thread for the jobs queued so far (a reader waits for the
  // index to cover them).
  void CatchUp();

  uint64_t cursor();
  // A test's fault: jobs are dropped, never written (the cursor stays).
  bool drops_jobs() const { return drop_jobs_; }

  // After a failed write (the disk was full), the failed jobs stay queued
  // and the writer waits; once the store writes again, this clears the
  // error and the writer retries them. The cursor never passes a job that
  // was not written, so a crash meanwhile loses no row (recovery re-archives
  // from the cursor).
  void Resume();

 private:
  struct Job {
    uint64_t through = 0;
    Touches touches;
    std::vector<v1::ArchivedEntity> rows;
    std::optional<uint64_t> aged_through;
    bool indexed = false;
    bool flush = false;  // write the cursor even without rows
  };

  void Push(Job&& job, size_t items);
  void Run();
  Status Write(const std::deque<Job>& jobs, rocksdb::WriteBatch* wb);

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const archive_;
  LiveIndex* const index_;
  const FaultInjection* const faults_;
  const bool drop_jobs_;
  const std::function<Status()> guard_;
  std::mutex mu_;
  std::condition_variable work_, done_;
  std::deque<Job> jobs_;          // GUARDED_BY(mu_)
  size_t queued_ = 0;             // GUARDED_BY(mu_): rows and touches
  size_t fresh_ = 0;              // GUARDED_BY(mu_): jobs not indexed yet
  uint64_t cursor_;               // GUARDED_BY(mu_): durable
  bool stop_ = false;             // GUARDED_BY(mu_)
  Status error_;                  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace hub::store
