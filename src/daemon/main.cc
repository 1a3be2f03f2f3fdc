// hubd: the hub scan processor daemon.
//
// Start-up: options -> open store -> recover state -> sequencer -> listener
// -> "event=ready". SIGTERM/SIGINT drain: stop accepting and reading, let
// the sequencer apply, commit and answer everything already read, send it,
// checkpoint, close the store, exit 0. Under systemd: READY=1 after
// recovery, WATCHDOG=1 while the sequencer's loop turns, STOPPING=1 at the
// drain.

#include <fcntl.h>
#include <malloc.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <google/protobuf/stubs/logging.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "api/router.h"
#include "util/time_text.h"
#include "core/hub_state.h"
#include "daemon/export.h"
#include "daemon/ops_endpoints.h"
#include "daemon/options.h"
#include "daemon/watchdog.h"
#include "feed/dispatch_consumer.h"
#include "feed/feed_publisher.h"
#include "hub/version.h"
#include "net/scan_server.h"
#include "sequencer/sequencer.h"
#include "store/backup.h"
#include "store/disk_space.h"
#include "store/rocksdb_store.h"
#include "util/log_format.h"
#include "util/log_value.h"

namespace {

bool IsLoopback(const std::string& host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// Plain TCP is fine on loopback (tests, a hub that fronts hubd with its own
// proxy); on a network, scans and bearer tokens would travel in clear.
void WarnAboutExposure(const hub::daemon::DaemonOptions& opt, const hub::net::ScanServer& server) {
  if (!IsLoopback(opt.ingest.host) && !server.tls())
    spdlog::warn("event=insecure_listener port=ingest listen={} reason={}", opt.ingest.host,
                 hub::util::LogValue("scanner traffic is not encrypted: configure [ingest.tls]"));
  if (!IsLoopback(opt.ingest.host) && !server.authenticating())
    spdlog::warn("event=insecure_listener port=ingest listen={} reason={}", opt.ingest.host,
                 hub::util::LogValue("any client can speak for any scanner: configure "
                                     "[[ingest.credentials]] or a client CA"));
  for (const hub::net::DeviceOptions& d : opt.ingest.devices)
    if (!IsLoopback(d.host) && d.allow_from.empty())
      spdlog::warn("event=insecure_listener port=device scanner={} listen={} reason={}",
                   hub::util::LogValue(d.scanner_id), d.host,
                   hub::util::LogValue("devices cannot authenticate and any address may speak for this "
                                       "one: name it in allow_from"));
  if (!IsLoopback(opt.http_host) && opt.http_tls.cert.empty())
    spdlog::warn("event=insecure_listener port=http listen={} reason={}", opt.http_host,
                 hub::util::LogValue("API tokens travel in clear: configure [http.tls]"));
}

// Each scanner session takes a file descriptor: let hubd use as many as its
// hard limit allows, and say so when that is fewer than its session cap.
void RaiseFileLimit(size_t max_sessions) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < max_sessions + 64)
    spdlog::warn("event=file_limit_low nofile={} max_sessions={} reason={}", lim.rlim_cur,
                 max_sessions, hub::util::LogValue("connections beyond the limit wait in the backlog"));
}

// protobuf reports some parse failures itself (a string field that is not
// UTF-8, say): into the log as one key=value line, at most one per 10 s,
// never as its own free-form line.
void ProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                 const std::string& message) {
  static hub::util::LogThrottle throttle(std::chrono::seconds(10));
  uint64_t held = 0;
  if (level < google::protobuf::LOGLEVEL_WARNING || !throttle.Allow(&held)) return;
  spdlog::warn("event=protobuf_log file={}:{} message={} suppressed={}", hub::util::LogValue(file),
               line, hub::util::LogValue(message), held);
}

// Exit codes beyond 0, 1 (failed) and 2 (bad usage): a state of the data
// directory an operator must mend. Under systemd, RestartPreventExitStatus
// keeps these from becoming a restart loop (deploy/hubd.service.in).
constexpr int kExitDiskFull = 3;
constexpr int kExitCorrupt = 4;

