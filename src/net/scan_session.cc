#include "net/scan_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

#include "core/validate.h"
#include "net/scan_server.h"
#include "util/log_value.h"

namespace hub::net {

namespace asio = boost::asio;
using boost::system::error_code;
using util::LogValue;

namespace {

constexpr size_t kMinRead = 4 * 1024;    // an idle session holds about this much
constexpr size_t kMaxRead = 64 * 1024;   // a busy one reads this much at a time
constexpr auto kCloseGrace = std::chrono::seconds(5);  // to flush the last answers
constexpr auto kLinger = std::chrono::seconds(1);      // to drain after FIN

util::LogThrottle auth_log(std::chrono::seconds(10));
util::LogThrottle handshake_log(std::chrono::seconds(10));
util::LogThrottle reuse_log(std::chrono::seconds(10));

bool IsEndOfStream(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

SessionEnv::Hold SessionEnv::ReadHold(size_t outstanding, size_t unsent_bytes) const {
  if (outstanding >= options->session_max_outstanding || unsent_bytes >= options->session_max_unsent_bytes)
    return Hold::kSession;
  return sequencer->in_flight() >= options->max_in_flight ? Hold::kSequencer : Hold::kNone;
}

ScanSession::ScanSession(ScanStream stream, std::string peer, const SessionEnv& env)
    : stream_(std::move(stream)),
      retry_(stream_.executor()),
      watchdog_(stream_.executor()),
      env_(env),
      peer_(std::move(peer)),
      decoder_(env.options->max_frame),
      read_size_(kMinRead) {
  error_code ec;
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  stream_.socket().set_option(asio::socket_base::keep_alive(true), ec);  // reap vanished handhelds
}

void ScanSession::Start() {
  opened_ = last_received_ = Clock::now();
  spdlog::info("event=session_opened peer={} tls={}", peer_, stream_.tls());
  ArmWatchdog();
  stream_.AsyncHandshake([self = shared_from_this()](const error_code& ec) { self->OnHandshake(ec); });
}

void ScanSession::OnHandshake(const error_code& ec) {
  if (closed_) return;
  if (ec) {
    ScanServerProbe::Add(env_.probe->tls_handshake_failures);
    uint64_t held = 0;
    if (handshake_log.Allow(&held))
      spdlog::warn("event=tls_handshake_failed peer={} error={} suppressed={}", peer_,
                   LogValue(ec.message()), held);
    return Close("tls_handshake_failed");
  }
  handshaken_ = true;
  MaybeRead();
}

void ScanSession::MaybeRead() {
  if (!handshaken_ || reading_ || waiting_ || awaiting_welcome_ || Closing()) return;
  const auto hold = env_.ReadHold(outstanding_, unsent_.size());
  if (hold == SessionEnv::Hold::kSession) return;  // resumed by OnReply() / the write completion
  if (hold == SessionEnv::Hold::kSequencer) {
    // The sequencer is behind: leave the socket unread (TCP pushes back on
    // the scanner) and look again shortly.
    waiting_ = true;
    retry_.expires_after(std::chrono::milliseconds(1));
    retry_.async_wait([self = shared_from_this()](const error_code&) {
      self->waiting_ = false;
      self->MaybeRead();
    });
    return;
  }
  // After a large frame, give the room back before asking for more.
  if (decoder_.capacity() > decoder_.buffered() + 2 * read_size_)
    decoder_.Shrink(decoder_.buffered() + read_size_);
  reading_ = true;
  char* room = decoder_.Prepare(read_size_);
  stream_.AsyncReadSome(asio::buffer(room, read_size_),
                        [self = shared_from_this()](const error_code& ec, size_t n) {
                          self->OnRead(ec, n);
                        });
}

void ScanSession::OnRead(const error_code& ec, size_t n) {
  reading_ = false;
  if (closed_) {  // finishing: this read only drains
    if (stream_.tls()) {
      return stream_.AsyncShutdown([self = shared_from_this()](const error_code&) { self->HardClose("done"); });
    }
    if (ec) return HardClose("done");
    return Linger();
  }
  if (ec) {
    if (!IsEndOfStream(ec)) Fail(ec, "read");
    NoteClose(stop_reading_ ? "stopped_reading" : IsEndOfStream(ec) ? "peer_closed" : "read_failed");
    // The peer is done sending (or we stopped reading): answer what it sent.
    CloseWhenFlushed();
    return;
  }
  decoder_.Commit(n);
  last_received_ = Clock::now();
  if (n == read_size_) {
    read_size_ = std::min(2 * read_size_, kMaxRead);
    small_reads_ = 0;
  } else if (n < read_size_ / 4 && ++small_reads_ >= 8) {
    read_size_ = std::max(read_size_ / 2, kMinRead);
    small_reads_ = 0;
  }
  ProcessFrames();
  MaybeRead();
}

void ScanSession::ProcessFrames() {
  std::string_view bytes;
  bool framed = false;
  while (!awaiting_welcome_ && !Closing()) {
    const auto r = decoder_.Next(&bytes);
    if (r == codec::FrameDecoder::Result::kNeedMore) break;
    if (r != codec::FrameDecoder::Result::kFrame) {
      spdlog::warn("event=bad_frame reason={} peer={} scanner={}",
                   r == codec::FrameDecoder::Result::kOversized ? "oversized_frame" : "malformed_length",
                   peer_, LogValue(scanner_id_));
      Close("bad_frame");
      break;
    }
    framed = true;
    if (!arena_) {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 2 * 1024;
      options.max_block_size = 256 * 1024;
      arena_ = std::make_unique<google::protobuf::Arena>(options);
    }
    auto* frame = google::protobuf::Arena::CreateMessage<v1::ClientFrame>(arena_.get());
    if (!frame->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      spdlog::warn("event=bad_frame reason=unparsable_frame peer={} scanner={} bytes={}",
                   peer_, LogValue(scanner_id_), bytes.size());
      Close("bad_frame");
      break;
    }
    switch (frame->body_case()) {
      case v1::ClientFrame::kHello: HandleHello(frame->hello()); break;
      case v1::ClientFrame::kEvent: HandleEvent(&frame->event()); break;
      case v1::ClientFrame::kPing:
        out_.mutable_pong()->set_nonce(frame->ping().nonce());
        Send(out_);
        Flush();
        break;
      case v1::ClientFrame::BODY_NOT_SET:
        Reject(0, v1::REJECT_UNKNOWN_KIND, "frame has no body");
        break;
    }
  }
  // The frame timeout runs from the first byte of an incomplete frame.
  if (decoder_.buffered() == 0) {
    partial_since_ = Clock::time_point();
  } else if (framed || partial_since_ == Clock::time_point()) {
    partial_since_ = Clock::now();
  }
  if (env_.draining->load(std::memory_order_relaxed)) batch_.clear();  // never acked: re-sent
  if (!batch_.empty() && !closed_) {
    outstanding_ += batch_.size();
    sequencer::Submission sub;
    sub.session = shared_from_this();
    sub.arena = std::move(arena_);
    sub.events = std::move(batch_);
    env_.sequencer->Submit(std::move(sub));
  }
  batch_.clear();
  arena_.reset();  // a read without events frees its frames here
}

void ScanSession::HandleHello(const v1::Hello& hello) {
  if (hello_seen_) return Reject(0, v1::REJECT_NOT_HELLO, "hello sent twice");
  if (hello.scanner_id().empty())
    return Refuse(v1::REJECT_MISSING_ID, "hello needs a scanner_id of 1..64 printable bytes");
  for (const auto* value : {&hello.scanner_id(), &hello.station()}) {
    const std::string field = value == &hello.station() ? "station" : "scanner_id";
    if (value->size() > core::kMaxIdLength)
      return Refuse(v1::REJECT_ID_TOO_LONG, "hello " + field + " is longer than 64 bytes");
    if (core::HasControlCharacter(*value))
      return Refuse(v1::REJECT_BAD_ID, "hello " + field + " holds a control character");
  }
  if (hello.version() != v1::PROTOCOL_VERSION_1 &&
      hello.version() != v1::PROTOCOL_VERSION_UNSPECIFIED)
    return Refuse(v1::REJECT_BAD_ENUM, "unsupported protocol version");
  if (env_.draining->load(std::memory_order_relaxed))
    return Refuse(v1::REJECT_UNAVAILABLE, "hubd is shutting down");
  if (std::string why = env_.auth->Admit(hello, stream_.PeerIdentities()); !why.empty()) {
    ScanServerProbe::Add(env_.probe->auth_failures);
    uint64_t held = 0;
    if (auth_log.Allow(&held))
      spdlog::warn("event=auth_failed peer={} scanner={} station={} reason={} suppressed={}", peer_,
                   LogValue(hello.scanner_id()), LogValue(hello.station()), LogValue(why), held);
    return Refuse(v1::REJECT_UNAUTHENTICATED, why);
  }
  hello_seen_ = true;
  awaiting_welcome_ = true;  // frames after the hello wait for the mark
  scanner_id_ = hello.scanner_id();
  spdlog::info("event=session_hello peer={} scanner={} station={} tls={}", peer_,
               LogValue(scanner_id_), LogValue(hello.station()), stream_.tls());
  claimed_ = true;
  if (env_.registry->Claim(scanner_id_, shared_from_this())) {
    granted_ = true;
    SubmitHello();
  } else {
    spdlog::info("event=session_waiting peer={} scanner={} reason=previous_session_fenced", peer_,
                 LogValue(scanner_id_));
  }
}

void ScanSession::SubmitHello() {
  hello_pending_ = true;
  sequencer::Submission sub;
  sub.session = shared_from_this();
  sub.hello_scanner = scanner_id_;
  env_.sequencer->Submit(std::move(sub));
}

void ScanSession::HandleEvent(const v1::ScanEvent* e) {
  const v1::ScanEvent& event = *e;
  const uint64_t seq = event.seq();
  if (!hello_seen_) return Reject(seq, v1::REJECT_NOT_HELLO, "send a hello first");
  if (event.scanner_id() != scanner_id_)
    return Reject(seq, v1::REJECT_SCANNER_MISMATCH,
                  "event scanner_id differs from the hello's " + scanner_id_);
  const uint64_t expected = last_seq_ + 1;
  if (seq == 0)
    return Reject(0, v1::REJECT_BAD_SEQ, "seq 0 is not a seq; expected " + std::to_string(expected));
  if (seq > expected)
    return Reject(seq, v1::REJECT_BAD_SEQ,
                  "seq " + std::to_string(seq) + " skips ahead; expected " + std::to_string(expected));
  // seq < expected is a re-send: the sequencer recognises it (acked again,
  // original decision, no effect).
  if (seq == expected) last_seq_ = seq;
  ++events_received_;
  batch_.push_back(e);
}

void ScanSession::Deliver(sequencer::Reply&& reply) {
  asio::post(stream_.executor(), [self = shared_from_this(), reply = std::move(reply)]() mutable {
    self->OnReply(reply);
  });
}

void ScanSession::OnReply(sequencer::Reply& reply) {
  outstanding_ -= reply.events_done;
  const bool hello_answer = hello_pending_;  // nothing else is in flight meanwhile
  hello_pending_ = false;
  if (closed_) return MaybeRelease();
  for (auto& d : reply.decisions) {
    *out_.mutable_decision() = std::move(d);
    Send(out_);
  }
  for (const auto& event : reply.resent) {
    ResendAnswer answer;
    if (env_.check_resend) env_.check_resend(event, &answer);
    if (answer.reused) {
      uint64_t held = 0;
      if (reuse_log.Allow(&held))
        spdlog::warn("event=seq_reused peer={} scanner={} seq={} suppressed={}", peer_,
                     LogValue(scanner_id_), event.seq(), held);
      Reject(event.seq(), v1::REJECT_SEQ_REUSED, std::move(answer.reason));
    } else if (answer.decision) {
      *out_.mutable_decision() = std::move(*answer.decision);
      Send(out_);
    }
  }
  for (auto& r : reply.rejects) {
    *out_.mutable_reject() = std::move(r);
    Send(out_);
  }
  if (reply.store_failed && !Closing()) {
    // Nothing of this reply is durable and this session's seqs ran ahead
    // of the store: close, so the scanner re-sends from the durable seq a
    // new hello's welcome names once the store writes again.
    NoteClose("store_failed");
    CloseWhenFlushed();
  }
  if (reply.acked_seq > 0) {  // also for re-sends below the last ack: acked again
    acked_sent_ = std::max(acked_sent_, reply.acked_seq);
    out_.mutable_ack()->set_acked_seq(acked_sent_);
    Send(out_);
  }
  if (hello_answer && !fenced_) {
    if (!reply.welcome) {
      if (!Closing()) {
        NoteClose("store_failed");
        CloseWhenFlushed();  // refused (the store failed): the reject says why
      }
    } else if (!Closing()) {
      last_seq_ = *reply.welcome;
      out_.mutable_welcome()->set_last_durable_seq(last_seq_);
      out_.mutable_welcome()->set_version(v1::PROTOCOL_VERSION_1);
      Send(out_);
      awaiting_welcome_ = false;
      last_received_ = Clock::now();
      ProcessFrames();  // frames that arrived behind the hello
    }
  }
  Flush();
  MaybeRelease();
  if (close_when_flushed_ && !Owes()) return Finish();
  MaybeRead();
}

void ScanSession::Fence() {
  asio::post(stream_.executor(), [self = shared_from_this()] { self->OnFence(); });
}

void ScanSession::Grant() {
  asio::post(stream_.executor(), [self = shared_from_this()] { self->OnGrant(); });
}

void ScanSession::OnFence() {
  if (fenced_) return;
  fenced_ = true;  // no more frames are taken; what was submitted is finished
  ScanServerProbe::Add(env_.probe->fenced);
  spdlog::info("event=session_fenced peer={} scanner={} outstanding={}", peer_,
               LogValue(scanner_id_), outstanding_);
  if (!granted_) released_ = true;  // overtaken while waiting: the registry let go
  if (released_) {
    if (!closed_) Refuse(v1::REJECT_FENCED, "a newer session of scanner " + scanner_id_ + " took over");
    return;
  }
  MaybeRelease();
}

void ScanSession::OnGrant() {
  granted_ = true;
  if (Closing()) return MaybeRelease();  // gone meanwhile: pass the id on
  SubmitHello();
}

void ScanSession::MaybeRelease() {
  if (!claimed_ || released_ || outstanding_ > 0 || hello_pending_ || !Closing()) return;
  released_ = true;
  env_.registry->Release(scanner_id_, this);
  if (fenced_ && !closed_)
    Refuse(v1::REJECT_FENCED, "a newer session of scanner " + scanner_id_ + " took over");
}

// One timer per session checks the limits now and then; activity only
// updates timestamps, so the hot path never touches the timer.
void ScanSession::ArmWatchdog() {
  const auto& o = *env_.options;
  auto tick = std::min({o.hello_timeout, o.frame_timeout, o.idle_timeout}) / 4;
  tick = std::clamp(tick, std::chrono::milliseconds(20), std::chrono::milliseconds(1000));
  watchdog_.expires_after(tick);
  watchdog_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || !self->stream_.socket().is_open()) return;
    self->CheckTimeouts();
    if (self->stream_.socket().is_open()) self->ArmWatchdog();
  });
}

