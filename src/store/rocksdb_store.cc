#include "store/rocksdb_store.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/metadata.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/wal_filter.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>

#include "core/audit.h"
#include "core/validate.h"
#include "store/archive_writer.h"
#include "store/backup.h"
#include "store/checkpoint_writer.h"
#include "store/commit_batch_internal.h"
#include "store/disk_space.h"
#include "store/fault_fs.h"
#include "store/wal_tail.h"
#include "store/live_index.h"
#include "store/retention.h"
#include "store/store_util.h"
#include "core/views.h"

namespace hub::store {
namespace {

// The scanner part of a ScannerSeqKey (its length byte and id). A scanner's
// rows arrive in seq order, so the memtable keeps an insert position per
// scanner and puts the next row there without a search from the top; the
// marks (one key per scanner, rewritten by every group) take the whole key
// as their prefix for the same reason. With 1,000 one-frame sessions the
// search for these two random-key inserts per scanner and group was about a
// third of the commit's time (bench/RESULTS.md).
class ScannerSeqPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "hubd.ScannerSeqPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), 1 + static_cast<size_t>(static_cast<uint8_t>(key[0]))};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return !key.empty() && key.size() >= 1 + static_cast<size_t>(static_cast<uint8_t>(key[0]));
  }
};

// Learns, while RocksDB replays the WAL, which WAL files it reads (the
// oldest log number any column family still needs) and the column family
// ids (to read hub_seqs out of dropped batches). Changes nothing.
class WalProbe : public rocksdb::WalFilter {
 public:
  void ColumnFamilyLogNumberMap(const std::map<uint32_t, uint64_t>& log_numbers,
                                const std::map<std::string, uint32_t>& ids) override {
    for (const auto& [cf, number] : log_numbers)
      if (number < min_log_number) min_log_number = number;
    if (auto it = ids.find(kCfNames[kLog]); it != ids.end()) log_cf = it->second;
  }
  WalProcessingOption LogRecordFound(unsigned long long, const std::string&,
                                     const rocksdb::WriteBatch&, rocksdb::WriteBatch*,
                                     bool*) override {
    return WalProcessingOption::kContinueProcessing;
  }
  const char* Name() const override { return "HubWalProbe"; }

  uint64_t min_log_number = UINT64_MAX;  // UINT64_MAX: no WAL was replayed
  std::optional<uint32_t> log_cf;
};

// The hub_seqs of the log records in a batch (the log family's keys).
class LogKeys : public rocksdb::WriteBatch::Handler {
 public:
  explicit LogKeys(uint32_t log_cf) : log_cf_(log_cf) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice&) override {
    if (cf == log_cf_ && key.size() == 8) {
      const uint64_t seq = keys::DecodeBigEndian64(key.ToStringView());
      first = first == 0 ? seq : std::min(first, seq);
      last = std::max(last, seq);
    }
    return rocksdb::Status::OK();
  }
  uint64_t first = 0, last = 0;

 private:
  uint32_t log_cf_;
};

// What point-in-time recovery dropped: the pre-open scan, limited to the
// WAL files RocksDB replayed.
std::optional<WalTailLoss> TailLoss(const WalScan& scan, const WalProbe& probe) {
  if (!scan.bad || probe.min_log_number == UINT64_MAX ||
      scan.bad_log_number < probe.min_log_number)
    return std::nullopt;  // nothing bad, or only in a WAL already flushed (obsolete)
  WalTailLoss loss;
  loss.batches = 1 + scan.after.size();
  loss.bytes = scan.bytes_after;
  loss.wal_file = scan.bad_file;
  loss.offset = scan.bad_offset;
  loss.reason = scan.reason;
  if (probe.log_cf) {
    for (const auto& b : scan.after) {
      LogKeys keys(*probe.log_cf);
      if (!rocksdb::WriteBatch(b.rep).Iterate(&keys).ok() || keys.first == 0) continue;
      loss.first_hub_seq = loss.first_hub_seq == 0 ? keys.first : std::min(loss.first_hub_seq, keys.first);
      loss.last_hub_seq = std::max(loss.last_hub_seq, keys.last);
    }
  }
  return loss;
}

}  // namespace

struct RocksDbStore::Rep {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;
  StoreOptions options;
  Status sticky_error;  // first failed write; fails every later commit
  uint64_t commits = 0;
  LiveIndex index;
  // The last hub_seq committed (and handed to the archive writer, which
  // keeps the index): what a reader's index lookup must cover.
  std::atomic<uint64_t> committed{0};
  std::unique_ptr<ArchiveWriter> archive;
  std::unique_ptr<CheckpointWriter> checkpoints;  // uses archive: goes first
  std::string format_error;  // set: Recover() refuses this database
  RetentionMark retention;
  std::vector<std::unique_ptr<RetentionFilter>> filters;  // used by the db: outlive it
  uint64_t recovered_checkpoint = 0;
  std::optional<WalTailLoss> wal_loss;  // what WAL recovery dropped at Open()
  WalProbe wal_probe;                   // the DB keeps a pointer to it
  std::mutex backup_mu;                 // one backup at a time
  // Declared last, destroyed last: RocksDB's files go through it.
  std::shared_ptr<FaultInjection> faults;

  rocksdb::ColumnFamilyHandle* h(Cf c) const { return cf[c]; }

  ~Rep() {
    if (!db) return;
    checkpoints.reset();  // finishes a checkpoint in progress
    archive.reset();      // drains its queue first
    // A clean close leaves no memtable behind: the directory is at its
    // settled size and the next start replays no WAL.
    if (sticky_error.ok()) {
      rocksdb::FlushOptions fo;
      fo.wait = true;
      db->Flush(fo, cf);  // best effort: the WAL still holds everything
    }
    for (auto* handle : cf) db->DestroyColumnFamilyHandle(handle);
    db->Close();
  }
};

// ---------------------------------------------------------------------------

