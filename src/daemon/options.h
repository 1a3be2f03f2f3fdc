#pragma once

// hubd's configuration: defaults, overridden by a TOML file (--config), in
// turn overridden by command-line flags. deploy/hubd.toml documents every
// key. Every value is checked once, after the two are merged, by the same
// rules whichever side it came from; an unknown key, a value of the wrong
// type, a number out of its range or a bad name is refused (exit 2), never
// ignored or defaulted.

#include <cstdint>
#include <string>

#include "api/auth.h"
#include "feed/feed_options.h"
#include "net/scan_server.h"
#include "sequencer/sequencer.h"
#include "store/rocksdb_store.h"
#include "util/log_format.h"

namespace hub::daemon {

using api::ApiToken;
using api::Role;

struct DaemonOptions {
  std::string data_dir = "hubd-data";
  // fsync: an acked event survives power loss. wal: only a crash of hubd
  // (a power cut can lose every event acked since the OS last wrote back).
  store::Durability durability = store::Durability::kFsync;
  net::ServerOptions ingest;
  std::string http_host = "127.0.0.1";  // operations endpoints and the API
  uint16_t http_port = 7480;
  net::TlsFiles http_tls;               // HTTPS when http_tls.cert is set
  sequencer::SequencerOptions sequencer;
  std::string log_level = "info";       // trace, debug, info, warn, error
  util::LogFormat log_format = util::LogFormat::kLogfmt;
  int drain_timeout_ms = 5000;
  // The hub's time rules ([hub] in the file), logged as a settings change
  // at start when they differ from those the log holds: dwell_hours (0:
  // off), forget_after_days (0: never).
  uint32_t dwell_hours = 48;
  // The hub's time zone (IANA name) for ISO times in answers and the page;
  // empty: the machine's.
  std::string time_zone;
  uint32_t forget_after_days = 30;
  // WEIGHT_MISMATCH ([hub], logged with the time rules): a DWS reading M
  // against a known weight K raises it when |M - K| > max(weight_tolerance_g,
  // K * weight_tolerance_percent / 100).
  uint32_t weight_tolerance_g = 50;
  uint32_t weight_tolerance_percent = 5;
  // VEHICLE_OVERDUE: an advised vehicle not arrived this many minutes after
  // its advice's expected arrival.
  uint32_t overdue_grace_minutes = 30;
  // Accept hub.retention_days below 366 (flag only: for tests).
  bool allow_short_retention = false;
  // Where device profiles named without a path are looked up ([[device]]
  // in the file; the devices themselves are ingest.devices).
  std::string device_dir;
  // The feed to NATS JetStream and the dispatch consumer ([feed]; off by
  // default).
  feed::FeedOptions feed;
  // Supervisor API tokens ([[api.tokens]] in the configuration file only:
  // secrets do not belong on a command line). None: the API answers 401.
  std::vector<ApiToken> api_tokens;
  // Set: export the log as a replayable day into this directory and exit.
  std::string export_dir;
  // Set: print the bytes on disk by column family and of the WAL, and exit.
  bool store_stats = false;
  // Set: compact every column family fully, and exit (before --store-stats).
  bool compact = false;
  // Set: restore the backup in this directory into data_dir (which must not
  // exist or be empty), and exit.
  std::string restore_from;
};

// Parses argv (and the --config file it names), then checks every value
// once, whichever of the two it came from. Returns true to run; false to
// exit with *exit_code: 0 after --help or --version, 2 for bad usage (the
// reason written to stderr).
bool ParseOptions(int argc, char** argv, DaemonOptions* options, int* exit_code);

}  // namespace hub::daemon
