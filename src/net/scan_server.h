#pragma once

// The scanner-facing TCP server: an acceptor and N I/O threads, each with
// its own io_context. A session lives on one I/O thread for its whole life,
// so its handlers never run concurrently and its submissions to the
// sequencer keep their order (the queue is FIFO per producing thread).
//
// Thread safety: Listen(), Start(), StopAccepting(), CloseSessions() and
// Join() from one controlling thread; sessions_open() from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

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
};

class ScanSession;

class ScanServer {
 public:
  ScanServer(ServerOptions options, sequencer::Sequencer* sequencer);
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
  // True from StopAccepting() on: sessions hand nothing more to the
  // sequencer (what they read afterwards is never acked; scanners re-send).
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

  // Called by sessions (their own thread).
  void Forget(const std::shared_ptr<ScanSession>& session);
  const ServerOptions& options() const { return options_; }
  sequencer::Sequencer* sequencer() const { return sequencer_; }

 private:
  void Accept();
  template <typename Fn>
  void ForEachSession(Fn fn);

  ServerOptions options_;
  sequencer::Sequencer* sequencer_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::thread> threads_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  uint16_t port_ = 0;
  size_t next_context_ = 0;  // acceptor thread only
  mutable std::mutex mu_;
  std::unordered_set<std::shared_ptr<ScanSession>> sessions_;  // GUARDED_BY(mu_)
  std::atomic<bool> accepting_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace hub::net
