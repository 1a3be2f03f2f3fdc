// The scanner boundary against a real hubd: one owner per scanner id
// (fencing), and the re-send contract of session.proto.

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "codec/frame_codec.h"
#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::ScanClient;
using testutil::Scanner;

using BoundaryTest = DaemonTest;

// The log after the daemon stopped: (scanner, seq) -> the parcel of each
// logged event, and how often each was logged.
struct LoggedScan {
  std::string parcel;
  int times = 0;
};

TEST_F(BoundaryTest, TwoSessionsRacingForOneScannerNeverLoseOrMixAnAckedEvent) {
  constexpr int kRounds = 200, kEvents = 5;
  DaemonProcess hubd(db_);
  std::mutex mu;
  std::map<uint64_t, std::string> acked;  // seq -> parcel, as the acking client sent it
  int fenced = 0, welcomed = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto racer = [&](int who) {
      ScanClient c(hubd.port());
      v1::ServerFrame answer;
      const int64_t mark = c.Hello("RACER", "ST-1", "", &answer);
      if (mark < 0) {  // fenced before it was welcomed
        std::lock_guard<std::mutex> lock(mu);
        if (answer.reject().code() == v1::REJECT_FENCED) ++fenced;
        return;
      }
      Scanner s("RACER", "ST-1");
      s.Rewind(static_cast<uint64_t>(mark));
      std::vector<v1::ScanEvent> events;
      std::map<uint64_t, std::string> sent;
      for (int i = 0; i < kEvents; ++i) {
        const std::string parcel = "P-" + std::to_string(round) + "-" + std::to_string(who) + "-" +
                                   std::to_string(i);
        events.push_back(s.ParcelUnbagged(parcel, "B-" + std::to_string(round)));
        sent[events.back().seq()] = parcel;
      }
      c.SendAll(events);
      bool was_fenced = false;
      v1::ServerFrame f;
      while (c.last_ack() < s.seq() && c.Read(&f, 5000))
        if (f.reject().code() == v1::REJECT_FENCED) was_fenced = true;
      std::lock_guard<std::mutex> lock(mu);
      ++welcomed;
      if (was_fenced) ++fenced;
      for (uint64_t seq = static_cast<uint64_t>(mark) + 1; seq <= c.last_ack(); ++seq) {
        auto [it, fresh] = acked.emplace(seq, sent[seq]);
        EXPECT_TRUE(fresh) << "seq " << seq << " acked to two clients: " << it->second << " and "
                           << sent[seq];
      }
    };
    std::thread a(racer, 0), b(racer, 1);
    a.join();
    b.join();
  }
  ASSERT_EQ(hubd.Terminate(), 0);
  EXPECT_GT(fenced, 0) << "the sessions never overlapped: the race was not exercised";
  EXPECT_GE(welcomed, kRounds);

  auto db = OpenStore();
  core::HubState hub;
  ASSERT_TRUE(db->Recover(&hub).ok());
  std::vector<v1::LogRecord> log;
  ASSERT_TRUE(db->ReadLog(1, 10'000'000, &log).ok());
  std::map<uint64_t, LoggedScan> logged;
  for (const auto& rec : log) {
    auto& l = logged[rec.event().seq()];
    l.parcel = rec.event().parcel_unbagged().parcel_id();
    ++l.times;
  }
  for (const auto& [seq, l] : logged) EXPECT_EQ(l.times, 1) << "seq " << seq << " logged twice";
  ASSERT_FALSE(logged.empty());
  EXPECT_EQ(logged.begin()->first, 1u);
  EXPECT_EQ(logged.rbegin()->first, logged.size()) << "the scanner's seqs have a hole";
  for (const auto& [seq, parcel] : acked) {
    auto it = logged.find(seq);
    ASSERT_NE(it, logged.end()) << "acked seq " << seq << " (" << parcel << ") is not in the log";
    EXPECT_EQ(it->second.parcel, parcel) << "acked seq " << seq << " holds another client's scan";
  }
  EXPECT_EQ(acked.size(), logged.size()) << "an event is logged that no client was acked for";
}