RocksDbStore::RocksDbStore(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
RocksDbStore::~RocksDbStore() = default;

const std::vector<rocksdb::ColumnFamilyHandle*>& RocksDbStore::families() const { return rep_->cf; }

Status RocksDbStore::Open(const StoreOptions& options, std::unique_ptr<RocksDbStore>* out) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  // Caps the WAL: past this, the memtables holding the oldest WAL are
  // flushed, so a restart after kill -9 replays at most this much WAL.
  db_options.max_total_wal_size = 128 << 20;
  // Caps the write buffers of all column families together (the log's and
  // the archive's memtables were up to 137 MiB of a 255 MiB peak RSS on a
  // 1 M-parcel day); past it the largest is flushed. Tighter caps (48 or
  // 64 MiB, or 32 MiB log memtables) cut RSS further but doubled the p99
  // ack latency at 100 k events/s offered (bench/RESULTS.md).
  db_options.db_write_buffer_size = 80 << 20;

  auto rep = std::make_unique<Rep>();
  rep->options = options;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kNumCf; ++i) {
    rocksdb::ColumnFamilyOptions cf_options;
    // Aged-out rows among live ones go as compactions pass (retention.h).
    std::optional<RetentionFilter::Family> filtered;
    if (i == kCaseIndex) filtered = RetentionFilter::Family::kCaseIndex;
    if (i == kArchive) filtered = RetentionFilter::Family::kArchive;
    if (i == kSeqs) filtered = RetentionFilter::Family::kSeqs;
    if (filtered) {
      rep->filters.push_back(std::make_unique<RetentionFilter>(*filtered, &rep->retention));
      cf_options.compaction_filter = rep->filters.back().get();
    }
    // zstd at every level: ids repeat, so the log shrinks to about a third,
    // and already in the files a flush writes, so the directory is compact
    // right after a stop (bench/RESULTS.md). Flushes and compactions run in
    // the background; the ack path only appends to the WAL.
    cf_options.compression = rocksdb::kZSTD;
    if (i == kLog) {
      // The log takes nearly every byte written: larger memtables mean fewer,
      // larger flushes of an append-only key range.
      cf_options.write_buffer_size = 64 << 20;
      cf_options.max_write_buffer_number = 4;
      // The default skiplist memtable, not the append-only vector one: the
      // vector memtable copies and sorts itself on every read, and traces
      // read the log (34 s against 0.5 s for one store test; commit rates
      // within noise of each other, bench/RESULTS.md).
    }
    if (i == kSeqs)
      cf_options.memtable_insert_with_hint_prefix_extractor = std::make_shared<ScannerSeqPrefix>();
    if (i == kScanners)
      cf_options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(256));
    if (i == kArchive) {
      // Archive rows arrive in random key order, so each L0 file spans the
      // whole key range and every L0 -> L1 compaction rewrites all of L1:
      // on a 3 M-parcel day that was 430 MB written for a 136 MB archive,
      // a sixth of the daemon's CPU. Four times the L0 files per compaction
      // rewrites L1 a quarter as often; a prefix read of the archive (a
      // retired entity's trace) then looks into up to 16 small L0 files.
      cf_options.level0_file_num_compaction_trigger = 16;
      cf_options.level0_slowdown_writes_trigger = 40;
      cf_options.level0_stop_writes_trigger = 64;
    }
    descriptors.emplace_back(kCfNames[i], cf_options);
  }
  rep->faults = options.faults;
  if (rep->faults) db_options.env = rep->faults->env();
  // Point-in-time recovery (RocksDB's default, kept on purpose): replay
  // stops at the first bad WAL record, so the database is always a prefix
  // of what was written, never one with a hole. What it drops is read
  // beforehand and reported (wal_tail_loss()).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  WalScan scan;
  Status scanned = ScanWal(options.path, &scan);
  if (!scanned.ok()) return scanned;
  WalProbe& probe = rep->wal_probe;
  db_options.wal_filter = &probe;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &rep->cf, &db);
  if (!s.ok()) return FromRocks(s);
  rep->db.reset(db);
  rep->wal_loss = TailLoss(scan, probe);
  std::string value;
  s = db->Get(rocksdb::ReadOptions(), keys::kFormatKey, &value);
  if (s.ok()) {
    const uint64_t format = value.size() == 8 ? keys::DecodeBigEndian64(value) : 0;
    if (format != kStoreFormat)
      rep->format_error = "the data directory has store format " + std::to_string(format) +
                          "; this hubd reads format " + std::to_string(kStoreFormat);
  } else if (s.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), rep->h(kLog)));
    it->SeekToFirst();
    if (it->Valid() || !it->status().ok()) {
      rep->format_error = "the data directory was written by an older hubd (store format 1); "
                          "this hubd reads format " + std::to_string(kStoreFormat);
    } else if (!(options.faults && options.faults->legacy_format())) {
      value.clear();
      keys::PutBigEndian64(&value, kStoreFormat);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = db->Put(wo, keys::kFormatKey, value);
      if (!s.ok()) return FromRocks(s);
    }
  } else {
    return FromRocks(s);
  }
  s = db->Get(rocksdb::ReadOptions(), keys::kRetentionKey, &value);
  if (s.ok() && !rep->retention.Decode(value)) return Status::Corruption("retention mark has a bad size");
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s);
  uint64_t cursor = 0;
  s = db->Get(rocksdb::ReadOptions(), keys::kArchiveCursorKey, &value);
  if (s.ok() && value.size() == 8) {
    cursor = keys::DecodeBigEndian64(value);
  } else if (!s.IsNotFound()) {
    return s.ok() ? Status::Corruption("archive cursor has a bad size") : FromRocks(s);
  }
  RocksDbStore* self = nullptr;  // set below, before any job can arrive
  auto guard_of = std::make_shared<RocksDbStore*>(nullptr);
  rep->archive = std::make_unique<ArchiveWriter>(
      db, rep->h(kArchive), &rep->index, options.faults.get(), cursor,
      [guard_of] { return *guard_of ? (*guard_of)->CheckFreeSpace() : Status::Ok(); });
  rep->checkpoints = std::make_unique<CheckpointWriter>(db, rep->h(kCheckpoint), rep->archive.get(),
                                                        &rep->index);
  self = new RocksDbStore(std::move(rep));
  *guard_of = self;
  out->reset(self);
  return Status::Ok();
}

