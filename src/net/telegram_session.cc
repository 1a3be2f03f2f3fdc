#include "net/telegram_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "net/scan_server.h"
#include "util/log_value.h"

namespace hub::net {

namespace asio = boost::asio;
using boost::system::error_code;
using util::LogValue;

namespace {

constexpr size_t kReadSize = 16 * 1024;
constexpr auto kCloseGrace = std::chrono::seconds(5);
constexpr auto kLinger = std::chrono::seconds(1);
constexpr auto kTick = std::chrono::milliseconds(500);

util::LogThrottle drop_log(std::chrono::seconds(10));
util::LogThrottle refused_log(std::chrono::seconds(10));

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TelegramSession::TelegramSession(asio::ip::tcp::socket socket, std::string peer,
                                 const DeviceOptions& device, DeviceProbe& probe, const SessionEnv& env)
    : socket_(std::move(socket)),
      retry_(socket_.get_executor()),
      watchdog_(socket_.get_executor()),
      peer_(std::move(peer)),
      device_(device),
      probe_(probe),
      env_(env),
      framer_(device.profile),
      mapper_(device.role),
      read_buf_(kReadSize) {
  error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.set_option(asio::socket_base::keep_alive(true), ec);
}

void TelegramSession::Start() {
  opened_ = Clock::now();
  DeviceProbe::Add(probe_.connections);
  spdlog::info("event=device_connected peer={} scanner={} profile={}", peer_,
               LogValue(device_.scanner_id), LogValue(device_.profile_name));
  ArmWatchdog();
  // The device's reads are this scanner's events: take the id over like a
  // hello would (an older session of it is fenced and finished first).
  if (env_.registry->Claim(device_.scanner_id, shared_from_this())) {
    granted_ = true;
    SubmitHello();
  }
}

void TelegramSession::SubmitHello() {
  hello_pending_ = true;
  sequencer::Submission sub;
  sub.session = shared_from_this();
  sub.hello_scanner = device_.scanner_id;
  env_.sequencer->Submit(std::move(sub));
}

void TelegramSession::MaybeRead() {
  if (!welcomed_ || reading_ || waiting_ || Closing()) return;
  const auto hold = env_.ReadHold(outstanding_, unsent_.size());
  if (hold == SessionEnv::Hold::kSession) return;  // resumed by OnReply() / the write completion
  if (hold == SessionEnv::Hold::kSequencer) {
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

void TelegramSession::OnRead(const error_code& ec, size_t n) {
  reading_ = false;
  if (closed_) return HardClose("done");
  if (ec) {
    if (close_reason_.empty()) close_reason_ = ec == asio::error::eof ? "peer_closed" : ec.message();
    return CloseWhenFlushed();  // answer what it sent
  }
  // Fenced or closing: the scanner id is (about to be) someone else's, so
  // nothing more may go to the sequencer under it.
  if (fenced_ || closing_) return;
  framer_.Append(std::string_view(read_buf_.data(), n));
  TakeTelegrams();
  Submit();
  Flush();
  MaybeRead();
}

void TelegramSession::TakeTelegrams() {
  for (;;) {
    const auto r = framer_.Next(&payload_);
    if (r == codec::TelegramFramer::Result::kNeedMore) break;
    if (r == codec::TelegramFramer::Result::kOversized) {
      DeviceProbe::Add(probe_.oversized);
      Drop("oversized", "a telegram longer than " + std::to_string(device_.profile.max_telegram) +
                            " bytes (max_telegram)");
      continue;
    }
    codec::DeviceRead read;
    if (std::string why = codec::ParseTelegram(device_.profile, payload_, &read); !why.empty()) {
      DeviceProbe::Add(probe_.malformed);
      Drop("malformed", why);
      continue;
    }
    DeviceProbe::Add(probe_.reads);
    TakeRead(std::move(read));
  }
  if (const uint64_t noise = framer_.discarded(); noise > noise_seen_) {
    DeviceProbe::Add(probe_.noise_bytes, noise - noise_seen_);
    Drop("noise", std::to_string(noise - noise_seen_) + " bytes outside any telegram");
    noise_seen_ = noise;
  }
}

void TelegramSession::TakeRead(codec::DeviceRead&& read) {
  codec::ReadMapper::Mapped mapped = mapper_.Map(read);
  if (mapped.events.empty()) {
    if (mapped.unused.empty()) return;  // a vehicle label: the context of what follows
    DeviceProbe::Add(probe_.unused);
    Drop("unused", mapped.unused);
    return;
  }
  // A read that is not answered needs nothing of it kept.
  const bool answer = mapped.answer && !device_.profile.reply.empty();
  Pending p{0, answer, answer ? std::move(read) : codec::DeviceRead{}};
  if (env_.draining->load(std::memory_order_relaxed)) {
    // hubd is stopping: nothing more goes to the sequencer. The device
    // cannot send it again, so its parcel is diverted rather than left
    // waiting for an answer.
    Answer(p, nullptr);
    return;
  }
  if (!arena_) arena_ = std::make_unique<google::protobuf::Arena>();
  const int64_t now = WallMs();
  for (v1::ScanEvent& body : mapped.events) {
    // The mapper's event moves (no copy) into a heap message the arena owns.
    auto* e = new v1::ScanEvent(std::move(body));
    arena_->Own(e);
    e->set_scanner_id(device_.scanner_id);
    e->set_seq(++last_seq_);
    e->set_event_time_ms(now);
    e->set_station(device_.station);
    batch_.push_back(e);
  }
  DeviceProbe::Add(probe_.events, mapped.events.size());
  p.last_seq = last_seq_;
  pending_.push_back(std::move(p));
}

void TelegramSession::Submit() {
  if (batch_.empty()) return;
  outstanding_ += batch_.size();
  sequencer::Submission sub;
  sub.session = shared_from_this();
  sub.arena = std::move(arena_);
  sub.events = std::move(batch_);
  env_.sequencer->Submit(std::move(sub));
  batch_.clear();
}

void TelegramSession::Deliver(sequencer::Reply&& reply) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), reply = std::move(reply)]() mutable {
    self->OnReply(reply);
  });
}

