#include "net/scan_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "core/validate.h"
#include "net/scan_server.h"

namespace hub::net {

namespace asio = boost::asio;
using boost::system::error_code;

ScanSession::ScanSession(asio::ip::tcp::socket socket, ScanServer* server)
    : socket_(std::move(socket)),
      retry_(socket_.get_executor()),
      server_(server),
      decoder_(server->options().max_frame) {
  error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.set_option(asio::socket_base::keep_alive(true), ec);  // reap vanished handhelds
}

void ScanSession::Start() { MaybeRead(); }

void ScanSession::MaybeRead() {
  if (reading_ || waiting_ || closed_ || stop_reading_ || awaiting_welcome_) return;
  const auto& opt = server_->options();
  if (outstanding_ >= opt.session_max_outstanding || unsent_.size() >= opt.session_max_unsent_bytes)
    return;  // resumed by OnReply() / the write completion
  if (server_->sequencer()->in_flight() >= opt.max_in_flight) {
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
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self = shared_from_this()](const error_code& ec, size_t n) {
                            self->OnRead(ec, n);
                          });
}

void ScanSession::OnRead(const error_code& ec, size_t n) {
  reading_ = false;
  if (closed_) {  // finishing: this read only drains
    if (ec) return HardClose("done");
    return Linger();
  }
  if (ec) {
    if (ec != asio::error::eof) Fail(ec, "read");
    // The peer is done sending (or we stopped reading): answer what it sent.
    stop_reading_ = true;
    CloseWhenFlushed();
    return;
  }
  decoder_.Append(read_buf_.data(), n);
  ProcessFrames();
  MaybeRead();
}

void ScanSession::ProcessFrames() {
  std::string_view bytes;
  while (!closed_ && !awaiting_welcome_) {
    const auto r = decoder_.Next(&bytes);
    if (r == codec::FrameDecoder::Result::kNeedMore) break;
    if (r != codec::FrameDecoder::Result::kFrame) {
      spdlog::warn("event=session_closed reason={} peer={} scanner={}",
                   r == codec::FrameDecoder::Result::kOversized ? "oversized_frame" : "malformed_length",
                   peer_, scanner_id_);
      Close("bad frame");
      return;
    }
    if (!arena_) {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 2 * 1024;
      options.max_block_size = 256 * 1024;
      arena_ = std::make_unique<google::protobuf::Arena>(options);
    }
    auto* frame = google::protobuf::Arena::CreateMessage<v1::ClientFrame>(arena_.get());
    if (!frame->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      spdlog::warn("event=session_closed reason=unparsable_frame peer={} scanner={} bytes={}",
                   peer_, scanner_id_, bytes.size());
      Close("bad frame");
      return;
    }
    switch (frame->body_case()) {
      case v1::ClientFrame::kHello: HandleHello(frame->hello()); break;
      case v1::ClientFrame::kEvent: HandleEvent(&frame->event()); break;
      case v1::ClientFrame::BODY_NOT_SET:
        Reject(0, v1::REJECT_UNKNOWN_KIND, "frame has no body");
        break;
    }
  }
  if (server_->draining()) batch_.clear();  // never acked: the scanner re-sends
  if (!batch_.empty() && !closed_) {
    outstanding_ += batch_.size();
    sequencer::Submission sub;
    sub.session = shared_from_this();
    sub.arena = std::move(arena_);
    sub.events = std::move(batch_);
    server_->sequencer()->Submit(std::move(sub));
    batch_.clear();
  }
  arena_.reset();  // a read without events frees its frames here
}

void ScanSession::HandleHello(const v1::Hello& hello) {
  if (hello_seen_) return Reject(0, v1::REJECT_NOT_HELLO, "hello sent twice");
  if (hello.scanner_id().empty() || hello.scanner_id().size() > core::kMaxIdLength ||
      hello.station().size() > core::kMaxIdLength) {
    Reject(0, v1::REJECT_MISSING_ID, "hello needs a scanner_id of 1..64 bytes");
    return CloseWhenFlushed();
  }
  if (hello.version() != v1::PROTOCOL_VERSION_1 &&
      hello.version() != v1::PROTOCOL_VERSION_UNSPECIFIED) {
    Reject(0, v1::REJECT_BAD_ENUM, "unsupported protocol version");
    return CloseWhenFlushed();
  }
  if (server_->draining()) {
    Reject(0, v1::REJECT_UNAVAILABLE, "hubd is shutting down");
    return CloseWhenFlushed();
  }
  hello_seen_ = true;
  awaiting_welcome_ = true;  // frames after the hello wait for the mark
  scanner_id_ = hello.scanner_id();
  spdlog::info("event=session_hello peer={} scanner={} station={}", peer_, scanner_id_,
               hello.station());
  sequencer::Submission sub;
  sub.session = shared_from_this();
  sub.hello_scanner = scanner_id_;
  server_->sequencer()->Submit(std::move(sub));
}

