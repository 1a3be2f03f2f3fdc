// The scanner port's limits against a real hubd: hello, frame and idle
// timeouts, session caps, memory after partial frames, and an accept loop
// that backs off when file descriptors run out.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "codec/frame_codec.h"
#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::ScanClient;
using testutil::Scanner;

using LimitsTest = DaemonTest;

long RssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// User + system CPU time of a process, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

void ExpectTimeout(ScanClient& c, const std::string& reason) {
  v1::ServerFrame f;
  bool timed_out = false;
  while (!timed_out && c.Read(&f, 5000))
    if (f.has_reject()) {
      EXPECT_EQ(f.reject().code(), v1::REJECT_TIMEOUT);
      EXPECT_EQ(f.reject().reason(), reason);
      timed_out = true;
    }
  EXPECT_TRUE(timed_out) << "expected a timeout: " << reason;
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(LimitsTest, ConnectionWithoutHelloIsClosedAtTheHelloTimeout) {
  DaemonProcess hubd(db_, {"--hello-timeout-ms", "300"});
  std::vector<std::unique_ptr<ScanClient>> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(std::make_unique<ScanClient>(hubd.port()));
  for (auto& c : idle) ExpectTimeout(*c, "no hello within 300 ms");
  idle.clear();
  std::string metrics;
  for (int i = 0; i < 100; ++i) {
    metrics = testutil::HttpCall(hubd.http_port(), "GET", "/metrics").body;
    if (metrics.find("hubd_scanner_sessions 0\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(metrics.find("hubd_scanner_sessions 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("hubd_scanner_session_timeouts_total 50"), std::string::npos);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(LimitsTest, SlowlorisFrameIsCutOffAtTheFrameTimeoutAndOthersGoOn) {
  DaemonProcess hubd(db_, {"--frame-timeout-ms", "500"});
  ScanClient good(hubd.port());
  ASSERT_EQ(good.Hello("GOOD-1"), 0);
  ScanClient slow(hubd.port());
  ASSERT_EQ(slow.Hello("SLOW-1"), 0);
  // A frame announced as 1,000 bytes, sent a byte every 50 ms: the bytes
  // keep coming, the frame never completes.
  slow.SendRaw(std::string("\xe8\x07", 2));
  for (int i = 0; i < 40; ++i) {
    slow.SendRaw("x");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ExpectTimeout(slow, "frame incomplete for 500 ms");
  Scanner s("GOOD-1", "ST-1");
  good.Send(s.BagOpened("B1"));
  EXPECT_EQ(good.WaitForAck(1), 1u);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(LimitsTest, IdleSessionIsClosedUnlessItPings) {
  DaemonProcess hubd(db_, {"--idle-timeout-ms", "400"});
  ScanClient pinging(hubd.port());
  ASSERT_EQ(pinging.Hello("PING-1"), 0);
  ScanClient silent(hubd.port());
  ASSERT_EQ(silent.Hello("SILENT-1"), 0);
  v1::ClientFrame ping;
  v1::ServerFrame f;
  for (uint64_t i = 1; i <= 12; ++i) {
    ping.mutable_ping()->set_nonce(i);
    pinging.SendFrame(ping);
    ASSERT_TRUE(pinging.Read(&f));
    EXPECT_EQ(f.pong().nonce(), i);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ExpectTimeout(silent, "nothing received for 400 ms");
  Scanner s("PING-1", "ST-1");
  pinging.Send(s.BagOpened("B1"));
  EXPECT_EQ(pinging.WaitForAck(1), 1u) << "1.2 s of pings kept the session";
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(LimitsTest, SessionCapsCloseConnectionsBeyondThem) {
  DaemonProcess hubd(db_, {"--max-sessions", "4", "--max-sessions-per-address", "2"});
  std::vector<std::unique_ptr<ScanClient>> open;
  auto connect = [&](const std::string& from, const std::string& id) {
    open.push_back(std::make_unique<ScanClient>(hubd.port(), nullptr, from));
    return open.back()->Hello(id);
  };
  EXPECT_EQ(connect("127.0.0.1", "A1"), 0);
  EXPECT_EQ(connect("127.0.0.1", "A2"), 0);
  EXPECT_EQ(connect("127.0.0.1", "A3"), -1) << "third from one address";
  EXPECT_TRUE(open.back()->WaitClosed());
  EXPECT_EQ(connect("127.0.0.2", "B1"), 0);
  EXPECT_EQ(connect("127.0.0.2", "B2"), 0);
  EXPECT_EQ(connect("127.0.0.3", "C1"), -1) << "fifth in all";
  const auto metrics = testutil::HttpCall(hubd.http_port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("hubd_scanner_sessions_refused_total{reason=\"max_sessions\"} 1"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("hubd_scanner_sessions_refused_total{reason=\"max_sessions_per_address\"} 1"),
            std::string::npos);
  open[0].reset();  // one leaves: room for one more
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    admitted = connect("127.0.0.3", "C2") == 0;
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(admitted);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(LimitsTest, MemoryHeldByPartialFramesIsGivenBackWhenTheyClose) {
  constexpr int kConnections = 500;
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  ASSERT_GE(lim.rlim_cur, static_cast<rlim_t>(kConnections + 64)) << "raise the hard file limit";
  DaemonProcess hubd(db_);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long baseline = RssKb(hubd.pid());
  {
    std::vector<std::unique_ptr<ScanClient>> clients;
    const std::string partial = std::string("\x80\xf0\x03", 3) + std::string(60 * 1024, 'x');
    for (int i = 0; i < kConnections; ++i) {
      clients.push_back(std::make_unique<ScanClient>(hubd.port()));
      ASSERT_EQ(clients.back()->Hello("PARTIAL-" + std::to_string(i)), 0);
      clients.back()->SendRaw(partial);  // 60 KiB of a 63 KiB frame, then silence
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const long holding = RssKb(hubd.pid());
    EXPECT_GT(holding - baseline, kConnections * 40L) << "the partial frames are not held?";
    std::printf("hubd RSS: baseline %ld kB, holding %d partial frames %ld kB\n", baseline,
                kConnections, holding);
  }
  long after = 0;
  for (int i = 0; i < 50; ++i) {  // closes are noticed, then memory trimmed (1 s)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = RssKb(hubd.pid());
    if (after - baseline < 8 * 1024) break;
  }
  std::printf("hubd RSS after they closed: %ld kB\n", after);
  EXPECT_LT(after - baseline, 8 * 1024) << "memory stayed after the connections closed";
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(LimitsTest, AcceptBacksOffWhenFileDescriptorsRunOut) {
  // hubd at idle uses about 30 descriptors (RocksDB, epoll, listeners); 60
  // leaves room for a few sessions, then accept fails with EMFILE.
  DaemonProcess hubd(db_, {"--hello-timeout-ms", "60000"}, {"prlimit", "--nofile=60:60", "--"});
  ASSERT_NE(hubd.port(), 0);
  std::vector<std::unique_ptr<ScanClient>> clients;
  for (int i = 0; i < 80; ++i) clients.push_back(std::make_unique<ScanClient>(hubd.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // An HTTP client waits in the backlog of the other listener meanwhile.
  std::thread http([&] { testutil::HttpCall(hubd.http_port(), "GET", "/healthz"); });
  const double cpu_before = CpuSeconds(hubd.pid());
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double cpu = CpuSeconds(hubd.pid()) - cpu_before;
  const std::string log = hubd.Log();
  std::printf("out of descriptors for 3 s: %.2f s CPU, %zu accept_failed, %zu http_accept_failed lines\n",
              cpu, Count(log, "event=accept_failed"), Count(log, "event=http_accept_failed"));
  EXPECT_GE(Count(log, "event=accept_failed"), 1u) << "the test never ran out of descriptors";
  EXPECT_LE(Count(log, "event=accept_failed"), 2u) << "one line per 10 s, not one per failure";
  EXPECT_GE(Count(log, "event=http_accept_failed"), 1u);
  EXPECT_LE(Count(log, "event=http_accept_failed"), 2u);
  EXPECT_LT(cpu, 0.5) << "an accept loop spins";
  // Descriptors come back: connections are served again.
  clients.clear();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    ScanClient c(hubd.port());
    served = c.Hello("BACK-1") == 0;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served);
  http.join();
  EXPECT_EQ(hubd.Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
