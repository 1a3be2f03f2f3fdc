// An operator's year with a real hubd on loopback: an online backup taken
// during flat-out ingest and restored, a start on a full disk, a disk that
// fills up while scanners send and frees up again, a torn WAL tail after
// kill -9, and a corrupt SST. Full disks are real ones where the machine
// allows it: a small tmpfs mounted in a mount namespace of hubd's own
// (unshare -rm), filled and emptied through /proc/PID/root.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <google/protobuf/util/json_util.h>

#include "hub/v1/admin.pb.h"
#include "hub/v1/views.pb.h"
#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

namespace fs = std::filesystem;
using testutil::DaemonProcess;
using testutil::HttpCall;
using testutil::ScanClient;

constexpr const char* kAdmin = "admin-secret-1";

// Scanner `id`'s event n: one parcel of its own each, so a parcel's trace
// is exactly one record.
v1::ScanEvent EventNumber(const std::string& scanner, uint64_t n) {
  testutil::Scanner s(scanner);
  s.Rewind(n - 1);
  const std::string p = scanner + "-P" + std::to_string(n);
  return n % 4 == 0 ? s.ParcelDamaged(p, n) : s.ParcelSorted(p, "D" + std::to_string(n % 7));
}

class OperatorTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    config_ = (dir_ / "hubd.toml").string();
    std::ofstream(config_) << "[[api.tokens]]\nname = \"ops\"\ntoken = \"" << kAdmin
                           << "\"\nrole = \"admin\"\n[[api.tokens]]\nname = \"viewer\"\n"
                              "token = \"viewer-secret\"\nrole = \"viewer\"\n";
  }

  // Scanners sending their streams flat out until `stop`, resuming from
  // the welcome after any close; acked[id] is the highest ack received.
  void Drive(uint16_t port, const std::vector<std::string>& ids,
             std::atomic<bool>& stop, std::map<std::string, uint64_t>& acked, std::mutex& mu,
             std::vector<std::thread>& threads) {
    for (const auto& id : ids) {
      threads.emplace_back([&, id, port] {
        while (!stop) {
         try {
          ScanClient c(port);
          const int64_t mark = c.Hello(id);
          if (mark < 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
          }
          {
            std::lock_guard<std::mutex> lock(mu);
            EXPECT_GE(static_cast<uint64_t>(mark), acked[id]) << id << ": an acked event was lost";
          }
          uint64_t next = static_cast<uint64_t>(mark) + 1;
          bool open = true;
          while (!stop && open) {
            std::vector<v1::ScanEvent> chunk;
            for (int i = 0; i < 32; ++i) chunk.push_back(EventNumber(id, next + i));
            next += 32;
            c.SendAll(chunk);
            v1::ServerFrame f;
            while (c.Read(&f, 0)) {
            }
            // Wait for this chunk's ack (or a close): a bounded window.
            const uint64_t a = c.WaitForAck(next - 1, nullptr, 2000);
            std::lock_guard<std::mutex> lock(mu);
            acked[id] = std::max(acked[id], c.last_ack());
            open = a >= next - 1;
          }
         } catch (const std::exception&) {
          // The daemon closed the connection under a write: reconnect.
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
         }
        }
      });
    }
  }

  std::string config_;
};

std::string Trace(uint16_t http, const std::string& parcel, int* status) {
  auto r = HttpCall(http, "GET", "/v1/parcels/" + parcel, "", kAdmin);
  *status = r.status;
  return r.body;
}

uint64_t TraceHubSeq(const std::string& json) {
  v1::ParcelTrace t;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(json, &t, o).ok() || t.entries().empty()) return 0;
  return t.entries(0).hub_seq();
}

// Every case with hub_seq <= through, as JSON lines, from the paged list.
std::vector<std::string> CasesThrough(uint16_t http, uint64_t through) {
  std::vector<std::string> out;
  uint64_t after = 0;
  for (;;) {
    auto r = HttpCall(http, "GET", "/v1/exceptions?limit=1000&after=" + std::to_string(after), "", kAdmin);
    EXPECT_EQ(r.status, 200) << r.body;
    v1::ExceptionPage page;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &page, testutil::kLenientJson).ok());
    for (const auto& c : page.exceptions())
      if (c.hub_seq() <= through) out.push_back(c.SerializeAsString());
    if (page.next_after() == 0) return out;
    after = page.next_after();
  }
}