TEST_F(BoundaryTest, NewHelloFencesTheOldSessionAfterAnsweringWhatItSent) {
  DaemonProcess hubd(db_);
  ScanClient old_session(hubd.port());
  ASSERT_EQ(old_session.Hello("HANDHELD-7"), 0);
  Scanner s("HANDHELD-7", "ST-1");
  std::vector<v1::ScanEvent> events;
  for (int i = 0; i < 50; ++i) events.push_back(s.BagOpened("B" + std::to_string(i)));
  old_session.SendAll(events);
  ASSERT_EQ(old_session.WaitForAck(50), 50u);

  // The handheld roams to another access point and says hello again while
  // the old connection is still open.
  ScanClient fresh(hubd.port());
  EXPECT_EQ(fresh.Hello("HANDHELD-7"), 50);
  v1::ServerFrame f;
  bool fenced = false;
  while (old_session.Read(&f, 3000))
    if (f.reject().code() == v1::REJECT_FENCED) {
      fenced = true;
      EXPECT_EQ(f.reject().seq(), 0u);
      EXPECT_NE(f.reject().reason().find("HANDHELD-7"), std::string::npos) << f.reject().reason();
    }
  EXPECT_TRUE(fenced);
  EXPECT_TRUE(old_session.WaitClosed());
  fresh.Send(s.BagOpened("B-next"));
  EXPECT_EQ(fresh.WaitForAck(51), 51u);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(BoundaryTest, ResentSortScanOnTheSameConnectionIsAckedAgainWithItsOriginalDecision) {
  Seed({testutil::RouteRef("D-SH", "R-SH", "C7", "L-SH")});
  DaemonProcess hubd(db_);
  ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  Scanner s("SORTER-1", "ST-1");
  const v1::ScanEvent first = s.ParcelSorted("P1", "D-SH");
  const v1::ScanEvent second = s.ParcelSorted("P2", "D-XX");
  c.SendAll({first, second});
  std::vector<v1::ServerFrame> original;
  ASSERT_EQ(c.WaitForAck(2, &original), 2u);
  ASSERT_EQ(original.size(), 2u);

  // The sorter lost its answers and sends both again, same seqs.
  c.SendAll({first, second});
  std::vector<v1::ServerFrame> again;
  v1::ServerFrame f;
  while (again.size() < 2 && c.Read(&f))
    if (f.has_decision()) again.push_back(f);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].decision().SerializeAsString(), original[0].decision().SerializeAsString());
  EXPECT_EQ(again[1].decision().SerializeAsString(), original[1].decision().SerializeAsString());
  EXPECT_EQ(again[0].decision().chute(), "C7");
  EXPECT_EQ(again[1].decision().divert(), v1::DIVERT_NO_ROUTE);
  // ... and an ack covers them again.
  ASSERT_TRUE(c.Read(&f));
  EXPECT_EQ(f.ack().acked_seq(), 2u);
  ASSERT_EQ(hubd.Terminate(), 0);
  EXPECT_EQ(LoggedEvents()["SORTER-1"].size(), 2u) << "a re-send changed the log";
}

