#include "daemon/ops_endpoints.h"

#include <optional>

#include <fmt/format.h>

#include "core/validate.h"
#include "hub/v1/exception.pb.h"
#include "web/assets.h"

namespace hub::daemon {
namespace {

using sequencer::Histogram;
using sequencer::SequencerProbe;

uint64_t Get(const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); }

void Header(std::string* out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void Scalar(std::string* out, const char* name, const char* type, const char* help, double v) {
  Header(out, name, type, help);
  fmt::format_to(std::back_inserter(*out), "{} {}\n", name, v);
}

void HistogramLines(std::string* out, const char* name, const char* help, const Histogram& h) {
  Header(out, name, "histogram", help);
  for (size_t i = 0; i < h.bounds().size(); ++i)
    fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"{}\"}} {}\n", name, h.bounds()[i],
                   h.CumulativeCount(i));
  fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n",
                 name, h.count(), name, h.sum(), name, h.count());
}

// A JSON string literal (control characters escaped; the rest is UTF-8).
std::string Quote(const std::string& v) {
  std::string out = "\"";
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void FeedMetrics(std::string* out, const feed::FeedStatus& f) {
  const auto lag = f.last_hub_seq > f.cursor_hub_seq ? f.last_hub_seq - f.cursor_hub_seq : 0;
  Scalar(out, "hubd_feed_connected", "gauge", "1 while the feed's NATS connection is up.", f.connected ? 1 : 0);
  Scalar(out, "hubd_feed_cursor_hub_sequence", "gauge",
         "Log records up to this hub sequence are in the feed's stream (the cases of the last may still be on their way).", static_cast<double>(f.cursor_hub_seq));
  Scalar(out, "hubd_feed_lag_records", "gauge", "Log records not yet in the feed's stream.",
         static_cast<double>(lag));
  Scalar(out, "hubd_feed_lag_seconds", "gauge",
         "Age of the oldest record the feed has not published (0: caught up).", f.lag_seconds);
  Scalar(out, "hubd_feed_published_messages_total", "counter",
         "Feed messages JetStream acknowledged (records and the cases they raised).",
         static_cast<double>(f.messages_published));
  Scalar(out, "hubd_feed_published_records_total", "counter", "Log records JetStream acknowledged.",
         static_cast<double>(f.records_published));
  Scalar(out, "hubd_feed_dispatch_published_total", "counter",
         "Dispatch advices published to the next hubs.", static_cast<double>(f.dispatch_published));
  Scalar(out, "hubd_feed_oversize_messages_total", "counter",
         "Messages over the NATS server's max_payload: published without their body, or (dispatch advices) not at all.",
         static_cast<double>(f.oversize));
  Scalar(out, "hubd_feed_errors_total", "counter",
         "Failed connects, publishes and stream reads of the feed (each followed by a retry).",
         static_cast<double>(f.publish_errors));
  Header(out, "hubd_dispatch_advices_total", "counter",
         "Dispatch advices received from other hubs, by what became of them.");
  fmt::format_to(std::back_inserter(*out),
                 "hubd_dispatch_advices_total{{outcome=\"applied\"}} {}\n"
                 "hubd_dispatch_advices_total{{outcome=\"duplicate\"}} {}\n"
                 "hubd_dispatch_advices_total{{outcome=\"invalid\"}} {}\n",
                 f.advices_applied, f.advices_duplicate, f.advices_invalid);
}

// GET /healthz/detail: the parts of hubd and how each is, as JSON. The
// feed never makes hubd unhealthy (ingest does not depend on it).
net::HttpResponse HealthDetail(const OpsSources& src) {
  const bool healthy = src.sequencer->healthy();
  std::string body = fmt::format("{{\"status\":{},\"ready\":{},\"store\":{}", Quote(healthy ? "ok" : "unhealthy"),
                                 src.ready->load() ? "true" : "false",
                                 Quote(healthy ? "ok" : "a store write failed"));
  if (!src.feed) {
    body += ",\"feed\":{\"state\":\"off\"}";
  } else {
    const feed::FeedStatus f = src.feed();
    body += fmt::format(
        ",\"feed\":{{\"state\":{},\"connected\":{},\"cursor_hub_seq\":{},\"last_hub_seq\":{},"
        "\"lag_records\":{},\"lag_seconds\":{:.3f},\"messages_published\":{},\"errors\":{},"
        "\"last_error\":{},\"dispatch\":{{\"consuming\":{},\"applied\":{},\"duplicate\":{},"
        "\"invalid\":{},\"last_error\":{}}}}}",
        Quote(f.state), f.connected ? "true" : "false", f.cursor_hub_seq, f.last_hub_seq,
        f.last_hub_seq > f.cursor_hub_seq ? f.last_hub_seq - f.cursor_hub_seq : 0, f.lag_seconds,
        f.messages_published, f.publish_errors, Quote(f.last_error), f.consuming ? "true" : "false",
        f.advices_applied, f.advices_duplicate, f.advices_invalid, Quote(f.consumer_error));
  }
  body += "}\n";
  return {healthy ? 200 : 503, "application/json", std::move(body), {}};
}

// The supervisor's page: "/" is web/index.html, "/ui/X" is web/X.
std::optional<net::HttpResponse> ServeWeb(const net::HttpRequest& req, const std::string& path) {
  std::optional<web::Asset> asset;
  if (path == "/") {
    asset = web::FindAsset("index.html");
  } else if (path.starts_with("/ui/")) {
    asset = web::FindAsset(std::string_view(path).substr(4));
  } else {
    return std::nullopt;
  }
  if (!asset) {
    return net::HttpResponse{404, "text/plain; charset=utf-8", "no such file: " + path + "\n", {}};
  }
  if (req.method != "GET" && req.method != "HEAD")
    return net::HttpResponse{405, "text/plain; charset=utf-8", path + " answers GET only\n", {}};
  net::HttpResponse out{200, std::string(asset->content_type), std::string(asset->content), {}};
  // Built into this binary: revalidate, so an upgraded hubd's page is seen at
  // once; nothing may come from elsewhere.
  out.headers = {{"Cache-Control", "no-cache"},
                 {"Content-Security-Policy",
                  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                  "frame-ancestors 'none'"},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "no-referrer"}};
  return out;
}

