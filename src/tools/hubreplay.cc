// hubreplay: sends a hub day (written by hubgen or `hubd --export`) to a
// daemon and reports throughput and ack latency; with --verify, checks the
// daemon's exceptions against the day's expected ones (SPEC §5 "Tools").
//
//   hubreplay --target 127.0.0.1:7400 --http 127.0.0.1:7480 --in /tmp/day --verify
//   hubreplay ... --in day --devices day/devices.toml --device SORTER-01=127.0.0.1:7410
//
// Telegram scanners of the plan (hubgen --telegram) are not sessions: each
// gets one TCP connection to the device listener hubd has for it, its sort
// scans go as telegrams of its device profile, and the hub's replies (one
// per read, in order) are its acknowledgements; re-sends skip them.
//
// Each scanner's events go on their own session, in order (--connections N
// folds the scanners onto N sessions). The day's epochs are kept: the
// reference changes of an epoch are loaded before its events, and an epoch
// starts only when the previous one is acknowledged (replay.proto). If the
// daemon goes away the sessions reconnect and resume from the durable mark
// the Welcome gives, re-sending what was not acknowledged. Exit codes: 0
// done (and verified), 1 verification found differences or events were
// rejected, 2 bad usage or input, 3 the daemon could not be reached.

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <toml++/toml.h>

#include "codec/frame_codec.h"
#include "codec/telegram.h"
#include "net/scan_stream.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/replay.pb.h"
#include "hub/v1/session.pb.h"
#include "hub/version.h"
#include "tools/api_client.h"
#include "tools/day_generator.h"
#include "tools/device_read.h"
#include "tools/latency_histogram.h"

namespace {

using namespace hub;
using tools::ToJson;
namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace pbu = google::protobuf::util;
using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

struct Exit {
  int code;
};

[[noreturn]] void Fail(int code, const std::string& message) {
  std::cerr << "hubreplay: " << message << "\n";
  throw Exit{code};
}

std::pair<std::string, std::string> HostPort(const std::string& v, const char* flag) {
  const auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == v.size())
    Fail(2, std::string(flag) + " must be HOST:PORT");
  return {v.substr(0, colon), v.substr(colon + 1)};
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(2, "cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One varint-delimited message in a file: where its frame (length prefix
// included) starts, its size, and its payload.
struct FrameRef {
  size_t offset;
  size_t size;
  std::string_view payload;
};

// Splits a file of varint-delimited messages.
std::vector<FrameRef> Frames(const std::string& bytes, const fs::path& path) {
  std::vector<FrameRef> out;
  size_t at = 0;
  while (at < bytes.size()) {
    uint64_t len = 0;
    int shift = 0;
    size_t i = at;
    for (; i < bytes.size() && shift < 64; ++i, shift += 7) {
      len |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i]) & 0x7f) << shift;
      if (!(static_cast<unsigned char>(bytes[i]) & 0x80)) break;
    }
    if (i >= bytes.size() || len > bytes.size() - i - 1)
      Fail(2, path.string() + " is truncated or not a frame stream (at byte " + std::to_string(at) + ")");
    out.push_back(FrameRef{at, i + 1 + len - at, std::string_view(bytes.data() + i + 1, len)});
    at = i + 1 + len;
  }
  return out;
}

template <typename M>
M ParseJsonFile(const fs::path& path) {
  M m;
  pbu::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  if (!pbu::JsonStringToMessage(ReadFile(path), &m, o).ok()) Fail(2, path.string() + " does not parse");
  return m;
}

// --- HTTP: reference data in, exceptions out -------------------------------

struct Api {
  tools::ApiServer server;
  std::string token;

