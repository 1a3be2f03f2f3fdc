#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "util/log_value.h"

namespace hub::net {

// A listening TCP socket on host:port (port 0: any free port; read the
// chosen one from local_endpoint()). Throws boost::system::system_error.
std::unique_ptr<boost::asio::ip::tcp::acceptor> OpenAcceptor(boost::asio::io_context& io,
                                                             const std::string& host,
                                                             uint16_t port);

// What an accept loop does when accepting fails. Out of file descriptors
// (EMFILE/ENFILE) or memory, the pending connection stays queued and the
// next accept fails at once: accepting again right away spins a core and
// writes a log line per try. Instead wait, 10 ms doubling to 1 s, and log
// once per 10 s (with how many failures were not logged).
//
// Thread safety: the acceptor's thread only.
class AcceptBackoff {
 public:
  // `event`: the log event name ("accept_failed").
  AcceptBackoff(boost::asio::io_context& io, const char* event) : timer_(io), event_(event) {}

  // After a failed accept: calls `retry` once the back-off has passed
  // (not at all if Cancel() comes first).
  void Failed(const boost::system::error_code& ec, std::function<void()> retry);
  void Succeeded() { backoff_ = std::chrono::milliseconds(0); }
  void Cancel() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
  const char* event_;
  std::chrono::milliseconds backoff_{0};
  util::LogThrottle log_{std::chrono::seconds(10)};
};

}  // namespace hub::net