Status RocksDbStore::Commit(CommitBatch* batch, std::vector<CaseChange>* changed) {
  Rep& r = *rep_;
  CommitBatch::Rep& b = *batch->rep_;
  // A failed commit drops the batch too: none of it is written, and a
  // store that resumes must not write it later under reused hub_seqs.
  if (!r.sticky_error.ok()) {
    batch->Clear();
    return r.sticky_error;
  }
  if (!b.error.ok()) {
    r.sticky_error = b.error;
    batch->Clear();
    return r.sticky_error;
  }
  std::string key, value;
  for (const auto& [scanner, used] : b.seqs) {
    if (used.empty()) continue;
    // The mark, and one row for the group's seqs of this scanner (seqs only
    // grow per scanner, and so do the rows' keys).
    value.clear();
    keys::PutBigEndian64(&value, used.back().first);
    b.wb.Put(r.h(kScanners), scanner, AsSlice(value));
    value.clear();
    uint64_t prev_seq = used.front().first, prev_hub = 0;
    for (const auto& [seq, hub_seq] : used) {
      // seq step (almost always 1), then the hub_seq step from the last
      // logged one, doubled, + 1 for a consumed reject (nothing logged).
      PutVarint(&value, seq - prev_seq);
      PutVarint(&value, hub_seq == 0 ? 1 : (hub_seq - prev_hub) << 1);
      prev_seq = seq;
      if (hub_seq != 0) prev_hub = hub_seq;
    }
    b.wb.Put(r.h(kSeqs), keys::ScannerSeqKey(scanner, used.front().first), AsSlice(value));
  }
  for (const auto& [id, pending] : b.cases) {
    const v1::ExceptionCase& c = pending.c;
    c.SerializeToString(&value);
    b.wb.Put(r.h(kCases), keys::CaseKey(id), AsSlice(value));
    if (pending.stored) {
      b.wb.Delete(r.h(kCaseIndex),
                  keys::CaseTypeIndexKey(c.type(), pending.stored_status, c.event_time_ms(), id));
      b.wb.Delete(r.h(kCaseIndex), keys::CaseStatusIndexKey(c.type(), pending.stored_status, id));
    } else {
      // A named copy: clang before 16 cannot capture a structured binding.
      ForEachEntity(c, [&, case_id = id](keys::Kind kind, const std::string& eid) {
        b.wb.Put(r.h(kCaseIndex), keys::CaseEntityIndexKey(kind, eid, case_id), rocksdb::Slice());
      });
    }
    b.wb.Put(r.h(kCaseIndex), keys::CaseTypeIndexKey(c.type(), c.status(), c.event_time_ms(), id),
             rocksdb::Slice());
    b.wb.Put(r.h(kCaseIndex), keys::CaseStatusIndexKey(c.type(), c.status(), id), rocksdb::Slice());
  }
  if (Status low = CheckFreeSpace(); !low.ok()) {
    r.sticky_error = low;
    batch->Clear();
    return low;
  }
  rocksdb::WriteOptions wo;
  wo.sync = r.options.durability == Durability::kFsync;
  rocksdb::Status s = r.db->Write(wo, &b.wb);
  ++r.commits;
  if (!s.ok()) {
    r.sticky_error = FromRocks(s);
    batch->Clear();
    return r.sticky_error;
  }
  std::optional<uint64_t> aged_through;
  if (b.retention) {
    r.retention.through_hub_seq = b.retention->through_hub_seq();
    r.retention.through_case_id = b.retention->through_case_id();
    r.retention.cutoff_ms = b.retention->cutoff_ms();
    aged_through = b.retention->through_hub_seq();
  }
  if (b.records > 0) {
    // The live index and the archive are kept off this thread; a reader
    // waits for the index to cover what was committed when it asked.
    b.last_touches = b.touches.size();
    r.archive->Enqueue(b.last_hub_seq, std::move(b.touches), std::move(b.retired), aged_through);
    r.committed.store(b.last_hub_seq, std::memory_order_release);
  }
  if (changed != nullptr) {
    for (auto& [id, pending] : b.cases) changed->push_back({pending.changed_at, std::move(pending.c)});
    std::stable_sort(changed->begin(), changed->end(),
                     [](const CaseChange& a, const CaseChange& b) { return a.hub_seq < b.hub_seq; });
  }
  batch->Clear();
  return Status::Ok();
}

Status RocksDbStore::FlushArchive(uint64_t hub_seq) { return rep_->archive->Flush(hub_seq); }

uint64_t RocksDbStore::ArchiveCursor() { return rep_->archive->cursor(); }

Status RocksDbStore::WriteCheckpoint(const v1::HubSnapshot& snapshot) {
  Rep& r = *rep_;
  if (!r.sticky_error.ok()) return r.sticky_error;
  Status s = r.checkpoints->WriteNow(snapshot);
  if (!s.ok()) r.sticky_error = s;
  return s;
}

bool RocksDbStore::CheckpointInBackground(v1::HubSnapshot&& snapshot) {
  auto shared = std::make_shared<v1::HubSnapshot>(std::move(snapshot));
  const uint64_t hub_seq = shared->last_hub_seq();
  return CheckpointInBackground(hub_seq, [shared](std::string* out) {
    return shared->SerializeToString(out) ? Status::Ok()
                                          : Status::InvalidArgument("snapshot does not serialise");
  });
}

bool RocksDbStore::CheckpointInBackground(uint64_t hub_seq,
                                          std::function<Status(std::string* serialized)> serialize) {
  if (!rep_->sticky_error.ok()) return false;
  return rep_->checkpoints->Submit(hub_seq, std::move(serialize));
}

bool RocksDbStore::CheckpointBusy() { return rep_->checkpoints->busy(); }

CheckpointStats RocksDbStore::Checkpoints() { return rep_->checkpoints->stats(); }

uint64_t RocksDbStore::CheckpointedThrough() {
  return std::max(rep_->recovered_checkpoint, rep_->checkpoints->stats().last_hub_seq);
}

RocksDbStore::Retained RocksDbStore::RetainedSoFar() const {
  const RetentionMark& m = rep_->retention;
  return Retained{m.through_hub_seq.load(), m.through_case_id.load(), m.cutoff_ms.load()};
}

