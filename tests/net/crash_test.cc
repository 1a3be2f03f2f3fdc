// Crash and drain: kill -9 at random points, SIGTERM mid-stream. Bounded:
// 20 kills of a few hundred milliseconds each, loopback only.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <filesystem>
#include <map>
#include <cstdio>
#include <random>
#include <thread>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::ScanClient;
using testutil::EventNumber;
using testutil::Scanner;

using CrashTest = DaemonTest;


TEST_F(CrashTest, KillNineAtRandomPointsLosesNoAckedEventAndDuplicatesNone) {
  constexpr int kKills = 20;
  const std::vector<std::string> scanners = {"SORTER-1", "SORTER-2", "TABLE-1"};
  std::map<std::string, uint64_t> acked;  // highest ack each scanner received
  std::map<std::string, uint64_t> sent;   // highest seq each scanner sent
  std::mt19937 rng(12345);
  for (int round = 0; round <= kKills; ++round) {
    // Checkpoints every few hundred records in most rounds, so kills land
    // before, during and after background checkpoints too.
    DaemonProcess hubd(db_, {"--durability", round % 2 ? "fsync" : "wal", "--checkpoint-records",
                             round % 3 ? "300" : "0"});
    ASSERT_NE(hubd.port(), 0);
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    std::mutex mu;
    for (const auto& id : scanners) {
      clients.emplace_back([&, id] {
        ScanClient c(hubd.port());
        const int64_t mark = c.Hello(id);
        if (mark < 0) return;
        {
          std::lock_guard<std::mutex> lock(mu);
          // Every acked event is durable: the resume point never falls back.
          EXPECT_GE(static_cast<uint64_t>(mark), acked[id]) << id << " round " << round;
        }
        uint64_t next = static_cast<uint64_t>(mark) + 1;
        while (!stop) {
          std::vector<v1::ScanEvent> chunk;
          for (int i = 0; i < 64; ++i) chunk.push_back(EventNumber(id, next + i));
          next += 64;
          c.SendAll(chunk);
          {
            std::lock_guard<std::mutex> lock(mu);
            sent[id] = std::max(sent[id], next - 1);
          }
          v1::ServerFrame f;
          while (c.Read(&f, 0)) {
          }
          {
            std::lock_guard<std::mutex> lock(mu);
            acked[id] = std::max(acked[id], c.last_ack());
          }
          if (round == kKills && next > static_cast<uint64_t>(mark) + 2000) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (round == kKills) {  // the last round ends cleanly
          const uint64_t a = c.WaitForAck(next - 1);
          std::lock_guard<std::mutex> lock(mu);
          acked[id] = std::max(acked[id], a);
        }
      });
    }
    if (round < kKills) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 300));
      hubd.Kill();
      stop = true;
    }
    for (auto& t : clients) t.join();
    if (round == kKills) {
      ASSERT_EQ(hubd.Terminate(), 0);
    }
  }

  auto logged = LoggedEvents();
  for (const auto& id : scanners) {
    ASSERT_GT(acked[id], 0u) << id;
    const auto& seqs = logged[id];
    for (uint64_t n = 1; n <= acked[id]; ++n) {
      auto it = seqs.find(n);
      ASSERT_TRUE(it != seqs.end()) << id << " acked seq " << n << " is missing";
      ASSERT_EQ(it->second, 1) << id << " seq " << n << " logged twice";
    }
    for (const auto& [seq, times] : seqs) {
      ASSERT_EQ(times, 1) << id << " seq " << seq << " logged twice";
      ASSERT_LE(seq, sent[id]) << id;
    }
    // The last round resumed and finished: the stream has no holes.
    EXPECT_EQ(seqs.size(), seqs.rbegin()->first) << id;
    std::printf("%s: sent up to %lu, acked %lu, logged %zu\n", id.c_str(),
                static_cast<unsigned long>(sent[id]), static_cast<unsigned long>(acked[id]),
                seqs.size());
  }
}

