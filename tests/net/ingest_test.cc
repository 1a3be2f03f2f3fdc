// The real daemon on a loopback port with a real RocksDB directory, driven by
// real TCP clients.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <fstream>
#include <thread>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::ScanClient;
using testutil::Scanner;

using IngestTest = DaemonTest;

TEST_F(IngestTest, SortScanIsAckedAndAnsweredWithItsRoute) {
  Seed({testutil::RouteRef("D-SH", "R-SH", "C7", "L-SH")});
  DaemonProcess hubd(db_);
  ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  Scanner s("SORTER-1");
  c.SendAll({s.ParcelSorted("P1", "D-SH"), s.ParcelSorted("P2", "D-XX"), s.ParcelSorted("", "")});
  std::vector<v1::ServerFrame> frames;
  EXPECT_EQ(c.WaitForAck(3, &frames), 3u);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].decision().parcel_id(), "P1");
  EXPECT_EQ(frames[0].decision().chute(), "C7");
  EXPECT_EQ(frames[0].decision().load_id(), "L-SH");
  EXPECT_EQ(frames[0].decision().divert(), v1::DIVERT_NONE);
  EXPECT_EQ(frames[1].decision().divert(), v1::DIVERT_NO_ROUTE);
  EXPECT_EQ(frames[2].decision().divert(), v1::DIVERT_NO_READ);
  EXPECT_EQ(frames[2].decision().seq(), 3u);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(IngestTest, ManyConcurrentSessionsAreAllAckedAndLogged) {
  constexpr int kSessions = 64, kEvents = 300;
  DaemonProcess hubd(db_, {"--io-threads", "2"});
  std::atomic<int> fully_acked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kSessions; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = "HH-" + std::to_string(t);
      ScanClient c(hubd.port());
      if (c.Hello(id) != 0) return;
      Scanner s(id);
      std::vector<v1::ScanEvent> events;
      for (int i = 0; i < kEvents; ++i) {
        events.push_back(s.ParcelUnbagged("P-" + id + "-" + std::to_string(i), "B-" + id));
        if (events.size() == 50) {
          c.SendAll(events);
          events.clear();
        }
      }
      if (c.WaitForAck(kEvents) == kEvents) ++fully_acked;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fully_acked.load(), kSessions);
  ASSERT_EQ(hubd.Terminate(), 0);
  auto logged = LoggedEvents();
  ASSERT_EQ(logged.size(), static_cast<size_t>(kSessions));
  for (const auto& [scanner, seqs] : logged) {
    EXPECT_EQ(seqs.size(), static_cast<size_t>(kEvents)) << scanner;
    for (const auto& [seq, times] : seqs) EXPECT_EQ(times, 1) << scanner << " seq " << seq;
  }
}

TEST_F(IngestTest, ResentEventsAreAckedAgainAndChangeNothing) {
  Scanner s("DOCK-1");
  std::vector<v1::ScanEvent> events;
  for (int i = 0; i < 10; ++i) events.push_back(s.BagUnloaded("B" + std::to_string(i), "V1", 5));
  {
    DaemonProcess hubd(db_);
    ScanClient c(hubd.port());
    ASSERT_EQ(c.Hello("DOCK-1"), 0);
    c.SendAll(events);
    ASSERT_EQ(c.WaitForAck(10), 10u);
    // Reconnect and re-send the last five: acked, not applied.
    ScanClient again(hubd.port());
    ASSERT_EQ(again.Hello("DOCK-1"), 10);
    again.SendAll({events.begin() + 5, events.end()});
    EXPECT_EQ(again.WaitForAck(10), 10u);
    ASSERT_EQ(hubd.Terminate(), 0);
  }
  auto logged = LoggedEvents();
  EXPECT_EQ(logged["DOCK-1"].size(), 10u);
  for (const auto& [seq, times] : logged["DOCK-1"]) EXPECT_EQ(times, 1) << seq;
}

