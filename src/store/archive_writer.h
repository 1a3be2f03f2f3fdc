#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "hub/v1/record.pb.h"
#include "store/live_index.h"
#include "store/store_util.h"

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
                bool drop_jobs, uint64_t cursor, std::function<Status()> guard = nullptr)
      : db_(db), archive_(archive), index_(index), drop_jobs_(drop_jobs), guard_(std::move(guard)),
        cursor_(cursor), queued_cursor_(cursor), thread_([this] { Run(); }) {}

  ~ArchiveWriter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_.notify_all();
    thread_.join();
  }

  // Queues rows retired by records up to `through`; blocks while the queue
  // is full. Called by the writer thread of the store only.
  void Enqueue(uint64_t through, std::vector<v1::ArchivedEntity>&& rows) {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return queued_rows_ < kMaxQueuedRows || !error_.ok(); });
    queued_rows_ += rows.size();
    queued_cursor_ = std::max(queued_cursor_, through);
    jobs_.push_back(Job{through, std::move(rows)});
    lock.unlock();
    work_.notify_one();
  }

  Status Flush(uint64_t through) {
    std::unique_lock<std::mutex> lock(mu_);
    if (through > queued_cursor_) {
      queued_cursor_ = through;
      jobs_.push_back(Job{through, {}});
      work_.notify_one();
    }
    if (drop_jobs_) return Status::Ok();
    done_.wait(lock, [&] { return cursor_ >= through || !error_.ok(); });
    return error_;
  }

  uint64_t cursor() {
    std::lock_guard<std::mutex> lock(mu_);
    return cursor_;
  }

  // After a failed write (the disk was full), the failed jobs stay queued
  // and the writer waits; once the store writes again, this clears the
  // error and the writer retries them. The cursor never passes a job that
  // was not written, so a crash meanwhile loses no row (recovery re-archives
  // from the cursor).
  void Resume() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = Status::Ok();
    }
    work_.notify_all();
  }

 private:
  struct Job {
    uint64_t through;
    std::vector<v1::ArchivedEntity> rows;
  };

  void Run() {
    std::deque<Job> jobs;
    rocksdb::WriteBatch wb;
    std::string value, cursor_value;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_.wait(lock, [&] { return stop_ || (!jobs_.empty() && error_.ok()); });
        if (jobs_.empty() || !error_.ok()) return;  // stopping: drained, or failed (the
                                                    // log holds what is left)
        jobs.swap(jobs_);
      }
      uint64_t through = 0;
      size_t rows = 0;
      wb.Clear();
      for (const Job& job : jobs) {
        through = std::max(through, job.through);
        rows += job.rows.size();
        for (const auto& a : job.rows) {
          a.SerializeToString(&value);
          wb.Put(archive_, ArchiveKeyOf(a), AsSlice(value));
        }
      }
      cursor_value.clear();
      keys::PutBigEndian64(&cursor_value, through);
      wb.Put(keys::kArchiveCursorKey, AsSlice(cursor_value));
      Status s = guard_ ? guard_() : Status::Ok();
      if (s.ok()) s = drop_jobs_ ? Status::Ok() : FromRocks(db_->Write(rocksdb::WriteOptions(), &wb));
      if (s.ok() && !drop_jobs_)
        for (const Job& job : jobs)
          for (const auto& a : job.rows) index_->Forget(a);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (s.ok()) {
          queued_rows_ -= rows;
        } else {
          // Kept, in order, ahead of later jobs, for Resume().
          for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) jobs_.push_front(std::move(*it));
          if (error_.ok()) error_ = s;
        }
        jobs.clear();
        if (s.ok() && !drop_jobs_) cursor_ = std::max(cursor_, through);
      }
      done_.notify_all();
    }
  }

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