Status RocksDbStore::RetentionPoint(int64_t cutoff_ms, uint64_t limit, v1::Retention* out,
                                    bool* due) {
  *due = false;
  Rep& r = *rep_;
  const int64_t cutoff_hour = cutoff_ms / core::kHourMs;
  // The first record at or after the cutoff hour; everything before it aged out.
  std::unique_ptr<rocksdb::Iterator> it(r.db->NewIterator(rocksdb::ReadOptions(), r.h(kDefault)));
  it->Seek(keys::HourKey(cutoff_hour));
  if (!it->status().ok()) return FromRocks(it->status());
  if (!it->Valid() || !it->key().starts_with(keys::kHourPrefix) || it->value().size() != 8)
    return Status::Ok();  // hub time has not reached past the cutoff
  const uint64_t through =
      std::min(keys::DecodeBigEndian64(it->value().ToStringView()) - 1, limit);
  const RetentionMark& mark = r.retention;
  if (through <= mark.through_hub_seq.load()) return Status::Ok();
  // Case ids grow with hub order: the last case raised at or before
  // `through`, by bisection over the ids still stored.
  uint64_t lo = mark.through_case_id.load(), hi = 0;  // lo: known <= through
  std::unique_ptr<rocksdb::Iterator> cases(r.db->NewIterator(rocksdb::ReadOptions(), r.h(kCases)));
  cases->SeekToLast();
  if (!cases->status().ok()) return FromRocks(cases->status());
  if (cases->Valid()) hi = keys::DecodeBigEndian64(cases->key().ToStringView());
  v1::ExceptionCase c;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    Status got = GetCase(mid, &c);
    if (!got.ok()) return got;
    if (c.hub_seq() <= through) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  out->Clear();
  out->set_through_hub_seq(through);
  out->set_through_case_id(lo);
  out->set_cutoff_ms(cutoff_hour * core::kHourMs);
  *due = true;
  return Status::Ok();
}

Status RocksDbStore::Recover(core::HubState* state, uint64_t* replayed) {
  Rep& r = *rep_;
  if (!r.format_error.empty())
    return Status::InvalidArgument(r.format_error + ". Export its scans with `hubd --data-dir " +
                                   r.options.path + " --export DIR` and replay DIR into an empty " +
                                   "data directory with hubreplay.");
  return Replay(state, /*rebuild_index=*/true, replayed);
}

Status RocksDbStore::Reload(core::HubState* state) {
  const core::HubState empty;
  state->Restore(empty.Snapshot());  // no checkpoint yet: start from nothing
  return Replay(state, /*rebuild_index=*/false, nullptr);
}

const std::optional<WalTailLoss>& RocksDbStore::wal_tail_loss() const { return rep_->wal_loss; }

bool RocksDbStore::failed() const { return !rep_->sticky_error.ok(); }

Status RocksDbStore::CheckFreeSpace() {
  uint64_t free = 0;
  if (rep_->options.min_free_bytes == 0 || !FreeBytes(rep_->options.path, &free) ||
      free >= rep_->options.min_free_bytes)
    return Status::Ok();
  return Status::NoSpace("only " + std::to_string(free) + " bytes free on the data directory's file "
                         "system; hubd keeps " + std::to_string(rep_->options.min_free_bytes) +
                         " free (the low-disk guard)");
}

Status RocksDbStore::TryResume() {
  Rep& r = *rep_;
  if (r.sticky_error.ok()) return Status::Ok();
  if (Status low = CheckFreeSpace(); !low.ok()) return low;
  // RocksDB stopped writing at the failed write (a background error);
  // Resume() flushes the memtables and starts a new WAL, so the WAL that
  // holds the failed (perhaps partly written) batch is never replayed. It
  // fails while the disk is still full.
  // On a full disk RocksDB also tries by itself (its SstFileManager waits
  // for free space); while that attempt runs, Resume() answers Busy.
  rocksdb::Status s = r.db->Resume();
  if (s.IsBusy()) return Status::IOError("RocksDB is recovering from the error by itself; try later");
  if (!s.ok()) return FromRocks(s);
  // A synced write proves the disk takes writes again (Resume() returns OK
  // at once when RocksDB itself saw no error): the format key, same value.
  std::string value;
  keys::PutBigEndian64(&value, kStoreFormat);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = r.db->Put(wo, keys::kFormatKey, value);
  if (!s.ok()) return FromRocks(s);
  r.sticky_error = Status::Ok();
  r.archive->Resume();  // retries the archive rows that failed meanwhile
  return Status::Ok();
}

Status RocksDbStore::Backup(const std::string& dir, v1::BackupManifest* out) {
  std::lock_guard<std::mutex> lock(rep_->backup_mu);
  Status s = CreateBackup(rep_->db.get(), dir, out);
  // Best effort: only a hint for the way out of a corrupt data directory.
  if (s.ok()) (void)NoteLastBackup(rep_->options.path, std::filesystem::path(dir).lexically_normal().string());
  return s;
}