// The way out of a corrupt data directory, as commands to type.
std::string RestoreCommand(const std::string& data_dir) {
  std::string backup = hub::store::LastBackupOf(data_dir);
  if (backup.empty()) backup = "BACKUP_DIR";
  const std::string fresh = data_dir + ".restored";
  return "hubd --restore-from " + backup + " --data-dir " + fresh + " && hubd --data-dir " + fresh +
         " (with the same other options); or, to keep what can still be read, hubd --data-dir " +
         data_dir + " --export DIR";
}

// Logs why the store cannot be used and returns the exit code.
int RefuseStore(const char* event, const std::string& data_dir, const hub::store::Status& s) {
  using hub::util::LogValue;
  if (s.IsNoSpace()) {
    spdlog::error("event=disk_full stage={} data_dir={} error={} way_out={}", event,
                  LogValue(data_dir), LogValue(s.ToString()),
                  LogValue("free space on the data directory's file system, then start hubd again"));
    return kExitDiskFull;
  }
  if (s.IsCorruption()) {
    spdlog::error("event=store_corrupt stage={} data_dir={} error={} way_out={}", event,
                  LogValue(data_dir), LogValue(s.ToString()), LogValue(RestoreCommand(data_dir)));
    return kExitCorrupt;
  }
  spdlog::error("event={} data_dir={} error={}", event, LogValue(data_dir), LogValue(s.ToString()));
  return EXIT_FAILURE;
}

}  // namespace