  std::string Call(const std::string& method, const std::string& target, const std::string& body = "") {
    tools::ApiAnswer res;
    for (int attempt = 0;; ++attempt) {
      try {
        res = tools::CallApi(server, token, method, target, body);
      } catch (const std::exception& e) {
        // The daemon may be restarting: retry for a while.
        if (attempt >= 300)
          Fail(3, "cannot reach the API at " + server.host + ":" + server.port + ": " + e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      if (res.status == 503 && attempt < 300) {  // recovering
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      break;
    }
    if (res.status / 100 != 2)
      Fail(1, target + " answered " + std::to_string(res.status) + ": " + tools::ErrorMessage(res.body));
    return res.body;
  }

  // Loads changes in requests below the daemon's 1 MiB body limit.
  void LoadReference(const std::vector<v1::ReferenceChange>& changes, size_t from, size_t to) {
    std::string body;
    auto flush = [&] {
      if (body.empty()) return;
      Call("POST", "/v1/reference", "{\"changes\":[" + body + "]}");
      body.clear();
    };
    for (size_t i = from; i < to; ++i) {
      const std::string one = ToJson(changes[i]);
      if (!body.empty() && body.size() + one.size() > (768 << 10)) flush();
      if (!body.empty()) body += ",";
      body += one;
    }
    flush();
  }

  std::vector<v1::ExceptionCase> AllExceptions() {
    std::vector<v1::ExceptionCase> out;
    uint64_t after = 0;
    for (;;) {
      v1::ExceptionPage page;
      const std::string body =
          Call("GET", "/v1/exceptions?limit=1000&after=" + std::to_string(after));
      pbu::JsonParseOptions o;
      o.ignore_unknown_fields = true;
      if (!pbu::JsonStringToMessage(body, &page, o).ok()) Fail(1, "an exception page does not parse");
      for (auto& c : *page.mutable_exceptions()) out.push_back(std::move(c));
      if (page.next_after() == 0) return out;
      after = page.next_after();
    }
  }
};

// --- The scan sessions -----------------------------------------------------

struct Options {
  std::string target_host, target_port;
  // TLS to the scanner port (null: plain TCP), and the credential every
  // hello carries.
  std::shared_ptr<asio::ssl::context> tls;
  std::string credential;
  int connections = 0;
  double rate = 0;        // events/s in total; 0: flat out
  double time_scale = 0;  // > 0: pace by event times, this many times faster
  size_t window = 4096;   // unacknowledged events per session
  double reconnect_seconds = 60;
};

struct Event {
  // The ClientFrame as sent (length prefix included): bytes
  // [offset, offset + size) of the session's `frames`.
  uint64_t offset;
  uint32_t size;
  uint64_t seq;
  int64_t time_ms;
};

struct Stats {
  uint64_t sent = 0, acked = 0, rejects = 0, resent = 0, reconnects = 0;
  uint64_t telegram_reads = 0, telegram_replies = 0;  // of the above, on telegram links
  // Acknowledged by a Welcome's durable mark without being sent in this
  // run: the hub held them already (a replay into a used hub).
  uint64_t already_held = 0;
  tools::LatencyHistogram latency;
};

class Replayer;

// One scanner's (or, folded, several scanners') way into the hub: a scan
// session (protobuf frames, acks) or a device telegram connection (replies
// count as acks). All on the replayer's one thread.
class Link : public std::enable_shared_from_this<Link> {
 public:
  Link(std::string scanner, bool telegram) : scanner_(std::move(scanner)), telegram_(telegram) {}
  virtual ~Link() = default;

  const std::string scanner_;
  const bool telegram_;
  bool counted_ = false;  // the current epoch's completion was counted
  std::vector<Event> events;
  // The events' bytes: the day's events.bin, or the link's own copy (frames
  // re-encoded when scanners are folded onto fewer sessions; telegrams).
  const std::string* frames = nullptr;
  std::string own_frames;
  size_t limit = 0;       // send events [0, limit) in this epoch
  size_t next = 0;        // next to send
  size_t acked = 0;       // events [0, acked) are acknowledged
  std::vector<Clock::time_point> sent_at;
  size_t resend_from = SIZE_MAX;  // planned re-send of acknowledged frames

  bool done() const { return acked >= limit; }
  // Appends the next events that may go now to *out (never past `limit`:
  // the next epoch waits for every acknowledgement); returns how many.
  size_t Batch(Replayer* r, std::string* out);
  virtual void Start() = 0;
  virtual void Kick() = 0;
  virtual void Close() = 0;
};

class Session : public Link {
 public:
  Session(Replayer* r, asio::io_context& io, std::string scanner)
      : Link(std::move(scanner), false), r_(r), io_(io), socket_(io), retry_(io) {}

  void Start() override { Connect(); }
  void Kick() override {
    if (ready_ && !writing_) Write();
  }
  // Drops the connection (a lost ack) and re-sends `count` acknowledged
  // frames once reconnected.
  void Resend(uint32_t count) {
    resend_frames_ = count;
    Drop(/*planned=*/true);
  }
  void Close() override {
    CloseSocket();
    retry_.cancel();
    closed_ = true;
  }

 private:
  void Connect();
  void Read();
  void Write();
  void OnFrame(std::string_view payload);
  void Drop(bool planned);
  void CloseSocket() {
    boost::system::error_code ec;
    socket_.close(ec);
    if (stream_) stream_->socket().close(ec);
  }

  Replayer* r_;
  asio::io_context& io_;
  tcp::socket socket_;                    // while connecting
  std::optional<net::ScanStream> stream_;  // once connected: TCP or TLS
  asio::steady_timer retry_;
  std::unique_ptr<codec::FrameDecoder> decoder_;
  std::array<char, 64 << 10> in_{};
  std::string out_;
  bool ready_ = false, writing_ = false, closed_ = false;
  uint32_t resend_frames_ = 0;
  uint64_t generation_ = 0;  // bumps on every (re)connect; stale handlers stop
  Clock::time_point down_since_{};
};

class Replayer {
 public:
  explicit Replayer(const Options& o) : o_(o), tick_(io_) {}

  const Options& options() const { return o_; }
  Stats stats;
  bool tty = ::isatty(STDERR_FILENO) != 0;
  uint64_t total_events = 0;

  std::shared_ptr<Link> AddSession(const std::string& scanner) {
    sessions_.push_back(std::make_shared<Session>(this, io_, scanner));
    by_scanner_[scanner] = sessions_.back().get();
    return sessions_.back();
  }
  // A device telegram connection to `host`:`port` in `profile` (which must
  // outlive the replayer).
  std::shared_ptr<Link> AddTelegramLink(const std::string& scanner, const codec::DeviceProfile& profile,
                                        const std::string& host, const std::string& port);
  Link* SessionOf(const std::string& scanner) {
    auto it = by_scanner_.find(scanner);
    return it == by_scanner_.end() ? nullptr : it->second;
  }

  // May `s` send its next event now (rate and time-scale pacing)?
  bool MaySend(const Link& s) {
    if (o_.rate > 0 && tokens_ < 1) return false;
    if (o_.time_scale > 0) {
      const double hub_ms = static_cast<double>(s.events[s.next].time_ms - first_time_ms_);
      if (Clock::now() < start_ + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double, std::milli>(hub_ms / o_.time_scale)))
        return false;
    }
    if (o_.rate > 0) tokens_ -= 1;
    return true;
  }

  void OnAcked() {
    if (--busy_ == 0) io_.stop();
  }
  void SessionDone(Link& s) {
    if (s.done() && !s.counted_) {
      s.counted_ = true;
      OnAcked();
    }
  }
  void Unreachable(const std::string& why) {
    unreachable_ = why;
    io_.stop();
  }
  void Fatal(const std::string& why) {
    fatal_ = why;
    io_.stop();
  }

  // Sends events [.., events_end) of every session; returns when all are
  // acknowledged.
  void RunEpoch(const std::vector<std::pair<Link*, size_t>>& limits) {
    busy_ = 0;
    for (auto& s : sessions_) s->counted_ = false;
    for (auto [s, limit] : limits) s->limit = limit;
    for (auto& s : sessions_) {
      if (s->done()) {
        s->counted_ = true;
        continue;
      }
      ++busy_;
    }
    if (busy_ == 0) return;
    for (auto& s : sessions_) s->Kick();
    Loop();
  }

  void Resend(Session* s, uint32_t frames) {
    busy_ = 1;
    s->counted_ = false;
    s->Resend(frames);
    Loop();
  }

  void Begin(int64_t first_time_ms) {
    first_time_ms_ = first_time_ms;
    start_ = last_progress_ = last_tick_ = Clock::now();
    for (auto& s : sessions_) s->Start();
  }
  void Finish() {
    for (auto& s : sessions_) s->Close();
    io_.poll();
    if (tty) std::fprintf(stderr, "\n");
  }
  double Seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  friend class Session;
  friend class TelegramLink;
  void Loop() {
    Tick();
    io_.restart();
    io_.run();
    if (!unreachable_.empty()) Fail(3, unreachable_);
    if (!fatal_.empty()) Fail(1, "the daemon refused the stream: " + fatal_);
  }

  void Tick() {
    tick_.expires_after(std::chrono::milliseconds(1));
    tick_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      const auto now = Clock::now();
      if (o_.rate > 0) {
        // At most a tenth of a second's worth banked, and at least one event.
        tokens_ = std::min(std::max(1.0, o_.rate / 10),
                           tokens_ + o_.rate * std::chrono::duration<double>(now - last_tick_).count());
      }
      last_tick_ = now;
      if (o_.rate > 0 || o_.time_scale > 0)
        for (auto& s : sessions_) s->Kick();
      if (now - last_progress_ >= std::chrono::milliseconds(tty ? 250 : 5000)) {
        last_progress_ = now;
        Progress();
      }
      Tick();
    });
  }

