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
  hub::store::CommitBatch batch(db.get());
  size_t next = 0;
  int64_t records = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < group; ++i) {
      if (next == day.records.size()) {
        state.SkipWithError("day exhausted; use a bigger day or fewer iterations");
        break;
      }
      batch.Add(day.records[next], day.results[next]);
      ++next;
    }
    records += static_cast<int64_t>(batch.records());
    if (!db->Commit(&batch).ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(records);
  db.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_StoreCommit)
    ->ArgNames({"group", "fsync"})
    ->Args({1, 0})->Args({64, 0})->Args({1024, 0})
    ->Args({1, 1})->Args({64, 1})->Args({1024, 1})
    ->Iterations(150)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