void ScanSession::CheckTimeouts() {
  const auto& o = *env_.options;
  const auto now = Clock::now();
  if (close_when_flushed_ && now >= close_deadline_) return HardClose("close_grace_over");
  if (closed_) return;
  if (writing_ && now - write_since_ >= o.idle_timeout) {
    spdlog::info("event=answers_unread peer={} scanner={} timeout_ms={}", peer_,
                 LogValue(scanner_id_), o.idle_timeout.count());
    return HardClose("answers_unread");
  }
  if (Closing()) return;
  if (!hello_seen_) {
    if (now - opened_ >= o.hello_timeout) TimeOut("no hello within", o.hello_timeout);
    return;
  }
  if (!granted_) {
    if (now - last_received_ >= o.hello_timeout)
      TimeOut("the scanner's previous session did not finish within", o.hello_timeout);
    return;
  }
  if (!reading_) return;  // waiting on us (welcome, backpressure): not the scanner's fault
  if (decoder_.buffered() > 0) {
    if (now - partial_since_ >= o.frame_timeout) TimeOut("frame incomplete for", o.frame_timeout);
  } else if (!Owes() && now - last_received_ >= o.idle_timeout) {
    TimeOut("nothing received for", o.idle_timeout);
  } else if (now - last_received_ >= std::chrono::seconds(1) && !writing_ && unsent_.empty() &&
             writing_buf_.capacity() > kMaxRead) {
    std::string().swap(writing_buf_);  // quiet now: give a burst's buffers back
    std::string().swap(unsent_);
  }
}

