#include "store/archive_writer.h"

#include <rocksdb/write_batch.h>

#include <algorithm>

#include "store/store_util.h"

namespace hub::store {

ArchiveWriter::ArchiveWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* archive,
                             LiveIndex* index, bool drop_jobs, uint64_t cursor,
                             std::function<Status()> guard)
    : db_(db), archive_(archive), index_(index), drop_jobs_(drop_jobs), guard_(std::move(guard)),
      cursor_(cursor), queued_cursor_(cursor), thread_([this] { Run(); }) {}

ArchiveWriter::~ArchiveWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  thread_.join();
}

void ArchiveWriter::Enqueue(uint64_t through, std::vector<v1::ArchivedEntity>&& rows) {
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return queued_rows_ < kMaxQueuedRows || !error_.ok(); });
  queued_rows_ += rows.size();
  queued_cursor_ = std::max(queued_cursor_, through);
  jobs_.push_back(Job{through, std::move(rows)});
  lock.unlock();
  work_.notify_one();
}

Status ArchiveWriter::Flush(uint64_t through) {
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

uint64_t ArchiveWriter::cursor() {
  std::lock_guard<std::mutex> lock(mu_);
  return cursor_;
}

void ArchiveWriter::Resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = Status::Ok();
  }
  work_.notify_all();
}

void ArchiveWriter::Run() {
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

}  // namespace hub::store
