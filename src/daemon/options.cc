#include "daemon/options.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <toml++/toml.h>

namespace hub::daemon {
namespace {

// "host:port" -> parts; throws CLI::ValidationError on a bad value.
void ParseListen(const std::string& value, std::string* host, uint16_t* port) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
    throw CLI::ValidationError("listen", "expected HOST:PORT, got '" + value + "'");
  std::string h = value.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  try {
    size_t used = 0;
    p = std::stoi(value.substr(colon + 1), &used);
    if (used != value.size() - colon - 1) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw CLI::ValidationError("listen", "port is not a number in '" + value + "'");
  }
  if (p < 0 || p > 65535) throw CLI::ValidationError("listen", "port out of range in '" + value + "'");
  *host = h;
  *port = static_cast<uint16_t>(p);
}

store::Durability ParseDurability(const std::string& v) {
  if (v == "wal") return store::Durability::kWal;
  if (v == "fsync") return store::Durability::kFsync;
  throw CLI::ValidationError("durability", "must be wal or fsync, got '" + v + "'");
}

template <typename T>
void Take(const toml::table& t, std::string_view key, T* out) {
  if (auto node = t[key]) {
    auto v = node.value<T>();
    if (!v) throw CLI::ValidationError(std::string(key), "has the wrong type in the config file");
    *out = *v;
  }
}

void TakeTls(const toml::table& t, const std::string& where, bool client_certs, net::TlsFiles* out) {
  for (auto& [k, v] : t) {
    const std::string key(k.str());
    const bool known = key == "cert" || key == "key" ||
                       (client_certs && (key == "client_ca" || key == "require_client_cert"));
    if (!known) throw CLI::ValidationError("config", "unknown key '" + where + "." + key + "'");
  }
  Take(t, "cert", &out->cert);
  Take(t, "key", &out->key);
  Take(t, "client_ca", &out->client_ca);
  Take(t, "require_client_cert", &out->require_client_cert);
}

// Every rule a value must meet, checked once after the file and the flags
// are merged, so both are held to the same limits.
void Validate(const DaemonOptions& o) {
  auto range = [](const char* name, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
      throw CLI::ValidationError(name, std::to_string(v) + " is outside " + std::to_string(lo) +
                                           ".." + std::to_string(hi));
  };
  const auto& in = o.ingest;
  range("io_threads", in.io_threads, 1, 256);
  range("batch_max", static_cast<int64_t>(o.sequencer.max_batch), 1, int64_t{1} << 20);
  range("batch_delay_us", o.sequencer.max_delay_us, 0, 1'000'000);
  range("max_frame_bytes", static_cast<int64_t>(in.max_frame), 64, int64_t{16} << 20);
  range("hello_timeout_ms", in.hello_timeout.count(), 50, 86'400'000);
  range("frame_timeout_ms", in.frame_timeout.count(), 50, 86'400'000);
  range("idle_timeout_ms", in.idle_timeout.count(), 50, 86'400'000);
  range("max_sessions", static_cast<int64_t>(in.max_sessions), 1, 1'000'000);
  range("max_sessions_per_address", static_cast<int64_t>(in.max_sessions_per_address), 1, 1'000'000);
  range("drain_timeout_ms", o.drain_timeout_ms, 0, 3'600'000);
  range("checkpoint_records", static_cast<int64_t>(o.sequencer.checkpoint_records), 0,
        int64_t{1} << 40);
  range("checkpoint_interval_s", o.sequencer.checkpoint_interval.count(), 0, 86'400);
  for (const auto* tls : {&in.tls, &o.http_tls}) {
    const char* where = tls == &in.tls ? "ingest.tls" : "http.tls";
    if (tls->cert.empty() != tls->key.empty())
      throw CLI::ValidationError(where, "needs both a certificate and a key");
    if (tls->cert.empty() && (!tls->client_ca.empty() || tls->require_client_cert))
      throw CLI::ValidationError(where, "client certificates need TLS: set cert and key too");
    if (tls->require_client_cert && tls->client_ca.empty())
      throw CLI::ValidationError(where, "require_client_cert needs client_ca");
  }
  for (const auto& c : in.secrets) {
    if (c.scanner_id.empty() == c.station.empty())
      throw CLI::ValidationError("ingest.credentials", "each entry names either a scanner or a station");
    if (c.secret.size() < 8)
      throw CLI::ValidationError("ingest.credentials",
                                 "the secret for " + (c.scanner_id.empty() ? "station " + c.station
                                                                           : "scanner " + c.scanner_id) +
                                     " is shorter than 8 characters");
  }
}

void LoadToml(const std::string& path, DaemonOptions* o) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << path << ": " << e.description() << " at line " << e.source().begin.line;
    throw CLI::ValidationError("config", msg.str());
  }
  static const std::set<std::string> kTop = {"data_dir", "durability", "log_level",
                                             "drain_timeout_ms", "checkpoint_records",
                                             "checkpoint_interval_s", "ingest", "http", "api"};
  static const std::set<std::string> kIngest = {
      "listen", "io_threads", "max_frame_bytes", "batch_max", "batch_delay_us",
      "session_max_outstanding", "session_max_unsent_bytes", "max_in_flight",
      "hello_timeout_ms", "frame_timeout_ms", "idle_timeout_ms", "max_sessions",
      "max_sessions_per_address", "tls", "credentials"};
  for (auto& [k, v] : t)
    if (!kTop.count(std::string(k.str())))
      throw CLI::ValidationError("config", "unknown key '" + std::string(k.str()) + "' in " + path);
  Take(t, "data_dir", &o->data_dir);
  std::string durability;
  Take(t, "durability", &durability);
  if (!durability.empty()) o->durability = ParseDurability(durability);
  Take(t, "log_level", &o->log_level);
  int64_t drain = o->drain_timeout_ms;
  Take(t, "drain_timeout_ms", &drain);
  o->drain_timeout_ms = static_cast<int>(drain);
  int64_t records = static_cast<int64_t>(o->sequencer.checkpoint_records);
  Take(t, "checkpoint_records", &records);
  if (records < 0) throw CLI::ValidationError("checkpoint_records", "must not be negative");
  o->sequencer.checkpoint_records = static_cast<uint64_t>(records);
  int64_t interval = o->sequencer.checkpoint_interval.count();
  Take(t, "checkpoint_interval_s", &interval);
  o->sequencer.checkpoint_interval = std::chrono::seconds(interval);
  if (auto* api = t["api"].as_table()) {
    for (auto& [k, v] : *api)
      if (k.str() != "tokens")
        throw CLI::ValidationError("config", "unknown key 'api." + std::string(k.str()) + "'");
    if (auto* tokens = (*api)["tokens"].as_array()) {
      for (auto& node : *tokens) {
        auto* tt = node.as_table();
        if (tt == nullptr) throw CLI::ValidationError("config", "api.tokens entries are tables");
        ApiToken token;
        std::string role;
        Take(*tt, "name", &token.name);
        Take(*tt, "token", &token.token);
        Take(*tt, "role", &role);
        if (token.name.empty() || token.token.size() < 8)
          throw CLI::ValidationError("config", "each api token needs a name and a token of 8+ characters");
        if (role == "viewer") token.role = Role::kViewer;
        else if (role == "supervisor") token.role = Role::kSupervisor;
        else if (role == "admin") token.role = Role::kAdmin;
        else throw CLI::ValidationError("config", "api token role must be viewer, supervisor or admin");
        o->api_tokens.push_back(token);
      }
    }
  }
  if (auto* h = t["http"].as_table()) {
    for (auto& [k, v] : *h)
      if (k.str() != "listen" && k.str() != "tls")
        throw CLI::ValidationError("config", "unknown key 'http." + std::string(k.str()) + "'");
    std::string listen;
    Take(*h, "listen", &listen);
    if (!listen.empty()) ParseListen(listen, &o->http_host, &o->http_port);
    if (auto* tls = (*h)["tls"].as_table()) TakeTls(*tls, "http.tls", false, &o->http_tls);
  }
  if (auto* in = t["ingest"].as_table()) {
    for (auto& [k, v] : *in)
      if (!kIngest.count(std::string(k.str())))
        throw CLI::ValidationError("config", "unknown key 'ingest." + std::string(k.str()) + "'");
    std::string listen;
    Take(*in, "listen", &listen);
    if (!listen.empty()) ParseListen(listen, &o->ingest.host, &o->ingest.port);
    int64_t v = 0;
    auto num = [&](std::string_view key, auto* out) {
      v = static_cast<int64_t>(*out);
      Take(*in, key, &v);
      if (v < 0) throw CLI::ValidationError(std::string(key), "must not be negative");
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(v);
    };
    num("io_threads", &o->ingest.io_threads);
    num("max_frame_bytes", &o->ingest.max_frame);
    num("session_max_outstanding", &o->ingest.session_max_outstanding);
    num("session_max_unsent_bytes", &o->ingest.session_max_unsent_bytes);
    num("max_in_flight", &o->ingest.max_in_flight);
    num("batch_max", &o->sequencer.max_batch);
    num("batch_delay_us", &o->sequencer.max_delay_us);
    num("max_sessions", &o->ingest.max_sessions);
    num("max_sessions_per_address", &o->ingest.max_sessions_per_address);
    auto ms = [&](std::string_view key, std::chrono::milliseconds* out) {
      int64_t count = out->count();
      num(key, &count);
      *out = std::chrono::milliseconds(count);
    };
    ms("hello_timeout_ms", &o->ingest.hello_timeout);
    ms("frame_timeout_ms", &o->ingest.frame_timeout);
    ms("idle_timeout_ms", &o->ingest.idle_timeout);
    if (auto* tls = (*in)["tls"].as_table()) TakeTls(*tls, "ingest.tls", true, &o->ingest.tls);
    if (auto* creds = (*in)["credentials"].as_array()) {
      for (auto& node : *creds) {
        auto* ct = node.as_table();
        if (ct == nullptr) throw CLI::ValidationError("config", "ingest.credentials entries are tables");
        for (auto& [k, v] : *ct)
          if (k.str() != "scanner" && k.str() != "station" && k.str() != "secret")
            throw CLI::ValidationError("config", "unknown key 'ingest.credentials." + std::string(k.str()) +
                                                     "' (scanner, station, secret)");
        net::ScannerSecret secret;
        Take(*ct, "scanner", &secret.scanner_id);
        Take(*ct, "station", &secret.station);
        Take(*ct, "secret", &secret.secret);
        o->ingest.secrets.push_back(std::move(secret));
      }
    }
  }
}

}  // namespace