TEST_F(CrashTest, SigtermMidStreamAcksEverythingItReadAndExitsZero) {
  DaemonProcess hubd(db_);
  ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("SORTER-9"), 0);
  std::atomic<uint64_t> sent{0};
  std::thread writer([&] {
    for (uint64_t next = 1; next < 200'000; next += 100) {
      std::vector<v1::ScanEvent> chunk;
      for (int i = 0; i < 100; ++i) chunk.push_back(EventNumber("SORTER-9", next + i));
      c.SendAll(chunk);
      sent = next + 99;
    }
  });
  // Mid-stream: the daemon has answered some and is still being fed.
  const uint64_t seen = c.WaitForAck(2000);
  ASSERT_GE(seen, 2000u);
  // Read what the daemon answers while it drains, as a scanner does: a
  // client that stopped reading would leave the last answers in the
  // daemon's kernel send queue, which the reset that closes a socket with
  // unread input (the writer never stops) throws away. Those events are
  // durable and a re-send is acked again, but this test counts acks.
  auto closed = std::async(std::launch::async, [&c] { return c.WaitClosed(10'000); });
  const int rc = hubd.Terminate();
  EXPECT_TRUE(closed.get());
  // The writer may sit in a blocking send that the closed daemon will never
  // drain (its window was zero when it closed: the kernel only probes until
  // the orphaned socket times out, about two minutes). A scanner that saw
  // the close stops sending; so does this one.
  c.ShutdownSend();
  writer.join();
  EXPECT_EQ(rc, 0);
  const uint64_t acked = c.last_ack();
  EXPECT_GE(acked, seen);
  EXPECT_LT(acked, sent.load());  // the stream was cut, not finished
  // Durable is exactly what was acked: nothing acked is missing, and
  // nothing applied was left unanswered.
  auto logged = LoggedEvents();
  const auto& seqs = logged["SORTER-9"];
  ASSERT_EQ(seqs.size(), acked) << hubd.Log();
  EXPECT_EQ(seqs.rbegin()->first, acked);
}

// The ready line's replayed=N: log records recovery applied after the
// checkpoint.
uint64_t Replayed(const DaemonProcess& hubd) {
  const std::string log = hubd.Log();
  const auto at = log.find(" replayed=");
  return at == std::string::npos ? UINT64_MAX : std::stoull(log.substr(at + 10));
}

TEST_F(CrashTest, RestartAfterKillNineReplaysOnlySinceTheLastCheckpoint) {
  constexpr uint64_t kEvery = 2'000, kEvents = 24'000;
  const std::vector<std::string> flags = {"--checkpoint-records", std::to_string(kEvery),
                                          "--checkpoint-interval-s", "0"};
  {
    DaemonProcess hubd(db_, flags);
    ScanClient c(hubd.port());
    ASSERT_EQ(c.Hello("SORTER-1"), 0);
    for (uint64_t n = 1; n <= kEvents; n += 1'000) {
      std::vector<v1::ScanEvent> events;
      for (uint64_t k = n; k < n + 1'000; ++k) events.push_back(EventNumber("SORTER-1", k));
      c.SendAll(events);
      ASSERT_EQ(c.WaitForAck(n + 999), n + 999);
    }
    // The checkpoint taken last has time to be written (a kill at any
    // moment is the random crash test's).
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    hubd.Kill();
  }
  uint64_t replayed = 0;
  {
    DaemonProcess hubd(db_, flags);
    replayed = Replayed(hubd);
    std::printf("after %llu records: replayed %llu\n", static_cast<unsigned long long>(kEvents),
                static_cast<unsigned long long>(replayed));
    EXPECT_LT(replayed, 2 * kEvery) << "recovery replayed (nearly) the whole log\n" << hubd.Log();
    // Killed again at once: what was replayed counts towards the next
    // checkpoint, so repeated crashes do not make the replay grow.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    hubd.Kill();
  }
  DaemonProcess hubd(db_, flags);
  EXPECT_LE(Replayed(hubd), replayed);
  ScanClient c(hubd.port());
  EXPECT_EQ(c.Hello("SORTER-1"), static_cast<int64_t>(kEvents)) << "nothing acked was lost";
  EXPECT_EQ(hubd.Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
