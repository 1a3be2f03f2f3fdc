// hubd under a stand-in for systemd: the test binds the notification
// socket (a unix datagram socket, as systemd does for Type=notify) and runs
// hubd with NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID set as systemd
// sets them; it must say READY=1 after recovery, WATCHDOG=1 periodically
// while it serves, and STOPPING=1 when it drains.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "net/daemon_fixture.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;

// The manager's end of NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    ::unlink(path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << path;
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }

  // The next datagram, or "" after timeout_ms.
  std::string Receive(int timeout_ms) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  // Datagrams until one holds `what` (returned), or "" after timeout_ms.
  std::string WaitFor(const std::string& what, int timeout_ms, std::vector<std::string>* seen = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string m = Receive(100);
      if (m.empty()) continue;
      if (seen) seen->push_back(m);
      if (m.find(what) != std::string::npos) return m;
    }
    return "";
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

// Runs hubd through sh so that WATCHDOG_PID can be hubd's own pid ($$ of a
// shell that then execs hubd), as systemd sets it for the main process.
std::vector<std::string> UnderSystemd(const NotifySocket& socket, const std::string& watchdog_pid) {
  return {"sh", "-c",
          "export NOTIFY_SOCKET='" + socket.path() + "' WATCHDOG_USEC=400000 WATCHDOG_PID=" + watchdog_pid +
              "; exec \"$0\" \"$@\""};
}

TEST_F(DaemonTest, TellsSystemdReadyWatchdogAndStopping) {
  NotifySocket manager((dir_ / "notify.sock").string());
  DaemonProcess hubd(db_, {}, UnderSystemd(manager, "$$"));
  ASSERT_NE(hubd.port(), 0);
  const std::string ready = manager.WaitFor("READY=1", 10'000);
  EXPECT_NE(ready.find("STATUS=serving hub_seq=0"), std::string::npos) << ready;
  // WATCHDOG_USEC 0.4 s: a ping every 0.2 s while the sequencer runs.
  int pings = 0;
  for (int i = 0; i < 5; ++i)
    if (manager.WaitFor("WATCHDOG=1", 10'000) == "WATCHDOG=1") ++pings;
  EXPECT_EQ(pings, 5) << "WATCHDOG=1 did not keep coming";
  EXPECT_NE(hubd.Log().find("event=watchdog_enabled interval_ms=200"), std::string::npos) << hubd.Log();
  EXPECT_EQ(::kill(hubd.pid(), SIGTERM), 0);
  std::vector<std::string> seen;
  const std::string stopping = manager.WaitFor("STOPPING=1", 10'000, &seen);
  EXPECT_NE(stopping, "") << "no STOPPING=1";
  EXPECT_EQ(hubd.Terminate(), 0);
  // Nothing after STOPPING=1: the watchdog ends with the drain.
  EXPECT_EQ(manager.Receive(500), "");
}

TEST_F(DaemonTest, NoWatchdogPingsWhenTheWatchdogIsAnotherProcesss) {
  // systemd names the process it watches; a child that inherited the
  // variables (here: WATCHDOG_PID is the test's pid) must not ping.
  NotifySocket manager((dir_ / "notify.sock").string());
  DaemonProcess hubd(db_, {}, UnderSystemd(manager, std::to_string(::getpid())));
  ASSERT_NE(hubd.port(), 0);
  EXPECT_NE(manager.WaitFor("READY=1", 10'000), "");
  std::vector<std::string> seen;
  EXPECT_EQ(manager.WaitFor("WATCHDOG=1", 1500, &seen), "") << "pinged for another process's watchdog";
  EXPECT_EQ(hubd.Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
