#pragma once

// One scanner connection. Reads delimited ClientFrames, checks the session
// rules (hello first, one scanner id, seq order), hands events in bulk to the
// sequencer and writes back what the sequencer answers after each commit.
//
// Session rules, per SPEC §5:
//  - the first frame is a hello; events before it are rejected
//    (REJECT_NOT_HELLO); frames after the hello wait until its Welcome;
//  - an event's scanner_id must be the hello's (REJECT_SCANNER_MISMATCH);
//  - seqs within a session increase: a seq at or below one already sent in
//    this session is rejected (REJECT_BAD_SEQ); after the durable mark from
//    the Welcome, each seq must be the previous + 1 (REJECT_BAD_SEQ names the
//    expected one); seqs at or below the mark are re-sends, acked again;
//  - a frame that does not parse, or is larger than max_frame, closes the
//    session (logged); nothing else is affected.
//
// Thread safety: every method runs on the session's I/O thread, except
// Deliver(), which posts there.

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "codec/frame_codec.h"
#include "hub/v1/session.pb.h"
#include "sequencer/sequencer.h"

namespace hub::net {

class ScanServer;

class ScanSession : public sequencer::SessionLink,
                    public std::enable_shared_from_this<ScanSession> {
 public:
  ScanSession(boost::asio::ip::tcp::socket socket, ScanServer* server);

  void Start();
  boost::asio::any_io_executor executor() { return socket_.get_executor(); }
  void Deliver(sequencer::Reply&& reply) override;
  // Drain: read no more; answer what was read.
  void StopReading();
  // Close once everything owed is written.
  void CloseWhenFlushed();

 private:
  void MaybeRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void ProcessFrames();
  void HandleHello(const v1::Hello& hello);
  void HandleEvent(const v1::ScanEvent* event);
  void OnReply(sequencer::Reply& reply);
  void Reject(uint64_t seq, v1::RejectCode code, std::string reason);
  void Send(const v1::ServerFrame& frame);
  void Flush();
  void Fail(const boost::system::error_code& ec, const char* what);
  void Finish();   // graceful: FIN, drain, close
  void Linger();
  void Close(const char* why);      // abrupt: bad input or a failed write
  void HardClose(const char* why);
  bool Owes() const { return outstanding_ > 0 || writing_ || !unsent_.empty(); }

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer retry_;
  ScanServer* server_;
  std::string peer_;
  codec::FrameDecoder decoder_;
  std::array<char, 64 * 1024> read_buf_;
  std::string unsent_, writing_buf_;
  // Frames of the current read are parsed onto arena_; its events go to the
  // sequencer with it.
  std::unique_ptr<google::protobuf::Arena> arena_;
  std::vector<const v1::ScanEvent*> batch_;
  v1::ServerFrame out_;

  std::string scanner_id_;
  bool hello_seen_ = false;
  bool awaiting_welcome_ = false;
  uint64_t durable_mark_ = 0;  // from the Welcome
  uint64_t last_seq_ = 0;      // highest seq sent in this session
  uint64_t acked_sent_ = 0;
  size_t outstanding_ = 0;     // events submitted, not yet answered
  bool reading_ = false, writing_ = false, waiting_ = false;
  bool stop_reading_ = false, close_when_flushed_ = false, closed_ = false;
};

}  // namespace hub::net