// Per telegram device ([[device]]), one series per counter.
void DeviceLines(std::string* out, const net::ScanServer& server) {
  if (server.devices() == 0) return;
  struct Counter {
    const char* name;
    const char* help;
    const std::atomic<uint64_t> net::DeviceProbe::*field;
  };
  static const Counter kCounters[] = {
      {"hubd_telegram_connections_total", "Connections accepted from the device.",
       &net::DeviceProbe::connections},
      {"hubd_telegram_refused_total", "Connections refused: the address is not in allow_from.",
       &net::DeviceProbe::refused},
      {"hubd_telegram_reads_total", "Telegrams parsed (reads).", &net::DeviceProbe::reads},
      {"hubd_telegram_events_total", "Scan events the reads became.", &net::DeviceProbe::events},
      {"hubd_telegram_malformed_total", "Telegrams that did not parse (dropped, logged).",
       &net::DeviceProbe::malformed},
      {"hubd_telegram_oversized_total", "Telegrams longer than the profile's max_telegram (dropped).",
       &net::DeviceProbe::oversized},
      {"hubd_telegram_unused_reads_total",
       "Reads that gave no event (e.g. a parcel before any bag label at an unbagging table).",
       &net::DeviceProbe::unused},
      {"hubd_telegram_noise_bytes_total",
       "Bytes dropped unread: outside any telegram, or in an oversized or cut-off telegram.",
       &net::DeviceProbe::noise_bytes},
      {"hubd_telegram_replies_total", "Answers sent to the device (sort reads).",
       &net::DeviceProbe::replies},
  };
  std::vector<std::string> labels;  // label values escaped as the text format wants
  for (size_t i = 0; i < server.devices(); ++i) {
    std::string& l = labels.emplace_back();
    for (char ch : server.device(i).scanner_id) {
      if (ch == '\\' || ch == '"') l += '\\';
      l += ch;
    }
  }
  for (const Counter& c : kCounters) {
    Header(out, c.name, "counter", c.help);
    for (size_t i = 0; i < server.devices(); ++i)
      fmt::format_to(std::back_inserter(*out), "{}{{scanner=\"{}\"}} {}\n", c.name, labels[i],
                     Get(server.device_probe(i).*c.field));
  }
}

}  // namespace