void ScanSession::HandleEvent(const v1::ScanEvent* e) {
  const v1::ScanEvent& event = *e;
  const uint64_t seq = event.seq();
  if (!hello_seen_) return Reject(seq, v1::REJECT_NOT_HELLO, "send a hello first");
  if (event.scanner_id() != scanner_id_)
    return Reject(seq, v1::REJECT_SCANNER_MISMATCH,
                  "event scanner_id differs from the hello's " + scanner_id_);
  if (seq <= last_seq_)
    return Reject(seq, v1::REJECT_BAD_SEQ,
                  "seq " + std::to_string(seq) + " goes backwards after " + std::to_string(last_seq_));
  const uint64_t expected = std::max(last_seq_, durable_mark_) + 1;
  if (seq > expected)
    return Reject(seq, v1::REJECT_BAD_SEQ,
                  "seq " + std::to_string(seq) + " skips; expected " + std::to_string(expected));
  last_seq_ = seq;
  batch_.push_back(e);
}

void ScanSession::Deliver(sequencer::Reply&& reply) {
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), reply = std::move(reply)]() mutable {
               self->OnReply(reply);
             });
}

void ScanSession::OnReply(sequencer::Reply& reply) {
  outstanding_ -= reply.events_done;
  if (closed_) return;
  for (auto& d : reply.decisions) {
    *out_.mutable_decision() = std::move(d);
    Send(out_);
  }
  for (auto& r : reply.rejects) {
    *out_.mutable_reject() = std::move(r);
    Send(out_);
  }
  if (reply.acked_seq > acked_sent_) {
    acked_sent_ = reply.acked_seq;
    out_.mutable_ack()->set_acked_seq(acked_sent_);
    Send(out_);
  }
  if (reply.welcome) {
    durable_mark_ = *reply.welcome;
    out_.mutable_welcome()->set_last_durable_seq(durable_mark_);
    out_.mutable_welcome()->set_version(v1::PROTOCOL_VERSION_1);
    Send(out_);
    awaiting_welcome_ = false;
    ProcessFrames();  // frames that arrived behind the hello
  }
  Flush();
  if (close_when_flushed_ && !Owes()) return Finish();
  MaybeRead();
}

void ScanSession::Reject(uint64_t seq, v1::RejectCode code, std::string reason) {
  sequencer::SequencerProbe::Count(server_->sequencer()->probe().rejects, code);
  v1::Reject* r = out_.mutable_reject();
  r->set_seq(seq);
  r->set_code(code);
  r->set_reason(std::move(reason));
  Send(out_);
  Flush();
}

void ScanSession::Send(const v1::ServerFrame& frame) { codec::AppendFrame(frame, &unsent_); }

void ScanSession::Flush() {
  if (writing_ || unsent_.empty() || closed_) return;
  writing_ = true;
  writing_buf_.swap(unsent_);
  unsent_.clear();
  asio::async_write(socket_, asio::buffer(writing_buf_),
                    [self = shared_from_this()](const error_code& ec, size_t) {
                      self->writing_ = false;
                      self->writing_buf_.clear();
                      if (ec) {
                        self->Fail(ec, "write");
                        return self->Close("write failed");
                      }
                      self->Flush();
                      if (self->close_when_flushed_ && !self->Owes()) return self->Finish();
                      self->MaybeRead();
                    });
}

void ScanSession::StopReading() {
  stop_reading_ = true;
  error_code ec;
  if (reading_) socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
}

void ScanSession::CloseWhenFlushed() {
  stop_reading_ = true;
  close_when_flushed_ = true;
  Flush();
  if (!Owes()) Finish();
}

void ScanSession::Fail(const error_code& ec, const char* what) {
  if (ec == asio::error::operation_aborted) return;
  spdlog::info("event=session_error op={} peer={} scanner={} error=\"{}\"", what, peer_,
               scanner_id_, ec.message());
}

// Everything owed is written. Send FIN, then read and drop whatever the
// scanner still sends until it closes too (or a second passes): closing a
// socket with unread input sends RST, and an RST can make the scanner's
// kernel drop the last acks before the scanner reads them.
void ScanSession::Finish() {
  if (closed_) return;
  closed_ = true;  // no more frames are processed
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  retry_.cancel();
  retry_.expires_after(std::chrono::seconds(1));
  retry_.async_wait([self = shared_from_this()](const error_code&) { self->HardClose("done"); });
  if (!reading_) Linger();  // else the pending read drains (OnRead)
}

void ScanSession::Linger() {
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self = shared_from_this()](const error_code& ec, size_t) {
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
  if (!socket_.is_open()) return;
  error_code ec;
  retry_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  spdlog::debug("event=session_closed peer={} scanner={} why={}", peer_, scanner_id_, why);
  server_->Forget(shared_from_this());
}

}  // namespace hub::net