bool ParseOptions(int argc, char** argv, DaemonOptions* o, int* exit_code) {
  CLI::App app{"hubd: sorting hub scan processor. Flags override the --config file."};
  std::string config, data_dir, durability, listen, http, log_level;
  int io_threads = 0;
  size_t batch_max = 0, max_frame = 0;
  int64_t batch_delay = -1;
  app.add_option("--config", config, "TOML configuration file (see deploy/hubd.toml)")
      ->check(CLI::ExistingFile);
  app.add_option("--data-dir", data_dir, "RocksDB directory, created if missing [hubd-data]");
  app.add_option("--listen", listen, "scanner ingest address HOST:PORT [127.0.0.1:7400]; port 0 picks a free port");
  app.add_option("--http", http,
                 "operations endpoints /healthz /readyz /metrics HOST:PORT [127.0.0.1:7480]; port 0 picks a free port");
  app.add_option("--io-threads", io_threads, "I/O threads for scanner sessions [2]")
      ->check(CLI::Range(1, 256));
  app.add_option("--durability", durability,
                 "wal: an acked event survives a process crash; fsync: survives power loss [wal]")
      ->check(CLI::IsMember({"wal", "fsync"}));
  app.add_option("--batch-max", batch_max, "group commit: at most this many events per commit [4096]")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--batch-delay-us", batch_delay,
                 "group commit: wait up to this long for more events; 0 commits as soon as the queue is empty [0]")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
  app.add_option("--max-frame", max_frame, "largest accepted frame in bytes; bigger closes the session [65536]")
      ->check(CLI::Range(size_t{64}, size_t{16} << 20));
  app.add_option("--export", o->export_dir,
                 "write the data directory's log as a replayable day into this directory and exit "
                 "(hubd must not be running on it)");
  app.add_flag("--compact", o->compact,
               "compact the data directory fully and exit (hubd must not be running on it)");
  app.add_flag("--store-stats", o->store_stats,
               "print the data directory's bytes by column family and of the WAL, and exit "
               "(hubd must not be running on it)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error [info]")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  int64_t checkpoint_records = -1, checkpoint_interval = -1;
  app.add_option("--checkpoint-records", checkpoint_records,
                 "checkpoint after this many records, so a restart after a crash replays at most "
                 "about this many; 0: only by time [1000000]");
  app.add_option("--checkpoint-interval-s", checkpoint_interval,
                 "checkpoint at least this often while records arrive; 0: only by count [300]");
  int64_t hello_ms = -1, frame_ms = -1, idle_ms = -1;
  int64_t max_sessions = -1, per_address = -1;
  net::TlsFiles tls, http_tls;
  app.add_option("--hello-timeout-ms", hello_ms,
                 "close a scanner connection that sends no hello within this time [10000]");
  app.add_option("--frame-timeout-ms", frame_ms,
                 "close a scanner session whose started frame is not complete within this time [30000]");
  app.add_option("--idle-timeout-ms", idle_ms,
                 "close a scanner session that sends nothing (not even a ping) for this long [300000]");
  app.add_option("--max-sessions", max_sessions, "most scanner connections at once [4096]");
  app.add_option("--max-sessions-per-address", per_address,
                 "most scanner connections from one source address [1024]");
  app.add_option("--tls-cert", tls.cert, "scanner port: PEM certificate chain; turns TLS on");
  app.add_option("--tls-key", tls.key, "scanner port: PEM private key");
  app.add_option("--tls-client-ca", tls.client_ca,
                 "scanner port: CA bundle for client certificates (mutual TLS; the certificate "
                 "names the scanner id)");
  app.add_flag("--tls-require-client-cert", tls.require_client_cert,
               "scanner port: refuse connections without a client certificate");
  app.add_option("--http-tls-cert", http_tls.cert, "HTTP port: PEM certificate chain; turns HTTPS on");
  app.add_option("--http-tls-key", http_tls.key, "HTTP port: PEM private key");
  try {
    app.parse(argc, argv);
    if (!config.empty()) LoadToml(config, o);
    if (!data_dir.empty()) o->data_dir = data_dir;
    if (!durability.empty()) o->durability = ParseDurability(durability);
    if (!listen.empty()) ParseListen(listen, &o->ingest.host, &o->ingest.port);
    if (!http.empty()) ParseListen(http, &o->http_host, &o->http_port);
    if (io_threads > 0) o->ingest.io_threads = io_threads;
    if (batch_max > 0) o->sequencer.max_batch = batch_max;
    if (batch_delay >= 0) o->sequencer.max_delay_us = batch_delay;
    if (max_frame > 0) o->ingest.max_frame = max_frame;
    if (!log_level.empty()) o->log_level = log_level;
    if (checkpoint_records >= 0) o->sequencer.checkpoint_records = static_cast<uint64_t>(checkpoint_records);
    if (checkpoint_interval >= 0) o->sequencer.checkpoint_interval = std::chrono::seconds(checkpoint_interval);
    if (hello_ms >= 0) o->ingest.hello_timeout = std::chrono::milliseconds(hello_ms);
    if (frame_ms >= 0) o->ingest.frame_timeout = std::chrono::milliseconds(frame_ms);
    if (idle_ms >= 0) o->ingest.idle_timeout = std::chrono::milliseconds(idle_ms);
    if (max_sessions >= 0) o->ingest.max_sessions = static_cast<size_t>(max_sessions);
    if (per_address >= 0) o->ingest.max_sessions_per_address = static_cast<size_t>(per_address);
    if (!tls.cert.empty()) o->ingest.tls.cert = tls.cert;
    if (!tls.key.empty()) o->ingest.tls.key = tls.key;
    if (!tls.client_ca.empty()) o->ingest.tls.client_ca = tls.client_ca;
    if (tls.require_client_cert) o->ingest.tls.require_client_cert = true;
    if (!http_tls.cert.empty()) o->http_tls.cert = http_tls.cert;
    if (!http_tls.key.empty()) o->http_tls.key = http_tls.key;
    Validate(*o);
  } catch (const CLI::ParseError& e) {
    *exit_code = app.exit(e);
    return false;
  }
  return true;
}

}  // namespace hub::daemon
