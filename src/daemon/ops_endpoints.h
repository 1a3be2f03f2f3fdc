#pragma once

// The operations endpoints: /healthz, /healthz/detail, /readyz and /metrics (Prometheus text
// format 0.0.4). Everything they read is atomics, so a scrape never touches
// the sequencer.

#include <atomic>
#include <functional>
#include <string>

#include "feed/feed_options.h"
#include "net/http_server.h"
#include "net/scan_server.h"
#include "sequencer/sequencer.h"
#include "store/rocksdb_store.h"

namespace hub::daemon {

struct OpsSources {
  sequencer::Sequencer* sequencer = nullptr;
  net::ScanServer* scan_server = nullptr;
  const std::atomic<bool>* ready = nullptr;  // recovery finished, listening
  // WAL write batches RocksDB's recovery dropped at this start (a torn or
  // corrupt tail: store::WalTailLoss).
  uint64_t wal_tail_dropped_batches = 0;
  store::RocksDbStore* store = nullptr;  // checkpoints, entity index, retention
  // The feed's status (unset: the feed is off).
  std::function<feed::FeedStatus()> feed;
};

std::string RenderMetrics(const OpsSources& sources);
net::HttpResponse HandleOps(const net::HttpRequest& request, const OpsSources& sources);

}  // namespace hub::daemon
