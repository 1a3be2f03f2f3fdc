#pragma once

// The scanner-facing TCP server: an acceptor and N I/O threads, each with
// its own io_context. A session lives on one I/O thread for its whole life,
// so its handlers never run concurrently and its submissions to the
// sequencer keep their order (the queue is FIFO per producing thread).
//
// Device listeners (SPEC §7): one more acceptor per configured telegram
// device, its connections TelegramSessions on the same I/O threads, under
// the same caps, registry and drain.
//
// The boundary (SPEC §5): TLS when a certificate is configured (reloaded on
// ReloadTls()), scanner credentials and client certificates (ScannerAuth),
// one owner per scanner id (ScannerRegistry), session caps in total and per
// source address, and an accept loop that backs off when the process runs
// out of file descriptors instead of spinning.
//
// Thread safety: Listen(), Start(), StopAccepting(), CloseSessions() and
// Join() from one controlling thread; sessions_open(), ReloadTls() and the
// probe from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/acceptor.h"
#include "net/scan_session.h"
#include "net/scanner_auth.h"
#include "net/scanner_registry.h"
#include "net/telegram_session.h"
#include "net/tls.h"
#include "sequencer/sequencer.h"

namespace hub::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7400;          // 0: any free port (see ScanServer::port())
  int io_threads = 2;
  size_t max_frame = 64 * 1024;  // bigger frames close the session
  // Flow control: a session stops reading its socket while it has this many
  // events unanswered, or this many bytes of answers its peer has not read;
  // every session stops while the sequencer holds max_in_flight events.
  size_t session_max_outstanding = 16 * 1024;
  size_t session_max_unsent_bytes = 1 << 20;
  int64_t max_in_flight = 256 * 1024;
  // Limits (session.proto): a hello within hello_timeout of connecting; a
  // started frame complete within frame_timeout; something (a ping will do)
  // at least every idle_timeout.
  std::chrono::milliseconds hello_timeout{10'000};
  std::chrono::milliseconds frame_timeout{30'000};
  std::chrono::milliseconds idle_timeout{300'000};
  // Connections beyond these are closed as soon as they are accepted.
  size_t max_sessions = 4096;
  size_t max_sessions_per_address = 1024;
  // Security: TLS (off when tls.cert is empty) and scanner secrets.
  TlsFiles tls;
  std::vector<ScannerSecret> secrets;
  // Devices that speak vendor telegrams, each on its own port (plain TCP).
  std::vector<DeviceOptions> devices;
};

// Counters of the boundary for /metrics; relaxed atomics.
struct ScanServerProbe {
  std::atomic<uint64_t> accept_errors{0};
  std::atomic<uint64_t> refused_max_sessions{0};
  std::atomic<uint64_t> refused_per_address{0};
  std::atomic<uint64_t> auth_failures{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
  std::atomic<uint64_t> fenced{0};
  std::atomic<uint64_t> timeouts{0};
  static void Add(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }
};

class ScanServer {
 public:
  // Loads the TLS files and checks the secrets: throws std::exception with
  // the reason. `check_resend` answers re-sent events (may be empty: they
  // are only acked).
  ScanServer(ServerOptions options, sequencer::Sequencer* sequencer,
             ResendLookup check_resend = nullptr);
  ~ScanServer();

  // Binds the listening socket. Throws boost::system::system_error.
  void Listen();
  uint16_t port() const { return port_; }
  // Starts accepting and the I/O threads.
  void Start();
  // Closes the listener and stops every session from reading more frames;
  // what was read is still answered.
  void StopAccepting();
  // Once the sequencer has answered everything: each session sends what it
  // holds, then closes. Waits up to `timeout_ms` for that, then stops the
  // I/O threads.
  void CloseSessions(int timeout_ms);

  size_t sessions_open() const;
  // The telegram devices, in ServerOptions::devices order: the port each
  // listens on (after Listen()) and its counters.
  size_t devices() const { return devices_.size(); }
  const DeviceOptions& device(size_t i) const { return options_.devices[i]; }
  uint16_t device_port(size_t i) const { return devices_[i].port; }
  const DeviceProbe& device_probe(size_t i) const { return *devices_[i].probe; }
  // True from StopAccepting() on: sessions hand nothing more to the
  // sequencer (what they read afterwards is never acked; scanners re-send).
  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  // Reads the TLS files again for connections accepted from now on. Empty
  // on success (or with TLS off), else why the old ones stay.
  std::string ReloadTls();
  bool tls() const { return tls_ != nullptr; }
  bool authenticating() const { return auth_.enabled(); }
  const ScanServerProbe& probe() const { return probe_; }

 private:
  void Accept();
  void OnAccept(boost::asio::ip::tcp::socket socket);
  void AcceptDevice(size_t i);
  void OnAcceptDevice(size_t i, boost::asio::ip::tcp::socket socket);
  // Counts a new connection from `address` against the caps; false (and
  // counted, logged) when it must be closed at once.
  bool Admit(const std::string& address);
  void Add(std::shared_ptr<Connection> connection, std::string address);
  void Forget(Connection* connection);
  void TrimMemory();
  template <typename Fn>
  void ForEachSession(Fn fn);

  ServerOptions options_;
  sequencer::Sequencer* sequencer_;
  ScannerAuth auth_;
  std::unique_ptr<TlsContextSource> tls_;
  ScannerRegistry registry_;
  ScanServerProbe probe_;
  SessionEnv env_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::thread> threads_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<AcceptBackoff> backoff_;  // acceptor thread
  uint16_t port_ = 0;
  struct DeviceListener {
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    std::unique_ptr<AcceptBackoff> backoff;
    std::unique_ptr<DeviceProbe> probe;
    uint16_t port = 0;
  };
  std::vector<DeviceListener> devices_;
  size_t next_context_ = 0;  // acceptor thread only
  mutable std::mutex mu_;
  struct Entry {
    std::shared_ptr<Connection> session;
    std::string address;
  };
  std::unordered_map<Connection*, Entry> sessions_;           // GUARDED_BY(mu_)
  std::unordered_map<std::string, size_t> per_address_;       // GUARDED_BY(mu_)
  bool trim_pending_ = false;                                 // GUARDED_BY(mu_)
  std::atomic<bool> accepting_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace hub::net