TEST_F(BoundaryTest, ResentSortScanAfterACrashGetsItsOriginalDecision) {
  Seed({testutil::RouteRef("D-SH", "R-SH", "C7", "L-SH")});
  Scanner s("SORTER-2", "ST-1");
  const v1::ScanEvent sorted = s.ParcelSorted("P9", "D-SH");
  const v1::ScanEvent no_read = s.ParcelSorted("", "D-SH");
  {
    DaemonProcess hubd(db_);
    ScanClient c(hubd.port());
    ASSERT_EQ(c.Hello("SORTER-2"), 0);
    c.SendAll({sorted, no_read});
    ASSERT_EQ(c.WaitForAck(2), 2u);
    hubd.Kill();  // the sorter never saw... whatever; it re-sends both
  }
  DaemonProcess hubd(db_);
  ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("SORTER-2"), 2);
  c.SendAll({sorted, no_read});
  std::vector<v1::ServerFrame> frames;
  ASSERT_EQ(c.WaitForAck(2, &frames), 2u);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].decision().seq(), 1u);
  EXPECT_EQ(frames[0].decision().parcel_id(), "P9");
  EXPECT_EQ(frames[0].decision().load_id(), "L-SH");
  EXPECT_EQ(frames[1].decision().seq(), 2u);
  EXPECT_EQ(frames[1].decision().divert(), v1::DIVERT_NO_READ);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(BoundaryTest, SeqZeroAndGapsAreRejectedWithTheSeqExpected) {
  DaemonProcess hubd(db_);
  ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("DOCK-3"), 0);
  Scanner s("DOCK-3", "ST-1");
  v1::ScanEvent zero = s.BagOpened("B1");
  zero.set_seq(0);
  c.Send(zero);
  v1::ServerFrame f;
  ASSERT_TRUE(c.Read(&f));
  EXPECT_EQ(f.reject().code(), v1::REJECT_BAD_SEQ);
  EXPECT_EQ(f.reject().reason(), "seq 0 is not a seq; expected 1");
  v1::ScanEvent gap = s.BagOpened("B2");
  gap.set_seq(3);
  c.Send(gap);
  ASSERT_TRUE(c.Read(&f));
  EXPECT_EQ(f.reject().code(), v1::REJECT_BAD_SEQ);
  EXPECT_EQ(f.reject().reason(), "seq 3 skips ahead; expected 1");
  // Neither used up seq 1.
  s.Rewind(0);
  c.Send(s.BagOpened("B3"));
  EXPECT_EQ(c.WaitForAck(1), 1u);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(BoundaryTest, ContentRejectUsesUpItsSeqAcrossACrashAndIsRejectedAgainWhenResent) {
  Scanner s("BAGGER-9", "ST-1");
  const v1::ScanEvent bad = s.ParcelBagged("", "OB1");  // seq 1: no parcel id
  {
    DaemonProcess hubd(db_);
    ScanClient c(hubd.port());
    ASSERT_EQ(c.Hello("BAGGER-9"), 0);
    c.Send(bad);
    std::vector<v1::ServerFrame> frames;
    ASSERT_EQ(c.WaitForAck(1, &frames), 1u);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].reject().code(), v1::REJECT_MISSING_ID);
    hubd.Kill();
  }
  DaemonProcess hubd(db_);
  ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("BAGGER-9"), 1) << "the resume point must cover the rejected seq";
  c.Send(bad);  // re-sent: the same reject, acked, nothing changes
  std::vector<v1::ServerFrame> frames;
  ASSERT_EQ(c.WaitForAck(1, &frames), 1u);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].reject().code(), v1::REJECT_MISSING_ID);
  c.Send(s.ParcelBagged("P1", "OB1"));  // seq 2, the corrected scan
  EXPECT_EQ(c.WaitForAck(2), 2u);
  ASSERT_EQ(hubd.Terminate(), 0);
  auto logged = LoggedEvents();
  EXPECT_EQ(logged["BAGGER-9"].size(), 1u);
  EXPECT_EQ(logged["BAGGER-9"].count(2), 1u);
}