void TelegramSession::OnReply(sequencer::Reply& reply) {
  outstanding_ -= reply.events_done;
  const bool hello_answer = hello_pending_;  // nothing else is in flight meanwhile
  hello_pending_ = false;
  if (closed_) return MaybeRelease();
  for (const v1::Reject& r : reply.rejects) {
    uint64_t held = 0;
    if (refused_log.Allow(&held))
      spdlog::warn("event=device_read_refused peer={} scanner={} seq={} code={} reason={} suppressed={}",
                   peer_, LogValue(device_.scanner_id), r.seq(), v1::RejectCode_Name(r.code()),
                   LogValue(r.reason()), held);
  }
  // Reads and decisions both come in seq order: one pass over each.
  auto d = reply.decisions.begin();
  while (!pending_.empty() && pending_.front().last_seq <= reply.acked_seq) {
    const Pending& p = pending_.front();
    while (d != reply.decisions.end() && d->seq() < p.last_seq) ++d;
    Answer(p, d != reply.decisions.end() && d->seq() == p.last_seq ? &*d : nullptr);
    pending_.pop_front();
  }
  if (reply.store_failed) {
    // Nothing of this reply is durable: divert what waits and close; the
    // next connection resumes from the durable seq.
    AnswerAllDiverted();
    if (close_reason_.empty()) close_reason_ = "store_failed";
    CloseWhenFlushed();
  } else if (hello_answer && !fenced_ && !Closing()) {
    if (!reply.welcome) {
      if (close_reason_.empty()) close_reason_ = "store_failed";
      CloseWhenFlushed();
    } else {
      last_seq_ = *reply.welcome;
      welcomed_ = true;
      spdlog::info("event=device_ready peer={} scanner={} last_durable_seq={}", peer_,
                   LogValue(device_.scanner_id), last_seq_);
    }
  }
  Flush();
  MaybeRelease();
  if (closing_ && !Owes()) return Finish();
  MaybeRead();
}

void TelegramSession::Answer(const Pending& p, const v1::SortDecision* decision) {
  if (!p.answer) return;
  v1::SortDecision diverted;
  if (decision == nullptr) {
    diverted.set_seq(p.last_seq);
    diverted.set_divert(v1::DIVERT_NO_READ);
    decision = &diverted;
  }
  unsent_ += codec::FormatReply(device_.profile, p.read, *decision);
  DeviceProbe::Add(probe_.replies);
}

void TelegramSession::AnswerAllDiverted() {
  for (const Pending& p : pending_) Answer(p, nullptr);
  pending_.clear();
}

void TelegramSession::Fence() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->OnFence(); });
}

