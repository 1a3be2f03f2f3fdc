#include "store/archive_writer.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>

#include "store/store_util.h"
#include "util/thread_name.h"

namespace hub::store {

ArchiveWriter::ArchiveWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* archive,
                             LiveIndex* index, const FaultInjection* faults, uint64_t cursor,
                             std::function<Status()> guard)
    : db_(db), archive_(archive), index_(index), faults_(faults),
      drop_jobs_(faults != nullptr && faults->drop_archive_jobs()), guard_(std::move(guard)),
      cursor_(cursor), thread_([this] { Run(); }) {}

ArchiveWriter::~ArchiveWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  thread_.join();
}

void ArchiveWriter::Push(Job&& job, size_t items) {
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return queued_ < kMaxQueued || !error_.ok(); });
  queued_ += items;
  if (!job.indexed) ++fresh_;
  // A commit of a few scans (one frame from one of many scanners) is not
  // worth a wake-up of its own: the thread is woken for rows to write, for
  // every kWakeJobs commits, and by CatchUp() for a reader.
  const bool wake = !job.rows.empty() || fresh_ >= kWakeJobs;
  jobs_.push_back(std::move(job));
  lock.unlock();
  if (wake) work_.notify_one();
}

void ArchiveWriter::CatchUp() { work_.notify_one(); }

void ArchiveWriter::Enqueue(uint64_t through, Touches&& touches,
                            std::vector<v1::ArchivedEntity>&& rows,
                            std::optional<uint64_t> aged_through) {
  Job job;
  job.through = through;
  job.touches = std::move(touches);
  job.rows = std::move(rows);
  job.aged_through = aged_through;
  const size_t items = job.touches.size() + job.rows.size();
  Push(std::move(job), items);
}

void ArchiveWriter::EnqueueIndexed(uint64_t through, std::vector<v1::ArchivedEntity>&& rows) {
  Job job;
  job.through = through;
  job.rows = std::move(rows);
  job.indexed = true;
  const size_t items = job.rows.size();
  Push(std::move(job), items);
}

Status ArchiveWriter::Flush(uint64_t through) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (cursor_ < through) {
      Job job;
      job.through = through;
      job.flush = true;
      jobs_.push_back(std::move(job));
      ++fresh_;
      work_.notify_one();
    }
    if (!drop_jobs_) {
      done_.wait(lock, [&] { return cursor_ >= through || !error_.ok(); });
      return error_;
    }
  }
  index_->WaitFor(through);  // nothing is written: only the index catches up
  return Status::Ok();
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

Status ArchiveWriter::Write(const std::deque<Job>& jobs, rocksdb::WriteBatch* wb) {
  uint64_t through = 0;
  bool flush = false;
  std::string value;
  wb->Clear();
  for (const Job& job : jobs) {
    through = std::max(through, job.through);
    flush = flush || job.flush;
    for (const auto& a : job.rows) {
      a.SerializeToString(&value);
      wb->Put(archive_, ArchiveKeyOf(a), AsSlice(value));
    }
  }
  if (wb->Count() == 0 && !flush) return Status::Ok();  // nothing retired: the cursor can wait
  {
    // A flush job may come up after later jobs were written: the cursor
    // never goes back (recovery would archive those rows again from an
    // index that no longer has their entities).
    std::lock_guard<std::mutex> lock(mu_);
    through = std::max(through, cursor_);
  }
  value.clear();
  keys::PutBigEndian64(&value, through);
  wb->Put(keys::kArchiveCursorKey, AsSlice(value));
  Status s = guard_ ? guard_() : Status::Ok();
  if (s.ok()) s = FromRocks(db_->Write(rocksdb::WriteOptions(), wb));
  if (!s.ok()) return s;
  for (const Job& job : jobs)
    for (const auto& a : job.rows) index_->Forget(a);
  std::lock_guard<std::mutex> lock(mu_);
  cursor_ = std::max(cursor_, through);
  return s;
}

void ArchiveWriter::Run() {
  util::NameThisThread("hub-archive");
  std::deque<Job> jobs;
  rocksdb::WriteBatch wb;
  for (;;) {
    bool failed;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [&] { return stop_ || fresh_ > 0 || (!jobs_.empty() && error_.ok()); });
      // Stopping: drained, or failed (the log holds what is left).
      if (fresh_ == 0 && (jobs_.empty() || !error_.ok())) return;
      jobs.swap(jobs_);
      fresh_ = 0;
      failed = !error_.ok();
    }
    if (faults_ != nullptr && faults_->hold_archive_writer()) {
      faults_->SetArchiveWriterHolding(true);
      while (faults_->hold_archive_writer()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      faults_->SetArchiveWriterHolding(false);
    }
    // The index first, also while writes fail: readers wait for it.
    size_t rows = 0, touches = 0;
    for (Job& job : jobs) {
      rows += job.rows.size();
      if (job.indexed) continue;
      touches += job.touches.size();
      index_->Apply(job.through, job.touches, &job.rows);
      if (job.aged_through) index_->DropThrough(*job.aged_through);
      job.touches = Touches();
      job.indexed = true;
    }
    Status s = failed || drop_jobs_ ? Status::Ok() : Write(jobs, &wb);
    {
      std::lock_guard<std::mutex> lock(mu_);
      queued_ -= touches;
      if (s.ok() && !failed) {
        queued_ -= rows;
      } else {
        // Kept, in order, ahead of later jobs, for Resume().
        for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) jobs_.push_front(std::move(*it));
        if (error_.ok()) error_ = s;
      }
      jobs.clear();
    }
    done_.notify_all();
  }
}

}  // namespace hub::store