std::string RenderMetrics(const OpsSources& src) {
  SequencerProbe& p = src.sequencer->probe();
  std::string out;
  out.reserve(8192);
  Header(&out, "hubd_events_applied_total", "counter", "Scan events applied, by kind.");
  for (int k = v1::ScanEvent::kVehicleArrived; k <= v1::ScanEvent::kParcelDamaged; ++k)
    fmt::format_to(std::back_inserter(out), "hubd_events_applied_total{{kind=\"{}\"}} {}\n",
                   core::EventKindName(static_cast<v1::ScanEvent::BodyCase>(k)),
                   Get(p.events_applied[k]));
  Header(&out, "hubd_exceptions_raised_total", "counter", "Exception cases raised, by type.");
  for (int t = v1::ExceptionType_MIN + 1; t <= v1::ExceptionType_MAX; ++t)
    fmt::format_to(std::back_inserter(out), "hubd_exceptions_raised_total{{type=\"{}\"}} {}\n",
                   v1::ExceptionType_Name(t), Get(p.cases_raised[t]));
  Header(&out, "hubd_rejects_total", "counter",
         "Rejects sent to scanners, by code (events, and refused or closed sessions).");
  for (int c = v1::RejectCode_MIN + 1; c <= v1::RejectCode_MAX; ++c)
    fmt::format_to(std::back_inserter(out), "hubd_rejects_total{{code=\"{}\"}} {}\n",
                   v1::RejectCode_Name(c), Get(p.rejects[c]));
  Scalar(&out, "hubd_duplicate_events_total", "counter",
         "Re-sent scan events recognised as already durable.", Get(p.duplicates));
  HistogramLines(&out, "hubd_commit_batch_records", "Log records per group commit.",
                 p.commit_records);
  HistogramLines(&out, "hubd_commit_duration_seconds", "Wall time of one group commit.",
                 p.commit_seconds);
  Scalar(&out, "hubd_sequencer_queue_events", "gauge",
         "Events received and not yet answered.", static_cast<double>(src.sequencer->in_flight()));
  Scalar(&out, "hubd_sequencer_idle_seconds_total", "counter",
         "Time the sequencer (the single writer) waited for work; 1 - its rate is the writer's load.",
         static_cast<double>(src.sequencer->idle_ns()) / 1e9);
  Scalar(&out, "hubd_scanner_sessions", "gauge", "Open scanner sessions.",
         src.scan_server ? static_cast<double>(src.scan_server->sessions_open()) : 0.0);
  if (src.scan_server != nullptr) {
    const net::ScanServerProbe& b = src.scan_server->probe();
    Header(&out, "hubd_scanner_sessions_refused_total", "counter",
           "Scanner connections closed at accept, by the cap they hit.");
    fmt::format_to(std::back_inserter(out),
                   "hubd_scanner_sessions_refused_total{{reason=\"max_sessions\"}} {}\n"
                   "hubd_scanner_sessions_refused_total{{reason=\"max_sessions_per_address\"}} {}\n",
                   Get(b.refused_max_sessions), Get(b.refused_per_address));
    Scalar(&out, "hubd_scanner_auth_failures_total", "counter",
           "Hellos refused for a wrong or missing credential or client certificate.",
           Get(b.auth_failures));
    Scalar(&out, "hubd_scanner_tls_handshake_failures_total", "counter",
           "Scanner connections whose TLS handshake failed.", Get(b.tls_handshake_failures));
    Scalar(&out, "hubd_scanner_sessions_fenced_total", "counter",
           "Scanner sessions closed because a newer hello for their scanner took over.",
           Get(b.fenced));
    Scalar(&out, "hubd_scanner_session_timeouts_total", "counter",
           "Scanner sessions closed for no hello, an incomplete frame or silence in time.",
           Get(b.timeouts));
    Scalar(&out, "hubd_accept_errors_total", "counter",
           "Failed accepts on the scanner port (e.g. out of file descriptors).",
           Get(b.accept_errors));
    DeviceLines(&out, *src.scan_server);
  }
  Scalar(&out, "hubd_hub_sequence", "gauge", "Hub sequence number of the last committed record.",
         static_cast<double>(Get(p.hub_seq)));
  Scalar(&out, "hubd_parcels_in_hub", "gauge", "Parcels live in the hub's state.",
         static_cast<double>(Get(p.parcels_in_hub)));
  Scalar(&out, "hubd_open_exceptions", "gauge", "Exception cases not yet resolved.",
         static_cast<double>(Get(p.open_cases)));
  Scalar(&out, "hubd_healthy", "gauge", "1 while the store accepts writes, else 0.",
         src.sequencer->healthy() ? 1 : 0);
  Scalar(&out, "hubd_commit_failures_total", "counter",
         "Group commits the store refused (a full disk, an I/O error); hubd stops accepting "
         "until the store writes again.", Get(p.commit_failures));
  Scalar(&out, "hubd_store_resumes_total", "counter",
         "Times the store wrote again after a failed commit and hubd accepted events again.",
         Get(p.store_resumes));
  Scalar(&out, "hubd_wal_tail_dropped_batches_total", "counter",
         "WAL write batches (group commits) RocksDB's recovery dropped at this start: a torn "
         "or corrupt tail (see the event=wal_tail_dropped log line).",
         static_cast<double>(src.wal_tail_dropped_batches));
  HistogramLines(&out, "hubd_checkpoint_pause_seconds",
                 "The sequencer's pause to take a checkpoint's snapshot (a fork).",
                 p.checkpoint_pause_seconds);
  HistogramLines(&out, "hubd_inspect_pause_seconds",
                 "The sequencer's pause to copy reference data for a read-back (GET /v1/routes, "
                 "/v1/holds, /v1/advices/...).",
                 p.inspect_pause_seconds);
  if (src.store != nullptr) {
    const store::CheckpointStats c = src.store->Checkpoints();
    Scalar(&out, "hubd_checkpoints_written_total", "counter", "Checkpoints written while running.",
           static_cast<double>(c.written));
    Scalar(&out, "hubd_checkpoint_failures_total", "counter",
           "Checkpoints that failed (the log still holds everything; recovery replays more).",
           static_cast<double>(c.failed));
    Scalar(&out, "hubd_checkpoint_hub_sequence", "gauge",
           "Hub sequence of the newest durable checkpoint: a restart replays the log after it.",
           static_cast<double>(src.store->CheckpointedThrough()));
    Scalar(&out, "hubd_entity_index_entries", "gauge",
           "Entities in the in-memory entity index (live, or retired and not yet archived).",
           static_cast<double>(src.store->LiveIndexSize()));
    Scalar(&out, "hubd_store_memtable_bytes", "gauge",
           "Bytes in RocksDB's write buffers (memtables, flushed ones not yet freed included).",
           static_cast<double>(src.store->MemtableBytes()));
    Scalar(&out, "hubd_retained_through_hub_sequence", "gauge",
           "Log records up to this hub sequence have aged out (retention); 0: none.",
           static_cast<double>(src.store->RetainedSoFar().through_hub_seq));
  }
  if (src.feed) FeedMetrics(&out, src.feed());
  return out;
}

