#include "daemon/options.h"

#include <CLI/CLI.hpp>
#include <array>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>
#include <toml++/toml.h>
#include <utility>

#include <arpa/inet.h>

#include "codec/telegram.h"
#include "core/validate.h"
#include "feed/feed_names.h"
#include "hub/version.h"
#include "util/log_value.h"

namespace hub::daemon {
namespace {

using CLI::ValidationError;

// Every numeric setting, once: its key in the file, its flag, its range. The
// file and the flags both set it through Set() and Validate() checks the
// merged value against the range, so neither side can hold a number the
// other would refuse.
struct Number {
  const char* section;  // "" (top level) or the file's table
  const char* key;
  const char* flag;
  const char* help;
  int64_t lo, hi;
  int64_t (*get)(const DaemonOptions&);
  // Called with a value that fits the field's type (see Set()).
  void (*set)(DaemonOptions*, int64_t);
  bool (*fits)(int64_t);
};

template <typename T>
bool Fits(int64_t v) {
  return std::in_range<T>(v);
}

using ms = std::chrono::milliseconds;

// clang-format off
const std::array<Number, 22> kNumbers = {{
  {"", "drain_timeout_ms", "--drain-timeout-ms",
   "on SIGTERM, how long sessions get to take their last acks before they are closed anyway", 0, 3'600'000,
   [](const DaemonOptions& o) -> int64_t { return o.drain_timeout_ms; },
   [](DaemonOptions* o, int64_t v) { o->drain_timeout_ms = static_cast<int>(v); }, Fits<int>},
  {"", "checkpoint_records", "--checkpoint-records",
   "checkpoint after this many records, so a restart after a crash replays at most about this many; "
   "0: only by time", 0, int64_t{1} << 40,
   [](const DaemonOptions& o) -> int64_t { return static_cast<int64_t>(o.sequencer.checkpoint_records); },
   [](DaemonOptions* o, int64_t v) { o->sequencer.checkpoint_records = static_cast<uint64_t>(v); },
   Fits<uint64_t>},
  {"", "checkpoint_interval_s", "--checkpoint-interval-s",
   "checkpoint at least this often (seconds) while records arrive; 0: only by count", 0, 86'400,
   [](const DaemonOptions& o) -> int64_t { return o.sequencer.checkpoint_interval.count(); },
   [](DaemonOptions* o, int64_t v) { o->sequencer.checkpoint_interval = std::chrono::seconds(v); },
   Fits<int64_t>},
  {"hub", "dwell_hours", "--dwell-hours",
   "a parcel still in the hub this many hours after it arrived raises DWELL_EXCEEDED (hub time); 0: never",
   0, 24 * 366,
   [](const DaemonOptions& o) -> int64_t { return o.dwell_hours; },
   [](DaemonOptions* o, int64_t v) { o->dwell_hours = static_cast<uint32_t>(v); }, Fits<uint32_t>},
  {"hub", "forget_after_days", "--forget-after-days",
   "a parcel, bag, load, vehicle or advice with no scan for this many days leaves memory for the archive "
   "(still traceable); 0: never", 0, 3660,
   [](const DaemonOptions& o) -> int64_t { return o.forget_after_days; },
   [](DaemonOptions* o, int64_t v) { o->forget_after_days = static_cast<uint32_t>(v); }, Fits<uint32_t>},
  {"hub", "weight_tolerance_g", "--weight-tolerance-g",
   "a DWS reading this many grams (or weight_tolerance_percent, whichever is more) off the parcel's known "
   "weight raises WEIGHT_MISMATCH", 0, core::kMaxWeightToleranceG,
   [](const DaemonOptions& o) -> int64_t { return o.weight_tolerance_g; },
   [](DaemonOptions* o, int64_t v) { o->weight_tolerance_g = static_cast<uint32_t>(v); }, Fits<uint32_t>},
  {"hub", "weight_tolerance_percent", "--weight-tolerance-percent",
   "a DWS reading this many percent of the known weight (or weight_tolerance_g, whichever is more) off it "
   "raises WEIGHT_MISMATCH", 0, 100,
   [](const DaemonOptions& o) -> int64_t { return o.weight_tolerance_percent; },
   [](DaemonOptions* o, int64_t v) { o->weight_tolerance_percent = static_cast<uint32_t>(v); },
   Fits<uint32_t>},
  {"hub", "overdue_grace_minutes", "--overdue-grace-minutes",
   "an advised vehicle not arrived this many minutes after its expected arrival raises VEHICLE_OVERDUE "
   "(hub time)", 0, 7 * 24 * 60,
   [](const DaemonOptions& o) -> int64_t { return o.overdue_grace_minutes; },
   [](DaemonOptions* o, int64_t v) { o->overdue_grace_minutes = static_cast<uint32_t>(v); },
   Fits<uint32_t>},
  {"hub", "retention_days", "--retention-days",
   "log records, cases and their indexes older than this (hub time) age out; below 366 only with "
   "--allow-short-retention (tests); 0: kept for ever", 0, 36'600,
   [](const DaemonOptions& o) -> int64_t { return o.sequencer.retention.count() / 24; },
   [](DaemonOptions* o, int64_t v) { o->sequencer.retention = std::chrono::hours(v * 24); }, Fits<int32_t>},
  {"ingest", "max_clock_skew_s", "--max-clock-skew-s",
   "reject (REJECT_BAD_TIME) events stamped more than this many seconds after hubd's clock; 0: no limit",
   0, 86'400 * 366,
   [](const DaemonOptions& o) -> int64_t { return o.sequencer.max_clock_skew.count(); },
   [](DaemonOptions* o, int64_t v) { o->sequencer.max_clock_skew = std::chrono::seconds(v); },
   Fits<int64_t>},
  {"ingest", "io_threads", "--io-threads", "I/O threads serving scanner sessions", 1, 256,
   [](const DaemonOptions& o) -> int64_t { return o.ingest.io_threads; },
   [](DaemonOptions* o, int64_t v) { o->ingest.io_threads = static_cast<int>(v); }, Fits<int>},
  {"ingest", "max_frame_bytes", "--max-frame", "largest accepted frame in bytes; a bigger one closes the session",
   64, int64_t{16} << 20,
   [](const DaemonOptions& o) -> int64_t { return static_cast<int64_t>(o.ingest.max_frame); },
   [](DaemonOptions* o, int64_t v) { o->ingest.max_frame = static_cast<size_t>(v); }, Fits<size_t>},
  {"ingest", "batch_max", "--batch-max", "group commit: at most this many events per commit", 1, int64_t{1} << 20,
   [](const DaemonOptions& o) -> int64_t { return static_cast<int64_t>(o.sequencer.max_batch); },
   [](DaemonOptions* o, int64_t v) { o->sequencer.max_batch = static_cast<size_t>(v); }, Fits<size_t>},
  {"ingest", "batch_delay_us", "--batch-delay-us",
   "group commit: wait up to this long (us) for more events; 0 commits as soon as the queue is empty", 0, 1'000'000,
   [](const DaemonOptions& o) -> int64_t { return o.sequencer.max_delay_us; },
   [](DaemonOptions* o, int64_t v) { o->sequencer.max_delay_us = v; }, Fits<int64_t>},
  {"ingest", "session_max_outstanding", "--session-max-outstanding",
   "flow control: a session stops reading while this many of its events are unanswered", 1, int64_t{1} << 24,
   [](const DaemonOptions& o) -> int64_t { return static_cast<int64_t>(o.ingest.session_max_outstanding); },
   [](DaemonOptions* o, int64_t v) { o->ingest.session_max_outstanding = static_cast<size_t>(v); }, Fits<size_t>},
  {"ingest", "session_max_unsent_bytes", "--session-max-unsent-bytes",
   "flow control: a session stops reading while its scanner leaves this many bytes of answers unread",
   4096, int64_t{1} << 30,
   [](const DaemonOptions& o) -> int64_t { return static_cast<int64_t>(o.ingest.session_max_unsent_bytes); },
   [](DaemonOptions* o, int64_t v) { o->ingest.session_max_unsent_bytes = static_cast<size_t>(v); }, Fits<size_t>},
  {"ingest", "max_in_flight", "--max-in-flight",
   "flow control: every session stops reading while the sequencer holds this many events", 1, int64_t{1} << 24,
   [](const DaemonOptions& o) -> int64_t { return o.ingest.max_in_flight; },
   [](DaemonOptions* o, int64_t v) { o->ingest.max_in_flight = v; }, Fits<int64_t>},
  {"ingest", "hello_timeout_ms", "--hello-timeout-ms",
   "close a scanner connection that sends no hello within this time", 50, 86'400'000,
   [](const DaemonOptions& o) -> int64_t { return o.ingest.hello_timeout.count(); },
   [](DaemonOptions* o, int64_t v) { o->ingest.hello_timeout = ms(v); }, Fits<int64_t>},
  {"ingest", "frame_timeout_ms", "--frame-timeout-ms",
   "close a scanner session whose started frame is not complete within this time", 50, 86'400'000,
   [](const DaemonOptions& o) -> int64_t { return o.ingest.frame_timeout.count(); },
   [](DaemonOptions* o, int64_t v) { o->ingest.frame_timeout = ms(v); }, Fits<int64_t>},
  {"ingest", "idle_timeout_ms", "--idle-timeout-ms",
   "close a scanner session that sends nothing (not even a ping) for this long", 50, 86'400'000,
   [](const DaemonOptions& o) -> int64_t { return o.ingest.idle_timeout.count(); },
   [](DaemonOptions* o, int64_t v) { o->ingest.idle_timeout = ms(v); }, Fits<int64_t>},
  {"ingest", "max_sessions", "--max-sessions", "most scanner connections at once", 1, 1'000'000,
   [](const DaemonOptions& o) -> int64_t { return static_cast<int64_t>(o.ingest.max_sessions); },
   [](DaemonOptions* o, int64_t v) { o->ingest.max_sessions = static_cast<size_t>(v); }, Fits<size_t>},
  {"ingest", "max_sessions_per_address", "--max-sessions-per-address",
   "most scanner connections from one source address", 1, 1'000'000,
   [](const DaemonOptions& o) -> int64_t { return static_cast<int64_t>(o.ingest.max_sessions_per_address); },
   [](DaemonOptions* o, int64_t v) { o->ingest.max_sessions_per_address = static_cast<size_t>(v); },
   Fits<size_t>},
}};
// clang-format on

std::string Name(const Number& n) {
  return (*n.section ? std::string(n.section) + "." : std::string()) + n.key + " (" + n.flag + ")";
}

void ThrowOutOfRange(const Number& n, int64_t v) {
  throw ValidationError(Name(n), std::to_string(v) + " is outside " + std::to_string(n.lo) + ".." +
                                     std::to_string(n.hi));
}

// Sets a number from either side. A value the field cannot hold is refused
// here with the range's message (2^32 + 1 threads must not wrap to 1);
// Validate() checks the range of what was set.
void Set(const Number& n, int64_t v, DaemonOptions* o) {
  if (!n.fits(v)) ThrowOutOfRange(n, v);
  n.set(o, v);
}

// "host:port" -> parts; throws ValidationError on a bad value.
void ParseListen(const std::string& name, const std::string& value, std::string* host, uint16_t* port) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
    throw ValidationError(name, "expected HOST:PORT, got '" + value + "'");
  std::string h = value.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  try {
    size_t used = 0;
    p = std::stoi(value.substr(colon + 1), &used);
    if (used != value.size() - colon - 1) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw ValidationError(name, "port is not a number in '" + value + "'");
  }
  if (p < 0 || p > 65535) throw ValidationError(name, "port out of range in '" + value + "'");
  *host = h;
  *port = static_cast<uint16_t>(p);
}

store::Durability ParseDurability(const std::string& v) {
  if (v == "wal") return store::Durability::kWal;
  if (v == "fsync") return store::Durability::kFsync;
  throw ValidationError("durability", "must be fsync or wal, got '" + v + "'");
}

util::LogFormat ParseLogFormat(const std::string& v) {
  util::LogFormat f;
  if (!util::ParseLogFormat(v, &f)) throw ValidationError("log_format", "must be logfmt or json, got '" + v + "'");
  return f;
}

// One table of the configuration file. Reads are typed (a value of another
// type is an error) and Done() refuses every key that was not read, so an
// unknown or misspelt key can never be ignored.
class Section {
 public:
  Section(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

  std::string Name(std::string_view key) const {
    return where_.empty() ? std::string(key) : where_ + "." + std::string(key);
  }

  // False (and *out untouched) when the key is absent.
  template <typename T>
  bool Get(std::string_view key, T* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return false;
    auto v = node->value_exact<T>();
    if (!v) throw ValidationError(Name(key), "has the wrong type in the configuration file");
    *out = *v;
    return true;
  }

  // An array of strings.
  bool GetStrings(std::string_view key, std::vector<std::string>* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return false;
    const toml::array* array = node->as_array();
    if (array == nullptr) throw ValidationError(Name(key), "must be a list of strings");
    out->clear();
    for (const toml::node& entry : *array) {
      auto v = entry.value_exact<std::string>();
      if (!v) throw ValidationError(Name(key), "must be a list of strings");
      out->push_back(*v);
    }
    return true;
  }

  const toml::table* Table(std::string_view key) {
    const toml::node* node = Find(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) throw ValidationError(Name(key), "must be a table ([" + Name(key) + "])");
    return node->as_table();
  }

  // An array of tables ([[key]]).
  std::vector<const toml::table*> Tables(std::string_view key) {
    std::vector<const toml::table*> out;
    const toml::node* node = Find(key);
    if (node == nullptr) return out;
    const toml::array* array = node->as_array();
    if (array == nullptr) throw ValidationError(Name(key), "must be a list of tables ([[" + Name(key) + "]])");
    for (const toml::node& entry : *array) {
      if (!entry.is_table()) throw ValidationError(Name(key), "entries must be tables ([[" + Name(key) + "]])");
      out.push_back(entry.as_table());
    }
    return out;
  }

  void Done() const {
    for (const auto& [key, value] : table_)
      if (!read_.count(std::string(key.str())))
        throw ValidationError("config", "unknown key '" + Name(key.str()) + "'");
  }

 private:
  const toml::node* Find(std::string_view key) {
    read_.insert(std::string(key));
    return table_.get(key);
  }

  const toml::table& table_;
  const std::string where_;
  std::set<std::string> read_;
};

void TakeTls(Section& s, bool client_certs, net::TlsFiles* out) {
  s.Get("cert", &out->cert);
  s.Get("key", &out->key);
  if (client_certs) {
    s.Get("client_ca", &out->client_ca);
    s.Get("require_client_cert", &out->require_client_cert);
  }
  s.Done();
}

void TakeNumbers(Section& s, const char* section, DaemonOptions* o) {
  for (const Number& n : kNumbers) {
    int64_t v = 0;
    if (std::string_view(n.section) == section && s.Get(n.key, &v)) Set(n, v, o);
  }
}

// One [[device]]: its profile is loaded once the flags are in (--device-dir).
net::DeviceOptions TakeDevice(const toml::table& table) {
  Section s(table, "device");
  net::DeviceOptions d;
  std::string text, kind = "sort";
  s.Get("scanner_id", &d.scanner_id);
  const std::string where = "device " + util::LogValue(d.scanner_id);
  if (!s.Get("station", &d.station)) d.station = d.scanner_id;  // every scan names a station
  if (s.Get("listen", &text)) ParseListen(where + " listen", text, &d.host, &d.port);
  s.Get("profile", &d.profile_name);
  s.Get("kind", &kind);
  if (kind == "sort") {
    d.role.kind = codec::DeviceKind::kSort;
  } else if (kind == "unbag") {
    d.role.kind = codec::DeviceKind::kUnbag;
  } else if (kind == "unload") {
    d.role.kind = codec::DeviceKind::kUnload;
  } else {
    throw ValidationError(where, "kind must be sort, unbag or unload, got " + util::LogValue(kind));
  }
  s.Get("validate_s10", &d.role.rules.validate_s10);
  s.GetStrings("parcel_patterns", &d.role.rules.parcel_patterns);
  s.Get("destination_pattern", &d.role.rules.destination_pattern);
  s.Get("context_pattern", &d.role.context_pattern);
  s.Get("end_code", &d.role.end_code);
  s.GetStrings("allow_from", &d.allow_from);
  s.Done();
  return d;
}

// Loads each device's profile: a path (holding '/' or ending in .toml), or
// a name in device_dir (default: /etc/hubd/devices when it exists, else
// deploy/devices under the working directory, as in a checkout).
void LoadDeviceProfiles(DaemonOptions* o) {
  std::string dir = o->device_dir;
  if (dir.empty()) dir = std::filesystem::is_directory("/etc/hubd/devices") ? "/etc/hubd/devices" : "deploy/devices";
  for (net::DeviceOptions& d : o->ingest.devices) {
    const std::string where = "device " + util::LogValue(d.scanner_id);
    if (d.profile_name.empty()) throw ValidationError(where, "needs a profile (a name in " + dir + ", or a file)");
    const bool path = d.profile_name.find('/') != std::string::npos ||
                      d.profile_name.ends_with(".toml");
    try {
      d.profile = codec::LoadProfile(path ? d.profile_name : dir + "/" + d.profile_name + ".toml");
      codec::ReadMapper check(d.role);  // the patterns compile, the role is whole
    } catch (const std::exception& e) {
      throw ValidationError(where, e.what());
    }
  }
}

void LoadToml(const std::string& path, DaemonOptions* o) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << path << ": " << e.description() << " at line " << e.source().begin.line;
    throw ValidationError("config", msg.str());
  }
  Section top(t, "");
  top.Get("data_dir", &o->data_dir);
  std::string text;
  if (top.Get("durability", &text)) o->durability = ParseDurability(text);
  top.Get("log_level", &o->log_level);
  if (top.Get("log_format", &text)) o->log_format = ParseLogFormat(text);
  TakeNumbers(top, "", o);
  if (const toml::table* ingest = top.Table("ingest")) {
    Section s(*ingest, "ingest");
    if (s.Get("listen", &text)) ParseListen("ingest.listen", text, &o->ingest.host, &o->ingest.port);
    TakeNumbers(s, "ingest", o);
    if (const toml::table* tls = s.Table("tls")) {
      Section ts(*tls, "ingest.tls");
      TakeTls(ts, true, &o->ingest.tls);
    }
    for (const toml::table* entry : s.Tables("credentials")) {
      Section c(*entry, "ingest.credentials");
      net::ScannerSecret secret;
      c.Get("scanner", &secret.scanner_id);
      c.Get("station", &secret.station);
      c.Get("secret", &secret.secret);
      c.Done();
      o->ingest.secrets.push_back(std::move(secret));
    }
    s.Done();
  }
  if (const toml::table* hub = top.Table("hub")) {
    Section s(*hub, "hub");
    s.Get("time_zone", &o->time_zone);
    TakeNumbers(s, "hub", o);
    s.Done();
  }
  if (const toml::table* http = top.Table("http")) {
    Section s(*http, "http");
    if (s.Get("listen", &text)) ParseListen("http.listen", text, &o->http_host, &o->http_port);
    if (const toml::table* tls = s.Table("tls")) {
      Section ts(*tls, "http.tls");
      TakeTls(ts, false, &o->http_tls);
    }
    s.Done();
  }
  if (const toml::table* feed = top.Table("feed")) {
    Section s(*feed, "feed");
    feed::FeedOptions& f = o->feed;
    s.Get("enabled", &f.enabled);
    s.Get("hub_id", &f.hub_id);
    s.GetStrings("servers", &f.nats.servers);
    s.Get("stream", &f.stream);
    s.Get("create_streams", &f.create_streams);
    int64_t n = 0;
    if (s.Get("replicas", &n)) {
      if (n < 1 || n > 5) throw ValidationError("feed.replicas", std::to_string(n) + " is outside 1..5");
      f.replicas = static_cast<int>(n);
    }
    if (s.Get("timeout_ms", &n)) {
      if (n < 100 || n > 600'000) throw ValidationError("feed.timeout_ms", std::to_string(n) + " is outside 100..600000");
      f.nats.timeout_ms = n;
    }
    s.Get("consume_dispatch", &f.consume_dispatch);
    if (s.Get("max_age_days", &n)) {
      if (n < 0 || n > 3650) throw ValidationError("feed.max_age_days", std::to_string(n) + " is outside 0..3650");
      f.max_age_days = static_cast<int>(n);
    }
    if (s.Get("priority", &f.priority) && f.priority != "idle" && f.priority != "low" && f.priority != "normal")
      throw ValidationError("feed.priority", "is idle, low or normal, got " + util::LogValue(f.priority));
    s.Get("creds", &f.nats.creds_file);
    s.Get("tls_ca", &f.nats.ca_file);
    s.Get("tls_cert", &f.nats.cert_file);
    s.Get("tls_key", &f.nats.key_file);
    s.Done();
  }
  top.Get("device_dir", &o->device_dir);
  for (const toml::table* entry : top.Tables("device")) o->ingest.devices.push_back(TakeDevice(*entry));
  if (const toml::table* api = top.Table("api")) {
    Section s(*api, "api");
    for (const toml::table* entry : s.Tables("tokens")) {
      Section e(*entry, "api.tokens");
      ApiToken token;
      std::string role;
      e.Get("name", &token.name);
      e.Get("token", &token.token);
      e.Get("role", &role);
      e.Done();
      if (role == "viewer") {
        token.role = Role::kViewer;
      } else if (role == "supervisor") {
        token.role = Role::kSupervisor;
      } else if (role == "admin") {
        token.role = Role::kAdmin;
      } else {
        throw ValidationError("api.tokens", "the role of " + util::LogValue(token.name) +
                                                " must be viewer, supervisor or admin, got " + util::LogValue(role));
      }
      o->api_tokens.push_back(std::move(token));
    }
    s.Done();
  }
  top.Done();
}

// An id hubd can match and log: 1..64 bytes, no control characters.
bool GoodId(const std::string& id) {
  return !id.empty() && id.size() <= core::kMaxIdLength && !core::HasControlCharacter(id);
}

// Every rule a value must meet, checked once after the file and the flags
// are merged, so both are held to the same limits.
void Validate(const DaemonOptions& o) {
  if (!o.time_zone.empty() && (o.time_zone.find("..") != std::string::npos || o.time_zone[0] == '/' ||
                               !std::filesystem::is_regular_file("/usr/share/zoneinfo/" + o.time_zone)))
    throw ValidationError("hub.time_zone (--time-zone)",
                          "no time zone '" + o.time_zone + "' on this machine (an IANA name such as "
                          "Asia/Shanghai; Debian's tzdata package provides them)");
  if (o.data_dir.empty()) throw ValidationError("data_dir (--data-dir)", "must not be empty");
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (!kLevels.count(o.log_level))
    throw ValidationError("log_level (--log-level)",
                          "must be trace, debug, info, warn or error, got '" + o.log_level + "'");
  for (const Number& n : kNumbers) {
    const int64_t v = n.get(o);
    if (v < n.lo || v > n.hi) ThrowOutOfRange(n, v);
  }
  const auto retention_days = o.sequencer.retention.count() / 24;
  if (retention_days > 0 && retention_days < 366 && !o.allow_short_retention)
    throw ValidationError("hub.retention_days (--retention-days)",
                          std::to_string(retention_days) +
                              " is under a year: records must be kept at least 366 days "
                              "(--allow-short-retention is for tests)");
  for (const auto* tls : {&o.ingest.tls, &o.http_tls}) {
    const char* where = tls == &o.ingest.tls ? "ingest.tls" : "http.tls";
    if (tls->cert.empty() != tls->key.empty())
      throw ValidationError(where, "needs both a certificate and a key");
    if (tls->cert.empty() && (!tls->client_ca.empty() || tls->require_client_cert))
      throw ValidationError(where, "client certificates need TLS: set cert and key too");
    if (tls->require_client_cert && tls->client_ca.empty())
      throw ValidationError(where, "require_client_cert needs client_ca");
  }
  std::set<std::string> scanners, stations;
  for (const auto& c : o.ingest.secrets) {
    if (c.scanner_id.empty() == c.station.empty())
      throw ValidationError("ingest.credentials", "each entry names either a scanner or a station");
    const std::string who = c.scanner_id.empty() ? "station " + util::LogValue(c.station)
                                                  : "scanner " + util::LogValue(c.scanner_id);
    if (!GoodId(c.scanner_id.empty() ? c.station : c.scanner_id))
      throw ValidationError("ingest.credentials",
                            who + " is not an id: 1..64 bytes without control characters");
    if (c.secret.size() < 8)
      throw ValidationError("ingest.credentials", "the secret for " + who + " is shorter than 8 characters");
    auto& seen = c.scanner_id.empty() ? stations : scanners;
    if (!seen.insert(c.scanner_id.empty() ? c.station : c.scanner_id).second)
      throw ValidationError("ingest.credentials", "the credential for " + who + " is given twice");
  }
  std::set<std::string> device_ids;
  for (const net::DeviceOptions& d : o.ingest.devices) {
    const std::string where = "device " + util::LogValue(d.scanner_id);
    if (!GoodId(d.scanner_id))
      throw ValidationError("device", "each device needs a scanner_id of 1..64 bytes without control characters");
    if (!device_ids.insert(d.scanner_id).second) throw ValidationError(where, "is configured twice");
    if (!GoodId(d.station))
      throw ValidationError(where, "station must be 1..64 bytes without control characters");
    for (const std::string& a : d.allow_from) {
      unsigned char buf[16];
      if (inet_pton(AF_INET, a.c_str(), buf) != 1 && inet_pton(AF_INET6, a.c_str(), buf) != 1)
        throw ValidationError(where, "allow_from holds " + util::LogValue(a) + ", not an IP address");
    }
  }
  if (o.feed.enabled) {
    const feed::FeedOptions& f = o.feed;
    if (!feed::ValidHubId(f.hub_id))
      throw ValidationError("feed.hub_id (--feed-hub-id)",
                            "the feed needs this hub's id: 1..64 of A-Z a-z 0-9 _ -, got " + util::LogValue(f.hub_id));
    if (f.nats.servers.empty()) throw ValidationError("feed.servers (--feed-nats)", "names no server");
    for (const std::string& url : f.nats.servers)
      if (!url.starts_with("nats://") && !url.starts_with("tls://"))
        throw ValidationError("feed.servers (--feed-nats)",
                              util::LogValue(url) + " is not a NATS URL (nats://HOST:PORT or tls://HOST:PORT)");
    if (!f.stream.empty() && !feed::ValidHubId(f.stream))
      throw ValidationError("feed.stream", "a stream name is 1..64 of A-Z a-z 0-9 _ -, got " + util::LogValue(f.stream));
    if (f.nats.cert_file.empty() != f.nats.key_file.empty())
      throw ValidationError("feed.tls_cert", "needs both tls_cert and tls_key");
    for (const std::string* file : {&f.nats.creds_file, &f.nats.ca_file, &f.nats.cert_file, &f.nats.key_file})
      if (!file->empty() && !std::filesystem::is_regular_file(*file))
        throw ValidationError("feed", "no file " + util::LogValue(*file));
  }
  std::set<std::string> names, secrets;
  for (const auto& t : o.api_tokens) {
    if (!GoodId(t.name))
      throw ValidationError("api.tokens", "each token needs a name of 1..64 bytes without control characters");
    if (t.token.size() < 8)
      throw ValidationError("api.tokens", "the token of '" + t.name + "' is shorter than 8 characters");
    if (core::HasControlCharacter(t.token))
      throw ValidationError("api.tokens", "the token of '" + t.name + "' holds a control character");
    if (!names.insert(t.name).second)
      throw ValidationError("api.tokens", "the name '" + t.name + "' is given to two tokens");
    // Never echo a secret: name the second holder only.
    if (!secrets.insert(t.token).second)
      throw ValidationError("api.tokens", "the token of '" + t.name + "' is also another name's token");
  }
}

}  // namespace