  void Progress() {
    const double secs = Seconds();
    const double rate = secs > 0 ? static_cast<double>(stats.acked) / secs : 0;
    const double frac = total_events ? static_cast<double>(stats.acked) / static_cast<double>(total_events) : 1;
    const double eta = rate > 0 ? static_cast<double>(total_events - std::min(total_events, stats.acked)) / rate : 0;
    if (tty) {
      std::string bar(30, ' ');
      for (int i = 0; i < static_cast<int>(frac * 30) && i < 30; ++i) bar[i] = '#';
      std::fprintf(stderr, "\r[%s] %5.1f%% %llu/%llu events  %.0f ev/s  ETA %.0f s   ", bar.c_str(),
                   frac * 100, static_cast<unsigned long long>(stats.acked),
                   static_cast<unsigned long long>(total_events), rate, eta);
    } else {
      std::fprintf(stderr, "progress acked=%llu total=%llu rate=%.0f eta_s=%.0f\n",
                   static_cast<unsigned long long>(stats.acked),
                   static_cast<unsigned long long>(total_events), rate, eta);
    }
  }

  const Options& o_;
  asio::io_context io_;
  asio::steady_timer tick_;
  std::vector<std::shared_ptr<Link>> sessions_;
  std::map<std::string, Link*> by_scanner_;
  int busy_ = 0;
  double tokens_ = 0;
  int64_t first_time_ms_ = 0;
  Clock::time_point start_, last_progress_, last_tick_;
  std::string unreachable_, fatal_;
};

void Session::Connect() {
  if (closed_) return;
  ready_ = false;
  writing_ = false;
  decoder_ = std::make_unique<codec::FrameDecoder>(1 << 20);
  out_.clear();
  const uint64_t gen = ++generation_;
  auto self = shared_from_this();
  boost::system::error_code ec;
  socket_ = tcp::socket(io_);
  auto endpoints = tcp::resolver(io_).resolve(r_->options().target_host, r_->options().target_port, ec);
  if (ec) return r_->Unreachable("cannot resolve " + r_->options().target_host);
  asio::async_connect(socket_, endpoints, [this, self, gen](boost::system::error_code ec, const tcp::endpoint&) {
    if (gen != generation_ || closed_) return;
    if (ec) return Drop(false);
    socket_.set_option(tcp::no_delay(true), ec);
    if (r_->options().tls) {
      stream_.emplace(std::move(socket_), r_->options().tls, asio::ssl::stream_base::client);
    } else {
      stream_.emplace(std::move(socket_));
    }
    stream_->AsyncHandshake([this, self, gen](boost::system::error_code ec) {
      if (gen != generation_ || closed_) return;
      if (ec) {
        // A refused certificate will be refused again; a connection that
        // broke (a daemon restarting) is worth another try.
        if (r_->options().tls && ec.category() != asio::error::get_system_category() &&
            ec != asio::error::eof)
          return r_->Fatal(scanner_ + ": TLS handshake failed: " + ec.message());
        return Drop(false);
      }
      v1::ClientFrame hello;
      hello.mutable_hello()->set_scanner_id(scanner_);
      hello.mutable_hello()->set_station("REPLAY");
      hello.mutable_hello()->set_credential(r_->options().credential);
      hello.mutable_hello()->set_version(v1::PROTOCOL_VERSION_1);
      auto bytes = std::make_shared<std::string>();
      codec::AppendFrame(hello, bytes.get());
      stream_->AsyncWrite(asio::buffer(*bytes), [this, self, gen, bytes](boost::system::error_code ec, size_t) {
        if (gen != generation_ || closed_) return;
        if (ec) return Drop(false);
      });
      Read();
    });
  });
}

void Session::Drop(bool planned) {
  if (closed_) return;
  CloseSocket();
  ++generation_;
  ready_ = false;
  writing_ = false;
  if (!planned) {
    if (down_since_ == Clock::time_point{}) down_since_ = Clock::now();
    if (Clock::now() - down_since_ > std::chrono::duration<double>(r_->options().reconnect_seconds))
      return r_->Unreachable("the daemon did not come back within " +
                             std::to_string(static_cast<int>(r_->options().reconnect_seconds)) + " s");
  }
  ++r_->stats.reconnects;
  retry_.expires_after(std::chrono::milliseconds(planned ? 0 : 100));
  auto self = shared_from_this();
  retry_.async_wait([this, self](boost::system::error_code ec) {
    if (!ec) Connect();
  });
}