net::HttpResponse HandleOps(const net::HttpRequest& req, const OpsSources& src) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (auto page = ServeWeb(req, path)) return *std::move(page);
  const bool known =
      path == "/healthz" || path == "/healthz/detail" || path == "/readyz" || path == "/metrics";
  if (!known) return {404, "text/plain; charset=utf-8", "no such endpoint: " + path + "\n", {}};
  if (req.method != "GET" && req.method != "HEAD")
    return {405, "text/plain; charset=utf-8", path + " answers GET only\n", {}};
  if (path == "/healthz") {
    if (src.sequencer->healthy()) return {200, "text/plain; charset=utf-8", "ok\n", {}};
    return {503, "text/plain; charset=utf-8", "unhealthy: a store write failed\n", {}};
  }
  if (path == "/healthz/detail") return HealthDetail(src);
  if (path == "/readyz") {
    if (src.ready->load() && src.sequencer->healthy())
      return {200, "text/plain; charset=utf-8", "ready\n", {}};
    return {503, "text/plain; charset=utf-8",
            src.ready->load() ? "not ready: unhealthy\n" : "not ready: recovering\n", {}};
  }
  return {200, "text/plain; version=0.0.4; charset=utf-8", RenderMetrics(src), {}};
}

}  // namespace hub::daemon
