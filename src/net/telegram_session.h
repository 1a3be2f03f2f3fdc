#pragma once

// One connection of a device that speaks vendor telegrams (a fixed-mount
// barcode scanner, a DWS unit): SPEC §7, docs/devices.md.
//
//   device --bytes--> TelegramFramer -> ParseTelegram -> ReadMapper
//          events of the device's scanner id, seq assigned here, time = now
//          --Submit--> sequencer (the same path, rules and durability as a
//                      protobuf session's events)
//   device <--FormatReply-- one answer per sort read, in read order, once
//          its event is durable (a read hubd refused is answered diverted)
//
// A device has no hello and no seq of its own, so the session plays the
// scanner's part: it claims the scanner id in the ScannerRegistry when it
// connects (fencing any older session of that id, device or protobuf), asks
// the sequencer for the id's durable seq and numbers reads from there. The
// device cannot re-send, so nothing it sent is ever a duplicate.
//
// Bad input never closes the connection: a malformed telegram, a read that
// gives no event (a parcel before any bag label at an unbagging table) and
// noise between telegrams are counted and logged at most once per interval,
// then dropped. A device that floods is slowed like any session (reading
// stops while too many of its events or answers are pending); one that reads
// none of its answers for the idle timeout is cut off. Silence is not an
// error: a conveyor may stand still all night (TCP keep-alive reaps a
// vanished peer).
//
// Thread safety: as ScanSession: every method on the session's I/O thread,
// except Deliver(), Fence() and Grant(), which post there.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "codec/telegram.h"
#include "net/connection.h"
#include "net/scan_session.h"

namespace hub::net {

// One installed device ([[device]] in hubd's configuration).
struct DeviceOptions {
  std::string scanner_id;  // the scanner id of its reads' events
  std::string station;
  std::string host = "127.0.0.1";
  uint16_t port = 0;             // 0: any free port (ScanServer::device_port())
  std::string profile_name;      // as configured, for logs
  codec::DeviceProfile profile;
  codec::DeviceRole role;
  // Source addresses allowed to connect; empty: any. Devices cannot
  // authenticate, so on a shared network name them.
  std::vector<std::string> allow_from;
};

// Counters of one device for /metrics; relaxed atomics.
struct DeviceProbe {
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> refused{0};      // from an address not in allow_from
  std::atomic<uint64_t> reads{0};        // telegrams parsed
  std::atomic<uint64_t> events{0};       // scan events submitted
  std::atomic<uint64_t> malformed{0};    // telegrams that did not parse
  std::atomic<uint64_t> oversized{0};    // telegrams over max_telegram
  std::atomic<uint64_t> unused{0};       // reads that gave no event
  std::atomic<uint64_t> noise_bytes{0};  // bytes outside any telegram
  std::atomic<uint64_t> replies{0};      // answers sent
  static void Add(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

class TelegramSession : public Connection,
                        public sequencer::SessionLink,
                        public ScannerOwner,
                        public std::enable_shared_from_this<TelegramSession> {
 public:
  TelegramSession(boost::asio::ip::tcp::socket socket, std::string peer, const DeviceOptions& device,
                  DeviceProbe& probe, const SessionEnv& env);

  void Start() override;
  boost::asio::any_io_executor executor() override { return socket_.get_executor(); }
  void StopReading() override;
  void CloseWhenFlushed() override;
  void Deliver(sequencer::Reply&& reply) override;
  void Fence() override;
  void Grant() override;

 private:
  using Clock = std::chrono::steady_clock;
  // A read whose events are at the sequencer; answered (when `answer`) once
  // its last event is acked.
  struct Pending {
    uint64_t last_seq = 0;
    bool answer = false;
    codec::DeviceRead read;  // kept only when answered
  };

  void SubmitHello();
  void MaybeRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void TakeTelegrams();
  void TakeRead(codec::DeviceRead&& read);
  void Submit();
  void OnReply(sequencer::Reply& reply);
  void Answer(const Pending& p, const v1::SortDecision* decision);
  void AnswerAllDiverted();
  void OnFence();
  void MaybeRelease();
  void ArmWatchdog();
  void Flush();
  void Finish();
  void HardClose(const char* why);
  void Drop(const char* what, const std::string& why);
  bool Owes() const { return !pending_.empty() || writing_ || !unsent_.empty() || hello_pending_; }
  bool Closing() const { return closing_ || stop_reading_ || fenced_ || closed_; }

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer retry_, watchdog_;
  const std::string peer_;
  const DeviceOptions& device_;
  DeviceProbe& probe_;
  const SessionEnv& env_;
  codec::TelegramFramer framer_;
  codec::ReadMapper mapper_;
  std::vector<char> read_buf_;
  std::string payload_;
  std::string unsent_, writing_buf_;
  std::unique_ptr<google::protobuf::Arena> arena_;
  std::vector<const v1::ScanEvent*> batch_;
  std::deque<Pending> pending_;  // read order
  uint64_t last_seq_ = 0;        // the welcome's mark, then the last seq given
  uint64_t outstanding_ = 0;     // events at the sequencer
  uint64_t noise_seen_ = 0;      // framer_.discarded() already counted
  bool granted_ = false, welcomed_ = false, hello_pending_ = false, released_ = false;
  bool reading_ = false, writing_ = false, waiting_ = false;
  bool stop_reading_ = false, closing_ = false, fenced_ = false, closed_ = false;
  std::string close_reason_;
  Clock::time_point opened_, write_since_, close_deadline_;
};

}  // namespace hub::net
