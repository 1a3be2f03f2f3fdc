// hubd: the hub scan processor daemon.
//
// Start-up: options -> open store -> recover state -> sequencer -> listener
// -> "event=ready". SIGTERM/SIGINT drain: stop accepting and reading, let
// the sequencer apply, commit and answer everything already read, send it,
// checkpoint, close the store, exit 0.

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "core/hub_state.h"
#include "daemon/api_endpoints.h"
#include "daemon/export.h"
#include "daemon/ops_endpoints.h"
#include "daemon/options.h"
#include "net/scan_server.h"
#include "sequencer/sequencer.h"
#include "store/rocksdb_store.h"

int main(int argc, char** argv) {
  hub::daemon::DaemonOptions opt;
  int exit_code = 0;
  if (!hub::daemon::ParseOptions(argc, argv, &opt, &exit_code)) return exit_code;
  spdlog::set_level(spdlog::level::from_str(opt.log_level));

  // Block the stop signals before any thread exists; main waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  hub::store::StoreOptions store_options;
  store_options.path = opt.data_dir;
  store_options.durability = opt.durability;
  std::unique_ptr<hub::store::RocksDbStore> store;
  hub::store::Status s = hub::store::RocksDbStore::Open(store_options, &store);
  if (!s.ok()) {
    spdlog::error("event=open_failed data_dir={} error=\"{}\"", opt.data_dir, s.ToString());
    return EXIT_FAILURE;
  }
  if (!opt.export_dir.empty()) {
    uint64_t events = 0;
    const std::string error = hub::daemon::ExportDay(store.get(), opt.export_dir, &events);
    if (!error.empty()) {
      spdlog::error("event=export_failed error=\"{}\"", error);
      return EXIT_FAILURE;
    }
    spdlog::info("event=exported dir={} events={}", opt.export_dir, events);
    return EXIT_SUCCESS;
  }
  hub::core::HubState state;
  hub::sequencer::Sequencer sequencer(&state, store.get(), opt.sequencer);
  hub::net::ScanServer server(opt.ingest, &sequencer);
  std::atomic<bool> ready{false};
  const hub::daemon::OpsSources ops{&sequencer, &server, &ready};
  const hub::daemon::ApiSources api{&sequencer, store.get(), &ready, opt.api_tokens};
  hub::net::HttpServer http(opt.http_host, opt.http_port,
                            [&ops, &api](const hub::net::HttpRequest& r) {
                              if (r.target.rfind("/v1/", 0) == 0) return HandleApi(r, api);
                              return HandleOps(r, ops);
                            });
  try {
    http.Listen();
    server.Listen();
  } catch (const std::exception& e) {
    spdlog::error("event=listen_failed ingest={}:{} http={}:{} error=\"{}\"", opt.ingest.host,
                  opt.ingest.port, opt.http_host, opt.http_port, e.what());
    return EXIT_FAILURE;
  }
  http.Start();  // /healthz answers during recovery; /readyz once it is done

  uint64_t replayed = 0;
  s = store->Recover(&state, &replayed);
  if (!s.ok()) {
    spdlog::error("event=recovery_failed data_dir={} error=\"{}\"", opt.data_dir, s.ToString());
    return EXIT_FAILURE;
  }
  sequencer.Start();
  server.Start();
  ready = true;
  const char* durability = opt.durability == hub::store::Durability::kFsync ? "fsync" : "wal";
  spdlog::info(
      "event=ready listen={}:{} http={}:{} data_dir={} durability={} io_threads={} hub_seq={} "
      "replayed={} parcels={} open_cases={}",
      opt.ingest.host, server.port(), opt.http_host, http.port(), opt.data_dir, durability,
      opt.ingest.io_threads,
      state.last_hub_seq(), replayed, state.live_parcels(), state.open_cases());

  // Under systemd (Type=notify): ready only now, after recovery and with
  // both listeners up. Without NOTIFY_SOCKET this does nothing.
  sd_notifyf(0, "READY=1\nSTATUS=serving hub_seq=%llu", static_cast<unsigned long long>(state.last_hub_seq()));

  int sig = 0;
  sigwait(&stop, &sig);
  sd_notify(0, "STOPPING=1\nSTATUS=draining");
  spdlog::info("event=draining signal={} sessions={}", sig == SIGTERM ? "SIGTERM" : "SIGINT",
               server.sessions_open());
  ready = false;  // API writes are refused from here on
  server.StopAccepting();
  sequencer.Stop();  // applies, commits and answers everything read
  server.CloseSessions(opt.drain_timeout_ms);
  http.Stop();
  if (!sequencer.healthy()) {
    spdlog::error("event=stopped_unhealthy hub_seq={}", state.last_hub_seq());
    return EXIT_FAILURE;
  }
  s = store->WriteCheckpoint(state.Snapshot());
  if (!s.ok()) {
    spdlog::error("event=checkpoint_failed error=\"{}\"", s.ToString());
    return EXIT_FAILURE;
  }
  store.reset();
  spdlog::info("event=stopped hub_seq={} committed={}", state.last_hub_seq(), sequencer.committed());
  return EXIT_SUCCESS;
}
