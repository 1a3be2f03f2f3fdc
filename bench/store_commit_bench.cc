// Store commit throughput: records (already applied by the core, so only the
// store is timed) committed in groups of 1, 64 and 1024, in both durability
// modes. Items = log records.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/hub_state.h"
#include "store/rocksdb_store.h"
#include "testutil/events.h"

namespace {

namespace fs = std::filesystem;
using hub::core::ApplyResult;

struct Applied {
  std::vector<hub::v1::LogRecord> records;
  std::vector<ApplyResult> results;
};

const Applied& Day() {
  static const Applied* day = [] {
    auto* a = new Applied;
    a->records = hub::testutil::GenerateDay(2, 200'000);
    hub::core::HubState hub;
    a->results.resize(a->records.size());
    for (size_t i = 0; i < a->records.size(); ++i) hub.Apply(a->records[i], &a->results[i]);
    return a;
  }();
  return *day;
}

void BM_StoreCommit(benchmark::State& state) {
  const size_t group = static_cast<size_t>(state.range(0));
  const bool fsync = state.range(1) != 0;
  const auto& day = Day();
  const fs::path dir = fs::temp_directory_path() / ("hubd-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::unique_ptr<hub::store::RocksDbStore> db;
  hub::store::StoreOptions options;
  options.path = dir.string();
  options.durability = fsync ? hub::store::Durability::kFsync : hub::store::Durability::kWal;
  if (!hub::store::RocksDbStore::Open(options, &db).ok()) {
    state.SkipWithError("cannot open store");
    return;
  }
  std::vector<ApplyResult> results = day.results;  // Add() moves retirements out
  hub::store::CommitBatch batch(db.get());
  size_t next = 0;
  int64_t records = 0, cases = 0, archived = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < group; ++i) {
      if (next == day.records.size()) {
        state.SkipWithError("day exhausted; use a bigger day or fewer iterations");
        break;
      }
      cases += static_cast<int64_t>(results[next].raised.size());
      archived += static_cast<int64_t>(results[next].retired.size());
      batch.Add(day.records[next], &results[next]);
      ++next;
    }
    records += static_cast<int64_t>(batch.records());
    if (!db->Commit(&batch).ok()) state.SkipWithError("commit failed");
  }
  // Count the archive writer's work in: the next benchmark starts quiet.
  if (!db->FlushArchive(day.records.size()).ok()) state.SkipWithError("archive failed");
  state.SetItemsProcessed(records);
  state.counters["cases_per_rec"] = static_cast<double>(cases) / std::max<int64_t>(records, 1);
  state.counters["archived_per_rec"] = static_cast<double>(archived) / std::max<int64_t>(records, 1);
  db.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_StoreCommit)
    ->ArgNames({"group", "fsync"})
    ->Args({1, 0})->Args({64, 0})->Args({1024, 0})
    ->Args({1, 1})->Args({64, 1})->Args({1024, 1})
    ->Iterations(150)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

// The ceiling hubd's ingest is compared with (bench/run_ingest.sh): RocksDB
// appending hubd's log and nothing else, configured as hubd configures it
// (store/rocksdb_store.cc: the "log" column family with zstd, 64 MiB
// memtables, up to 4 of them; two background jobs; the WAL capped at
// 128 MiB), keyed as hubd keys it (8-byte big-endian hub_seq, ascending)
// with the bytes hubd writes there (the generated day's log records with
// their hub_seq and sort decision, cycled), in groups of 64, 1024 or 16384
// per WriteBatch (hubd's flat-out group commits hold several thousand
// records), with WriteOptions.sync off (`wal`) or on (`fsync`).
//
// Each configuration writes for a fixed stretch of wall time (4 s;
// HUBD_CEILING_SECONDS overrides) into a fresh database, so the figure
// includes the memtable switches, flushes and compactions that writing at
// that rate causes (counted in `flushes`), not just a memtable's first
// megabytes. Items = puts.
#include <rocksdb/db.h>
#include <rocksdb/listener.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <cstdlib>

namespace {

class FlushCounter : public rocksdb::EventListener {
 public:
  void OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo&) override { ++flushes; }
  std::atomic<int> flushes{0};
};

// The day's log values as CommitBatch writes them.
const std::vector<std::string>& LogValues() {
  static const std::vector<std::string>* values = [] {
    auto* v = new std::vector<std::string>;
    const auto& day = Day();
    v->reserve(day.records.size());
    for (size_t i = 0; i < day.records.size(); ++i) {
      if (day.results[i].outcome != ApplyResult::Outcome::kApplied) continue;
      hub::v1::LogRecord rec = day.records[i];
      rec.set_hub_seq(day.results[i].hub_seq);
      if (day.results[i].has_decision) *rec.mutable_decision() = day.results[i].decision;
      v->push_back(rec.SerializeAsString());
    }
    return v;
  }();
  return *values;
}

double CeilingSeconds() {
  const char* s = std::getenv("HUBD_CEILING_SECONDS");
  return s != nullptr && std::atof(s) > 0 ? std::atof(s) : 4.0;
}

void BM_LogAppendCeiling(benchmark::State& state) {
  const size_t group = static_cast<size_t>(state.range(0));
  const bool fsync = state.range(1) != 0;
  const auto& values = LogValues();
  const fs::path dir = fs::temp_directory_path() / ("hubd-ceiling-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  db_options.max_total_wal_size = 128 << 20;
  db_options.db_write_buffer_size = 80 << 20;
  auto counter = std::make_shared<FlushCounter>();
  db_options.listeners.push_back(counter);
  rocksdb::ColumnFamilyOptions log_options;
  log_options.compression = rocksdb::kZSTD;
  log_options.write_buffer_size = 64 << 20;
  log_options.max_write_buffer_number = 4;
  rocksdb::ColumnFamilyOptions default_options;
  default_options.compression = rocksdb::kZSTD;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, default_options},
                                                      {"log", log_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(db_options, dir.string(), cfs, &handles, &raw).ok()) {
    state.SkipWithError("cannot open raw db");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = fsync;
  rocksdb::WriteBatch wb;
  const auto stretch = std::chrono::duration<double>(CeilingSeconds());
  uint64_t seq = 0, bytes = 0, groups = 0;
  size_t next = 0;
  for (auto _ : state) {
    const auto end = std::chrono::steady_clock::now() + stretch;
    while (std::chrono::steady_clock::now() < end) {
      for (size_t i = 0; i < group; ++i) {
        char key[8];
        uint64_t k = ++seq;
        for (int b = 7; b >= 0; --b, k >>= 8) key[b] = static_cast<char>(k & 0xff);
        const std::string& v = values[next];
        next = next + 1 == values.size() ? 0 : next + 1;
        wb.Put(handles[1], rocksdb::Slice(key, 8), v);
        bytes += v.size();
      }
      if (!db->Write(wo, &wb).ok()) {
        state.SkipWithError("write failed");
        break;
      }
      wb.Clear();
      ++groups;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(seq));
  state.counters["flushes"] = counter->flushes.load();
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["value_B"] = static_cast<double>(bytes) / std::max<uint64_t>(seq, 1);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  db.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_LogAppendCeiling)
    ->ArgNames({"group", "fsync"})
    ->Args({64, 0})->Args({1024, 0})->Args({16384, 0})
    ->Args({64, 1})->Args({1024, 1})->Args({16384, 1})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

// A store of default options in `dir`, emptied first; nullptr when it
// cannot be opened.
std::unique_ptr<hub::store::RocksDbStore> FreshStore(const fs::path& dir) {
  fs::remove_all(dir);
  std::unique_ptr<hub::store::RocksDbStore> db;
  hub::store::StoreOptions options;
  options.path = dir.string();
  if (!hub::store::RocksDbStore::Open(options, &db).ok()) return nullptr;
  return db;
}

// The single writer's work per event of a generated day, as the sequencer
// does it: the core's Apply, adding the record to the commit batch, and a
// commit (wal) per group of `group` records. A fresh state and store per
// iteration; opening them is not timed, the archive writer's catch-up is.
// Everything on one thread; BM_PipelinedWriterDay is the writer as hubd runs
// it now.
void BM_SequencerDay(benchmark::State& state) {
  const size_t group = static_cast<size_t>(state.range(0));
  const auto& records = Day().records;
  const fs::path dir = fs::temp_directory_path() / ("hubd-bench-seq-" + std::to_string(::getpid()));
  for (auto _ : state) {
    state.PauseTiming();
    auto db = FreshStore(dir);
    if (!db) {
      state.SkipWithError("cannot open store");
      return;
    }
    auto hub = std::make_unique<hub::core::HubState>();
    auto batch = std::make_unique<hub::store::CommitBatch>(db.get());
    ApplyResult r;
    state.ResumeTiming();
    for (const auto& rec : records) {
      hub->Apply(rec, &r);
      batch->Add(rec, &r);
      if (batch->records() >= group && !db->Commit(batch.get()).ok()) state.SkipWithError("commit failed");
    }
    if (batch->records() > 0 && !db->Commit(batch.get()).ok()) state.SkipWithError("commit failed");
    if (!db->FlushArchive(records.size()).ok()) state.SkipWithError("archive failed");
    state.PauseTiming();
    batch.reset();
    hub.reset();
    db.reset();
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records.size()));
}
BENCHMARK(BM_SequencerDay)->ArgNames({"group"})->Arg(4096)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

// The single writer as hubd runs it (src/sequencer): Apply and CommitBatch
// building on this thread, while a second thread commits the group before
// (groups of 4,096 records, two batches in turn). CPU time is this thread's
// only: the writer's cost per event.
void BM_PipelinedWriterDay(benchmark::State& state) {
  const size_t group = static_cast<size_t>(state.range(0));
  const auto& records = Day().records;
  const fs::path dir = fs::temp_directory_path() / ("hubd-bench-pipe-" + std::to_string(::getpid()));
  for (auto _ : state) {
    state.PauseTiming();
    auto db = FreshStore(dir);
    if (!db) {
      state.SkipWithError("cannot open store");
      return;
    }
    auto hub = std::make_unique<hub::core::HubState>();
    auto a = std::make_unique<hub::store::CommitBatch>(db.get());
    auto b = std::make_unique<hub::store::CommitBatch>(db.get());
    hub::store::CommitBatch* open = a.get();
    std::mutex mu;
    std::condition_variable cv;
    hub::store::CommitBatch* writing = nullptr;
    bool stop = false, failed = false;
    std::thread committer([&] {
      std::unique_lock<std::mutex> lock(mu);
      for (;;) {
        cv.wait(lock, [&] { return writing != nullptr || stop; });
        if (writing == nullptr) return;
        lock.unlock();
        const bool ok = db->Commit(writing).ok();
        lock.lock();
        failed |= !ok;
        writing = nullptr;
        cv.notify_all();
      }
    });
    auto hand_over = [&] {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return writing == nullptr; });
      writing = open;
      cv.notify_all();
      open = open == a.get() ? b.get() : a.get();
    };
    ApplyResult r;
    state.ResumeTiming();
    for (const auto& rec : records) {
      hub->Apply(rec, &r);
      open->Add(rec, &r);
      if (open->records() >= group) hand_over();
    }
    if (open->records() > 0) hand_over();
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return writing == nullptr; });
      stop = true;
      cv.notify_all();
    }
    committer.join();
    if (failed) state.SkipWithError("commit failed");
    if (!db->FlushArchive(records.size()).ok()) state.SkipWithError("archive failed");
    state.PauseTiming();
    a.reset();
    b.reset();
    hub.reset();
    db.reset();
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records.size()));
}
BENCHMARK(BM_PipelinedWriterDay)->ArgNames({"group"})->Arg(4096)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
