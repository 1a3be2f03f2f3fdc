#pragma once

// Writes checkpoints on a thread of its own. A checkpoint is the core's
// snapshot at some hub_seq H and the entity index at the same H, in one
// batch of the "checkpoint" family; recovery starts from it and replays only
// the log after H. Taking the snapshot is the sequencer's (a pause of its
// thread, measured); everything after it happens here while ingest goes
// on: the archive is flushed through H (recovery refuses a checkpoint ahead
// of the archive), the WAL is synced (never a checkpoint ahead of a durable
// log), the snapshot serialised and written with sync.
//
// Thread safety: Submit(), WriteNow(), busy() and stats() from any thread.

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <string>
#include <mutex>
#include <optional>
#include <thread>

#include "hub/v1/record.pb.h"
#include "store/archive_writer.h"
#include "store/live_index.h"
#include "store/rocksdb_store.h"
#include "store/status.h"

namespace hub::store {

class CheckpointWriter {
 public:
  using Stats = CheckpointStats;

  CheckpointWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, ArchiveWriter* archive,
                   LiveIndex* index);
  // Finishes a checkpoint in progress, then stops.
  ~CheckpointWriter();

  // Produces the serialised HubSnapshot (called on the writer's thread).
  using Source = std::function<Status(std::string* serialized)>;

  // Queues the snapshot at `hub_seq` that `source` produces, to be written.
  // False (and nothing queued) while the previous one is still being
  // written: try again later.
  bool Submit(uint64_t hub_seq, Source source);
  // Writes `snapshot` now, after any in progress, and returns how it went.
  Status WriteNow(const v1::HubSnapshot& snapshot);
  bool busy();
  Stats stats();

 private:
  struct Job {
    uint64_t hub_seq = 0;
    Source source;
  };
  void Run();
  Status Write(const Job& job);

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const family_;
  ArchiveWriter* const archive_;
  LiveIndex* const index_;
  std::mutex mu_;                        // one checkpoint written at a time
  std::condition_variable cv_;
  std::optional<Job> queued_;              // GUARDED_BY(mu_)
  bool writing_ = false;                   // GUARDED_BY(mu_)
  bool stop_ = false;                      // GUARDED_BY(mu_)
  Stats stats_;                            // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace hub::store
