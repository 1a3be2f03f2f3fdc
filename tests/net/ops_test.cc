// /healthz, /readyz and /metrics of a real hubd over loopback.

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::HttpCall;
using OpsTest = DaemonTest;

// Parses Prometheus text format 0.0.4 strictly enough to catch mistakes:
// HELP/TYPE before samples, known types, well-formed names, labels and
// values, every sample belonging to a declared family. Returns samples by
// "name{labels}", or fails the test.
std::map<std::string, double> ParsePrometheus(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? (-?[0-9.e+-]+|\+Inf|NaN))");
  std::map<std::string, std::string> families;  // name -> type
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, help)) continue;
    if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(families.emplace(m[1], m[2]).second) << "family declared twice: " << line;
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not Prometheus text: '" << line << "'";
      continue;
    }
    std::string family = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (!families.count(family) && family.size() > s.size() &&
          family.compare(family.size() - s.size(), s.size(), s) == 0)
        family = family.substr(0, family.size() - s.size());
    }
    EXPECT_TRUE(families.count(family)) << "sample of an undeclared family: " << line;
    if (families[family] == "counter") {
      EXPECT_NE(family.find("_total"), std::string::npos) << "counter without _total: " << line;
    }
    samples[std::string(m[1]) + std::string(m[2])] = std::stod(m[4] == "+Inf" ? "inf" : m[4].str());
  }
  return samples;
}

TEST_F(OpsTest, HealthAndReadinessAreOkOnceRecovered) {
  DaemonProcess hubd(db_);
  auto h = HttpCall(hubd.http_port(), "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  EXPECT_EQ(HttpCall(hubd.http_port(), "GET", "/readyz").status, 200);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(OpsTest, HealthDetailIsJsonAndSaysTheFeedIsOffByDefault) {
  DaemonProcess hubd(db_);
  auto h = HttpCall(hubd.http_port(), "GET", "/healthz/detail");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "{\"status\":\"ok\",\"ready\":true,\"store\":\"ok\",\"feed\":{\"state\":\"off\"}}\n");
  EXPECT_EQ(HttpCall(hubd.http_port(), "POST", "/healthz/detail").status, 405);
  EXPECT_EQ(HttpCall(hubd.http_port(), "GET", "/metrics").body.find("hubd_feed_"), std::string::npos)
      << "feed metrics without a feed";
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(OpsTest, MetricsParseAsPrometheusTextAndMoveWithTraffic) {
  Seed({testutil::RouteRef("D1", "R1", "C1", "L1")});
  DaemonProcess hubd(db_);
  auto before = ParsePrometheus(HttpCall(hubd.http_port(), "GET", "/metrics").body);
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(before["hubd_events_applied_total{kind=\"PARCEL_SORTED\"}"], 0);
  EXPECT_EQ(before["hubd_hub_sequence"], 1);  // the seeded route, recovered

  testutil::ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  testutil::Scanner s("SORTER-1");
  c.SendAll({s.ParcelSorted("P1", "D1"), s.ParcelSorted("P2", "D-XX"), s.ParcelSorted("", ""),
             s.ParcelBagged("", "B1")});
  ASSERT_EQ(c.WaitForAck(4), 4u);
  s.Rewind(9);
  c.Send(s.BagOpened("B1"));  // a gap: rejected by the session
  v1::ServerFrame f;
  ASSERT_TRUE(c.Read(&f));
  EXPECT_TRUE(f.has_reject());

  auto after = ParsePrometheus(HttpCall(hubd.http_port(), "GET", "/metrics").body);
  EXPECT_EQ(after["hubd_events_applied_total{kind=\"PARCEL_SORTED\"}"], 3);
  EXPECT_EQ(after["hubd_exceptions_raised_total{type=\"NO_ROUTE\"}"], 1);
  EXPECT_EQ(after["hubd_exceptions_raised_total{type=\"NO_READ\"}"], 1);
  EXPECT_EQ(after["hubd_rejects_total{code=\"REJECT_MISSING_ID\"}"], 1);
  EXPECT_EQ(after["hubd_rejects_total{code=\"REJECT_BAD_SEQ\"}"], 1);
  EXPECT_EQ(after["hubd_scanner_sessions"], 1);
  EXPECT_GE(after["hubd_commit_batch_records_count"], 1);
  EXPECT_EQ(after["hubd_commit_batch_records_bucket{le=\"+Inf\"}"],
            after["hubd_commit_batch_records_count"]);
  EXPECT_EQ(after["hubd_hub_sequence"], 4);  // the seeded route + 3 sorts
  EXPECT_GT(after["hubd_store_memtable_bytes"], 0);  // arena blocks: moves in steps of MiB
  EXPECT_EQ(after["hubd_healthy"], 1);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(OpsTest, TellsSystemdItIsReadyAndWhenItStops) {
  // A stand-in for systemd's notify socket.
  const std::string path = (dir_ / "notify.sock").string();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  std::string messages;
  {
    DaemonProcess hubd(db_);
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_EQ(hubd.Terminate(), 0);
  }
  char buf[512];
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 500) > 0) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    messages.append(buf, static_cast<size_t>(n)).push_back('|');
  }
  ::close(fd);
  EXPECT_NE(messages.find("READY=1"), std::string::npos) << messages;
  EXPECT_NE(messages.find("STOPPING=1"), std::string::npos) << messages;
  EXPECT_LT(messages.find("READY=1"), messages.find("STOPPING=1"));
}

TEST_F(OpsTest, BadRequestsGetClearErrors) {
  DaemonProcess hubd(db_);
  const uint16_t port = hubd.http_port();
  auto r = HttpCall(port, "GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "no such endpoint: /nope\n");
  EXPECT_EQ(HttpCall(port, "POST", "/metrics", "x").status, 405);
  EXPECT_EQ(HttpCall(port, "POST", "/metrics", std::string(2 << 20, 'x')).status, 413);
  EXPECT_EQ(testutil::HttpRawStatus(port, "this is not http\r\n\r\n"), 400);
  // The daemon is unaffected.
  EXPECT_EQ(HttpCall(port, "GET", "/healthz").status, 200);
  EXPECT_EQ(hubd.Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