void Session::Read() {
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  stream_->AsyncReadSome(asio::buffer(in_), [this, self, gen](boost::system::error_code ec, size_t n) {
    if (gen != generation_ || closed_) return;
    if (ec) return Drop(false);
    decoder_->Append(in_.data(), n);
    std::string_view payload;
    for (;;) {
      auto res = decoder_->Next(&payload);
      if (res == codec::FrameDecoder::Result::kNeedMore) break;
      if (res != codec::FrameDecoder::Result::kFrame) return Drop(false);
      OnFrame(payload);
      if (gen != generation_) return;
    }
    Read();
  });
}

void Session::OnFrame(std::string_view payload) {
  v1::ServerFrame f;
  if (!f.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return Drop(false);
  const auto now = Clock::now();
  if (f.has_welcome()) {
    down_since_ = {};
    const uint64_t mark = f.welcome().last_durable_seq();
    // Everything up to the mark is durable; resume after it (or, for a
    // planned re-send, that many frames before it).
    while (acked < events.size() && events[acked].seq <= mark) {
      // Sent before the daemon went away and made durable by it; events
      // never sent were in the daemon already (a replay into a used hub).
      if (acked < next)
        r_->stats.latency.Add(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at[acked]).count()));
      else
        ++r_->stats.already_held;
      ++r_->stats.acked;
      ++acked;
    }
    next = acked;
    resend_from = SIZE_MAX;  // a re-send cut short by a reconnect is over
    if (resend_frames_ > 0) {
      // Re-send the last frames of this epoch that were acknowledged.
      const size_t top = std::min(acked, limit);
      next = top > resend_frames_ ? top - resend_frames_ : 0;
      if (next < top) resend_from = next;
      resend_frames_ = 0;
    }
    ready_ = true;
    if (done() && resend_from == SIZE_MAX) r_->SessionDone(*this);
    Write();
    return;
  }
  if (f.has_reject()) {
    // Draining or unhealthy, or closed for idling while other sessions
    // finished an epoch: connect again and resume.
    if (f.reject().code() == v1::REJECT_UNAVAILABLE || f.reject().code() == v1::REJECT_TIMEOUT)
      return Drop(false);
    ++r_->stats.rejects;
    if (r_->stats.rejects <= 10)
      std::cerr << "hubreplay: " << scanner_ << " seq " << f.reject().seq() << " rejected: "
                << f.reject().reason() << "\n";
    // An invalid event is answered and acknowledged; these say the stream
    // itself is wrong: nothing would ever acknowledge the rest.
    switch (f.reject().code()) {
      case v1::REJECT_BAD_SEQ:
      case v1::REJECT_NOT_HELLO:
      case v1::REJECT_SCANNER_MISMATCH:
      case v1::REJECT_UNAUTHENTICATED:  // --credential or the client certificate
      case v1::REJECT_FENCED:           // someone else speaks for this scanner
        return r_->Fatal(scanner_ + ": " + v1::RejectCode_Name(f.reject().code()) + ": " +
                         f.reject().reason());
      default: return;
    }
  }
  if (!f.has_ack()) return;
  const uint64_t seq = f.ack().acked_seq();
  while (acked < next && events[acked].seq <= seq) {
    ++r_->stats.acked;
    r_->stats.latency.Add(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at[acked]).count()));
    ++acked;
  }
  if (resend_from != SIZE_MAX) {
    // Acks for the re-sent (already acknowledged) frames.
    while (resend_from < next && events[resend_from].seq <= seq) ++resend_from;
    if (resend_from >= std::min(acked, limit)) resend_from = SIZE_MAX;
  }
  if (done() && resend_from == SIZE_MAX) r_->SessionDone(*this);
  Write();
}

size_t Link::Batch(Replayer* r, std::string* out) {
  out->clear();
  const auto now = Clock::now();
  size_t n = 0;
  while (next < limit && next < acked + r->options().window && out->size() < (64 << 10) && n < 512) {
    if (!r->MaySend(*this)) break;
    if (next < acked) ++r->stats.resent;  // a planned re-send of an acknowledged frame
    out->append(frames->data() + events[next].offset, events[next].size);
    if (next >= acked) sent_at[next] = now;
    ++next;
    ++n;
    ++r->stats.sent;
  }
  return n;
}

void Session::Write() {
  if (!ready_ || writing_ || closed_) return;
  if (Batch(r_, &out_) == 0) return;
  writing_ = true;
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  stream_->AsyncWrite(asio::buffer(out_), [this, self, gen](boost::system::error_code ec, size_t) {
    if (gen != generation_ || closed_) return;
    writing_ = false;
    if (ec) return Drop(false);
    Write();
  });
}

// A device telegram connection (hubgen --telegram, hubd's [[device]]): one
// plain TCP connection on which the scanner's reads go as telegrams of its
// profile; the hub answers each sort read with one reply, in read order, and
// a reply is that read's acknowledgement. No hello, no resume: a connection
// that breaks after the first read is fatal (the reads in flight cannot be
// told apart from the ones the hub took).
class TelegramLink : public Link {
 public:
  // How the profile's replies are framed: the reply template's text before
  // its first placeholder is their header, the text after its last one
  // their terminator ("{object},{chute},{divert}\r\n": none, CR LF). ""
  // when the template ends in a placeholder (no way to tell replies apart).
  static std::string ReplyTerminator(const codec::DeviceProfile& p) {
    const auto last = p.reply.rfind('}');
    return last == std::string::npos ? p.reply : p.reply.substr(last + 1);
  }
  static codec::DeviceProfile ReplyFraming(const codec::DeviceProfile& p) {
    codec::DeviceProfile f;
    f.name = p.name + " replies";
    const auto first = p.reply.find('{');
    f.header = first == std::string::npos ? "" : p.reply.substr(0, first);
    f.terminator = ReplyTerminator(p);
    f.max_telegram = 1 << 16;
    return f;
  }

  TelegramLink(Replayer* r, asio::io_context& io, std::string scanner, const codec::DeviceProfile& profile,
               std::string host, std::string port)
      : Link(std::move(scanner), true), r_(r), io_(io), socket_(io), retry_(io), reply_framing_(ReplyFraming(profile)),
        replies_(reply_framing_), host_(std::move(host)), port_(std::move(port)) {
    frames = &own_frames;
  }