TEST_F(BoundaryTest, ControlCharactersInIdsNeverReachTheLog) {
  DaemonProcess hubd(db_);
  {
    ScanClient c(hubd.port());
    v1::ServerFrame answer;
    EXPECT_EQ(c.Hello("EVIL\nevent=ready listen=127.0.0.1:1", "ST-1", "", &answer), -1);
    EXPECT_EQ(answer.reject().code(), v1::REJECT_BAD_ID);
    EXPECT_TRUE(c.WaitClosed());
  }
  {
    ScanClient c(hubd.port());  // not UTF-8: the frame does not parse
    v1::ClientFrame hello;
    hello.mutable_hello()->set_scanner_id("H\xc3(");
    std::string bytes;
    codec::AppendFrame(hello, &bytes);
    c.SendRaw(bytes);
    EXPECT_TRUE(c.WaitClosed());
  }
  ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("TABLE 1 event=forged", "ST-1"), 0);  // printable: allowed, logged quoted
  Scanner s("TABLE 1 event=forged", "ST-1");
  c.Send(s.ParcelUnbagged("P\r1", "B1"));
  v1::ServerFrame f;
  ASSERT_TRUE(c.Read(&f));
  EXPECT_EQ(f.reject().code(), v1::REJECT_BAD_ID);
  EXPECT_EQ(f.reject().reason(), "parcel_unbagged.parcel_id holds a control character");
  EXPECT_EQ(hubd.Terminate(), 0);
  const std::string log = hubd.Log();
  EXPECT_EQ(log.find("EVIL\n"), std::string::npos);
  EXPECT_EQ(log.find("scanner=TABLE"), std::string::npos) << log;
  EXPECT_EQ(log.find("[libprotobuf"), std::string::npos) << "a line not in key=value form:\n" << log;
  EXPECT_NE(log.find("event=protobuf_log"), std::string::npos) << log;
  EXPECT_NE(log.find("scanner=\"TABLE 1 event=forged\""), std::string::npos) << log;
}

TEST_F(BoundaryTest, AnotherScanUnderAUsedSeqIsRefusedNotAckedAndDropped) {
  Seed({testutil::RouteRef("D-SH", "R-SH", "C7", "L-SH")});
  DaemonProcess hubd(db_);
  Scanner s("SORTER-5", "ST-1");
  const v1::ScanEvent sorted = s.ParcelSorted("P1", "D-SH");     // seq 1
  const v1::ScanEvent bad = s.ParcelSorted(std::string(65, 'p'), "D-SH");  // seq 2: rejected
  const v1::ScanEvent bagged = s.ParcelBagged("P1", "OB1");      // seq 3
  {
    ScanClient c(hubd.port());
    ASSERT_EQ(c.Hello("SORTER-5"), 0);
    c.SendAll({sorted, bad, bagged});
    ASSERT_EQ(c.WaitForAck(3), 3u);
  }
  ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("SORTER-5"), 3);
  // A scanner that lost its counter sends new scans under used seqs.
  v1::ScanEvent other_sort = s.ParcelSorted("P2", "D-SH");
  other_sort.set_seq(1);
  v1::ScanEvent no_read = s.ParcelSorted("", "D-SH");
  no_read.set_seq(1);
  v1::ScanEvent valid_under_rejected = s.ParcelSorted("P3", "D-SH");
  valid_under_rejected.set_seq(2);
  v1::ScanEvent other_bag = s.ParcelBagged("P9", "OB1");
  other_bag.set_seq(3);
  c.SendAll({other_sort, no_read, valid_under_rejected, other_bag});
  std::vector<v1::ServerFrame> frames;
  ASSERT_EQ(c.WaitForAck(3, &frames), 3u);
  while (frames.size() < 4) {
    v1::ServerFrame f;
    if (!c.Read(&f, 2000)) break;
    if (!f.has_ack()) frames.push_back(f);
  }
  ASSERT_EQ(frames.size(), 4u);
  for (const auto& f : frames) {
    EXPECT_EQ(f.reject().code(), v1::REJECT_SEQ_REUSED) << f.ShortDebugString();
    EXPECT_FALSE(f.has_decision()) << "a decision it never got";
  }
  EXPECT_NE(frames[0].reject().reason().find("seq 1 is used by another scan (PARCEL_SORTED"),
            std::string::npos) << frames[0].reject().reason();
  EXPECT_NE(frames[2].reject().reason().find("seq 2 is used by a scan that was rejected"),
            std::string::npos) << frames[2].reject().reason();
  // The same scans again are still plain re-sends.
  c.SendAll({sorted, bagged});
  frames.clear();
  v1::ServerFrame f;
  while (frames.empty() && c.Read(&f))
    if (!f.has_ack()) frames.push_back(f);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].decision().chute(), "C7");
  ASSERT_EQ(hubd.Terminate(), 0);
  auto logged = LoggedEvents();
  EXPECT_EQ(logged["SORTER-5"].size(), 2u) << "nothing sent under a used seq was applied";
}

}  // namespace
}  // namespace hub::testing
