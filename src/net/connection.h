#pragma once

// What the ScanServer needs of any connection it holds, whatever it speaks
// (protobuf scanner sessions, device telegram sessions): to start it on its
// I/O thread, and to drain it on shutdown.
//
// Thread safety: Start(), StopReading() and CloseWhenFlushed() on the
// connection's own executor (post them there); executor() from any thread.

#include <boost/asio/any_io_executor.hpp>

namespace hub::net {

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void Start() = 0;
  virtual boost::asio::any_io_executor executor() = 0;
  // Drain: read no more; answer what was read.
  virtual void StopReading() = 0;
  // Close once everything owed is written (or within a grace period).
  virtual void CloseWhenFlushed() = 0;
};

}  // namespace hub::net