Status RocksDbStore::Replay(core::HubState* state, bool rebuild_index, uint64_t* replayed) {
  Rep& r = *rep_;
  std::string value;
  rocksdb::Status s = r.db->Get(rocksdb::ReadOptions(), r.h(kCheckpoint), keys::kSnapshotKey, &value);
  if (s.ok()) {
    v1::HubSnapshot snapshot;
    if (!snapshot.ParseFromString(value)) return Status::Corruption("checkpoint does not parse");
    state->Restore(snapshot);
    if (rebuild_index) {
      v1::EntityIndex index;
      s = r.db->Get(rocksdb::ReadOptions(), r.h(kCheckpoint), keys::kEntityIndexKey, &value);
      if (!s.ok() || !index.ParseFromString(value) ||
          index.last_hub_seq() != snapshot.last_hub_seq())
        return Status::Corruption("the entity index does not match the checkpoint");
      r.index.Load(index);
    }
    r.recovered_checkpoint = snapshot.last_hub_seq();
  } else if (!s.IsNotFound()) {
    return FromRocks(s);
  }
  const uint64_t cursor = r.archive->cursor();
  if (rebuild_index && cursor < state->last_hub_seq() && !r.archive->drops_jobs())
    return Status::Corruption("archive cursor " + std::to_string(cursor) +
                              " is behind the checkpoint at " +
                              std::to_string(state->last_hub_seq()));
  uint64_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it(r.db->NewIterator(rocksdb::ReadOptions(), r.h(kLog)));
  v1::LogRecord rec;
  core::ApplyResult result;
  std::vector<v1::ArchivedEntity> rearchive;
  std::vector<core::EntityRef> refs;
  Touches touches;
  for (it->Seek(keys::LogKey(state->last_hub_seq() + 1)); it->Valid(); it->Next()) {
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("log record does not parse at key " + it->key().ToString(true));
    if (rec.hub_seq() != keys::DecodeBigEndian64(it->key().ToStringView()))
      return Status::Corruption("log record hub_seq differs from its key");
    state->Apply(rec, &result);
    if (result.outcome != core::ApplyResult::Outcome::kApplied)
      return Status::Corruption("log record " + std::to_string(rec.hub_seq()) +
                                " does not replay: " + result.reject_reason);
    ++count;
    if (!rebuild_index) continue;
    refs.clear();
    core::EntitiesOf(rec, &refs);
    touches.clear();
    for (const auto& ref : refs) touches.Add(rec.hub_seq(), static_cast<char>(ref.kind), *ref.id);
    r.index.Apply(rec.hub_seq(), touches, &result.retired);
    if (rec.has_retention()) r.index.DropThrough(rec.retention().through_hub_seq());
    // Rows already archived leave the index; the rest are written again.
    if (rec.hub_seq() <= cursor) {
      for (const auto& a : result.retired) r.index.Forget(a);
    } else if (!result.retired.empty()) {
      for (auto& a : result.retired) rearchive.push_back(std::move(a));
      if (rearchive.size() >= 4096) {
        r.archive->EnqueueIndexed(rec.hub_seq(), std::move(rearchive));
        rearchive.clear();
      }
    }
  }
  if (!it->status().ok()) return FromRocks(it->status());
  if (!rearchive.empty()) r.archive->EnqueueIndexed(state->last_hub_seq(), std::move(rearchive));
  // Rejected events consume a seq without a log record; their marks are
  // durable in the scanners family, written with the batch that answered them.
  std::vector<v1::ScannerMark> marks;
  Status marked = ScannerMarks(&marks);
  if (!marked.ok()) return marked;
  for (const auto& m : marks) state->AdvanceScannerMark(m.scanner_id(), m.seq());
  if (replayed != nullptr) *replayed = count;
  if (!rebuild_index) return Status::Ok();
  Status archived = r.archive->Flush(state->last_hub_seq());
  if (!archived.ok()) return archived;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Reads

struct ReadView::Rep {
  rocksdb::DB* db = nullptr;
  const rocksdb::Snapshot* snapshot = nullptr;
};

ReadView::~ReadView() {
  if (rep_ && rep_->snapshot) rep_->db->ReleaseSnapshot(rep_->snapshot);
}

std::unique_ptr<ReadView> RocksDbStore::NewReadView() {
  std::unique_ptr<ReadView> view(new ReadView);
  view->rep_ = std::make_unique<ReadView::Rep>();
  view->rep_->db = rep_->db.get();
  view->rep_->snapshot = rep_->db->GetSnapshot();
  return view;
}

rocksdb::ReadOptions RocksDbStore::ReadOptionsFor(const ReadView* view) {
  rocksdb::ReadOptions o;
  if (view != nullptr) o.snapshot = view->rep_->snapshot;
  return o;
}

Status RocksDbStore::LastHubSeq(uint64_t* hub_seq) {
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kLog)));
  it->SeekToLast();
  *hub_seq = it->Valid() ? keys::DecodeBigEndian64(it->key().ToStringView()) : 0;
  return FromRocks(it->status());
}

Status RocksDbStore::ScannerMarks(std::vector<v1::ScannerMark>* marks) {
  marks->clear();
  std::unique_ptr<rocksdb::Iterator> it(
      rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kScanners)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto* m = &marks->emplace_back();
    m->set_scanner_id(it->key().ToString());
    m->set_seq(keys::DecodeBigEndian64(it->value().ToStringView()));
  }
  return FromRocks(it->status());
}

Status RocksDbStore::ReadFeedCursor(uint64_t* hub_seq, uint32_t* part) {
  *hub_seq = 0;
  *part = 0;
  std::string value;
  rocksdb::Status s = rep_->db->Get(rocksdb::ReadOptions(), keys::kFeedCursorKey, &value);
  if (s.IsNotFound()) return Status::Ok();
  if (!s.ok()) return FromRocks(s);
  if (value.size() != 16) return Status::Corruption("feed cursor has a bad size");
  *hub_seq = keys::DecodeBigEndian64(value);
  *part = static_cast<uint32_t>(keys::DecodeBigEndian64(std::string_view(value).substr(8)));
  return Status::Ok();
}

Status RocksDbStore::WriteFeedCursor(uint64_t hub_seq, uint32_t part) {
  if (Status s = CheckFreeSpace(); !s.ok()) return s;
  std::string value;
  keys::PutBigEndian64(&value, hub_seq);
  keys::PutBigEndian64(&value, part);
  return FromRocks(rep_->db->Put(rocksdb::WriteOptions(), keys::kFeedCursorKey, value));
}

Status RocksDbStore::ReadLog(uint64_t from_hub_seq, size_t limit, std::vector<v1::LogRecord>* out) {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kLog)));
  for (it->Seek(keys::LogKey(from_hub_seq)); it->Valid() && out->size() < limit; it->Next()) {
    if (!out->emplace_back().ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("log record does not parse");
  }
  return FromRocks(it->status());
}

Status RocksDbStore::GetCase(uint64_t case_id, v1::ExceptionCase* out, const ReadView* view) {
  std::string value;
  rocksdb::Status s =
      rep_->db->Get(ReadOptionsFor(view), rep_->h(kCases), keys::CaseKey(case_id), &value);
  if (!s.ok()) return FromRocks(s);
  if (!out->ParseFromString(value)) return Status::Corruption("case does not parse");
  return Status::Ok();
}