bool ParseOptions(int argc, char** argv, DaemonOptions* o, int* exit_code) {
  CLI::App app{"hubd: sorting hub scan processor. Flags override the --config file; both are "
               "checked by the same rules."};
  app.footer(
      "Exit codes: 0 stopped cleanly (or --help, --version, a finished --restore-from); 1 failed "
      "(the log line says why); 2 bad usage or configuration; 3 the data directory's disk is "
      "full (free space, then start again); 4 the data directory is corrupt (the log line gives "
      "the restore command).");
  app.set_version_flag("--version", std::string("hubd ") + kVersion);
  std::string config, data_dir, durability, listen, http, log_level, log_format, time_zone;
  app.add_option("--config", config, "TOML configuration file (see deploy/hubd.toml)")
      ->check(CLI::ExistingFile);
  auto* data_dir_flag = app.add_option("--data-dir", data_dir, "RocksDB directory, created if missing [hubd-data]");
  auto* listen_flag =
      app.add_option("--listen", listen, "scanner ingest address HOST:PORT [127.0.0.1:7400]; port 0 picks a free port");
  auto* http_flag = app.add_option(
      "--http", http,
      "operations endpoints and supervisor API HOST:PORT [127.0.0.1:7480]; port 0 picks a free port");
  auto* durability_flag = app.add_option(
      "--durability", durability,
      "fsync: the WAL is synced before each group commit is acked, so an acked event survives a "
      "power cut [fsync]. wal: an acked event survives a crash of hubd but NOT a power cut or "
      "kernel crash, which can lose every event acked since the OS last wrote back (tens of "
      "thousands in a test); use it only on storage that survives power loss");
  auto* zone_flag = app.add_option("--time-zone", time_zone,
                                   "the hub's time zone for answers and the page, an IANA name such as "
                                   "Asia/Shanghai [the machine's]");
  std::string device_dir;
  auto* device_dir_flag = app.add_option(
      "--device-dir", device_dir,
      "where [[device]] profiles named without a path are found [/etc/hubd/devices if it exists, "
      "else deploy/devices]");
  auto* level_flag = app.add_option("--log-level", log_level, "trace, debug, info, warn or error [info]");
  auto* format_flag = app.add_option("--log-format", log_format,
                                     "log lines on stdout as logfmt (key=value) or json (one object a line) [logfmt]");
  std::array<int64_t, kNumbers.size()> numbers{};
  std::array<CLI::Option*, kNumbers.size()> number_flags{};
  const DaemonOptions defaults;
  for (size_t i = 0; i < kNumbers.size(); ++i) {
    const Number& n = kNumbers[i];
    number_flags[i] = app.add_option(n.flag, numbers[i],
                                     std::string(n.help) + " [" + std::to_string(n.get(defaults)) + "; " +
                                         std::to_string(n.lo) + ".." + std::to_string(n.hi) + "]");
  }
  bool feed_on = false;
  std::string feed_hub, feed_nats;
  app.add_flag("--feed", feed_on,
               "publish the log to NATS JetStream and consume dispatch advices ([feed]; needs a hub id)");
  auto* feed_hub_flag = app.add_option("--feed-hub-id", feed_hub, "this hub's id on the network (feed.hub_id)");
  auto* feed_nats_flag = app.add_option(
      "--feed-nats", feed_nats, "NATS server URLs, comma-separated (feed.servers) [nats://127.0.0.1:4222]");
  app.add_option("--export", o->export_dir,
                 "write the data directory's log as a replayable day into this directory and exit "
                 "(hubd must not be running on it)");
  app.add_flag("--allow-short-retention", o->allow_short_retention,
               "accept --retention-days below 366 (for tests: a hub keeps its records a year)");
  app.add_flag("--compact", o->compact,
               "compact the data directory fully and exit (hubd must not be running on it)");
  app.add_flag("--store-stats", o->store_stats,
               "print the data directory's bytes by column family and of the WAL, and exit "
               "(hubd must not be running on it)");
  app.add_option("--restore-from", o->restore_from,
                 "restore the backup in this directory (POST /v1/admin/backup, hubctl admin backup) "
                 "into --data-dir, which must not exist or be empty: checks the backup's manifest "
                 "and every file's CRC, copies, checks the copy opens at the backup's hub_seq, and "
                 "exits 0; then start hubd on that --data-dir");
  net::TlsFiles tls, http_tls;
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
    if (*data_dir_flag) o->data_dir = data_dir;
    if (*zone_flag) o->time_zone = time_zone;
    if (*durability_flag) o->durability = ParseDurability(durability);
    if (*listen_flag) ParseListen("--listen", listen, &o->ingest.host, &o->ingest.port);
    if (*http_flag) ParseListen("--http", http, &o->http_host, &o->http_port);
    if (*level_flag) o->log_level = log_level;
    if (*format_flag) o->log_format = ParseLogFormat(log_format);
    for (size_t i = 0; i < kNumbers.size(); ++i)
      if (*number_flags[i]) Set(kNumbers[i], numbers[i], o);
    if (!tls.cert.empty()) o->ingest.tls.cert = tls.cert;
    if (!tls.key.empty()) o->ingest.tls.key = tls.key;
    if (!tls.client_ca.empty()) o->ingest.tls.client_ca = tls.client_ca;
    if (tls.require_client_cert) o->ingest.tls.require_client_cert = true;
    if (!http_tls.cert.empty()) o->http_tls.cert = http_tls.cert;
    if (!http_tls.key.empty()) o->http_tls.key = http_tls.key;
    if (*device_dir_flag) o->device_dir = device_dir;
    if (feed_on) o->feed.enabled = true;
    if (*feed_hub_flag) o->feed.hub_id = feed_hub;
    if (*feed_nats_flag) {
      o->feed.nats.servers.clear();
      std::stringstream list(feed_nats);
      for (std::string url; std::getline(list, url, ',');)
        if (!url.empty()) o->feed.nats.servers.push_back(url);
    }
    LoadDeviceProfiles(o);
    Validate(*o);
  } catch (const CLI::ParseError& e) {
    *exit_code = app.exit(e) == 0 ? 0 : 2;  // --help, --version: 0; bad usage: 2
    return false;
  }
  return true;
}

}  // namespace hub::daemon