namespace {

// The time rules, the weight tolerance and the overdue grace are part of the log's meaning: a changed configuration is
// logged as a settings change (before any scan is accepted), so a replay
// applies the same rules at the same point.
bool LogSettingsIfChanged(const hub::daemon::DaemonOptions& opt, const hub::v1::HubSettings& logged,
                          hub::sequencer::Sequencer* sequencer) {
  if (logged.dwell_hours() == opt.dwell_hours && logged.forget_after_days() == opt.forget_after_days &&
      logged.weight_tolerance_g() == opt.weight_tolerance_g &&
      logged.weight_tolerance_percent() == opt.weight_tolerance_percent &&
      logged.overdue_grace_minutes() == opt.overdue_grace_minutes)
    return true;
  hub::v1::LogRecord record;
  auto* settings = record.mutable_reference()->mutable_settings();
  settings->set_dwell_hours(opt.dwell_hours);
  settings->set_forget_after_days(opt.forget_after_days);
  settings->set_weight_tolerance_g(opt.weight_tolerance_g);
  settings->set_weight_tolerance_percent(opt.weight_tolerance_percent);
  settings->set_overdue_grace_minutes(opt.overdue_grace_minutes);
  std::promise<hub::sequencer::CommandResult> done;
  hub::sequencer::Submission submission;
  submission.command = std::move(record);
  submission.done = [&done](hub::sequencer::CommandResult r) { done.set_value(std::move(r)); };
  sequencer->Submit(std::move(submission));
  const hub::sequencer::CommandResult result = done.get_future().get();
  if (!result.applied) {
    spdlog::error("event=settings_failed error={}", hub::util::LogValue(result.reason));
    return false;
  }
  spdlog::info("event=settings_changed dwell_hours={} forget_after_days={} was_dwell_hours={} "
               "was_forget_after_days={} weight_tolerance_g={} weight_tolerance_percent={} "
               "was_weight_tolerance_g={} was_weight_tolerance_percent={} overdue_grace_minutes={} "
               "was_overdue_grace_minutes={} hub_seq={}",
               opt.dwell_hours, opt.forget_after_days, logged.dwell_hours(), logged.forget_after_days(),
               opt.weight_tolerance_g, opt.weight_tolerance_percent, logged.weight_tolerance_g(),
               logged.weight_tolerance_percent(), opt.overdue_grace_minutes, logged.overdue_grace_minutes(),
               result.hub_seq);
  return true;
}

// With no API token configured, a first run would answer 401 to everyone:
// hubd makes a local admin token in the data directory instead (mode 0600,
// kept across restarts, never logged), which hubctl on this machine picks
// up. Configured tokens replace it. False (and the reason logged) when the
// file cannot be read or made.
bool UseLocalAdminToken(const std::string& data_dir, std::vector<hub::api::ApiToken>* tokens) {
  const std::string path = data_dir + "/" + hub::api::kLocalTokenFile;
  std::string token;
  if (std::ifstream in(path); in) {
    std::getline(in, token);
  } else {
    unsigned char random[32];
    if (RAND_bytes(random, sizeof(random)) != 1) {
      spdlog::error("event=local_token_failed error=\"no randomness\"");
      return false;
    }
    static const char* kHex = "0123456789abcdef";
    for (unsigned char b : random) token += {kHex[b >> 4], kHex[b & 15]};
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    const std::string line = token + "\n";
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
        ::fsync(fd) != 0) {
      spdlog::error("event=local_token_failed path={} error={}", hub::util::LogValue(path),
                    hub::util::LogValue(std::strerror(errno)));
      if (fd >= 0) ::close(fd);
      return false;
    }
    ::close(fd);
  }
  if (token.size() < 32) {
    spdlog::error("event=local_token_failed path={} error=\"shorter than 32 characters: delete it\"",
                  hub::util::LogValue(path));
    return false;
  }
  tokens->push_back(hub::api::ApiToken{"local-admin", token, hub::api::Role::kAdmin});
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Blocks of 1 MiB and more (RocksDB's memtable arenas) come from mmap and
  // go back to the system when freed. glibc otherwise raises this threshold
  // each time such a block is freed, and later ones stay in the heap: peak
  // RSS of a 1 M-parcel day 255 MiB, 209 MiB with it, same rate and ack
  // latency (bench/RESULTS.md). MALLOC_MMAP_THRESHOLD_ in the environment still wins.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 1 << 20);
  hub::daemon::DaemonOptions opt;
  int exit_code = 0;
  if (!hub::daemon::ParseOptions(argc, argv, &opt, &exit_code)) return exit_code;
  hub::util::UseLogFormat(opt.log_format);
  spdlog::set_level(spdlog::level::from_str(opt.log_level));
  google::protobuf::SetLogHandler(&ProtobufLog);

  // Block the stop signals before any thread exists; main waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGHUP);  // reload the TLS files
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  RaiseFileLimit(opt.ingest.max_sessions);

  if (!opt.restore_from.empty()) {
    hub::v1::BackupManifest manifest;
    const hub::store::Status restored =
        hub::store::RestoreBackup(opt.restore_from, opt.data_dir, &manifest);
    if (!restored.ok()) {
      spdlog::error("event=restore_failed backup={} data_dir={} error={}",
                    hub::util::LogValue(opt.restore_from), hub::util::LogValue(opt.data_dir),
                    hub::util::LogValue(restored.ToString()));
      return restored.IsNoSpace() ? kExitDiskFull : EXIT_FAILURE;
    }
    spdlog::info("event=restored backup={} data_dir={} hub_seq={} files={} bytes={} taken_ms={} "
                 "taken_by={}",
                 hub::util::LogValue(opt.restore_from), hub::util::LogValue(opt.data_dir),
                 manifest.hub_seq(), manifest.files_size(), manifest.total_bytes(),
                 manifest.created_ms(), hub::util::LogValue(manifest.hubd_version()));
    return EXIT_SUCCESS;
  }

  // A full disk is refused before RocksDB tries to write (see store/disk_space.h).
  if (uint64_t free = 0; hub::store::FreeBytes(opt.data_dir, &free)) {
    const uint64_t need = hub::store::kMinFreeBytesToStart + hub::store::WalBytes(opt.data_dir);
    if (free < need) {
      spdlog::error("event=disk_full stage=start data_dir={} free_bytes={} needed_bytes={} way_out={}",
                    hub::util::LogValue(opt.data_dir), free, need,
                    hub::util::LogValue("free space on the data directory's file system, then "
                                        "start hubd again"));
      return kExitDiskFull;
    }
  }
  hub::store::StoreOptions store_options;
  store_options.path = opt.data_dir;
  store_options.durability = opt.durability;
  store_options.min_free_bytes = hub::store::kMinFreeBytesToRun;
  std::unique_ptr<hub::store::RocksDbStore> store;
  hub::store::Status s = hub::store::RocksDbStore::Open(store_options, &store);
  if (!s.ok()) return RefuseStore("open_failed", opt.data_dir, s);
  uint64_t wal_dropped = 0;
  if (const auto& loss = store->wal_tail_loss()) {
    wal_dropped = loss->batches;
    uint64_t recovered_to = 0;
    (void)store->LastHubSeq(&recovered_to);
    spdlog::warn(
        "event=wal_tail_dropped batches={} bytes={} wal_file={} offset={} reason={} "
        "first_hub_seq={} last_hub_seq={} recovered_to_hub_seq={} note={}",
        loss->batches, loss->bytes, hub::util::LogValue(loss->wal_file), loss->offset,
        hub::util::LogValue(loss->reason), loss->first_hub_seq, loss->last_hub_seq, recovered_to,
        hub::util::LogValue(
            "RocksDB recovered the log up to the first bad WAL record and dropped the rest; "
            "scanners re-send what was not acked (their welcome names their durable seq)"));
  }
  if (opt.compact) {
    s = store->CompactAll();
    if (!s.ok()) {
      spdlog::error("event=compact_failed error={}", hub::util::LogValue(s.ToString()));
      return EXIT_FAILURE;
    }
    spdlog::info("event=compacted data_dir={}", hub::util::LogValue(opt.data_dir));
  }
  if (opt.store_stats) {
    std::vector<hub::store::RocksDbStore::FamilySpace> families;
    uint64_t wal = 0;
    s = store->SpaceUsed(&families, &wal);
    if (!s.ok()) {
      spdlog::error("event=store_stats_failed error={}", hub::util::LogValue(s.ToString()));
      return EXIT_FAILURE;
    }
    uint64_t total = wal;
    for (const auto& f : families) {
      std::printf("family=%s sst_bytes=%llu sst_files=%llu\n", f.family.c_str(),
                  static_cast<unsigned long long>(f.sst_bytes), static_cast<unsigned long long>(f.sst_files));
      total += f.sst_bytes;
    }
    std::printf("wal_bytes=%llu\ntotal_bytes=%llu\n", static_cast<unsigned long long>(wal),
                static_cast<unsigned long long>(total));
    return EXIT_SUCCESS;
  }
  if (opt.compact) return EXIT_SUCCESS;
  if (!opt.export_dir.empty()) {
    uint64_t events = 0;
    const std::string error = hub::daemon::ExportDay(store.get(), opt.export_dir, &events);
    if (!error.empty()) {
      spdlog::error("event=export_failed error={}", hub::util::LogValue(error));
      return EXIT_FAILURE;
    }
    spdlog::info("event=exported dir={} events={}", hub::util::LogValue(opt.export_dir), events);
    return EXIT_SUCCESS;
  }
  if (std::string error; !opt.time_zone.empty() && !hub::util::SetTimeZone(opt.time_zone, &error)) {
    spdlog::error("event=time_zone_failed error={}", hub::util::LogValue(error));
    return EXIT_FAILURE;
  }
  hub::core::HubState state;
  // The feed (off by default): it reads the store on its own thread;
  // retention never removes what it has not published.
  std::unique_ptr<hub::feed::FeedPublisher> publisher;
  if (opt.feed.enabled) {
    publisher = std::make_unique<hub::feed::FeedPublisher>(opt.feed, store.get());
    opt.sequencer.retention_limit = [p = publisher.get()] { return p->published_through(); };
  }
  // The API's case stream hears of every durable case change.
  std::unique_ptr<hub::api::ApiRouter> api;
  opt.sequencer.on_cases = [&api](std::vector<hub::store::CaseChange>&& changes) {
    if (api) api->PublishCases(std::move(changes));
  };
  hub::sequencer::Sequencer sequencer(&state, store.get(), opt.sequencer);
  // A re-sent event is checked against what its seq was used for.
  auto check_resend = [db = store.get()](const hub::v1::ScanEvent& resent,
                                         hub::net::ResendAnswer* out) {
    hub::store::RocksDbStore::ResendCheck check;
    hub::store::Status s = db->CheckResend(resent, &check);
    if (!s.ok()) {
      spdlog::error("event=resend_check_failed error={}", hub::util::LogValue(s.ToString()));
      return;  // acked as a re-send, as before the check existed
    }
    out->reused = check.reused;
    out->reason = std::move(check.reason);
    out->decision = std::move(check.decision);
  };
  std::unique_ptr<hub::feed::DispatchConsumer> consumer;
  std::function<hub::feed::FeedStatus()> feed_status;
  if (publisher) {
    if (opt.feed.consume_dispatch)
      consumer = std::make_unique<hub::feed::DispatchConsumer>(opt.feed, &sequencer);
    feed_status = [p = publisher.get(), c = consumer.get()] {
      hub::feed::FeedStatus status;
      p->Report(&status);
      if (c != nullptr) c->Report(&status);
      return status;
    };
  }
  std::atomic<bool> ready{false};
  std::unique_ptr<hub::net::ScanServer> server;
  std::unique_ptr<hub::net::HttpServer> http;
  std::unique_ptr<hub::daemon::OpsSources> ops;
  const bool local_token = opt.api_tokens.empty();
  if (local_token && !UseLocalAdminToken(opt.data_dir, &opt.api_tokens)) return EXIT_FAILURE;
  api = std::make_unique<hub::api::ApiRouter>(
      hub::api::ApiSources{&sequencer, store.get(), &ready, opt.api_tokens, 2, nullptr});
  try {
    server = std::make_unique<hub::net::ScanServer>(opt.ingest, &sequencer, check_resend);
    ops = std::make_unique<hub::daemon::OpsSources>(
        hub::daemon::OpsSources{&sequencer, server.get(), &ready, wal_dropped, store.get(), feed_status});
    http = std::make_unique<hub::net::HttpServer>(
        opt.http_host, opt.http_port,
        [&ops, &api](hub::net::HttpRequest r, hub::net::HttpReply reply) {
          if (r.target.rfind("/v1/", 0) == 0) return api->Handle(std::move(r), std::move(reply));
          reply.Send(HandleOps(r, *ops));
        },
        opt.http_tls, hub::api::RenderServerError);
    http->Listen();
    server->Listen();
  } catch (const std::exception& e) {
    spdlog::error("event=listen_failed ingest={}:{} http={}:{} error={}", opt.ingest.host,
                  opt.ingest.port, opt.http_host, opt.http_port, hub::util::LogValue(e.what()));
    return EXIT_FAILURE;
  }
  WarnAboutExposure(opt, *server);
  for (size_t i = 0; i < server->devices(); ++i) {
    const hub::net::DeviceOptions& d = server->device(i);
    spdlog::info("event=device_listening scanner={} station={} listen={}:{} port={} profile={}",
                 hub::util::LogValue(d.scanner_id), hub::util::LogValue(d.station), d.host,
                 server->device_port(i), server->device_port(i), hub::util::LogValue(d.profile_name));
  }
  http->Start();  // /healthz answers during recovery; /readyz once it is done

  uint64_t replayed = 0;
  const auto recovery_start = std::chrono::steady_clock::now();
  s = store->Recover(&state, &replayed);
  const auto recovery_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - recovery_start)
                               .count();
  if (!s.ok()) return RefuseStore("recovery_failed", opt.data_dir, s);
  const hub::v1::HubSettings logged = state.settings();
  sequencer.Start(replayed);
  if (!LogSettingsIfChanged(opt, logged, &sequencer)) return EXIT_FAILURE;
  server->Start();
  if (publisher) publisher->Start();
  if (consumer) consumer->Start();
  ready = true;
  const char* durability = opt.durability == hub::store::Durability::kFsync ? "fsync" : "wal";
  spdlog::info(
      "event=ready listen={}:{} http={}:{} page={}://{}:{}/ data_dir={} durability={} io_threads={} hub_seq={} "
      "replayed={} recovery_ms={} parcels={} open_cases={} version={}",
      opt.ingest.host, server->port(), opt.http_host, http->port(),
      opt.http_tls.cert.empty() ? "http" : "https", opt.http_host, http->port(), hub::util::LogValue(opt.data_dir),
      durability, opt.ingest.io_threads, state.last_hub_seq(), replayed, recovery_ms, state.live_parcels(),
      state.open_cases(), hub::kVersion);

