// Store commit throughput: records (already applied by the core, so only the
// store is timed) committed in groups of 1, 64 and 1024, in both durability
// modes. Items = log records.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

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

// The ceiling the store is compared with: raw RocksDB WriteBatch puts of
// sequential 8-byte keys and values the size of an average log record, in
// groups, into a default-configured database.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

namespace {

void BM_RawSequentialPut(benchmark::State& state) {
  const size_t group = static_cast<size_t>(state.range(0));
  const bool fsync = state.range(1) != 0;
  size_t total_bytes = 0;
  for (const auto& rec : Day().records) total_bytes += rec.ByteSizeLong() + 2;
  const std::string value(total_bytes / Day().records.size(), 'v');
  const fs::path dir = fs::temp_directory_path() / ("hubd-raw-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir.string(), &raw).ok()) {
    state.SkipWithError("cannot open raw db");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = fsync;
  rocksdb::WriteBatch wb;
  uint64_t seq = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < group; ++i) {
      char key[8];
      uint64_t k = ++seq;
      for (int b = 7; b >= 0; --b, k >>= 8) key[b] = static_cast<char>(k & 0xff);
      wb.Put(rocksdb::Slice(key, 8), value);
    }
    if (!db->Write(wo, &wb).ok()) state.SkipWithError("write failed");
    wb.Clear();
  }
  state.SetItemsProcessed(static_cast<int64_t>(seq));
  state.SetLabel("value " + std::to_string(value.size()) + " B");
  db->Close();
  db.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_RawSequentialPut)
    ->ArgNames({"group", "fsync"})
    ->Args({1, 0})->Args({64, 0})->Args({1024, 0})
    ->Args({1, 1})->Args({64, 1})->Args({1024, 1})
    ->Iterations(150)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