void ScanSession::TimeOut(const char* what, std::chrono::milliseconds limit) {
  ScanServerProbe::Add(env_.probe->timeouts);
  const std::string reason = std::string(what) + " " + std::to_string(limit.count()) + " ms";
  spdlog::info("event=session_timeout peer={} scanner={} reason={}", peer_, LogValue(scanner_id_),
               LogValue(reason));
  // Before the TLS handshake is done there is no channel to say why.
  if (!handshaken_) return Close("tls_handshake_timeout");
  Refuse(v1::REJECT_TIMEOUT, reason);
}

void ScanSession::Reject(uint64_t seq, v1::RejectCode code, std::string reason) {
  sequencer::SequencerProbe::Count(env_.sequencer->probe().rejects, code);
  v1::Reject* r = out_.mutable_reject();
  r->set_seq(seq);
  r->set_code(code);
  r->set_reason(std::move(reason));
  Send(out_);
  Flush();
}

void ScanSession::Refuse(v1::RejectCode code, std::string reason) {
  NoteClose(v1::RejectCode_Name(code));
  Reject(0, code, std::move(reason));
  CloseWhenFlushed();
}

void ScanSession::Send(const v1::ServerFrame& frame) { codec::AppendFrame(frame, &unsent_); }

void ScanSession::Flush() {
  if (writing_ || unsent_.empty() || closed_) return;
  writing_ = true;
  write_since_ = Clock::now();
  writing_buf_.swap(unsent_);
  unsent_.clear();
  stream_.AsyncWrite(asio::buffer(writing_buf_),
                     [self = shared_from_this()](const error_code& ec, size_t) {
                       self->writing_ = false;
                       self->writing_buf_.clear();
                       if (ec) {
                         self->Fail(ec, "write");
                         return self->Close("write_failed");
                       }
                       self->Flush();
                       if (self->close_when_flushed_ && !self->Owes()) return self->Finish();
                       self->MaybeRead();
                     });
}