  if (local_token)
    spdlog::info("event=local_admin_token path={} page={}://{}:{}/ hint={}",
                 hub::util::LogValue(opt.data_dir + "/" + hub::api::kLocalTokenFile),
                 opt.http_tls.cert.empty() ? "http" : "https", opt.http_host, http->port(),
                 hub::util::LogValue("no [[api.tokens]] configured: this admin token signs in to the page "
                                     "and works for hubctl on this machine (hubctl --data-dir DIR); "
                                     "configured tokens replace it"));

  // Under systemd (Type=notify): ready only now, after recovery and with
  // both listeners up. Without NOTIFY_SOCKET this does nothing.
  sd_notifyf(0, "READY=1\nSTATUS=serving hub_seq=%llu", static_cast<unsigned long long>(state.last_hub_seq()));
  // systemd's watchdog runs from READY=1 on; it stops at STOPPING=1.
  std::unique_ptr<hub::daemon::Watchdog> watchdog;
  if (const auto interval = hub::daemon::Watchdog::SystemdInterval(); interval.count() > 0) {
    watchdog = std::make_unique<hub::daemon::Watchdog>(
        interval, [&sequencer] { return sequencer.heartbeat(); }, [] { sd_notify(0, "WATCHDOG=1"); });
    spdlog::info("event=watchdog_enabled interval_ms={}", interval.count() / 1000);
  }

