#pragma once

// A blocking scanner client over real TCP, and a hubd child process, for
// integration tests. Loopback only.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include "codec/frame_codec.h"
#include "hub/v1/session.pb.h"

namespace hub::testutil {

// TLS for a ScanClient: the CA that signs the daemon's certificate, and
// optionally a client certificate and key (mutual TLS).
struct ClientTls {
  std::string ca;
  std::string cert, key;
};

class ScanClient {
 public:
  // Connects to 127.0.0.1:port; with `tls`, then shakes hands (see
  // handshake_error()).
  // `source`: the local address to connect from (another loopback address
  // such as 127.0.0.2 looks like another host to the daemon).
  explicit ScanClient(uint16_t port, const ClientTls* tls = nullptr,
                      const std::string& source = "");
  ~ScanClient();

  // Empty when connected (and the TLS handshake, if any, succeeded).
  const std::string& handshake_error() const { return handshake_error_; }
  // Under TLS: the common name of the daemon's certificate.
  std::string PeerCommonName();

  // Sends a hello and waits for the Welcome; returns last_durable_seq, or
  // -1 when the daemon answered otherwise or closed (*answer, when given,
  // gets the frame that came instead).
  int64_t Hello(const std::string& scanner_id, const std::string& station = "ST-1",
                const std::string& credential = "", v1::ServerFrame* answer = nullptr);
  void Send(const v1::ScanEvent& event);
  // All events in one write (a pipelining client).
  void SendAll(const std::vector<v1::ScanEvent>& events);
  void SendFrame(const v1::ClientFrame& frame);
  void SendRaw(const std::string& bytes);
  // Half-closes the sending side.
  void ShutdownSend();

  // Next frame within timeout_ms; false on timeout, close or a bad frame.
  bool Read(v1::ServerFrame* frame, int timeout_ms = 5000);
  // Reads until an ack >= seq; other frames are appended to *others (may be
  // null). Returns the highest ack seen (0 if none before close/timeout).
  uint64_t WaitForAck(uint64_t seq, std::vector<v1::ServerFrame>* others = nullptr,
                      int timeout_ms = 10000);
  // True when the daemon closes the connection within timeout_ms (frames
  // still arriving are read and dropped).
  bool WaitClosed(int timeout_ms = 5000);
  uint64_t last_ack() const { return last_ack_; }

 private:
  bool Fill(int timeout_ms);
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  std::string handshake_error_;
  codec::FrameDecoder decoder_;
  uint64_t last_ack_ = 0;
  bool eof_ = false;
};

// A command's exit code (-1 if it did not exit) and its stdout and stderr.
struct CommandResult {
  int code = -1;
  std::string out;
};
// Runs `cmd` through /bin/sh and waits for it.
CommandResult RunCommand(const std::string& cmd);

// The ports of hubd's ready line in `log` (logfmt or JSON); false until
// there is one.
bool ReadyPorts(const std::string& log, uint16_t* port, uint16_t* http_port);

// A hubd child process on a loopback port chosen by the kernel.
class DaemonProcess {
 public:
  // Starts hubd with --data-dir, and --listen and --http on 127.0.0.1:0
  // unless `extra` names them, plus `extra` args;
  // waits for its ready line and reads the ports from it (ReadyPorts). Aborts the test on
  // failure (gtest ADD_FAILURE; port() is then 0).
  // `wrapper` runs hubd (e.g. {"prlimit", "--nofile=64:64", "--"}), found on
  // the PATH.
  DaemonProcess(const std::string& data_dir, std::vector<std::string> extra = {},
                std::vector<std::string> wrapper = {});
  ~DaemonProcess();  // SIGKILLs a daemon still running

  uint16_t port() const { return port_; }
  uint16_t http_port() const { return http_port_; }
  pid_t pid() const { return pid_; }
  // SIGTERM, then waits; returns the exit status (or -1).
  int Terminate(int timeout_ms = 20000);
  void Kill();  // SIGKILL and reap
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t http_port_ = 0;
  std::string log_path_;
};

// Starts `argv` (argv[0] found on the PATH) as a child process with its
// stdout and stderr going to the file `log` (truncated, or appended to with
// `append`). With `die_with_thread` it gets SIGKILL when the thread that
// started it ends, so a crashed test leaves nothing behind. Its pid, or -1
// when fork failed.
pid_t Spawn(std::vector<std::string> argv, const std::string& log, bool append = false,
            bool die_with_thread = false);

// Waits up to timeout_ms for child *pid to exit and reaps it (*pid = -1).
// Its exit code; -1 when it died of a signal or is still running.
int WaitExit(pid_t* pid, int timeout_ms);

// A command running in the background (hubctl exceptions watch, feed tail),
// its stdout and stderr going to the file `out` (removed at the end).
class BackgroundCommand {
 public:
  BackgroundCommand(std::vector<std::string> argv, std::string out);
  ~BackgroundCommand();  // SIGKILLs it if still running
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;
  std::string Output() const;
  // True once the output holds `text` (within 10 s).
  bool WaitFor(const std::string& text) const;
  void Signal(int sig) const;
  // Sends `sig` and returns the exit code (-1: it did not exit within 10 s,
  // or died of a signal).
  int Stop(int sig);
  int Wait() { return WaitExit(&pid_, 10000); }

 private:
  std::string out_;
  pid_t pid_ = -1;
};

// A loopback port nobody listens on right now.
uint16_t FreePort();

// Path of the hubd binary under test (set by CMake).
const char* HubdPath();

}  // namespace hub::testutil