TEST_F(IngestTest, ReconnectResumesFromTheDurableSeqAcrossRestarts) {
  Scanner s("TABLE-1");
  {
    DaemonProcess hubd(db_);
    ScanClient c(hubd.port());
    ASSERT_EQ(c.Hello("TABLE-1"), 0);
    c.SendAll({s.BagOpened("B1"), s.ParcelUnbagged("P1", "B1"), s.ParcelUnbagged("P2", "B1")});
    ASSERT_EQ(c.WaitForAck(3), 3u);
    hubd.Kill();  // no clean shutdown
  }
  DaemonProcess hubd(db_);
  ScanClient c(hubd.port());
  EXPECT_EQ(c.Hello("TABLE-1"), 3);
  c.Send(s.BagEmptied("B1"));
  EXPECT_EQ(c.WaitForAck(4), 4u);
  ScanClient other(hubd.port());
  EXPECT_EQ(other.Hello("NEVER-SEEN"), 0);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(IngestTest, BadEventsAreRejectedWithCodeAndTheSessionGoesOn) {
  DaemonProcess hubd(db_);
  ScanClient c(hubd.port());
  Scanner s("BAGGER-1");
  v1::ScanEvent before = s.BagCreated("OB1", "R1");
  c.Send(before);  // before the hello
  v1::ServerFrame f;
  ASSERT_TRUE(c.Read(&f));
  EXPECT_EQ(f.reject().code(), v1::REJECT_NOT_HELLO);
  s.Rewind(0);

  ASSERT_EQ(c.Hello("BAGGER-1"), 0);
  v1::ScanEvent missing = s.ParcelBagged("", "OB1");             // seq 1
  v1::ScanEvent too_long = s.BagCreated(std::string(65, 'b'), "R1");  // seq 2
  v1::ScanEvent bad_enum = s.HoldPlaced("P1", static_cast<v1::HoldReason>(99));  // seq 3
  v1::ScanEvent no_body = s.BagOpened("X");  // seq 4
  no_body.clear_body();
  v1::ScanEvent other_scanner = s.BagCreated("OB2", "R1");  // seq 5
  other_scanner.set_scanner_id("SOMEONE-ELSE");
  c.SendAll({missing, too_long, bad_enum, no_body, other_scanner});
  std::map<uint64_t, v1::RejectCode> codes;
  for (int i = 0; i < 5 && c.Read(&f); ++i)
    if (f.has_reject()) codes[f.reject().seq()] = f.reject().code();
  EXPECT_EQ(codes[1], v1::REJECT_MISSING_ID);
  EXPECT_EQ(codes[2], v1::REJECT_ID_TOO_LONG);
  EXPECT_EQ(codes[3], v1::REJECT_BAD_ENUM);
  EXPECT_EQ(codes[4], v1::REJECT_UNKNOWN_KIND);
  EXPECT_EQ(codes[5], v1::REJECT_SCANNER_MISMATCH);
  EXPECT_EQ(c.WaitForAck(4), 4u);  // rejected events are answered, so acked

  // Seq order within the session: a gap is rejected and names the seq
  // expected (the scanner mismatch did not use up seq 5).
  s.Rewind(9);
  c.Send(s.BagCreated("OB3", "R1"));  // seq 10: skips 5
  ASSERT_TRUE(c.Read(&f));
  EXPECT_EQ(f.reject().code(), v1::REJECT_BAD_SEQ);
  EXPECT_EQ(f.reject().reason(), "seq 10 skips ahead; expected 5");

  // And the session still works.
  s.Rewind(4);
  c.Send(s.BagCreated("OB4", "R1"));  // seq 5
  EXPECT_EQ(c.WaitForAck(5), 5u);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(IngestTest, GarbageTruncatedAndOversizedFramesCloseOnlyThatSession) {
  DaemonProcess hubd(db_, {"--max-frame", "1024"});
  ScanClient good(hubd.port());
  ASSERT_EQ(good.Hello("GOOD-1"), 0);
  Scanner s("GOOD-1");

  ScanClient garbage(hubd.port());
  garbage.SendRaw(std::string("\x05hello world, not protobuf \xff\xff\xff", 32));
  EXPECT_TRUE(garbage.WaitClosed());

  ScanClient oversized(hubd.port());
  ASSERT_EQ(oversized.Hello("BIG-1"), 0);
  oversized.SendRaw(std::string("\x80\x80\x01", 3) + std::string(100, 'x'));  // 16 KiB frame
  EXPECT_TRUE(oversized.WaitClosed());

  ScanClient bad_varint(hubd.port());
  bad_varint.SendRaw(std::string(8, '\xff'));
  EXPECT_TRUE(bad_varint.WaitClosed());

  ScanClient truncated(hubd.port());
  ASSERT_EQ(truncated.Hello("TRUNC-1"), 0);
  Scanner t("TRUNC-1");
  std::string bytes;
  v1::ClientFrame f;
  *f.mutable_event() = t.BagOpened("B1");
  codec::AppendFrame(f, &bytes);
  truncated.SendRaw(bytes.substr(0, bytes.size() - 3));
  truncated.ShutdownSend();
  EXPECT_TRUE(truncated.WaitClosed());

  // The good session never noticed.
  good.SendAll({s.BagOpened("B1"), s.BagEmptied("B1")});
  EXPECT_EQ(good.WaitForAck(2), 2u);
  ASSERT_EQ(hubd.Terminate(), 0);
  auto logged = LoggedEvents();
  EXPECT_EQ(logged.size(), 1u);  // nothing from the broken sessions
  EXPECT_EQ(logged["GOOD-1"].size(), 2u);
}

TEST_F(IngestTest, ClientThatNeverReadsDoesNotGrowTheDaemon) {
  DaemonProcess hubd(db_, {"--io-threads", "1"});
  // A sorter that sends and never reads its decisions: the daemon stops
  // reading it once its answers back up; a normal session stays served.
  ScanClient deaf(hubd.port());
  ASSERT_EQ(deaf.Hello("DEAF-1"), 0);
  Scanner d("DEAF-1");
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    for (int round = 0; round < 2000 && !stop; ++round) {
      std::vector<v1::ScanEvent> events;
      for (int i = 0; i < 500; ++i) events.push_back(d.ParcelSorted("P" + std::to_string(i), "D1"));
      deaf.SendAll(events);  // blocks once TCP pushes back
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ScanClient ok(hubd.port());
  ASSERT_EQ(ok.Hello("OK-1"), 0);
  Scanner s("OK-1");
  ok.Send(s.BagOpened("B1"));
  EXPECT_EQ(ok.WaitForAck(1), 1u);
  // The daemon's resident memory stays small although the flood offers a
  // million events: it stopped reading the deaf session.
  std::ifstream status("/proc/" + std::to_string(hubd.pid()) + "/status");
  std::string line;
  long rss_kb = 0;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) rss_kb = std::stol(line.substr(6));
  EXPECT_LT(rss_kb, 400 * 1024) << "hubd RSS " << rss_kb << " kB";
  stop = true;
  EXPECT_EQ(hubd.Terminate(), 0);  // stops reading; the flood's writes fail
  flood.join();
  auto logged = LoggedEvents();
  EXPECT_GT(logged["DEAF-1"].size(), 0u);
  EXPECT_LT(logged["DEAF-1"].size(), 1'000'000u) << "backpressure never engaged";
}

}  // namespace
}  // namespace hub::testing