  int sig = 0;
  for (;;) {
    sigwait(&stop, &sig);
    if (sig != SIGHUP) break;
    // Certificates renewed on disk: later connections use them; open
    // sessions keep theirs.
    for (auto [name, error] : {std::pair{"ingest", server->ReloadTls()}, {"http", http->ReloadTls()}}) {
      if (error.empty()) {
        spdlog::info("event=tls_reloaded port={}", name);
      } else {
        spdlog::error("event=tls_reload_failed port={} error={}", name, hub::util::LogValue(error));
      }
    }
  }
  watchdog.reset();
  sd_notify(0, "STOPPING=1\nSTATUS=draining");
  spdlog::info("event=draining signal={} sessions={}", sig == SIGTERM ? "SIGTERM" : "SIGINT",
               server->sessions_open());
  ready = false;  // API writes are refused from here on
  server->StopAccepting();
  if (consumer) consumer->Stop();  // an advice not yet applied is delivered again
  sequencer.Stop();  // applies, commits and answers everything read
  server->CloseSessions(opt.drain_timeout_ms);
  api->Stop();  // ends the streams, finishes queries and a backup in progress
  if (publisher) publisher->Stop();  // what it has not published, it publishes after the restart
  http->Stop();
  if (!sequencer.healthy()) {
    spdlog::error("event=stopped_unhealthy hub_seq={}", state.last_hub_seq());
    return EXIT_FAILURE;
  }
  s = store->WriteCheckpoint(state.Snapshot());
  if (!s.ok()) {
    spdlog::error("event=checkpoint_failed error={}", hub::util::LogValue(s.ToString()));
    return EXIT_FAILURE;
  }
  store.reset();
  spdlog::info("event=stopped hub_seq={} committed={}", state.last_hub_seq(), sequencer.committed());
  return EXIT_SUCCESS;
}
