#pragma once

// One scanner connection. Reads delimited ClientFrames, checks the session
// rules, hands events in bulk to the sequencer and writes back what the
// sequencer answers after each commit.
//
// Session rules, per SPEC §5 and session.proto:
//  - TLS first when the port has a certificate; then the first frame is a
//    hello (events before it: REJECT_NOT_HELLO). The hello's scanner_id and
//    station must be printable ids (REJECT_MISSING_ID / ID_TOO_LONG /
//    BAD_ID), its credential or client certificate must admit it
//    (REJECT_UNAUTHENTICATED); each of these closes the session.
//  - The hello claims the scanner id in the ScannerRegistry: an older session
//    of the same scanner is fenced first, and this one is welcomed only once
//    everything the old one submitted is answered. Frames after the hello
//    wait for the Welcome.
//  - An event's scanner_id must be the hello's (REJECT_SCANNER_MISMATCH). Its
//    seq must be at least 1 and at most the last seq + 1 (the Welcome's mark
//    before the first event); a larger seq is a gap (REJECT_BAD_SEQ names the
//    seq expected). A seq at or below the last one is a re-send: it goes to
//    the sequencer like any event, which recognises it, so it is acked
//    again; the session then checks it against the store: the same event
//    gets its original decision (sort scans), another event under the used
//    seq gets REJECT_SEQ_REUSED.
//  - A frame that does not parse, or is larger than max_frame, closes the
//    session (logged); nothing else is affected.
//  - Limits: no hello within hello_timeout, a started frame not complete
//    within frame_timeout, or nothing received for idle_timeout (while
//    nothing is owed to the scanner) closes with REJECT_TIMEOUT; a scanner
//    that reads none of its answers for idle_timeout is cut off.
//  - Memory: the receive buffer starts small, grows while reads fill it and
//    shrinks back after a large frame.
//
// Thread safety: every method runs on the session's I/O thread, except
// Deliver(), Fence() and Grant(), which post there.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "codec/frame_codec.h"
#include "hub/v1/session.pb.h"
#include "net/connection.h"
#include "net/scan_stream.h"
#include "net/scanner_auth.h"
#include "net/scanner_registry.h"
#include "sequencer/sequencer.h"

namespace hub::net {

struct ServerOptions;
struct ScanServerProbe;

// What a re-sent event is: the same event again (with its original
// decision, for a sort scan), or another event under a used seq (`reused`,
// with the reason for the scanner).
struct ResendAnswer {
  bool reused = false;
  std::string reason;
  std::optional<v1::SortDecision> decision;
};
// Checks a re-sent event against the store. Called on I/O threads.
using ResendLookup = std::function<void(const v1::ScanEvent& resent, ResendAnswer* out)>;

// What a session needs from the server around it. Owned by the ScanServer;
// outlives every session.
struct SessionEnv {
  const ServerOptions* options = nullptr;
  sequencer::Sequencer* sequencer = nullptr;
  ScannerRegistry* registry = nullptr;
  const ScannerAuth* auth = nullptr;
  ResendLookup check_resend;
  ScanServerProbe* probe = nullptr;
  // True once the daemon drains: nothing more goes to the sequencer.
  const std::atomic<bool>* draining = nullptr;
  // Called once, on the session's thread, when its socket is closed.
  std::function<void(Connection*)> closed;

  // What holds a session's reading back (flow control, ServerOptions): its
  // own unanswered events or unread answers (it reads again when they
  // drain), or the sequencer holding max_in_flight (look again shortly).
  enum class Hold { kNone, kSession, kSequencer };
  Hold ReadHold(size_t outstanding, size_t unsent_bytes) const;
};

class ScanSession : public Connection,
                    public sequencer::SessionLink,
                    public ScannerOwner,
                    public std::enable_shared_from_this<ScanSession> {
 public:
  // `peer` is "address:port", for logs.
  ScanSession(ScanStream stream, std::string peer, const SessionEnv& env);

  // TLS handshake (when on), then reading; starts the timeouts.
  void Start() override;
  boost::asio::any_io_executor executor() override { return stream_.executor(); }
  void Deliver(sequencer::Reply&& reply) override;
  void Fence() override;
  void Grant() override;
  void StopReading() override;
  void CloseWhenFlushed() override;

 private:
  using Clock = std::chrono::steady_clock;

  void OnHandshake(const boost::system::error_code& ec);
  void MaybeRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void ProcessFrames();
  void HandleHello(const v1::Hello& hello);
  void SubmitHello();
  void HandleEvent(const v1::ScanEvent* event);
  void OnReply(sequencer::Reply& reply);
  void OnFence();
  void OnGrant();
  void MaybeRelease();
  void ArmWatchdog();
  void CheckTimeouts();
  void TimeOut(const char* what, std::chrono::milliseconds limit);
  void Reject(uint64_t seq, v1::RejectCode code, std::string reason);
  void Refuse(v1::RejectCode code, std::string reason);  // reject seq 0 and close
  void Send(const v1::ServerFrame& frame);
  void Flush();
  void Fail(const boost::system::error_code& ec, const char* what);
  void Finish();  // graceful: FIN (TLS close_notify), drain, close
  void Linger();
  void Close(const char* why);      // abrupt: bad input or a failed write
  void HardClose(const char* why);
  // Keeps the first reason the session began to close for, for its log line.
  void NoteClose(std::string_view why) {
    if (close_reason_.empty()) close_reason_ = why;
  }
  bool Owes() const { return outstanding_ > 0 || writing_ || !unsent_.empty(); }
  bool Closing() const { return closed_ || close_when_flushed_ || stop_reading_ || fenced_; }

  ScanStream stream_;
  boost::asio::steady_timer retry_, watchdog_;
  const SessionEnv& env_;
  const std::string peer_;
  codec::FrameDecoder decoder_;
  size_t read_size_;             // bytes asked of the next read
  int small_reads_ = 0;          // consecutive reads far below read_size_
  std::string unsent_, writing_buf_;
  // Frames of the current read are parsed onto arena_; its events go to the
  // sequencer with it.
  std::unique_ptr<google::protobuf::Arena> arena_;
  std::vector<const v1::ScanEvent*> batch_;
  v1::ServerFrame out_;

  std::string scanner_id_;
  bool handshaken_ = false;
  bool hello_seen_ = false;
  bool awaiting_welcome_ = false;  // hello taken; frames wait for the Welcome
  bool claimed_ = false;           // the registry holds this session for scanner_id_
  bool granted_ = false;           // ... as the owner (not only waiting)
  bool released_ = false;
  bool hello_pending_ = false;     // hello at the sequencer, unanswered
  bool fenced_ = false;
  uint64_t last_seq_ = 0;          // Welcome's mark, then the highest new seq
  uint64_t acked_sent_ = 0;
  uint64_t events_received_ = 0;   // events passed to the sequencer (for the close log)
  std::string close_reason_;
  size_t outstanding_ = 0;         // events submitted, not yet answered
  bool reading_ = false, writing_ = false, waiting_ = false;
  bool stop_reading_ = false, close_when_flushed_ = false, closed_ = false;
  Clock::time_point opened_, last_received_, partial_since_, write_since_, close_deadline_;
};

}  // namespace hub::net
