// What an operator meets after a year of running, against a real RocksDB in
// a temporary directory: online backup and restore, a full disk that frees
// up again (through the store's fault seam, store/fault_fs.h), a torn WAL
// tail after a crash, and a corrupt SST.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "store/backup.h"
#include "store/fault_fs.h"
#include "store/rocksdb_store.h"
#include "testutil/events.h"

namespace hub::testing {
namespace {

namespace fs = std::filesystem;
using store::RocksDbStore;
using Outcome = core::ApplyResult::Outcome;

class StoreOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("hubd-store-ops-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    path_ = (root_ / "db").string();
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(root_);
  }
  void Open(std::shared_ptr<store::FaultInjection> faults = nullptr) {
    store::StoreOptions o;
    o.path = path_;
    o.faults = std::move(faults);
    store::Status s = RocksDbStore::Open(o, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Applies `n` events of scanner S1 (its next seqs) and commits them in
  // groups of `group`; returns the last commit's status.
  store::Status Ingest(core::HubState& hub, testutil::Scanner& s, int n, int group = 10) {
    store::CommitBatch batch(db_.get());
    core::ApplyResult r;
    store::Status last;
    for (int i = 0; i < n; ++i) {
      const uint64_t k = s.seq() + 1;
      auto e = k % 3 == 0 ? s.ParcelDamaged("P" + std::to_string(k), k)
                          : s.ParcelSorted("P" + std::to_string(k), "D1");
      hub.ApplyEvent(e, &r);
      EXPECT_EQ(r.outcome, Outcome::kApplied) << r.reject_reason;
      batch.AddEvent(e, &r);
      if (batch.records() >= static_cast<size_t>(group)) {
        last = db_->Commit(&batch);
        if (!last.ok()) return last;
      }
    }
    return batch.empty() ? last : db_->Commit(&batch);
  }

  // (hub_seq, scanner seq) of every logged event, in log order.
  static std::vector<std::pair<uint64_t, uint64_t>> Logged(RocksDbStore* db) {
    std::vector<v1::LogRecord> log;
    EXPECT_TRUE(db->ReadLog(1, 1'000'000, &log).ok());
    std::vector<std::pair<uint64_t, uint64_t>> out;
    for (const auto& rec : log) out.emplace_back(rec.hub_seq(), rec.event().seq());
    return out;
  }

  fs::path root_;
  std::string path_;
  std::unique_ptr<RocksDbStore> db_;
};

TEST_F(StoreOpsTest, BackupHoldsEveryCommitBeforeItAndRestoresToItsHubSeq) {
  Open();
  core::HubState hub;
  testutil::Scanner s("S1");
  ASSERT_TRUE(Ingest(hub, s, 500).ok());
  const std::string backup = (root_ / "backup").string();
  v1::BackupManifest m;
  store::Status st = db_->Backup(backup, &m);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(m.hub_seq(), 500u);
  EXPECT_EQ(m.store_format(), store::kStoreFormat);
  EXPECT_FALSE(m.files().empty());
  EXPECT_TRUE(fs::exists(backup + "/" + store::kBackupManifestName));
  ASSERT_TRUE(Ingest(hub, s, 100).ok());  // after the backup: not in it
  std::vector<v1::ExceptionCase> cases_before;
  ASSERT_TRUE(db_->AllCases(&cases_before).ok());

  const std::string restored = (root_ / "restored").string();
  v1::BackupManifest checked;
  st = store::RestoreBackup(backup, restored, &checked);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(checked.hub_seq(), 500u);
  EXPECT_FALSE(fs::exists(restored + "/" + store::kBackupManifestName));
  std::unique_ptr<RocksDbStore> copy;
  store::StoreOptions o;
  o.path = restored;
  ASSERT_TRUE(RocksDbStore::Open(o, &copy).ok());
  core::HubState again;
  ASSERT_TRUE(copy->Recover(&again).ok());
  EXPECT_EQ(again.last_hub_seq(), 500u);
  EXPECT_EQ(again.ScannerMark("S1"), 500u);
  auto logged = Logged(copy.get());
  ASSERT_EQ(logged.size(), 500u);
  for (size_t i = 0; i < logged.size(); ++i) EXPECT_EQ(logged[i].first, i + 1);
  // The cases of the first 500 events, exactly as the original has them.
  std::vector<v1::ExceptionCase> cases;
  ASSERT_TRUE(copy->AllCases(&cases).ok());
  size_t expected = 0;
  for (const auto& c : cases_before) {
    if (c.hub_seq() > 500) continue;
    ASSERT_LT(expected, cases.size());
    EXPECT_EQ(cases[expected++].SerializeAsString(), c.SerializeAsString());
  }
  EXPECT_EQ(expected, cases.size());
  EXPECT_GT(expected, 100u);
}

TEST_F(StoreOpsTest, BackupRefusesAnExistingOrRelativeDirectory) {
  Open();
  v1::BackupManifest m;
  fs::create_directories(root_ / "taken");
  store::Status s = db_->Backup((root_ / "taken").string(), &m);
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();
  EXPECT_NE(s.message().find("already exists"), std::string::npos);
  s = db_->Backup("relative/dir", &m);
  EXPECT_EQ(s.code(), store::Status::Code::kInvalidArgument) << s.ToString();
  s = db_->Backup((root_ / "no-parent" / "backup").string(), &m);
  EXPECT_EQ(s.code(), store::Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_FALSE(fs::exists(root_ / "no-parent"));
}

TEST_F(StoreOpsTest, RestoreRefusesANonEmptyTargetAndACorruptOrUnfinishedBackup) {
  Open();
  core::HubState hub;
  testutil::Scanner s("S1");
  ASSERT_TRUE(Ingest(hub, s, 50).ok());
  const std::string backup = (root_ / "backup").string();
  v1::BackupManifest m;
  ASSERT_TRUE(db_->Backup(backup, &m).ok());

  fs::create_directories(root_ / "busy");
  std::ofstream(root_ / "busy" / "x") << "x";
  store::Status st = store::RestoreBackup(backup, (root_ / "busy").string(), &m);
  EXPECT_EQ(st.code(), store::Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("not empty"), std::string::npos);

  // One flipped byte in one file of the backup: named, and nothing restored.
  std::string victim;
  for (const auto& f : m.files())
    if (f.name().find(".sst") != std::string::npos) victim = f.name();
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(backup + "/" + victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(10);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    f.seekp(10);
    f.write(&c, 1);
  }
  const std::string target = (root_ / "restored").string();
  st = store::RestoreBackup(backup, target, &m);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find(victim), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(fs::exists(target + ".restoring"));

  fs::remove(backup + "/" + store::kBackupManifestName);
  st = store::RestoreBackup(backup, target, &m);
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();
  EXPECT_NE(st.message().find("did not finish"), std::string::npos);
}

TEST_F(StoreOpsTest, AFullDiskFailsCommitsUntilSpaceReturnsThenResumesLosingNothing) {
  auto faults = std::make_shared<store::FaultInjection>();
  Open(faults);
  core::HubState hub;
  testutil::Scanner s("S1");
  ASSERT_TRUE(Ingest(hub, s, 100).ok());

  faults->SetNoSpace(true);
  store::Status st = Ingest(hub, s, 10);  // applied in memory, refused on disk
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.IsNoSpace()) << st.ToString();
  EXPECT_TRUE(db_->failed());
  EXPECT_FALSE(db_->TryResume().ok());  // still full
  EXPECT_TRUE(db_->failed());
  EXPECT_GT(faults->refused(), 0u);

  faults->SetNoSpace(false);  // an operator freed space
  // RocksDB may be in the middle of its own attempt: ask again until it
  // writes (a bounded wait).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!(st = db_->TryResume()).ok() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(db_->failed());
  ASSERT_TRUE(db_->Reload(&hub).ok());
  EXPECT_EQ(hub.last_hub_seq(), 100u);  // the refused batch is gone from memory too
  EXPECT_EQ(hub.ScannerMark("S1"), 100u);
  s.Rewind(100);  // the scanner re-sends what was refused
  ASSERT_TRUE(Ingest(hub, s, 50).ok());

  db_.reset();
  Open();
  core::HubState recovered;
  ASSERT_TRUE(db_->Recover(&recovered).ok());
  EXPECT_EQ(recovered.last_hub_seq(), 150u);
  auto logged = Logged(db_.get());
  ASSERT_EQ(logged.size(), 150u);
  for (size_t i = 0; i < logged.size(); ++i) {
    EXPECT_EQ(logged[i].first, i + 1);   // no hole, no reuse
    EXPECT_EQ(logged[i].second, i + 1);  // the scanner's order
  }
}

// A child that commits `batches` groups of 10 events and dies without
// closing the store, as under kill -9: the WAL holds the tail.
void CommitAndDie(const std::string& path, int batches) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::unique_ptr<RocksDbStore> db;
    store::StoreOptions o;
    o.path = path;
    if (!RocksDbStore::Open(o, &db).ok()) ::_exit(2);
    core::HubState hub;
    if (!db->Recover(&hub).ok()) ::_exit(3);
    testutil::Scanner s("S1");
    s.Rewind(hub.ScannerMark("S1"));
    store::CommitBatch batch(db.get());
    core::ApplyResult r;
    for (int b = 0; b < batches; ++b) {
      for (int i = 0; i < 10; ++i) {
        auto e = s.ParcelSorted("P" + std::to_string(s.seq() + 1), "D1");
        hub.ApplyEvent(e, &r);
        batch.AddEvent(e, &r);
      }
      if (!db->Commit(&batch).ok()) ::_exit(4);
    }
    ::_exit(0);  // no flush, no close
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

std::string NewestWal(const std::string& dir) {
  std::string newest;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".log" && e.path().string() > newest) newest = e.path().string();
  return newest;
}

TEST_F(StoreOpsTest, ATornWalTailIsReportedWithWhatWasDropped) {
  CommitAndDie(path_, 20);  // hub_seq 1..200 in the WAL, 10 per batch
  const std::string wal = NewestWal(path_);
  ASSERT_FALSE(wal.empty());
  fs::resize_file(wal, fs::file_size(wal) - 25);  // the last batch, torn
  Open();
  const auto& loss = db_->wal_tail_loss();
  ASSERT_TRUE(loss.has_value());
  EXPECT_EQ(loss->batches, 1u);
  EXPECT_NE(loss->reason.find("truncated"), std::string::npos) << loss->reason;
  EXPECT_EQ(loss->wal_file, fs::path(wal).filename().string());
  core::HubState hub;
  ASSERT_TRUE(db_->Recover(&hub).ok());
  EXPECT_EQ(hub.last_hub_seq(), 190u);  // a prefix: everything before the torn batch
}

TEST_F(StoreOpsTest, ACorruptWalRecordDropsTheRestAndNamesItsHubSeqs) {
  CommitAndDie(path_, 20);
  const std::string wal = NewestWal(path_);
  // Find the batch that holds hub_seq 101's key and spoil one byte of it.
  std::string data;
  {
    std::ifstream in(wal, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string key(8, '\0');
  key[7] = 101;
  const size_t at = data.find(key);
  ASSERT_NE(at, std::string::npos);
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at + 9));
    const char x = static_cast<char>(data[at + 9] ^ 0x5a);
    f.write(&x, 1);
  }
  Open();
  const auto& loss = db_->wal_tail_loss();
  ASSERT_TRUE(loss.has_value());
  EXPECT_EQ(loss->reason, "checksum mismatch");
  EXPECT_EQ(loss->batches, 10u);  // hub_seq 101..200: the bad batch and the 9 after it
  EXPECT_EQ(loss->first_hub_seq, 111u);  // decodable: the batches after the bad one
  EXPECT_EQ(loss->last_hub_seq, 200u);
  core::HubState hub;
  ASSERT_TRUE(db_->Recover(&hub).ok());
  EXPECT_EQ(hub.last_hub_seq(), 100u);
}

TEST_F(StoreOpsTest, ACleanStopReportsNoWalLoss) {
  CommitAndDie(path_, 5);
  Open();
  EXPECT_FALSE(db_->wal_tail_loss().has_value());
  db_.reset();
  Open();
  EXPECT_FALSE(db_->wal_tail_loss().has_value());
}

}  // namespace
}  // namespace hub::testing
