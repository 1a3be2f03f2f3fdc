#pragma once

// The store's fault seam for tests (leveldb's ErrorEnv): a switch that makes
// every file write RocksDB issues fail with "No space left on device", as a
// full disk does, until it is turned off again, and switches for the
// store's own faults (a lost archive job, a lagging archive writer, a
// database of an older format).
// Hand one to the store in StoreOptions::faults; production never sets it
// (nullptr: the plain file system, no wrapper on any call, no fault).
//
// Thread safety: every method from any thread.

#include <atomic>
#include <cstdint>
#include <memory>

namespace rocksdb {
class Env;
}

namespace hub::store {

class FaultInjection {
 public:
  FaultInjection();
  ~FaultInjection();

  // While on: creating, appending to, syncing or renaming a file fails
  // with NoSpace (reads still work), as on a full disk.
  void SetNoSpace(bool on) { no_space_.store(on); }
  bool no_space() const { return no_space_.load(); }
  // Writes refused so far.
  uint64_t refused() const { return refused_.load(); }

  // Set before the store opens. The archive writer drops its jobs, as if
  // the process died before it wrote them: the archive cursor stays, and
  // recovery does not refuse a checkpoint ahead of it.
  void SetDropArchiveJobs(bool on) { drop_archive_jobs_.store(on); }
  bool drop_archive_jobs() const { return drop_archive_jobs_.load(); }
  // While on, the archive writer (which also keeps the live index) takes
  // up no new work, as a thread that lags far behind the commits.
  void SetHoldArchiveWriter(bool on) { hold_archive_writer_.store(on); }
  bool hold_archive_writer() const { return hold_archive_writer_.load(); }
  // The archive writer has taken the jobs queued so far and is held.
  bool archive_writer_holding() const { return archive_writer_holding_.load(); }
  void SetArchiveWriterHolding(bool on) const { archive_writer_holding_.store(on); }
  // Set before the store opens. A new database gets no format key, as one
  // made by a hubd from before store format 2.
  void SetLegacyFormat(bool on) { legacy_format_.store(on); }
  bool legacy_format() const { return legacy_format_.load(); }

  // For the store: the Env whose file system carries the switch. Lives as
  // long as this object.
  rocksdb::Env* env();

 private:
  friend class NoSpaceFs;
  friend class NoSpaceFile;
  std::atomic<bool> no_space_{false};
  std::atomic<uint64_t> refused_{0};
  std::atomic<bool> drop_archive_jobs_{false};
  std::atomic<bool> legacy_format_{false};
  std::atomic<bool> hold_archive_writer_{false};
  mutable std::atomic<bool> archive_writer_holding_{false};
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace hub::store
