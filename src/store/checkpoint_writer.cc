#include "store/checkpoint_writer.h"

#include <sys/resource.h>
#include <unistd.h>

#include <rocksdb/write_batch.h>

#include <chrono>

#include "store/store_util.h"
#include "util/thread_name.h"

namespace hub::store {

CheckpointWriter::CheckpointWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                                   ArchiveWriter* archive, LiveIndex* index)
    : db_(db), family_(family), archive_(archive), index_(index), thread_([this] { Run(); }) {}

CheckpointWriter::~CheckpointWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool CheckpointWriter::Submit(uint64_t hub_seq, Source source) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (writing_ || queued_ || stop_) return false;
    queued_ = Job{hub_seq, std::move(source)};
  }
  cv_.notify_all();
  return true;
}

bool CheckpointWriter::busy() {
  std::lock_guard<std::mutex> lock(mu_);
  return writing_ || queued_.has_value();
}

CheckpointWriter::Stats CheckpointWriter::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Status CheckpointWriter::WriteNow(const v1::HubSnapshot& snapshot) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !writing_ && !queued_; });
  writing_ = true;
  lock.unlock();
  Status s = Write(Job{snapshot.last_hub_seq(), [&snapshot](std::string* out) {
                         return snapshot.SerializeToString(out)
                                    ? Status::Ok()
                                    : Status::InvalidArgument("snapshot does not serialise");
                       }});
  lock.lock();
  writing_ = false;
  cv_.notify_all();
  return s;
}

void CheckpointWriter::Run() {
  util::NameThisThread("hub-checkpoint");
  // Behind ingest for the CPU, as the snapshot's child process is: saving the
  // live index sorts it (Linux takes a thread's id for PRIO_PROCESS).
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || (queued_ && !writing_); });
    if (!queued_) return;  // stopping with nothing queued
    Job job = std::move(*queued_);
    queued_.reset();
    writing_ = true;
    lock.unlock();
    Write(job);  // the outcome goes to stats_
    lock.lock();
    writing_ = false;
    cv_.notify_all();
  }
}

Status CheckpointWriter::Write(const Job& job) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t h = job.hub_seq;
  std::string serialized;
  Status s = job.source(&serialized);
  if (s.ok()) s = archive_->Flush(h);
  rocksdb::Status r;
  if (s.ok()) r = db_->FlushWAL(/*sync=*/true);
  if (s.ok() && r.ok()) {
    v1::EntityIndex index;
    index_->Save(h, &index);
    rocksdb::WriteBatch wb;
    wb.Put(family_, keys::kSnapshotKey, serialized);
    wb.Put(family_, keys::kEntityIndexKey, index.SerializeAsString());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    r = db_->Write(wo, &wb);
  }
  if (s.ok()) s = FromRocks(r);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard<std::mutex> lock(mu_);
  if (s.ok()) {
    ++stats_.written;
    stats_.last_hub_seq = h;
    stats_.last_seconds = seconds;
  } else {
    ++stats_.failed;
    stats_.last_error = "checkpoint at hub_seq " + std::to_string(h) + ": " + s.ToString();
  }
  return s;
}

}  // namespace hub::store