Status RocksDbStore::AllCases(std::vector<v1::ExceptionCase>* out) {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kCases)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!out->emplace_back().ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("case does not parse");
  }
  return FromRocks(it->status());
}

Status RocksDbStore::CasesAfter(uint64_t after, size_t limit,
                               const std::function<bool(const v1::ExceptionCase&)>& keep,
                               std::vector<v1::ExceptionCase>* out, const ReadView* view) {
  out->clear();
  if (after == UINT64_MAX) return Status::Ok();
  after = std::max(after, rep_->retention.through_case_id.load());
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(ReadOptionsFor(view), rep_->h(kCases)));
  v1::ExceptionCase c;
  for (it->Seek(keys::CaseKey(after + 1)); it->Valid() && out->size() < limit; it->Next()) {
    if (!c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("case does not parse");
    if (keep(c)) out->push_back(c);
  }
  return FromRocks(it->status());
}

Status RocksDbStore::CasesBefore(uint64_t before, size_t limit, size_t max_examined,
                                const std::function<bool(const v1::ExceptionCase&)>& keep,
                                std::vector<v1::ExceptionCase>* out, uint64_t* last_examined,
                                const ReadView* view) {
  out->clear();
  *last_examined = 0;
  const uint64_t floor = rep_->retention.through_case_id.load();  // aged out at or below
  if (before <= floor + 1) return Status::Ok();
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(ReadOptionsFor(view), rep_->h(kCases)));
  v1::ExceptionCase c;
  size_t examined = 0;
  for (it->SeekForPrev(keys::CaseKey(before - 1)); it->Valid() && out->size() < limit; it->Prev()) {
    if (!c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("case does not parse");
    if (c.id() <= floor) {
      *last_examined = 0;
      return Status::Ok();
    }
    *last_examined = c.id();
    if (keep(c)) out->push_back(c);
    if (++examined == max_examined) return FromRocks(it->status());
  }
  if (!it->Valid() && it->status().ok()) *last_examined = 0;
  return FromRocks(it->status());
}

namespace {
Status IdsUnderPrefix(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& prefix,
                      std::vector<uint64_t>* ids, const rocksdb::ReadOptions& options) {
  ids->clear();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, cf));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string_view k = it->key().ToStringView();
    ids->push_back(keys::DecodeBigEndian64(k.substr(k.size() - 8)));
  }
  return FromRocks(it->status());
}
}  // namespace

Status RocksDbStore::CasesByType(v1::ExceptionType type,
                                 const std::vector<v1::ExceptionStatus>& statuses, uint64_t after,
                                 size_t limit,
                                 const std::function<bool(const v1::ExceptionCase&)>& keep,
                                 std::vector<v1::ExceptionCase>* out, const ReadView* view) {
  out->clear();
  if (after == UINT64_MAX) return Status::Ok();
  // One iterator per status over ids > after; merged by id. Index entries
  // of aged-out cases not yet compacted away are skipped.
  after = std::max(after, rep_->retention.through_case_id.load());
  struct Cursor {
    std::unique_ptr<rocksdb::Iterator> it;
    std::string prefix;
    bool valid() const { return it->Valid() && it->key().starts_with(prefix); }
    uint64_t id() const { return keys::DecodeBigEndian64(it->key().ToStringView().substr(prefix.size())); }
  };
  std::vector<Cursor> cursors;
  for (auto status : statuses) {
    Cursor c{std::unique_ptr<rocksdb::Iterator>(
                 rep_->db->NewIterator(ReadOptionsFor(view), rep_->h(kCaseIndex))),
             keys::CaseStatusIndexPrefix(type, status)};
    c.it->Seek(keys::CaseStatusIndexKey(type, status, after + 1));
    cursors.push_back(std::move(c));
  }
  v1::ExceptionCase c;
  while (out->size() < limit) {
    Cursor* next = nullptr;
    for (auto& cur : cursors)
      if (cur.valid() && (next == nullptr || cur.id() < next->id())) next = &cur;
    if (next == nullptr) break;
    Status st = GetCase(next->id(), &c, view);
    if (!st.ok()) return st;
    if (keep(c)) out->push_back(c);
    next->it->Next();
  }
  for (auto& cur : cursors)
    if (!cur.it->status().ok()) return FromRocks(cur.it->status());
  return Status::Ok();
}

Status RocksDbStore::ForEachCaseInWindow(v1::ExceptionType type, v1::ExceptionStatus status,
                                         int64_t from_ms, int64_t to_ms,
                                         const std::function<void(int64_t, uint64_t)>& fn,
                                         const ReadView* view) {
  const std::string prefix = keys::CaseTypeIndexPrefix(type, status);
  const std::string end = keys::CaseTypeIndexKey(type, status, to_ms, UINT64_MAX);
  std::unique_ptr<rocksdb::Iterator> it(
      rep_->db->NewIterator(ReadOptionsFor(view), rep_->h(kCaseIndex)));
  const uint64_t aged = rep_->retention.through_case_id.load();
  for (it->Seek(keys::CaseTypeIndexKey(type, status, from_ms, 0));
       it->Valid() && it->key().starts_with(prefix) && it->key().compare(end) <= 0; it->Next()) {
    std::string_view k = it->key().ToStringView();
    const uint64_t id = keys::DecodeBigEndian64(k.substr(k.size() - 8));
    const auto time_ms = static_cast<int64_t>(keys::DecodeBigEndian64(k.substr(k.size() - 16, 8)) ^
                                              (uint64_t{1} << 63));
    if (id > aged) fn(time_ms, id);
  }
  return FromRocks(it->status());
}

Status RocksDbStore::CountCases(v1::ExceptionType type, v1::ExceptionStatus status,
                                int64_t from_ms, int64_t to_ms, uint64_t* count,
                                const ReadView* view) {
  *count = 0;
  return ForEachCaseInWindow(type, status, from_ms, to_ms, [count](int64_t, uint64_t) { ++*count; },
                             view);
}