  void Start() override { Connect(); }
  void Kick() override {
    if (ready_ && !writing_) Write();
  }
  void Close() override {
    boost::system::error_code ec;
    socket_.close(ec);
    retry_.cancel();
    closed_ = true;
  }

 private:
  void Connect() {
    if (closed_) return;
    boost::system::error_code ec;
    socket_ = tcp::socket(io_);
    auto endpoints = tcp::resolver(io_).resolve(host_, port_, ec);
    if (ec) return r_->Unreachable(scanner_ + ": cannot resolve " + host_);
    auto self = shared_from_this();
    asio::async_connect(socket_, endpoints, [this, self](boost::system::error_code ec, const tcp::endpoint&) {
      if (closed_) return;
      if (ec) {
        // The listener may not be up yet: try again for a while.
        if (first_try_ == Clock::time_point{}) first_try_ = Clock::now();
        if (Clock::now() - first_try_ > std::chrono::duration<double>(r_->options().reconnect_seconds))
          return r_->Unreachable(scanner_ + ": no telegram listener at " + host_ + ":" + port_);
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this, self](boost::system::error_code ec) {
          if (!ec) Connect();
        });
        return;
      }
      socket_.set_option(tcp::no_delay(true), ec);
      ready_ = true;
      Read();
      Write();
    });
  }

  void Read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(in_), [this, self](boost::system::error_code ec, size_t n) {
      if (closed_) return;
      if (ec)
        return r_->Fatal(scanner_ + ": the telegram connection to " + host_ + ":" + port_ + " broke (" +
                         ec.message() + ") after " + std::to_string(acked) + " replies");
      replies_.Append(std::string_view(in_.data(), n));
      std::string reply;
      const auto now = Clock::now();
      for (;;) {
        const auto res = replies_.Next(&reply);
        if (res == codec::TelegramFramer::Result::kNeedMore) break;
        // One reply per sort read, in read order (an oversized one too).
        if (acked >= next)
          return r_->Fatal(scanner_ + ": a reply came for no read (" + std::to_string(acked) + " replies, " +
                           std::to_string(next) + " reads sent)");
        ++r_->stats.acked;
        ++r_->stats.telegram_replies;
        r_->stats.latency.Add(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at[acked]).count()));
        ++acked;
      }
      if (done()) r_->SessionDone(*this);
      Write();
      Read();
    });
  }

  void Write() {
    if (!ready_ || writing_ || closed_) return;
    const size_t n = Batch(r_, &out_);
    if (n == 0) return;
    r_->stats.telegram_reads += n;
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_), [this, self](boost::system::error_code ec, size_t) {
      if (closed_) return;
      writing_ = false;
      if (ec)
        return r_->Fatal(scanner_ + ": cannot write to the telegram listener " + host_ + ":" + port_ + ": " +
                         ec.message());
      Write();
    });
  }

  Replayer* r_;
  asio::io_context& io_;
  tcp::socket socket_;
  asio::steady_timer retry_;
  const codec::DeviceProfile reply_framing_;  // replies_ holds a reference to it
  codec::TelegramFramer replies_;
  const std::string host_, port_;
  std::array<char, 64 << 10> in_{};
  std::string out_;
  bool ready_ = false, writing_ = false, closed_ = false;
  Clock::time_point first_try_{};
};

std::shared_ptr<Link> Replayer::AddTelegramLink(const std::string& scanner, const codec::DeviceProfile& profile,
                                                const std::string& host, const std::string& port) {
  sessions_.push_back(std::make_shared<TelegramLink>(this, io_, scanner, profile, host, port));
  by_scanner_[scanner] = sessions_.back().get();
  return sessions_.back();
}

// Why `read` would not reach the hub as it is through `profile`'s telegram
// (a profile without a weight field, a second code with nowhere to go); ""
// when it does.
std::string LostInTelegram(const codec::DeviceProfile& profile, const codec::DeviceRead& read,
                           const std::string& telegram) {
  codec::TelegramFramer framer(profile);
  framer.Append(telegram);
  std::string payload;
  if (framer.Next(&payload) != codec::TelegramFramer::Result::kTelegram) return "the telegram does not frame";
  codec::DeviceRead back;
  if (std::string why = codec::ParseTelegram(profile, payload, &back); !why.empty())
    return "the telegram does not parse: " + why;
  if (back.no_read != read.no_read || back.codes != read.codes) return "its codes do not fit the telegram";
  const auto& m = read.measurement;
  const auto& b = back.measurement;
  const uint64_t dw = m.weight_g() > b.weight_g() ? m.weight_g() - b.weight_g() : b.weight_g() - m.weight_g();
  if (dw > 10) return "its DWS weight does not fit the telegram (" + std::to_string(m.weight_g()) + " g sent, " +
                      std::to_string(b.weight_g()) + " g parsed)";
  if (m.scale_error() != b.scale_error()) return "its scale-error flag does not fit the telegram";
  return "";
}

struct Report {
  double seconds = 0;
  Stats* stats = nullptr;
  size_t sessions = 0;
  int differences = -1;  // -1: not verified
};