void ScanSession::StopReading() {
  NoteClose("draining");
  stop_reading_ = true;
  error_code ec;
  if (reading_) stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
  MaybeRelease();
}

void ScanSession::CloseWhenFlushed() {
  if (!close_when_flushed_) close_deadline_ = Clock::now() + kCloseGrace;
  stop_reading_ = true;
  close_when_flushed_ = true;
  Flush();
  MaybeRelease();
  if (!Owes()) Finish();
}

void ScanSession::Fail(const error_code& ec, const char* what) {
  if (ec == asio::error::operation_aborted) return;
  spdlog::info("event=session_error op={} peer={} scanner={} error={}", what, peer_,
               LogValue(scanner_id_), LogValue(ec.message()));
}

// Everything owed is written. End the sending side (FIN; under TLS a
// close_notify), then read and drop whatever the scanner still sends until
// it closes too (or a second passes): closing a socket with unread input
// sends RST, and an RST can make the scanner's kernel drop the last acks
// before the scanner reads them.
void ScanSession::Finish() {
  if (closed_) return;
  closed_ = true;  // no more frames are processed
  retry_.cancel();
  retry_.expires_after(kLinger);
  retry_.async_wait([self = shared_from_this()](const error_code&) { self->HardClose("done"); });
  error_code ec;
  if (stream_.tls()) {
    // A TLS shutdown reads too, so a pending read is cancelled first; its
    // completion starts the shutdown (OnRead).
    if (reading_) return (void)stream_.socket().cancel(ec);
    return stream_.AsyncShutdown([self = shared_from_this()](const error_code&) { self->HardClose("done"); });
  }
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (!reading_) Linger();  // else the pending read drains (OnRead)
}

void ScanSession::Linger() {
  reading_ = true;
  char* room = decoder_.Prepare(kMinRead);  // never committed: dropped
  stream_.AsyncReadSome(asio::buffer(room, kMinRead),
                        [self = shared_from_this()](const error_code& ec, size_t) {
                          self->reading_ = false;
                          if (ec) return self->HardClose("done");
                          self->Linger();
                        });
}

void ScanSession::Close(const char* why) {
  if (closed_) return;
  closed_ = true;
  HardClose(why);
}

void ScanSession::HardClose(const char* why) {
  if (!stream_.socket().is_open()) return;
  closed_ = true;
  NoteClose(why);
  error_code ec;
  retry_.cancel();
  watchdog_.cancel();
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
  spdlog::info("event=session_closed peer={} scanner={} reason={} events={} acked_seq={} duration_ms={}",
               peer_, LogValue(scanner_id_), LogValue(close_reason_), events_received_, acked_sent_,
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - opened_).count());
  env_.closed(this);
  MaybeRelease();
}

}  // namespace hub::net