TEST_F(OperatorTest, BackupDuringFlatOutIngestRestoresTheSameAnswersAtItsHubSeq) {
  auto hubd = std::make_unique<DaemonProcess>(db_, std::vector<std::string>{"--config", config_,
                                                                               "--durability", "wal"});
  ASSERT_NE(hubd->port(), 0);
  const std::vector<std::string> ids = {"SORTER-1", "SORTER-2", "TABLE-1"};
  std::atomic<bool> stop{false};
  std::map<std::string, uint64_t> acked;
  std::mutex mu;
  std::vector<std::thread> threads;
  const uint16_t port = hubd->port(), http = hubd->http_port();
  Drive(port, ids, stop, acked, mu, threads);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  std::map<std::string, uint64_t> acked_before;
  {
    std::lock_guard<std::mutex> lock(mu);
    acked_before = acked;
  }
  const std::string backup = (dir_ / "backup").string();
  auto cli = testutil::RunCommand(std::string(HUBCTL_PATH) + " --server 127.0.0.1:" +
                                  std::to_string(http) + " --token " + kAdmin +
                                  " --json admin backup " + backup);
  ASSERT_EQ(cli.code, 0) << cli.out;
  v1::BackupManifest manifest;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(cli.out, &manifest, testutil::kLenientJson).ok()) << cli.out;
  const uint64_t at = manifest.hub_seq();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // ingest goes on
  stop = true;
  for (auto& t : threads) t.join();
  for (const auto& id : ids) ASSERT_GT(acked_before[id], 100u) << id << " was not flat out";
  std::printf("backup at hub_seq %llu in %.3f s (%d files, %llu bytes); acked before it: %llu %llu %llu\n",
              static_cast<unsigned long long>(at), manifest.seconds(), manifest.files_size(),
              static_cast<unsigned long long>(manifest.total_bytes()),
              static_cast<unsigned long long>(acked_before[ids[0]]),
              static_cast<unsigned long long>(acked_before[ids[1]]),
              static_cast<unsigned long long>(acked_before[ids[2]]));

  // The API refuses what it must, with a clear error.
  auto again = HttpCall(http, "POST", "/v1/admin/backup", "{\"dir\":\"" + backup + "\"}", kAdmin);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("already exists"), std::string::npos);
  EXPECT_EQ(HttpCall(http, "POST", "/v1/admin/backup", "{\"dir\":\"rel\"}", kAdmin).status, 400);
  EXPECT_EQ(HttpCall(http, "POST", "/v1/admin/backup", "{}", kAdmin).status, 400);
  EXPECT_EQ(HttpCall(http, "POST", "/v1/admin/backup", "{\"dir\":\"/tmp/x\"}", "viewer-secret").status, 403);

  // Restore into a new directory; a non-empty one is refused.
  const std::string restored = (dir_ / "restored").string();
  auto refused = testutil::RunCommand(std::string(testutil::HubdPath()) + " --restore-from " +
                                      backup + " --data-dir " + db_);
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_NE(refused.out.find("not empty"), std::string::npos) << refused.out;
  auto restore = testutil::RunCommand(std::string(testutil::HubdPath()) + " --restore-from " +
                                      backup + " --data-dir " + restored);
  ASSERT_EQ(restore.code, 0) << restore.out;
  EXPECT_NE(restore.out.find("event=restored"), std::string::npos) << restore.out;
  DaemonProcess copy(restored, {"--config", config_});
  ASSERT_NE(copy.port(), 0);

  // Every acked event: in the copy exactly when its hub_seq is at or below
  // the backup's, with the same trace; everything acked before the backup
  // began is in it. A scanner's hub_seqs grow with its seqs, so the
  // boundary is found by bisection; every event within 150 seqs of it and
  // every 97th elsewhere is compared (two HTTP calls each).
  size_t in = 0, out = 0;
  auto hub_seq_of = [&](const std::string& id, uint64_t n) {
    int status = 0;
    const std::string trace = Trace(http, id + "-P" + std::to_string(n), &status);
    EXPECT_EQ(status, 200) << id << " seq " << n << " acked but not traceable";
    return TraceHubSeq(trace);
  };
  for (const auto& id : ids) {
    ASSERT_LE(hub_seq_of(id, acked_before[id]), at) << id << " acked before the backup began";
    uint64_t lo = acked_before[id], hi = acked[id] + 1;  // h(lo) <= at; h(hi) > at or past the end
    while (hi - lo > 1) {
      const uint64_t mid = lo + (hi - lo) / 2;
      (hub_seq_of(id, mid) <= at ? lo : hi) = mid;
    }
    for (uint64_t n = 1; n <= acked[id]; ++n) {
      if (n + 150 < lo || n > lo + 150) {
        if (n % 97 != 0) continue;
      }
      const std::string parcel = id + "-P" + std::to_string(n);
      int status = 0;
      const std::string original = Trace(http, parcel, &status);
      ASSERT_EQ(status, 200) << parcel << " acked but not traceable";
      const uint64_t h = TraceHubSeq(original);
      ASSERT_GT(h, 0u);
      ASSERT_EQ(h <= at, n <= lo) << parcel << ": hub_seq " << h << " out of its scanner's order";
      int copy_status = 0;
      const std::string restored_trace = Trace(copy.http_port(), parcel, &copy_status);
      if (h <= at) {
        ASSERT_EQ(copy_status, 200) << parcel << " hub_seq " << h << " missing from the backup at " << at;
        EXPECT_EQ(restored_trace, original) << parcel;
        ++in;
      } else {
        EXPECT_EQ(copy_status, 404) << parcel << " hub_seq " << h << " is after the backup at " << at;
        ++out;
      }
    }
  }
  EXPECT_GT(in, 100u);
  EXPECT_GT(out, 10u);
  // The worklist: the same cases up to the backup's hub_seq, none after.
  const auto original_cases = CasesThrough(http, at);
  EXPECT_EQ(CasesThrough(copy.http_port(), UINT64_MAX), original_cases);
  EXPECT_GT(original_cases.size(), 50u);
  auto summary = HttpCall(copy.http_port(), "GET", "/v1/summary", "", kAdmin);
  EXPECT_NE(summary.body.find("\"hub_seq\":\"" + std::to_string(at) + "\""), std::string::npos)
      << summary.body;
  EXPECT_EQ(copy.Terminate(), 0);
  EXPECT_EQ(hubd->Terminate(), 0);
}