Status RocksDbStore::OldestOpenCase(v1::ExceptionType type, uint64_t* case_id, const ReadView* view) {
  *case_id = 0;
  const std::string prefix = keys::CaseStatusIndexPrefix(type, v1::OPEN);
  std::unique_ptr<rocksdb::Iterator> it(
      rep_->db->NewIterator(ReadOptionsFor(view), rep_->h(kCaseIndex)));
  const uint64_t aged = rep_->retention.through_case_id.load();
  it->Seek(keys::CaseStatusIndexKey(type, v1::OPEN, aged + 1));
  if (it->Valid() && it->key().starts_with(prefix))
    *case_id = keys::DecodeBigEndian64(it->key().ToStringView().substr(prefix.size()));
  return FromRocks(it->status());
}

Status RocksDbStore::AuditAfter(uint64_t after, size_t limit, const AuditFilter& filter,
                                std::vector<v1::AuditEntry>* out, const ReadView* view) {
  out->clear();
  if (after == UINT64_MAX || limit == 0) return Status::Ok();
  // The index and the log at one point in time: every row names a record.
  // Rows of aged-out records went in the commit that removed the records
  // (AddRetention): nothing to skip here.
  std::unique_ptr<ReadView> own;
  if (view == nullptr) view = (own = NewReadView()).get();
  std::vector<std::string> log_keys;
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(ReadOptionsFor(view), rep_->h(kDefault)));
  for (it->Seek(keys::AuditKey(after + 1));
       it->Valid() && it->key().starts_with(keys::kAuditPrefix) && log_keys.size() < limit; it->Next()) {
    const std::string_view k = it->key().ToStringView(), v = it->value().ToStringView();
    if (k.size() != keys::kAuditPrefix.size() + 8 || v.size() < 8)
      return Status::Corruption("audit index row has a bad size");
    const auto at_ms = static_cast<int64_t>(keys::DecodeBigEndian64(v));
    if (at_ms < filter.from_ms || at_ms > filter.to_ms) continue;
    if (!filter.who.empty() && v.substr(8) != filter.who) continue;
    log_keys.push_back(keys::LogKey(keys::DecodeBigEndian64(k.substr(keys::kAuditPrefix.size()))));
  }
  if (!it->status().ok()) return FromRocks(it->status());
  std::vector<rocksdb::Slice> slices(log_keys.begin(), log_keys.end());
  std::vector<rocksdb::PinnableSlice> values(log_keys.size());
  std::vector<rocksdb::Status> statuses(log_keys.size());
  rep_->db->MultiGet(ReadOptionsFor(view), rep_->h(kLog), slices.size(), slices.data(),
                     values.data(), statuses.data(), /*sorted_input=*/true);
  v1::LogRecord rec;
  for (size_t i = 0; i < log_keys.size(); ++i) {
    if (!statuses[i].ok()) return FromRocks(statuses[i]);
    if (!rec.ParseFromArray(values[i].data(), static_cast<int>(values[i].size())))
      return Status::Corruption("log record does not parse");
    auto entry = core::AuditEntryOf(rec);
    if (!entry) return Status::Corruption("audit index names log record " +
                                          std::to_string(rec.hub_seq()) + ", which has no origin");
    out->push_back(std::move(*entry));
  }
  return Status::Ok();
}

Status RocksDbStore::CaseIdsForEntity(keys::Kind kind, const std::string& id,
                                      std::vector<uint64_t>* ids, const ReadView* view) {
  Status s = IdsUnderPrefix(rep_->db.get(), rep_->h(kCaseIndex),
                            keys::CaseEntityIndexPrefix(kind, id), ids, ReadOptionsFor(view));
  const uint64_t aged = rep_->retention.through_case_id.load();
  std::erase_if(*ids, [aged](uint64_t c) { return c <= aged; });
  return s;
}

Status RocksDbStore::Archived(keys::Kind kind, const std::string& id,
                              std::vector<v1::ArchivedEntity>* out, const ReadView* view) {
  out->clear();
  const std::string prefix = keys::ArchivePrefix(kind, id);
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(ReadOptionsFor(view), rep_->h(kArchive)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!out->emplace_back().ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return Status::Corruption("archived entity does not parse");
  }
  return FromRocks(it->status());
}

Status RocksDbStore::History(keys::Kind kind, const std::string& id, size_t limit,
                             EntityHistory* out) {
  out->records.clear();
  out->retired_at.clear();
  out->forgotten_at.clear();
  out->truncated = false;
  out->aged_out = false;
  // The index first, the snapshot after: every hub_seq found in the index is
  // committed, so the snapshot holds its record; an entity that leaves the
  // index meanwhile is in the archive the snapshot sees (duplicates merge).
  const uint64_t committed = rep_->committed.load(std::memory_order_acquire);
  if (!rep_->index.Covers(committed)) rep_->archive->CatchUp();
  LiveIndex::Entry live = rep_->index.Get(core::EntityKey(kind, id), committed);
  std::vector<uint64_t>& seqs = live.seqs;
  out->retired_at = std::move(live.retiring);
  out->forgotten_at = std::move(live.forgetting);
  out->view = NewReadView();
  std::vector<v1::ArchivedEntity> rows;
  Status st = Archived(kind, id, &rows, out->view.get());
  if (!st.ok()) return st;
  for (const auto& row : rows) {
    seqs.insert(seqs.end(), row.hub_seqs().begin(), row.hub_seqs().end());
    out->retired_at.push_back(row.retired_at_hub_seq());
    if (row.forgotten()) out->forgotten_at.push_back(row.retired_at_hub_seq());
  }
  // Aged-out records (and archive rows not yet compacted away) are left out.
  const uint64_t aged = rep_->retention.through_hub_seq.load();
  for (auto* v : {&seqs, &out->retired_at, &out->forgotten_at}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
    out->aged_out = out->aged_out || (!v->empty() && v->front() <= aged);
    v->erase(v->begin(), std::upper_bound(v->begin(), v->end(), aged));
  }
  if (seqs.size() > limit) {  // keep the newest
    seqs.erase(seqs.begin(), seqs.end() - static_cast<std::ptrdiff_t>(limit));
    out->truncated = true;
  }
  std::vector<std::string> keys;
  keys.reserve(seqs.size());
  for (uint64_t seq : seqs) keys.push_back(keys::LogKey(seq));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  rep_->db->MultiGet(ReadOptionsFor(out->view.get()), rep_->h(kLog), slices.size(), slices.data(),
                     values.data(), statuses.data(), /*sorted_input=*/true);
  out->records.resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!statuses[i].ok()) return FromRocks(statuses[i]);
    if (!out->records[i].ParseFromArray(values[i].data(), static_cast<int>(values[i].size())))
      return Status::Corruption("log record does not parse");
  }
  return Status::Ok();
}

