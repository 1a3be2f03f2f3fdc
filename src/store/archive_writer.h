#pragma once

#include <rocksdb/db.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "hub/v1/record.pb.h"
#include "store/live_index.h"
#include "store/status.h"

namespace hub::store {

// Writes retired entities to the archive column family on its own thread,
// each job with the cursor "archive_cursor" (default CF) in one WriteBatch.
// Jobs arrive only after the log records that produced them are committed.
class ArchiveWriter {
 public:
  static constexpr size_t kMaxQueuedRows = 1 << 20;  // then Enqueue() blocks

  // `guard` is asked before each write (the store's low-disk guard); a
  // failure keeps the jobs for Resume() like a failed write.
  ArchiveWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* archive, LiveIndex* index,
                bool drop_jobs, uint64_t cursor, std::function<Status()> guard = nullptr);
  ~ArchiveWriter();

  // Queues rows retired by records up to `through`; blocks while the queue
  // is full. Called by the writer thread of the store only.
  void Enqueue(uint64_t through, std::vector<v1::ArchivedEntity>&& rows);

  Status Flush(uint64_t through);

  uint64_t cursor();

  // After a failed write (the disk was full), the failed jobs stay queued
  // and the writer waits; once the store writes again, this clears the
  // error and the writer retries them. The cursor never passes a job that
  // was not written, so a crash meanwhile loses no row (recovery re-archives
  // from the cursor).
  void Resume();

 private:
  struct Job {
    uint64_t through;
    std::vector<v1::ArchivedEntity> rows;
  };

  void Run();

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const archive_;
  LiveIndex* const index_;
  const bool drop_jobs_;
  const std::function<Status()> guard_;
  std::mutex mu_;
  std::condition_variable work_, done_;
  std::deque<Job> jobs_;          // GUARDED_BY(mu_)
  size_t queued_rows_ = 0;        // GUARDED_BY(mu_)
  uint64_t cursor_;               // GUARDED_BY(mu_): durable
  uint64_t queued_cursor_;        // GUARDED_BY(mu_)
  bool stop_ = false;             // GUARDED_BY(mu_)
  Status error_;                  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace hub::store