void TelegramSession::Grant() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->granted_ = true;
    if (self->Closing()) return self->MaybeRelease();  // gone meanwhile: pass the id on
    self->SubmitHello();
  });
}

void TelegramSession::OnFence() {
  if (fenced_) return;
  fenced_ = true;  // nothing more is read; what was submitted is finished
  ScanServerProbe::Add(env_.probe->fenced);
  spdlog::info("event=device_fenced peer={} scanner={} outstanding={}", peer_,
               LogValue(device_.scanner_id), outstanding_);
  if (!granted_) released_ = true;  // overtaken while waiting: the registry let go
  if (close_reason_.empty()) close_reason_ = "fenced";
  MaybeRelease();
  CloseWhenFlushed();
}

void TelegramSession::MaybeRelease() {
  if (released_ || outstanding_ > 0 || hello_pending_ || !Closing()) return;
  released_ = true;
  env_.registry->Release(device_.scanner_id, this);
}

void TelegramSession::StopReading() {
  if (close_reason_.empty()) close_reason_ = "draining";
  stop_reading_ = true;
  error_code ec;
  if (reading_) socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
  MaybeRelease();
}

void TelegramSession::CloseWhenFlushed() {
  if (!closing_) close_deadline_ = Clock::now() + kCloseGrace;
  closing_ = true;
  Flush();
  MaybeRelease();
  if (!Owes()) Finish();
}

void TelegramSession::ArmWatchdog() {
  watchdog_.expires_after(kTick);
  watchdog_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || !self->socket_.is_open()) return;
    const auto now = Clock::now();
    const auto& o = *self->env_.options;
    if (self->closing_ && now >= self->close_deadline_) return self->HardClose("close_grace_over");
    if (self->writing_ && now - self->write_since_ >= o.idle_timeout) {
      spdlog::info("event=answers_unread peer={} scanner={} timeout_ms={}", self->peer_,
                   LogValue(self->device_.scanner_id), o.idle_timeout.count());
      return self->HardClose("answers_unread");
    }
    if (!self->granted_ && !self->Closing() && now - self->opened_ >= o.hello_timeout) {
      ScanServerProbe::Add(self->env_.probe->timeouts);
      return self->HardClose("previous_session_did_not_finish");
    }
    self->ArmWatchdog();
  });
}

void TelegramSession::Flush() {
  if (writing_ || unsent_.empty() || closed_) return;
  writing_ = true;
  write_since_ = Clock::now();
  writing_buf_.swap(unsent_);
  unsent_.clear();
  asio::async_write(socket_, asio::buffer(writing_buf_),
                    [self = shared_from_this()](const error_code& ec, size_t) {
                      self->writing_ = false;
                      self->writing_buf_.clear();
                      if (ec) return self->HardClose("write_failed");
                      self->Flush();
                      if (self->closing_ && !self->Owes()) return self->Finish();
                      self->MaybeRead();
                    });
}

// Everything owed is written: FIN, then drop what the device still sends
// until it closes too (or a second passes), so the last answers are not
// lost to an RST.
void TelegramSession::Finish() {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  retry_.cancel();
  retry_.expires_after(kLinger);
  retry_.async_wait([self = shared_from_this()](const error_code&) { self->HardClose("done"); });
  if (!reading_) {
    reading_ = true;
    socket_.async_read_some(asio::buffer(read_buf_), [self = shared_from_this()](const error_code&, size_t) {
      self->reading_ = false;
      self->HardClose("done");
    });
  }
}

void TelegramSession::HardClose(const char* why) {
  if (!socket_.is_open()) return;
  closed_ = true;
  if (close_reason_.empty()) close_reason_ = why;
  error_code ec;
  retry_.cancel();
  watchdog_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  spdlog::info("event=device_disconnected peer={} scanner={} reason={} last_seq={} duration_ms={}", peer_,
               LogValue(device_.scanner_id), LogValue(close_reason_), last_seq_,
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - opened_).count());
  env_.closed(this);
  MaybeRelease();
}

void TelegramSession::Drop(const char* what, const std::string& why) {
  uint64_t held = 0;
  if (drop_log.Allow(&held))
    spdlog::warn("event=device_telegram_dropped what={} peer={} scanner={} reason={} suppressed={}", what,
                 peer_, LogValue(device_.scanner_id), LogValue(why), held);
}

}  // namespace hub::net