// The rate counts the events this run sent and got acknowledged; events
// the hub already held are reported apart, and with nothing sent there is
// no rate or latency to speak of.
void PrintReport(const Report& r, bool json) {
  const Stats& s = *r.stats;
  const bool nothing_sent = s.sent == 0;
  const double rate = r.seconds > 0 ? static_cast<double>(s.acked - s.already_held) / r.seconds : 0;
  auto ms = [&](double p) { return static_cast<double>(s.latency.Percentile(p)) / 1000.0; };
  const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  if (json) {
    std::printf("{\"sessions\":%zu,\"events_sent\":%llu,\"events_acked\":%llu,\"already_held\":%llu,"
                "\"resent\":%llu,\"rejects\":%llu,\"reconnects\":%llu,\"seconds\":%.3f",
                r.sessions, u(s.sent), u(s.acked), u(s.already_held), u(s.resent), u(s.rejects), u(s.reconnects),
                r.seconds);
    if (!nothing_sent)
      std::printf(",\"acked_per_s\":%.0f,\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
                  "\"p999\":%.3f,\"max\":%.3f}",
                  rate, ms(0.5), ms(0.9), ms(0.99), ms(0.999), static_cast<double>(s.latency.max()) / 1000.0);
    if (s.telegram_reads > 0)
      std::printf(",\"telegram_reads\":%llu,\"telegram_replies\":%llu", u(s.telegram_reads), u(s.telegram_replies));
    if (r.differences >= 0) std::printf(",\"verify_differences\":%d", r.differences);
    std::printf("}\n");
    return;
  }
  if (nothing_sent && s.acked > 0) {
    std::printf("sessions %zu  the hub already held every event of the day: nothing new sent (%llu events "
                "acknowledged by its durable marks)\n",
                r.sessions, u(s.acked));
    return;
  }
  std::printf("sessions %zu  events sent %llu  acked %llu  re-sent %llu  rejected %llu  reconnects %llu\n", r.sessions,
              u(s.sent), u(s.acked), u(s.resent), u(s.rejects), u(s.reconnects));
  if (s.already_held > 0)
    std::printf("%llu of the acked events the hub held already (not sent again)\n", u(s.already_held));
  if (s.telegram_reads > 0)
    std::printf("telegram reads sent %llu  replies %llu (counted as acks)\n", u(s.telegram_reads),
                u(s.telegram_replies));
  std::printf("%.2f s  %.0f acked events/s\n", r.seconds, rate);
  std::printf("ack latency ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", ms(0.5), ms(0.9), ms(0.99),
              ms(0.999), static_cast<double>(s.latency.max()) / 1000.0);
}

// Compares the daemon's cases with the expected ones by type and ids;
// prints every difference to `out`; returns their number.
// `prefix` set: only the raised cases of the day whose ids carry it (hubgen
// --id-prefix; several days through one hub).
int Verify(Api& api, const fs::path& expected_path, const std::string& prefix, FILE* out) {
  const auto expected = ParseJsonFile<v1::ExceptionPage>(expected_path);
  std::map<std::string, int> diff;  // key -> raised - expected
  for (const auto& c : expected.exceptions()) --diff[tools::CaseKey(c)];
  auto raised = api.AllExceptions();
  if (!prefix.empty()) {
    std::erase_if(raised, [&prefix](const v1::ExceptionCase& c) {
      return c.scanner_id().rfind(prefix, 0) != 0 &&
             tools::CaseKey(c).find("=" + prefix) == std::string::npos;
    });
  }
  for (const auto& c : raised) ++diff[tools::CaseKey(c)];
  int differences = 0;
  for (const auto& [key, n] : diff) {
    for (int i = 0; i < std::abs(n); ++i) {
      std::fprintf(out, "%s %s\n", n < 0 ? "missing    (expected, not raised):" : "unexpected (raised, not expected):",
                   key.c_str());
      ++differences;
    }
  }
  std::fprintf(out, "verify: %d expected, %zu raised, %d difference(s)\n", expected.exceptions_size(),
               raised.size(), differences);
  return differences;
}