// --- full disks -------------------------------------------------------------

// True when this machine lets a test mount a tmpfs in a namespace of its own.
bool CanMountTmpfs(const std::string& at) {
  fs::create_directories(at);
  return testutil::RunCommand("unshare -rm sh -c 'mount -t tmpfs -o size=1m tmpfs " + at + "'")
             .code == 0;
}

TEST_F(OperatorTest, StartOnAFullDiskIsRefusedWithExitCode3AndNoAbort) {
  const std::string mnt = (dir_ / "mnt").string();
  if (!CanMountTmpfs(mnt)) GTEST_SKIP() << "cannot mount a tmpfs here (unshare -rm)";
  // An 8 MiB file system with 7 MiB taken: RocksDB could create its files
  // but not much more; hubd refuses before it tries.
  auto r = testutil::RunCommand(
      "unshare -rm sh -c 'mount -t tmpfs -o size=8m tmpfs " + mnt + " && dd if=/dev/zero of=" +
      mnt + "/fill bs=1M count=7 2>/dev/null; exec " + testutil::HubdPath() + " --data-dir " + mnt +
      "/db --listen 127.0.0.1:0 --http 127.0.0.1:0'");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("event=disk_full stage=start"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("free space on the data directory"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Assertion"), std::string::npos) << r.out;
}

TEST_F(OperatorTest, ADiskThatFillsWhileScannersSendResumesOnceSpaceIsFreedLosingNoAck) {
  const std::string mnt = (dir_ / "mnt").string();
  if (!CanMountTmpfs(mnt)) GTEST_SKIP() << "cannot mount a tmpfs here (unshare -rm)";
  DaemonProcess hubd(mnt + "/db", {"--durability", "fsync", "--config", config_},
                     {"unshare", "-rm", "sh", "-c",
                      "mount -t tmpfs -o size=160m tmpfs " + mnt + " && exec \"$0\" \"$@\""});
  ASSERT_NE(hubd.port(), 0) << hubd.Log();
  const std::string inside = "/proc/" + std::to_string(hubd.pid()) + "/root" + mnt;
  ASSERT_TRUE(fs::exists(inside + "/db/CURRENT")) << inside;
  const std::vector<std::string> ids = {"SORTER-1", "SORTER-2"};
  std::atomic<bool> stop{false};
  std::map<std::string, uint64_t> acked;
  std::mutex mu;
  std::vector<std::thread> threads;
  const uint16_t port = hubd.port(), http = hubd.http_port();
  Drive(port, ids, stop, acked, mu, threads);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  // Fill the file system until 16 MiB are left: below hubd's low-disk
  // guard (32 MiB), so commits stop before RocksDB itself meets ENOSPC
  // (Debian's librocksdb aborts on an assertion when it does; filling to
  // the last byte at once races a write in flight into exactly that).
  {
    const uint64_t free = fs::space(inside).available;
    ASSERT_GT(free, uint64_t{40} << 20);
    std::ofstream fill(inside + "/fill", std::ios::binary);
    std::string block(1 << 20, 'x');
    for (uint64_t left = free - (uint64_t{16} << 20); left >= block.size(); left -= block.size())
      fill.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  bool unhealthy = false;
  for (int i = 0; i < 200 && !unhealthy; ++i) {
    unhealthy = HttpCall(http, "GET", "/healthz").status == 503;
    if (!unhealthy) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!unhealthy) {
    stop = true;
    for (auto& t : threads) t.join();
    FAIL() << "no write failed on a full disk:\n" << hubd.Log();
  }
  uint64_t acked_at_full = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [id, a] : acked) acked_at_full += a;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  {
    std::lock_guard<std::mutex> lock(mu);
    uint64_t now = 0;
    for (const auto& [id, a] : acked) now += a;
    EXPECT_LE(now, acked_at_full + 64) << "acks went on on a full disk";
  }
  fs::remove(inside + "/fill");  // the operator frees space
  bool healthy = false;
  for (int i = 0; i < 600 && !healthy; ++i) {
    healthy = HttpCall(http, "GET", "/healthz").status == 200;
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!healthy) {
    stop = true;
    for (auto& t : threads) t.join();
    FAIL() << "hubd did not resume:\n" << hubd.Log();
  }
  std::map<std::string, uint64_t> acked_at_resume;
  {
    std::lock_guard<std::mutex> lock(mu);
    acked_at_resume = acked;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  stop = true;
  for (auto& t : threads) t.join();
  for (const auto& id : ids) EXPECT_GT(acked[id], acked_at_resume[id] + 32) << id << " did not resume";
  const std::string log = hubd.Log();
  EXPECT_NE(log.find("event=commit_failed"), std::string::npos);
  EXPECT_NE(log.find("event=store_resumed"), std::string::npos);
  EXPECT_EQ(log.find("Assertion"), std::string::npos) << log;
  auto metrics = HttpCall(http, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("hubd_store_resumes_total 1"), std::string::npos);

  // Every acked event is there once, and in each scanner's order.
  for (const auto& id : ids) {
    uint64_t previous = 0;
    for (uint64_t n = 1; n <= acked[id]; ++n) {
      int status = 0;
      const std::string trace = Trace(http, id + "-P" + std::to_string(n), &status);
      ASSERT_EQ(status, 200) << id << " acked seq " << n << " was lost";
      v1::ParcelTrace t;
      google::protobuf::util::JsonParseOptions o;
      o.ignore_unknown_fields = true;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(trace, &t, o).ok());
      ASSERT_EQ(t.entries_size(), 1) << id << " seq " << n << " applied twice";
      ASSERT_GT(t.entries(0).hub_seq(), previous) << id << " seq " << n << " out of order";
      previous = t.entries(0).hub_seq();
    }
  }
  EXPECT_EQ(hubd.Terminate(), 0) << hubd.Log();
}

// --- a damaged data directory ----------------------------------------------------

void Ingest(uint16_t port, const std::string& id, uint64_t n) {
  ScanClient c(port);
  ASSERT_EQ(c.Hello(id), 0);
  // In chunks of 50, each acked before the next: several group commits.
  for (uint64_t from = 1; from <= n; from += 50) {
    std::vector<v1::ScanEvent> events;
    for (uint64_t i = from; i < from + 50 && i <= n; ++i) events.push_back(EventNumber(id, i));
    c.SendAll(events);
    ASSERT_EQ(c.WaitForAck(events.back().seq()), events.back().seq());
  }
}

TEST_F(OperatorTest, ATornWalTailIsLoggedAndCountedAtTheNextStart) {
  {
    DaemonProcess hubd(db_, {"--durability", "wal"});
    Ingest(hubd.port(), "SORTER-1", 300);
    hubd.Kill();  // kill -9: the last records are only in the WAL
  }
  std::string wal;
  for (const auto& e : fs::directory_iterator(db_))
    if (e.path().extension() == ".log" && e.path().string() > wal) wal = e.path().string();
  ASSERT_FALSE(wal.empty());
  fs::resize_file(wal, fs::file_size(wal) - 10);  // as a power cut tears it
  DaemonProcess hubd(db_);
  ASSERT_NE(hubd.port(), 0) << hubd.Log();
  const std::string log = hubd.Log();
  EXPECT_NE(log.find("event=wal_tail_dropped batches=1 "), std::string::npos) << log;
  EXPECT_NE(log.find("reason=\"truncated record (torn write)\""), std::string::npos) << log;
  auto metrics = HttpCall(hubd.http_port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("hubd_wal_tail_dropped_batches_total 1\n"), std::string::npos);
  ScanClient c(hubd.port());
  const int64_t mark = c.Hello("SORTER-1");
  EXPECT_GE(mark, 250);  // the earlier group commits are all there
  EXPECT_LT(mark, 300);  // the torn batch is gone; the scanner re-sends from here
  EXPECT_EQ(hubd.Terminate(), 0);
  DaemonProcess clean(db_);  // a clean stop: nothing dropped the next time
  EXPECT_EQ(clean.Log().find("event=wal_tail_dropped"), std::string::npos);
  EXPECT_EQ(clean.Terminate(), 0);
}

TEST_F(OperatorTest, ACorruptSstIsRefusedWithExitCode4AndTheRestoreCommand) {
  const std::string backup = (dir_ / "backup").string();
  {
    DaemonProcess hubd(db_, {"--config", config_});
    Ingest(hubd.port(), "SORTER-1", 200);
    ASSERT_EQ(HttpCall(hubd.http_port(), "POST", "/v1/admin/backup",
                       "{\"dir\":\"" + backup + "\"}", kAdmin).status, 200);
    ASSERT_EQ(hubd.Terminate(), 0);  // a clean stop flushes everything into SST files
  }
  std::string sst;
  uintmax_t biggest = 0;
  for (const auto& e : fs::directory_iterator(db_))
    if (e.path().extension() == ".sst" && e.file_size() > biggest) {
      biggest = e.file_size();
      sst = e.path().string();
    }
  ASSERT_FALSE(sst.empty());
  {
    // The SST's hard link in the backup shares the bytes: unlink it first,
    // as a disk error would damage only the data directory's copy.
    const std::string copy = sst + ".copy";
    fs::copy_file(sst, copy);
    fs::rename(copy, sst);
    std::fstream f(sst, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(biggest - 40));
    const std::string junk(30, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto r = testutil::RunCommand(std::string(testutil::HubdPath()) + " --data-dir " + db_ +
                                " --listen 127.0.0.1:0 --http 127.0.0.1:0");
  EXPECT_EQ(r.code, 4) << r.out;
  EXPECT_NE(r.out.find("event=store_corrupt"), std::string::npos) << r.out;
  const std::string command = "hubd --restore-from " + backup + " --data-dir " + db_ + ".restored";
  EXPECT_NE(r.out.find(command), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Assertion"), std::string::npos) << r.out;
  // The way out works as printed.
  auto restore = testutil::RunCommand(std::string(testutil::HubdPath()) + " --restore-from " +
                                      backup + " --data-dir " + db_ + ".restored");
  ASSERT_EQ(restore.code, 0) << restore.out;
  DaemonProcess restored(db_ + ".restored");
  ASSERT_NE(restored.port(), 0);
  ScanClient c(restored.port());
  EXPECT_EQ(c.Hello("SORTER-1"), 200);
  EXPECT_EQ(restored.Terminate(), 0);
  fs::remove_all(db_ + ".restored");
}

}  // namespace
}  // namespace hub::testing
