// hubd: the hub scan processor daemon.
//
// This build opens the store, recovers the hub state from it, reports ready
// and waits for SIGTERM/SIGINT; on the signal it writes a checkpoint and
// closes the store cleanly. The scanner listener arrives with the ingest
// work (issue 3).

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <spdlog/spdlog.h>

#include "core/hub_state.h"
#include "store/rocksdb_store.h"

int main(int argc, char** argv) {
  std::string data_dir = "hubd-data";
  std::string durability = "wal";
  CLI::App app{"hubd: sorting hub scan processor"};
  app.add_option("--data-dir", data_dir, "RocksDB directory (created if missing)")
      ->capture_default_str();
  app.add_option("--durability", durability,
                 "wal: acked events survive a process crash; fsync: survive power loss")
      ->check(CLI::IsMember({"wal", "fsync"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals before any thread exists, then wait for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  hub::store::StoreOptions options;
  options.path = data_dir;
  options.durability =
      durability == "fsync" ? hub::store::Durability::kFsync : hub::store::Durability::kWal;
  std::unique_ptr<hub::store::RocksDbStore> store;
  hub::store::Status s = hub::store::RocksDbStore::Open(options, &store);
  if (!s.ok()) {
    spdlog::error("event=open_failed data_dir={} error=\"{}\"", data_dir, s.ToString());
    return EXIT_FAILURE;
  }
  hub::core::HubState state;
  uint64_t replayed = 0;
  s = store->Recover(&state, &replayed);
  if (!s.ok()) {
    spdlog::error("event=recovery_failed data_dir={} error=\"{}\"", data_dir, s.ToString());
    return EXIT_FAILURE;
  }
  spdlog::info("event=ready data_dir={} durability={} hub_seq={} replayed={} parcels={} open_cases={}",
               data_dir, durability, state.last_hub_seq(), replayed, state.live_parcels(),
               state.open_cases());

  int sig = 0;
  sigwait(&stop, &sig);
  spdlog::info("event=stopping signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  s = store->WriteCheckpoint(state.Snapshot());
  if (!s.ok()) {
    spdlog::error("event=checkpoint_failed error=\"{}\"", s.ToString());
    return EXIT_FAILURE;
  }
  store.reset();
  spdlog::info("event=stopped hub_seq={}", state.last_hub_seq());
  return EXIT_SUCCESS;
}