int Main(int argc, char** argv) {
  Options o;
  std::string target, http_addr, in;
  bool verify = false, json = false;
  std::string token = std::getenv("HUBREPLAY_TOKEN") ? std::getenv("HUBREPLAY_TOKEN") : "";
  CLI::App app{"hubreplay: replay a hub day against hubd; report throughput and ack latency"};
  app.set_version_flag("--version", std::string("hubreplay ") + hub::kVersion);
  app.add_option("--target", target, "hubd scanner listener HOST:PORT")->required();
  std::string ca_file;
  app.add_option("--http", http_addr,
                 "hubd HTTP API HOST:PORT or https://HOST:PORT (reference data and --verify)");
  app.add_option("--ca-file", ca_file, "PEM CA bundle that signs hubd's HTTPS certificate");
  app.add_option("--in", in, "day directory (hubgen --out, hubd --export)")->required();
  app.add_option("--connections", o.connections, "sessions (default: one per scanner in the day)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--rate", o.rate, "events/s in total (default: flat out)")->check(CLI::NonNegativeNumber);
  app.add_option("--time-scale", o.time_scale,
                 "pace by the events' times, this many times faster than recorded")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--window", o.window, "unacknowledged events per session")->check(CLI::Range(1, 1 << 20));
  app.add_option("--reconnect-timeout", o.reconnect_seconds, "seconds to wait for a daemon that went away");
  app.add_option("--token", token, "API bearer token: admin to load reference data (env HUBREPLAY_TOKEN)");
  std::string tls_ca, tls_cert, tls_key;
  o.credential = std::getenv("HUBREPLAY_CREDENTIAL") ? std::getenv("HUBREPLAY_CREDENTIAL") : "";
  app.add_option("--credential", o.credential,
                 "scanner credential sent in every hello (env HUBREPLAY_CREDENTIAL)");
  app.add_option("--tls-ca", tls_ca, "speak TLS to the scanner port, trusting this PEM CA bundle")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", tls_cert, "client certificate (PEM) for mutual TLS")->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "client key (PEM) for mutual TLS")->check(CLI::ExistingFile);
  app.add_flag("--verify", verify, "compare the daemon's exceptions with the day's expected.json");
  std::string verify_prefix;
  app.add_option("--verify-prefix", verify_prefix,
                 "with --verify: compare only cases naming an id with this prefix (hubgen --id-prefix)");
  app.add_flag("--json", json, "print the report as JSON");
  std::vector<std::string> device_args;
  std::string devices_file, profile_dir;
  app.add_option("--device", device_args,
                 "SCANNER=HOST:PORT: where hubd listens for that telegram scanner's device "
                 "(plan.json telegram_scanners, hubgen --telegram); repeatable; overrides --devices")
      ->type_name("SCANNER=HOST:PORT");
  app.add_option("--devices", devices_file,
                 "hubd [[device]] blocks (hubgen's devices.toml): each scanner_id's listen address; "
                 "port 0 must be overridden with --device")
      ->check(CLI::ExistingFile);
  app.add_option("--profile-dir", profile_dir,
                 "where a telegram scanner's profile NAME is found as NAME.toml, as hubd's --device-dir "
                 "(a name holding '/' or ending in .toml is a path) [/etc/hubd/devices if it exists, else "
                 "deploy/devices]");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::tie(o.target_host, o.target_port) = HostPort(target, "--target");
  if (tls_cert.empty() != tls_key.empty()) Fail(2, "--tls-cert and --tls-key go together");
  if (!tls_cert.empty() && tls_ca.empty()) Fail(2, "--tls-cert needs --tls-ca");
  if (!tls_ca.empty()) {
    try {
      o.tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
      o.tls->load_verify_file(tls_ca);
      o.tls->set_verify_mode(asio::ssl::verify_peer);
      if (!tls_cert.empty()) {
        o.tls->use_certificate_chain_file(tls_cert);
        o.tls->use_private_key_file(tls_key, asio::ssl::context::pem);
      }
    } catch (const std::exception& e) {
      Fail(2, std::string("cannot load the TLS files: ") + e.what());
    }
  }
  Api api;
  api.token = token;
  api.server.ca_file = ca_file;
  if (!http_addr.empty() && !tools::ParseApiServer(http_addr, &api.server))
    Fail(2, "--http must be HOST:PORT or https://HOST:PORT, got '" + http_addr + "'");
  const fs::path dir(in);

  // The day.
  v1::ReplayPlan plan;
  if (fs::exists(dir / "plan.json")) plan = ParseJsonFile<v1::ReplayPlan>(dir / "plan.json");

  // Telegram scanners: their profile and their device listener.
  struct TelegramScanner {
    codec::DeviceProfile profile;
    std::string host, port;
    uint64_t objects = 0;
  };
  std::map<std::string, std::unique_ptr<TelegramScanner>> telegram;
  if (!plan.telegram_scanners().empty()) {
    std::map<std::string, std::string> address;
    if (!devices_file.empty()) {
      try {
        const toml::table t = toml::parse_file(devices_file);
        if (const auto* devices = t["device"].as_array()) {
          for (const auto& d : *devices) {
            const auto* dt = d.as_table();
            if (dt == nullptr) continue;
            const auto id = (*dt)["scanner_id"].value<std::string>();
            const auto listen = (*dt)["listen"].value<std::string>();
            if (id && listen) address[*id] = *listen;
          }
        }
      } catch (const toml::parse_error& e) {
        Fail(2, devices_file + " does not parse: " + std::string(e.description()));
      }
    }
    for (const auto& d : device_args) {
      const auto eq = d.find('=');
      if (eq == std::string::npos || eq == 0) Fail(2, "--device must be SCANNER=HOST:PORT, got '" + d + "'");
      address[d.substr(0, eq)] = d.substr(eq + 1);
    }
    for (const auto& t : plan.telegram_scanners()) {
      auto ts = std::make_unique<TelegramScanner>();
      const std::string& name = t.profile();
      if (profile_dir.empty()) profile_dir = fs::is_directory("/etc/hubd/devices") ? "/etc/hubd/devices" : "deploy/devices";
      const bool is_path = name.find('/') != std::string::npos || name.ends_with(".toml");
      const fs::path path = is_path ? fs::path(name) : fs::path(profile_dir) / (name + ".toml");
      try {
        ts->profile = codec::LoadProfile(path.string());
      } catch (const std::exception& e) {
        Fail(2, "telegram scanner " + t.scanner_id() + ": " + e.what());
      }
      if (ts->profile.reply.empty())
        Fail(2, "telegram scanner " + t.scanner_id() + ": profile " + name +
                    " takes no reply, so nothing would acknowledge its reads and the epochs could not be "
                    "kept; replay it with a profile that has a reply");
      if (TelegramLink::ReplyTerminator(ts->profile).empty())
        Fail(2, "telegram scanner " + t.scanner_id() + ": profile " + name +
                    "'s reply ends in a placeholder: hubreplay cannot tell one reply from the next");
      auto a = address.find(t.scanner_id());
      if (a == address.end())
        Fail(2, "telegram scanner " + t.scanner_id() + " has no device address: give --device " + t.scanner_id() +
                    "=HOST:PORT or --devices FILE");
      std::tie(ts->host, ts->port) = HostPort(a->second, "--device");
      if (ts->port == "0")
        Fail(2, "telegram scanner " + t.scanner_id() + " listens on port 0 in " + devices_file +
                    ": give its real port with --device " + t.scanner_id() + "=HOST:PORT");
      telegram[t.scanner_id()] = std::move(ts);
    }
  }
  std::vector<v1::ReferenceChange> reference;
  if (fs::exists(dir / "reference.bin")) {
    const std::string bytes = ReadFile(dir / "reference.bin");
    for (const auto& f : Frames(bytes, dir / "reference.bin")) {
      if (!reference.emplace_back().ParseFromArray(f.payload.data(), static_cast<int>(f.payload.size())))
        Fail(2, "reference.bin holds a change that does not parse");
    }
  }
  if (!reference.empty() && http_addr.empty()) Fail(2, "the day has reference data: give --http");
  if (verify && http_addr.empty()) Fail(2, "--verify needs --http");
  if (verify && !fs::exists(dir / "expected.json")) Fail(2, "--verify needs " + (dir / "expected.json").string());

  Replayer replayer(o);
  std::vector<std::shared_ptr<Link>> sessions;
  std::vector<std::pair<Link*, uint64_t>> owner;  // per event: session and index in it
  std::map<std::string, std::string> session_of;     // scanner id -> session name
  int64_t first_time = 0;
  const std::string bytes = ReadFile(dir / "events.bin");  // the sessions send from it
  {
    auto frames = Frames(bytes, dir / "events.bin");
    if (frames.empty()) Fail(2, "events.bin holds no events");
    std::map<std::string, int> scanner_index;
    v1::ClientFrame f;
    owner.reserve(frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
      const std::string_view payload = frames[i].payload;
      if (!f.ParseFromArray(payload.data(), static_cast<int>(payload.size())) || !f.has_event())
        Fail(2, "events.bin frame " + std::to_string(i) + " is not an event");
      v1::ScanEvent& e = *f.mutable_event();
      if (i == 0) first_time = e.event_time_ms();
      if (auto t = telegram.find(e.scanner_id()); t != telegram.end()) {
        // A telegram scanner: its own connection, never folded.
        TelegramScanner& ts = *t->second;
        Link* s = replayer.SessionOf(e.scanner_id());
        if (s == nullptr) {
          sessions.push_back(replayer.AddTelegramLink(e.scanner_id(), ts.profile, ts.host, ts.port));
          s = sessions.back().get();
        }
        session_of[e.scanner_id()] = e.scanner_id();
        if (!e.has_parcel_sorted())
          Fail(2, "events.bin frame " + std::to_string(i) + ": telegram scanner " + e.scanner_id() +
                      " has an event that is not a sort scan (only sorters can be telegram devices)");
        const codec::DeviceRead read = tools::DeviceReadOf(e.parcel_sorted(), ts.profile, ++ts.objects);
        const std::string bytes = codec::FormatTelegram(ts.profile, read);
        if (std::string why = LostInTelegram(ts.profile, read, bytes); !why.empty())
          Fail(2, "telegram scanner " + e.scanner_id() + " seq " + std::to_string(e.seq()) + " in profile " +
                      ts.profile.name + ": " + why);
        Event ev;
        ev.offset = s->own_frames.size();
        s->own_frames += bytes;
        ev.size = static_cast<uint32_t>(bytes.size());
        ev.seq = s->events.size() + 1;
        ev.time_ms = e.event_time_ms();
        owner.emplace_back(s, s->events.size());
        s->events.push_back(ev);
        continue;
      }
      auto [it, fresh] = scanner_index.try_emplace(e.scanner_id(), static_cast<int>(scanner_index.size()));
      std::string name = e.scanner_id();
      if (o.connections > 0) name = "REPLAY-" + std::to_string(it->second % o.connections);
      Link* s = replayer.SessionOf(name);
      if (s == nullptr) {
        sessions.push_back(replayer.AddSession(name));
        s = sessions.back().get();
      }
      session_of[e.scanner_id()] = name;
      if (o.connections > 0) {  // folded: renamed and renumbered
        e.set_scanner_id(name);
        e.set_seq(s->events.size() + 1);
      } else if (!s->events.empty() && e.seq() != s->events.back().seq + 1) {
        Fail(2, "events.bin: scanner " + name + " seq " + std::to_string(e.seq()) +
                    " does not follow " + std::to_string(s->events.back().seq));
      }
      Event ev;
      if (o.connections > 0) {
        s->frames = &s->own_frames;
        ev.offset = s->own_frames.size();
        codec::AppendFrame(f, &s->own_frames);
        ev.size = static_cast<uint32_t>(s->own_frames.size() - ev.offset);
      } else {
        s->frames = &bytes;
        ev.offset = frames[i].offset;
        ev.size = static_cast<uint32_t>(frames[i].size);
      }
      ev.seq = e.seq();
      ev.time_ms = e.event_time_ms();
      owner.emplace_back(s, s->events.size());
      s->events.push_back(std::move(ev));
    }
  }
  for (auto& s : sessions) s->sent_at.resize(s->events.size());
  if (plan.epochs().empty()) {  // a plain stream: one epoch
    auto* e = plan.add_epochs();
    e->set_events_end(owner.size());
    e->set_reference_end(reference.size());
  }
  if (plan.epochs(plan.epochs_size() - 1).events_end() != owner.size() ||
      plan.epochs(plan.epochs_size() - 1).reference_end() > reference.size())
    Fail(2, "plan.json does not match events.bin and reference.bin");
  replayer.total_events = owner.size();

  std::fprintf(stderr, "hubreplay: %zu events, %zu reference changes, %zu sessions (%zu telegram devices), %d epochs\n",
               owner.size(), reference.size(), sessions.size(), telegram.size(), plan.epochs_size());
  replayer.Begin(first_time);
  size_t ref_at = 0;
  std::map<Link*, size_t> limits;
  for (int k = 0; k < plan.epochs_size(); ++k) {
    const auto& epoch = plan.epochs(k);
    if (epoch.reference_end() > ref_at) {
      api.LoadReference(reference, ref_at, epoch.reference_end());
      ref_at = epoch.reference_end();
    }
    const uint64_t end = epoch.events_end();
    const uint64_t begin = k == 0 ? 0 : plan.epochs(k - 1).events_end();
    for (uint64_t i = begin; i < end && i < owner.size(); ++i)
      limits[owner[i].first] = owner[i].second + 1;
    std::vector<std::pair<Link*, size_t>> l(limits.begin(), limits.end());
    replayer.RunEpoch(l);
    for (const auto& r : plan.resends()) {
      if (static_cast<int>(r.epoch()) != k) continue;
      auto name = session_of.find(r.scanner_id());
      Link* s = name == session_of.end() ? nullptr : replayer.SessionOf(name->second);
      // A device has no resume: re-sends are for scan sessions only.
      if (s != nullptr && !s->telegram_ && s->acked > 0) replayer.Resend(static_cast<Session*>(s), r.frames());
    }
  }
  Report report;
  report.seconds = replayer.Seconds();
  replayer.Finish();
  report.stats = &replayer.stats;
  report.sessions = sessions.size();
  // With --json, stdout is the report alone (one JSON document).
  if (verify) report.differences = Verify(api, dir / "expected.json", verify_prefix, json ? stderr : stdout);
  PrintReport(report, json);
  if (report.differences > 0) return 1;
  if (replayer.stats.rejects > 0) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const Exit& e) {
    return e.code;
  }
}