// Which hub_seq a scanner's seq was logged as (0: a reject consumed it);
// NotFound when no row covers the seq.
Status RocksDbStore::LoggedAs(const std::string& scanner_id, uint64_t seq, uint64_t* hub_seq) {
  const std::string key = keys::ScannerSeqKey(scanner_id, seq);
  const std::string prefix = key.substr(0, key.size() - 8);
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->h(kSeqs)));
  it->SeekForPrev(key);  // the row with the greatest first seq <= seq
  if (!it->status().ok()) return FromRocks(it->status());
  if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != key.size())
    return Status::NotFound("no row for this seq");
  uint64_t at = keys::DecodeBigEndian64(it->key().ToStringView().substr(prefix.size()));
  std::string_view v = it->value().ToStringView();
  uint64_t delta = 0, step = 0, hub = 0;
  while (ReadVarint(&v, &delta) && ReadVarint(&v, &step)) {
    at += delta;
    const bool rejected = (step & 1) != 0;
    if (!rejected) hub += step >> 1;
    if (at == seq) {
      *hub_seq = rejected ? 0 : hub;
      return Status::Ok();
    }
    if (at > seq) break;
  }
  return Status::NotFound("no row for this seq");
}

Status RocksDbStore::CheckResend(const v1::ScanEvent& resent, ResendCheck* out) {
  *out = ResendCheck();
  uint64_t hub_seq = 0;
  Status s = LoggedAs(resent.scanner_id(), resent.seq(), &hub_seq);
  if (s.IsNotFound()) {
    // Logged before the seqs family existed (or aged out): take it for the
    // same scan; a sort scan still finds its decision through its parcel.
    if (!resent.has_parcel_sorted()) return Status::Ok();
    v1::SortDecision d;
    Status found = SortDecisionOf(resent.scanner_id(), resent.seq(),
                                  resent.parcel_sorted().parcel_id(), &d);
    if (found.ok()) out->decision = std::move(d);
    return found.IsNotFound() ? Status::Ok() : found;
  }
  if (!s.ok()) return s;
  const std::string seq = std::to_string(resent.seq());
  if (hub_seq == 0) {
    out->reused = true;
    out->reason = "seq " + seq + " is used by a scan that was rejected; send this " +
                  core::EventKindName(resent) + " with the next seq";
    return Status::Ok();
  }
  std::string value;
  rocksdb::Status got = rep_->db->Get(rocksdb::ReadOptions(), rep_->h(kLog), keys::LogKey(hub_seq), &value);
  if (!got.ok()) return got.IsNotFound() ? Status::Ok() : FromRocks(got);  // aged out
  v1::LogRecord original;
  if (!original.ParseFromString(value)) return Status::Corruption("log record does not parse");
  if (original.event().SerializeAsString() != resent.SerializeAsString()) {
    out->reused = true;
    out->reason = "seq " + seq + " is used by another scan (" +
                  core::EventKindName(original.event()) + " at hub_seq " +
                  std::to_string(hub_seq) + "); this " + core::EventKindName(resent) +
                  " was not applied: send it with the next seq";
    return Status::Ok();
  }
  if (original.has_decision()) out->decision = original.decision();
  return Status::Ok();
}

Status RocksDbStore::SortDecisionOf(const std::string& scanner_id, uint64_t seq,
                                    const std::string& parcel_id, v1::SortDecision* out) {
  out->Clear();
  if (parcel_id.empty()) {  // the rule of OnParcelSorted: a no-read is diverted
    out->set_seq(seq);
    out->set_divert(v1::DIVERT_NO_READ);
    return Status::Ok();
  }
  EntityHistory history;
  Status s = History(keys::Kind::kParcel, parcel_id, 10'000, &history);
  if (!s.ok()) return s;
  for (auto it = history.records.rbegin(); it != history.records.rend(); ++it) {
    const v1::LogRecord& rec = *it;
    if (rec.has_decision() && rec.event().scanner_id() == scanner_id && rec.event().seq() == seq) {
      *out = rec.decision();
      return Status::Ok();
    }
  }
  return Status::NotFound("no sort scan " + std::to_string(seq) + " of parcel " + parcel_id +
                          " by this scanner");
}

Status RocksDbStore::CompactAll() {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (auto* h : rep_->cf) {
    rocksdb::Status s = rep_->db->CompactRange(o, h, nullptr, nullptr);
    if (!s.ok()) return FromRocks(s);
  }
  return Status::Ok();
}

Status RocksDbStore::SpaceUsed(std::vector<FamilySpace>* families, uint64_t* wal_bytes) {
  families->clear();
  for (int i = 0; i < kNumCf; ++i) {
    rocksdb::ColumnFamilyMetaData meta;
    rep_->db->GetColumnFamilyMetaData(rep_->h(static_cast<Cf>(i)), &meta);
    FamilySpace& f = families->emplace_back();
    f.family = kCfNames[i];
    f.sst_bytes = meta.size;
    f.sst_files = meta.file_count;
  }
  rocksdb::VectorLogPtr wals;
  rocksdb::Status s = rep_->db->GetSortedWalFiles(wals);
  if (!s.ok()) return FromRocks(s);
  *wal_bytes = 0;
  for (const auto& w : wals) *wal_bytes += w->SizeFileBytes();
  return Status::Ok();
}

size_t RocksDbStore::LiveIndexSize() { return rep_->index.size(); }

uint64_t RocksDbStore::MemtableBytes() {
  uint64_t bytes = 0;
  rep_->db->GetAggregatedIntProperty(rocksdb::DB::Properties::kSizeAllMemTables, &bytes);
  return bytes;
}

}  // namespace hub::store
