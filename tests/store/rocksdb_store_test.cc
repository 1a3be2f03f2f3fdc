#include "store/rocksdb_store.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <filesystem>
#include <map>

#include "core/views.h"
#include "store/fault_fs.h"
#include "testutil/events.h"

namespace hub::testing {
namespace {

namespace fs = std::filesystem;
using store::RocksDbStore;
using Outcome = core::ApplyResult::Outcome;

// A real RocksDB in a fresh temporary directory, removed afterwards.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hubd-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  void Open(bool drop_archive_jobs = false) {
    store::StoreOptions options;
    options.path = dir_.string();
    if (drop_archive_jobs) {
      options.faults = std::make_shared<store::FaultInjection>();
      options.faults->SetDropArchiveJobs(true);
    }
    ASSERT_TRUE(RocksDbStore::Open(options, &db_).ok());
  }
  void Reopen(bool drop_archive_jobs = false) {
    db_.reset();
    Open(drop_archive_jobs);
  }
  // Reopens the store with a fault seam whose archive writer (which also
  // keeps the live index) is held until the test lets it go.
  std::shared_ptr<store::FaultInjection> ReopenWithTheArchiveWriterHeld() {
    db_.reset();
    store::StoreOptions options;
    options.path = dir_.string();
    options.faults = std::make_shared<store::FaultInjection>();
    EXPECT_TRUE(RocksDbStore::Open(options, &db_).ok());
    options.faults->SetHoldArchiveWriter(true);
    return options.faults;
  }

  // Applies records to `hub` and commits them in groups of `group`, the way
  // the sequencer does; collects every raised case.
  void ApplyAndCommit(core::HubState& hub, const std::vector<v1::LogRecord>& records,
                      size_t group = 64) {
    store::CommitBatch batch(db_.get());
    core::ApplyResult r;
    for (const auto& rec : records) {
      hub.Apply(rec, &r);
      ASSERT_EQ(r.outcome, Outcome::kApplied) << r.reject_reason;
      for (const auto& c : r.raised) raised_[c.id()] = c;
      batch.Add(rec, &r);
      if (batch.records() >= group) {
        ASSERT_TRUE(db_->Commit(&batch).ok());
      }
    }
    ASSERT_TRUE(db_->Commit(&batch).ok());
  }

  // Ids of the cases of one type and status, via the paging index.
  std::vector<uint64_t> TypeIds(v1::ExceptionType type, v1::ExceptionStatus status,
                                const store::ReadView* view = nullptr) {
    std::vector<v1::ExceptionCase> cases;
    EXPECT_TRUE(db_->CasesByType(type, {status}, 0, SIZE_MAX, [](const auto&) { return true; },
                                 &cases, view).ok());
    std::vector<uint64_t> ids;
    for (const auto& c : cases) ids.push_back(c.id());
    return ids;
  }

  std::string StoredCases() {
    std::vector<v1::ExceptionCase> cases;
    EXPECT_TRUE(db_->AllCases(&cases).ok());
    std::string s;
    for (const auto& c : cases) s += c.SerializeAsString();
    return s;
  }

  fs::path dir_;
  std::unique_ptr<RocksDbStore> db_;
  std::map<uint64_t, v1::ExceptionCase> raised_;
};

std::string Bytes(const core::HubState& hub) { return hub.Snapshot().SerializeAsString(); }

TEST_F(StoreTest, ReopenRebuildsExactlyTheStateCasesAndMarks) {
  const auto records = testutil::GenerateDay(5, 8'000);
  core::HubState hub;
  ApplyAndCommit(hub, {records.begin(), records.begin() + 3'000});
  ASSERT_TRUE(db_->WriteCheckpoint(hub.Snapshot()).ok());
  ApplyAndCommit(hub, {records.begin() + 3'000, records.end()});
  Reopen();

  core::HubState recovered;
  uint64_t replayed = 0;
  ASSERT_TRUE(db_->Recover(&recovered, &replayed).ok());
  EXPECT_EQ(replayed, records.size() - 3'000);
  EXPECT_EQ(Bytes(recovered), Bytes(hub));

  // Every raised case is stored, in id order, exactly as raised.
  std::string expected;
  for (const auto& [id, c] : raised_) expected += c.SerializeAsString();
  EXPECT_FALSE(raised_.empty());
  EXPECT_EQ(StoredCases(), expected);

  // The stored high-water marks are the core's.
  std::vector<v1::ScannerMark> marks;
  ASSERT_TRUE(db_->ScannerMarks(&marks).ok());
  ASSERT_FALSE(marks.empty());
  for (const auto& m : marks) EXPECT_EQ(recovered.ScannerMark(m.scanner_id()), m.seq());
  EXPECT_EQ(marks.size(), static_cast<size_t>(recovered.Snapshot().scanners_size()));

  uint64_t last = 0;
  ASSERT_TRUE(db_->LastHubSeq(&last).ok());
  EXPECT_EQ(last, hub.last_hub_seq());
}

TEST_F(StoreTest, RecoveryWithoutCheckpointReplaysTheWholeLog) {
  const auto records = testutil::GenerateDay(6, 4'000);
  core::HubState hub;
  ApplyAndCommit(hub, records, /*group=*/1);
  Reopen();
  core::HubState recovered;
  uint64_t replayed = 0;
  ASSERT_TRUE(db_->Recover(&recovered, &replayed).ok());
  EXPECT_EQ(replayed, records.size());
  EXPECT_EQ(Bytes(recovered), Bytes(hub));
}

TEST_F(StoreTest, ReplayingDurablePrefixAfterReopenChangesNothing) {
  const auto records = testutil::GenerateDay(8, 4'000);
  core::HubState hub;
  ApplyAndCommit(hub, records);
  Reopen();
  core::HubState recovered;
  ASSERT_TRUE(db_->Recover(&recovered).ok());
  const std::string state_before = Bytes(recovered);
  const std::string cases_before = StoredCases();
  uint64_t last_before = 0;
  ASSERT_TRUE(db_->LastHubSeq(&last_before).ok());

  // Scanners re-send everything they sent: each is a duplicate, nothing is
  // logged, no case is raised, the state is untouched.
  store::CommitBatch batch(db_.get());
  core::ApplyResult r;
  for (const auto& rec : records) {
    if (!rec.has_event()) continue;
    recovered.ApplyEvent(rec.event(), &r);
    EXPECT_EQ(r.outcome, Outcome::kDuplicate);
    batch.AddEvent(rec.event(), &r);
  }
  EXPECT_TRUE(batch.empty());
  ASSERT_TRUE(db_->Commit(&batch).ok());
  uint64_t last_after = 0;
  ASSERT_TRUE(db_->LastHubSeq(&last_after).ok());
  EXPECT_EQ(last_after, last_before);
  EXPECT_EQ(Bytes(recovered), state_before);
  EXPECT_EQ(StoredCases(), cases_before);
}

TEST_F(StoreTest, LogHoldsEveryAppliedRecordInHubOrderWithItsDecisionAndDispatch) {
  const auto records = testutil::GenerateDay(9, 1'000);
  core::HubState hub, again;
  ApplyAndCommit(hub, records);
  std::vector<v1::LogRecord> log;
  ASSERT_TRUE(db_->ReadLog(1, records.size() + 10, &log).ok());
  ASSERT_EQ(log.size(), records.size());
  core::ApplyResult r;
  size_t decisions = 0, dispatches = 0;
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].hub_seq(), i + 1);
    v1::LogRecord expected = records[i];
    expected.set_hub_seq(i + 1);
    again.Apply(records[i], &r);
    if (r.has_decision) {
      *expected.mutable_decision() = r.decision;
      ++decisions;
    }
    if (r.dispatch) {
      *expected.mutable_dispatch() = *r.dispatch;
      ++dispatches;
    }
    ASSERT_EQ(log[i].SerializeAsString(), expected.SerializeAsString()) << "at " << i;
  }
  EXPECT_GT(decisions, 100u);
  EXPECT_GT(dispatches, 0u);
}

TEST_F(StoreTest, CaseIndexesFindCasesByTypeStatusAndEntity) {
  testutil::Scanner desk("DESK-1"), table("TABLE-1");
  core::HubState hub;
  std::vector<v1::LogRecord> records = {
      testutil::Record(desk.ParcelDamaged("P1", 10)),
      testutil::Record(table.ParcelUnbagged("P2", "B1")),
      testutil::Record(table.ParcelUnbagged("P2", "B2")),  // DUPLICATE_PARCEL
      testutil::Record(desk.ParcelDamaged("P2", 20)),
  };
  ApplyAndCommit(hub, records);
  std::vector<uint64_t> ids;
  ids = TypeIds(v1::DAMAGED, v1::OPEN);
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 3}));
  ASSERT_TRUE(db_->CaseIdsForEntity(store::keys::Kind::kParcel, "P2", &ids).ok());
  EXPECT_EQ(ids, (std::vector<uint64_t>{2, 3}));
  ASSERT_TRUE(db_->CaseIdsForEntity(store::keys::Kind::kBag, "B1", &ids).ok());
  EXPECT_TRUE(ids.empty());
  ASSERT_TRUE(db_->CaseIdsForEntity(store::keys::Kind::kBag, "B2", &ids).ok());
  EXPECT_EQ(ids, (std::vector<uint64_t>{2, 3}));  // the damage names the bag it came from
  ASSERT_TRUE(db_->CaseIdsForEntity(store::keys::Kind::kParcel, "P", &ids).ok());
  EXPECT_TRUE(ids.empty());  // no prefix bleed between ids
}

TEST_F(StoreTest, CasesByTypePageInIdOrderAcrossStatuses) {
  testutil::Scanner desk("DESK-1");
  core::HubState hub;
  std::vector<v1::LogRecord> records;
  for (int i = 1; i <= 5; ++i) records.push_back(testutil::Record(desk.ParcelDamaged("P" + std::to_string(i), 10)));
  records.push_back(testutil::Record(desk.ParcelSorted("", "")));  // a NO_READ, case 6
  for (auto [id, to] : {std::pair{2, v1::ACKNOWLEDGED}, {4, v1::RESOLVED}}) {
    v1::LogRecord action;
    action.mutable_case_action()->set_case_id(id);
    action.mutable_case_action()->set_to(to);
    action.mutable_case_action()->mutable_transition()->set_by("sup");
    records.push_back(action);
  }
  ApplyAndCommit(hub, records);
  auto ids = [&](std::vector<v1::ExceptionStatus> statuses, uint64_t after, size_t limit) {
    std::vector<v1::ExceptionCase> cases;
    EXPECT_TRUE(db_->CasesByType(v1::DAMAGED, statuses, after, limit,
                                 [](const auto& c) { return c.parcel_id() != "P5"; }, &cases).ok());
    std::vector<uint64_t> out;
    for (const auto& c : cases) out.push_back(c.id());
    return out;
  };
  const std::vector<v1::ExceptionStatus> all = {v1::OPEN, v1::ACKNOWLEDGED, v1::RESOLVED};
  EXPECT_EQ(ids(all, 1, 3), (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(ids(all, 3, 10), (std::vector<uint64_t>{4}));  // 5 is filtered out, 6 is another type
  EXPECT_EQ(ids({v1::OPEN}, 0, 10), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(ids({v1::RESOLVED, v1::ACKNOWLEDGED}, 0, 10), (std::vector<uint64_t>{2, 4}));
}

TEST_F(StoreTest, ReadViewSeesOnePointInTime) {
  testutil::Scanner desk("DESK-1");
  core::HubState hub;
  ApplyAndCommit(hub, {testutil::Record(desk.ParcelDamaged("P1", 10))});
  const auto view = db_->NewReadView();
  ApplyAndCommit(hub, {testutil::Record(desk.ParcelDamaged("P2", 10))});
  std::vector<uint64_t> ids;
  ids = TypeIds(v1::DAMAGED, v1::OPEN, view.get());
  EXPECT_EQ(ids, std::vector<uint64_t>{1});
  v1::ExceptionCase c;
  EXPECT_TRUE(db_->GetCase(2, &c, view.get()).IsNotFound());
  uint64_t n = 0;
  ASSERT_TRUE(db_->CountCases(v1::DAMAGED, v1::OPEN, INT64_MIN, INT64_MAX, &n, view.get()).ok());
  EXPECT_EQ(n, 1u);
  ids = TypeIds(v1::DAMAGED, v1::OPEN);
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2}));
}

TEST_F(StoreTest, CaseActionMovesTheCaseAndItsStatusIndex) {
  testutil::Scanner desk("DESK-1");
  core::HubState hub;
  ApplyAndCommit(hub, {testutil::Record(desk.ParcelDamaged("P1", 10))});
  v1::LogRecord ack;
  ack.mutable_case_action()->set_case_id(1);
  ack.mutable_case_action()->set_to(v1::ACKNOWLEDGED);
  ack.mutable_case_action()->mutable_transition()->set_by("sup-wang");
  ack.mutable_case_action()->mutable_transition()->set_note("checking the scale");
  ApplyAndCommit(hub, {ack});

  v1::ExceptionCase c;
  ASSERT_TRUE(db_->GetCase(1, &c).ok());
  EXPECT_EQ(c.status(), v1::ACKNOWLEDGED);
  EXPECT_EQ(c.acknowledged().by(), "sup-wang");
  std::vector<uint64_t> ids;
  ids = TypeIds(v1::DAMAGED, v1::OPEN);
  EXPECT_TRUE(ids.empty());
  ids = TypeIds(v1::DAMAGED, v1::ACKNOWLEDGED);
  EXPECT_EQ(ids, std::vector<uint64_t>{1});

  // Raised and resolved within one group commit.
  v1::LogRecord resolve = ack;
  resolve.mutable_case_action()->set_case_id(2);
  resolve.mutable_case_action()->set_to(v1::RESOLVED);
  ApplyAndCommit(hub, {testutil::Record(desk.ParcelDamaged("P2", 10)), resolve});
  ASSERT_TRUE(db_->GetCase(2, &c).ok());
  EXPECT_EQ(c.status(), v1::RESOLVED);
  ids = TypeIds(v1::DAMAGED, v1::OPEN);
  EXPECT_TRUE(ids.empty());
  ids = TypeIds(v1::DAMAGED, v1::RESOLVED);
  EXPECT_EQ(ids, std::vector<uint64_t>{2});

  Reopen();
  core::HubState recovered;
  ASSERT_TRUE(db_->Recover(&recovered).ok());
  EXPECT_EQ(Bytes(recovered), Bytes(hub));
  EXPECT_EQ(recovered.open_cases(), 1u);
}

std::vector<v1::LogRecord> OneLoadLeaves() {
  testutil::Scanner s("S1");
  return {
      testutil::Record(testutil::RouteRef("D1", "R1", "C1", "L1")),
      testutil::Record(s.ParcelSorted("P1", "D1")),
      testutil::Record(s.BagCreated("OB1", "R1")),
      testutil::Record(s.ParcelBagged("P1", "OB1")),
      testutil::Record(s.BagClosed("OB1", 1)),
      testutil::Record(s.LoadOpened("L1", "TRUCK-1", "R1")),
      testutil::Record(s.BagLoaded("OB1", "L1")),
      testutil::Record(s.LoadDeparted("L1", "SEAL-9")),
  };
}

void ExpectArchived(RocksDbStore& db) {
  std::vector<v1::ArchivedEntity> rows;
  ASSERT_TRUE(db.Archived(store::keys::Kind::kParcel, "P1", &rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].parcel().outbound_bag(), "OB1");
  EXPECT_EQ(rows[0].parcel().load_id(), "L1");
  ASSERT_TRUE(db.Archived(store::keys::Kind::kLoad, "L1", &rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].load().seal_id(), "SEAL-9");
  EXPECT_EQ(rows[0].load().bag_ids(0), "OB1");
  ASSERT_TRUE(db.Archived(store::keys::Kind::kBag, "OB1", &rows).ok());
  EXPECT_EQ(rows.size(), 1u);
}

TEST_F(StoreTest, RetiredEntitiesStayQueryable) {
  core::HubState hub;
  ApplyAndCommit(hub, OneLoadLeaves());
  EXPECT_EQ(hub.live_parcels(), 0u);
  ASSERT_TRUE(db_->FlushArchive(hub.last_hub_seq()).ok());
  EXPECT_EQ(db_->ArchiveCursor(), hub.last_hub_seq());
  ExpectArchived(*db_);
}

TEST_F(StoreTest, ArchiveRowsLostInACrashAreRewrittenByRecovery) {
  Reopen(/*drop_archive_jobs=*/true);  // the archive writer never gets to write
  core::HubState hub;
  ApplyAndCommit(hub, OneLoadLeaves());
  std::vector<v1::ArchivedEntity> rows;
  ASSERT_TRUE(db_->Archived(store::keys::Kind::kParcel, "P1", &rows).ok());
  EXPECT_TRUE(rows.empty());
  EXPECT_EQ(db_->ArchiveCursor(), 0u);

  Reopen();
  core::HubState recovered;
  ASSERT_TRUE(db_->Recover(&recovered).ok());
  EXPECT_EQ(db_->ArchiveCursor(), hub.last_hub_seq());
  ExpectArchived(*db_);
  EXPECT_EQ(Bytes(recovered), Bytes(hub));
}

TEST_F(StoreTest, CheckpointWaitsForTheArchive) {
  core::HubState hub;
  ApplyAndCommit(hub, OneLoadLeaves());
  ASSERT_TRUE(db_->WriteCheckpoint(hub.Snapshot()).ok());
  EXPECT_GE(db_->ArchiveCursor(), hub.last_hub_seq());
  ExpectArchived(*db_);
}

TEST_F(StoreTest, CorruptLogRecordStopsRecoveryWithCorruption) {
  const auto records = testutil::GenerateDay(10, 500);
  core::HubState hub;
  ApplyAndCommit(hub, records);
  // A log whose record does not replay (a gap the core cannot explain).
  v1::LogRecord bad = records[0];
  store::CommitBatch batch(db_.get());
  core::ApplyResult fake;
  fake.hub_seq = hub.last_hub_seq() + 5;
  batch.Add(bad, &fake);
  ASSERT_TRUE(db_->Commit(&batch).ok());
  Reopen();
  core::HubState recovered;
  store::Status s = db_->Recover(&recovered);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

std::vector<uint64_t> Seqs(const std::vector<v1::LogRecord>& records) {
  std::vector<uint64_t> out;
  for (const auto& r : records) out.push_back(r.hub_seq());
  return out;
}

TEST_F(StoreTest, HistoryListsAnEntitysRecordsInHubOrderWithTheirDecisions) {
  // First with the archive writer never writing: P1 left the hub at 8 but
  // its history is still in memory. Then after recovery has archived it.
  Reopen(/*drop_archive_jobs=*/true);
  core::HubState hub;
  ApplyAndCommit(hub, OneLoadLeaves());  // hub_seqs 1..8; P1 leaves at 8
  for (bool archived : {false, true}) {
    if (archived) {
      Reopen();
      core::HubState recovered;
      ASSERT_TRUE(db_->Recover(&recovered).ok());
      EXPECT_EQ(db_->LiveIndexSize(), 0u);  // everything left the hub and is archived
    }
    RocksDbStore::EntityHistory h;
    ASSERT_TRUE(db_->History(store::keys::Kind::kParcel, "P1", 100, &h).ok());
    EXPECT_EQ(Seqs(h.records), (std::vector<uint64_t>{2, 4})) << "archived=" << archived;
    ASSERT_EQ(h.records.size(), 2u);
    EXPECT_EQ(h.records[0].decision().load_id(), "L1");
    EXPECT_EQ(h.records[0].decision().chute(), "C1");
    EXPECT_EQ(h.retired_at, std::vector<uint64_t>{8});  // known before its row is written
    ASSERT_TRUE(db_->History(store::keys::Kind::kLoad, "L1", 100, &h).ok());
    EXPECT_EQ(Seqs(h.records), (std::vector<uint64_t>{2, 6, 7, 8}));
    ASSERT_TRUE(db_->History(store::keys::Kind::kBag, "OB1", 100, &h).ok());
    EXPECT_EQ(Seqs(h.records), (std::vector<uint64_t>{3, 4, 5, 7}));
  }
  RocksDbStore::EntityHistory h;
  ASSERT_TRUE(db_->History(store::keys::Kind::kLoad, "L1", 2, &h).ok());
  EXPECT_EQ(Seqs(h.records), (std::vector<uint64_t>{7, 8}));  // the newest
  EXPECT_TRUE(h.truncated);
  ASSERT_TRUE(db_->History(store::keys::Kind::kParcel, "NOBODY", 100, &h).ok());
  EXPECT_TRUE(h.records.empty());
}

TEST_F(StoreTest, AHistoryWaitsForTheLiveIndexToCoverEveryCommittedRecord) {
  // The live index is kept by the archive writer's thread, behind the
  // commits: a reader who saw a commit must still find its records.
  auto faults = ReopenWithTheArchiveWriterHeld();
  core::HubState hub;
  ApplyAndCommit(hub, OneLoadLeaves());  // hub_seqs 1..8; P1 at 2 and 4
  auto history = std::async(std::launch::async, [&] {
    RocksDbStore::EntityHistory h;
    EXPECT_TRUE(db_->History(store::keys::Kind::kParcel, "P1", 100, &h).ok());
    return Seqs(h.records);
  });
  EXPECT_EQ(history.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "answered before the index covered the commits";
  faults->SetHoldArchiveWriter(false);
  EXPECT_EQ(history.get(), (std::vector<uint64_t>{2, 4}));
}

TEST_F(StoreTest, TheArchiveCursorNeverGoesBackWhenAFlushComesUpAfterLaterRows) {
  // A checkpoint asks for the archive through an older hub_seq while the
  // writer already has later rows in hand: the cursor stays at the later
  // one. Written back, recovery would archive those rows again from an
  // index that has forgotten their entities, emptying their histories.
  auto faults = ReopenWithTheArchiveWriterHeld();
  core::HubState hub;
  ApplyAndCommit(hub, OneLoadLeaves(), /*group=*/100);  // one commit: 1..8, P1 retired at 8
  while (!faults->archive_writer_holding()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto flushed = std::async(std::launch::async, [&] { return db_->FlushArchive(4).ok(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // its job queued behind the commit's
  faults->SetHoldArchiveWriter(false);
  EXPECT_TRUE(flushed.get());
  ASSERT_TRUE(db_->FlushArchive(8).ok());
  EXPECT_EQ(db_->ArchiveCursor(), 8u);
  Reopen();
  EXPECT_EQ(db_->ArchiveCursor(), 8u);
  core::HubState recovered;
  ASSERT_TRUE(db_->Recover(&recovered).ok());
  RocksDbStore::EntityHistory h;
  ASSERT_TRUE(db_->History(store::keys::Kind::kParcel, "P1", 100, &h).ok());
  EXPECT_EQ(Seqs(h.records), (std::vector<uint64_t>{2, 4}));
}

// Every entity's history, as the whole log says it should be.
std::map<std::string, std::vector<uint64_t>> HistoriesFromLog(RocksDbStore& db) {
  std::vector<v1::LogRecord> log;
  EXPECT_TRUE(db.ReadLog(1, SIZE_MAX, &log).ok());
  std::map<std::string, std::vector<uint64_t>> out;
  std::vector<core::EntityRef> refs;
  for (const auto& rec : log) {
    refs.clear();
    core::EntitiesOf(rec, &refs);
    for (const auto& ref : refs) out[core::EntityKey(ref.kind, *ref.id)].push_back(rec.hub_seq());
  }
  return out;
}

void ExpectHistoriesMatchTheLog(RocksDbStore& db) {
  const auto expected = HistoriesFromLog(db);
  ASSERT_GT(expected.size(), 500u);
  size_t mismatches = 0;
  for (const auto& [key, seqs] : expected) {
    RocksDbStore::EntityHistory h;
    ASSERT_TRUE(db.History(static_cast<core::EntityKind>(key[0]), key.substr(1), SIZE_MAX, &h).ok());
    if (Seqs(h.records) != seqs && ++mismatches <= 5)
      ADD_FAILURE() << key << ": " << h.records.size() << " records, log says " << seqs.size();
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST_F(StoreTest, HistoriesSurviveCheckpointAndCrashRecovery) {
  const auto records = testutil::GenerateDay(11, 12'000);
  core::HubState hub;
  ApplyAndCommit(hub, {records.begin(), records.begin() + 5'000});
  ASSERT_TRUE(db_->WriteCheckpoint(hub.Snapshot()).ok());
  // After the checkpoint the archive writer dies with the process: its rows
  // are lost and recovery must write them again, with their hub_seqs.
  Reopen(/*drop_archive_jobs=*/true);
  core::HubState resumed;
  ASSERT_TRUE(db_->Recover(&resumed).ok());
  ApplyAndCommit(resumed, {records.begin() + 5'000, records.end()});
  ExpectHistoriesMatchTheLog(*db_);

  Reopen();  // no checkpoint since record 5,000: a crash
  core::HubState recovered;
  ASSERT_TRUE(db_->Recover(&recovered).ok());
  EXPECT_EQ(Bytes(recovered), Bytes(resumed));
  ExpectHistoriesMatchTheLog(*db_);

  // A clean stop keeps exactly the live entities in the checkpoint.
  ASSERT_TRUE(db_->WriteCheckpoint(recovered.Snapshot()).ok());
  const size_t live = db_->LiveIndexSize();
  Reopen();
  core::HubState again;
  ASSERT_TRUE(db_->Recover(&again).ok());
  EXPECT_EQ(db_->LiveIndexSize(), live);
  ExpectHistoriesMatchTheLog(*db_);
}

TEST_F(StoreTest, DataOfAnOlderStoreFormatIsRefusedButStillExportable) {
  db_.reset();
  fs::remove_all(dir_);
  store::StoreOptions legacy;
  legacy.path = dir_.string();
  legacy.faults = std::make_shared<store::FaultInjection>();
  legacy.faults->SetLegacyFormat(true);  // as a hubd before format 2 made it
  ASSERT_TRUE(RocksDbStore::Open(legacy, &db_).ok());
  core::HubState hub;
  ApplyAndCommit(hub, OneLoadLeaves());
  Reopen();
  core::HubState recovered;
  store::Status s = db_->Recover(&recovered);
  EXPECT_EQ(s.code(), store::Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.ToString().find("older hubd (store format 1)"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("--export"), std::string::npos) << s.ToString();
  std::vector<v1::LogRecord> log;
  ASSERT_TRUE(db_->ReadLog(1, 100, &log).ok());  // what an export reads
  EXPECT_EQ(log.size(), 8u);

  // A database this code made opens as before.
  db_.reset();
  fs::remove_all(dir_);
  Open();
  core::HubState fresh;
  ApplyAndCommit(fresh, OneLoadLeaves());
  Reopen();
  core::HubState again;
  EXPECT_TRUE(db_->Recover(&again).ok());
}

TEST_F(StoreTest, RejectedEventsMoveTheDurableMarkAndRecoveryKeepsIt) {
  testutil::Scanner s("BAGGER-1", "ST-1");
  core::HubState hub;
  store::CommitBatch batch(db_.get());
  core::ApplyResult r;
  v1::ScanEvent good = s.BagCreated("OB1", "R1");  // seq 1
  v1::ScanEvent bad = s.ParcelBagged("", "OB1");   // seq 2: no parcel id
  for (const auto* e : {&good, &bad}) {
    hub.ApplyEvent(*e, &r);
    batch.AddEvent(*e, &r);
  }
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(hub.ScannerMark("BAGGER-1"), 2u);
  ASSERT_TRUE(db_->Commit(&batch).ok());
  // A batch of nothing but a rejected event still has a mark to write.
  v1::ScanEvent bad_again = s.ParcelBagged("", "OB1");  // seq 3
  hub.ApplyEvent(bad_again, &r);
  batch.AddEvent(bad_again, &r);
  EXPECT_FALSE(batch.empty());
  EXPECT_EQ(batch.records(), 0u);
  ASSERT_TRUE(db_->Commit(&batch).ok());
  Reopen();
  core::HubState recovered;
  ASSERT_TRUE(db_->Recover(&recovered).ok());
  EXPECT_EQ(recovered.ScannerMark("BAGGER-1"), 3u) << "the log alone says 1";
  EXPECT_EQ(recovered.last_hub_seq(), 1u);
}

TEST_F(StoreTest, SortDecisionOfFindsTheDecisionTheLogHolds) {
  core::HubState hub;
  testutil::Scanner sorter("SORTER-1", "ST-1"), other("SORTER-2", "ST-1");
  ApplyAndCommit(hub, {testutil::Record(testutil::RouteRef("D1", "R1", "C1", "L1")),
                       testutil::Record(sorter.ParcelSorted("P1", "D1")),
                       testutil::Record(other.ParcelSorted("P1", "D9")),
                       testutil::Record(sorter.ParcelSorted("P2", "D9"))});
  v1::SortDecision d;
  ASSERT_TRUE(db_->SortDecisionOf("SORTER-1", 1, "P1", &d).ok());
  EXPECT_EQ(d.chute(), "C1");
  EXPECT_EQ(d.seq(), 1u);
  ASSERT_TRUE(db_->SortDecisionOf("SORTER-2", 1, "P1", &d).ok());
  EXPECT_EQ(d.divert(), v1::DIVERT_NO_ROUTE);
  ASSERT_TRUE(db_->SortDecisionOf("SORTER-1", 7, "", &d).ok());
  EXPECT_EQ(d.divert(), v1::DIVERT_NO_READ);
  EXPECT_EQ(d.seq(), 7u);
  EXPECT_TRUE(db_->SortDecisionOf("SORTER-1", 2, "P1", &d).IsNotFound())
      << "seq 2 of SORTER-1 sorted P2, not P1";
}

TEST_F(StoreTest, LoggedAsFindsEverySeqAcrossGroupsAndScanners) {
  testutil::Scanner a("DOCK-A", "ST-1"), b("DOCK-B", "ST-1");
  core::HubState hub;
  store::CommitBatch batch(db_.get());
  core::ApplyResult r;
  std::map<std::pair<std::string, uint64_t>, uint64_t> expected;
  for (int group = 0; group < 3; ++group) {
    for (int i = 0; i < 5; ++i) {
      for (testutil::Scanner* s : {&a, &b}) {
        // every fourth event of A is rejected (no bag id): logged as 0
        const bool bad = s == &a && i % 4 == 3;
        v1::ScanEvent e = bad ? s->BagOpened("") : s->BagOpened("B" + std::to_string(i));
        hub.ApplyEvent(e, &r);
        batch.AddEvent(e, &r);
        expected[{e.scanner_id(), e.seq()}] = bad ? 0 : r.hub_seq;
      }
    }
    ASSERT_TRUE(db_->Commit(&batch).ok());
  }
  Reopen();
  for (const auto& [key, hub_seq] : expected) {
    uint64_t got = 99;
    ASSERT_TRUE(db_->LoggedAs(key.first, key.second, &got).ok()) << key.first << " " << key.second;
    EXPECT_EQ(got, hub_seq) << key.first << " " << key.second;
  }
  uint64_t got = 0;
  EXPECT_TRUE(db_->LoggedAs("DOCK-A", 16, &got).IsNotFound()) << "beyond the last seq";
  EXPECT_TRUE(db_->LoggedAs("DOCK-", 1, &got).IsNotFound()) << "a prefix of another scanner";
  EXPECT_TRUE(db_->LoggedAs("DOCK-C", 1, &got).IsNotFound());
}

TEST_F(StoreTest, CheckpointWrittenWhileCommitsGoOnRecoversExactlyTheState) {
  const auto records = testutil::GenerateDay(11, 12'000);
  core::HubState hub;
  ApplyAndCommit(hub, {records.begin(), records.begin() + 4'000});
  const uint64_t at = hub.last_hub_seq();
  ASSERT_TRUE(db_->CheckpointInBackground(hub.Snapshot()));
  // Commits go on while it is written (and retire entities meanwhile).
  ApplyAndCommit(hub, {records.begin() + 4'000, records.begin() + 8'000});
  for (int i = 0; i < 500 && db_->CheckpointBusy(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(db_->CheckpointBusy());
  EXPECT_EQ(db_->Checkpoints().written, 1u);
  EXPECT_EQ(db_->Checkpoints().last_hub_seq, at);
  ApplyAndCommit(hub, {records.begin() + 8'000, records.end()});
  Reopen();
  core::HubState recovered;
  uint64_t replayed = 0;
  ASSERT_TRUE(db_->Recover(&recovered, &replayed).ok());
  EXPECT_EQ(replayed, hub.last_hub_seq() - at) << "recovery starts at the checkpoint";
  EXPECT_EQ(Bytes(recovered), Bytes(hub));
  // Every entity's history is whole: the index saved at the checkpoint
  // plus the replay (entities retired while it was written included).
  std::vector<v1::LogRecord> log;
  ASSERT_TRUE(db_->ReadLog(1, SIZE_MAX, &log).ok());
  std::map<std::string, std::vector<uint64_t>> expected;
  std::vector<core::EntityRef> refs;
  for (const auto& rec : log) {
    refs.clear();
    core::EntitiesOf(rec, &refs);
    for (const auto& r : refs) expected[std::string(1, static_cast<char>(r.kind)) + *r.id].push_back(rec.hub_seq());
  }
  size_t checked = 0;
  for (const auto& [key, seqs] : expected) {
    if (++checked % 7 != 0) continue;  // a sample keeps the test quick
    store::RocksDbStore::EntityHistory h;
    ASSERT_TRUE(db_->History(static_cast<core::EntityKind>(key[0]), key.substr(1), 1'000'000, &h).ok());
    std::vector<uint64_t> got;
    for (const auto& rec : h.records) got.push_back(rec.hub_seq());
    EXPECT_EQ(got, seqs) << key;
  }
}


// --- The audit trail -----------------------------------------------------------

v1::LogRecord ByApi(v1::LogRecord rec, const std::string& who, int64_t at_ms) {
  rec.mutable_origin()->set_who(who);
  rec.mutable_origin()->set_at_ms(at_ms);
  return rec;
}

v1::LogRecord Acknowledge(uint64_t case_id, const std::string& note) {
  v1::LogRecord rec;
  rec.mutable_case_action()->set_case_id(case_id);
  rec.mutable_case_action()->set_to(v1::ACKNOWLEDGED);
  rec.mutable_case_action()->mutable_transition()->set_note(note);
  rec.mutable_case_action()->mutable_transition()->set_by("sup-li");
  return rec;
}

// "hub_seq who@at action subject" per entry, joined with "; ".
std::string Trail(const std::vector<v1::AuditEntry>& entries) {
  std::string s;
  for (const auto& e : entries)
    s += (s.empty() ? "" : "; ") + std::to_string(e.hub_seq()) + " " + e.who() + "@" +
         std::to_string(e.at_ms()) + " " + e.action() + " " + e.subject();
  return s;
}

TEST_F(StoreTest, AuditIndexFindsEveryApiWriteFromItsCommitOnAndFilters) {
  core::HubState hub;
  testutil::Scanner desk("DESK-1");
  ApplyAndCommit(hub, {
      ByApi(testutil::Record(testutil::RouteRef("D1", "R1", "C1", "L1")), "ops", 1000),  // 1
      testutil::Record(desk.ParcelDamaged("P1", 100)),                                     // 2: case 1
      testutil::Record(testutil::BagAdviceRef("B1", {"P1"})),                              // 3: no origin
      ByApi(Acknowledge(1, "on the scale"), "sup-li", 2000),                               // 4
      ByApi(testutil::Record(testutil::HoldRef("P9", v1::HOLD_REASON_SECURITY)), "sup-li", 3000),  // 5
  });
  std::vector<v1::AuditEntry> out;
  auto read = [&](uint64_t after, size_t limit, store::RocksDbStore::AuditFilter f = {}) {
    EXPECT_TRUE(db_->AuditAfter(after, limit, f, &out).ok());
    return Trail(out);
  };
  EXPECT_EQ(read(0, 100), "1 ops@1000 upsert_route D1; 4 sup-li@2000 acknowledge 1; 5 sup-li@3000 add_hold P9");
  EXPECT_EQ(out[1].note(), "on the scale");
  EXPECT_EQ(read(0, 2), "1 ops@1000 upsert_route D1; 4 sup-li@2000 acknowledge 1");
  EXPECT_EQ(read(4, 100), "5 sup-li@3000 add_hold P9");
  EXPECT_EQ(read(0, 100, {.who = "sup-li"}), "4 sup-li@2000 acknowledge 1; 5 sup-li@3000 add_hold P9");
  EXPECT_EQ(read(0, 100, {.who = "sup"}), "");
  EXPECT_EQ(read(0, 100, {.from_ms = 1500, .to_ms = 2000, .who = ""}), "4 sup-li@2000 acknowledge 1");
  // The limit counts matches, not rows read.
  EXPECT_EQ(read(0, 1, {.from_ms = 2500, .to_ms = INT64_MAX, .who = ""}), "5 sup-li@3000 add_hold P9");

  // The origin is in the log record itself, and the trail survives a restart.
  std::vector<v1::LogRecord> log;
  ASSERT_TRUE(db_->ReadLog(1, 10, &log).ok());
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[3].origin().ShortDebugString(), R"(who: "sup-li" at_ms: 2000)");
  EXPECT_FALSE(log[2].has_origin());
  Reopen();
  core::HubState recovered;
  ASSERT_TRUE(db_->Recover(&recovered).ok());
  EXPECT_EQ(Bytes(recovered), Bytes(hub));
  EXPECT_EQ(read(0, 100), "1 ops@1000 upsert_route D1; 4 sup-li@2000 acknowledge 1; 5 sup-li@3000 add_hold P9");
}

TEST_F(StoreTest, RetentionRemovesAuditEntriesWithTheRecordsTheyPointTo) {
  core::HubState hub;
  std::vector<v1::LogRecord> records;
  for (int i = 1; i <= 6; ++i)
    records.push_back(ByApi(testutil::Record(testutil::RouteRef("D" + std::to_string(i), "R", "C", "L")),
                            "ops", 1000 * i));
  ApplyAndCommit(hub, records);
  v1::LogRecord retention;
  retention.mutable_retention()->set_through_hub_seq(4);
  retention.mutable_retention()->set_cutoff_ms(0);
  ApplyAndCommit(hub, {retention});  // hub_seq 7
  std::vector<v1::AuditEntry> out;
  ASSERT_TRUE(db_->AuditAfter(0, 100, {}, &out).ok());
  EXPECT_EQ(Trail(out), "5 ops@5000 upsert_route D5; 6 ops@6000 upsert_route D6");
  Reopen();
  ASSERT_TRUE(db_->AuditAfter(0, 100, {}, &out).ok());
  EXPECT_EQ(Trail(out), "5 ops@5000 upsert_route D5; 6 ops@6000 upsert_route D6");
}

TEST_F(StoreTest, DepartureToANextHubIsLoggedWithItsDispatchAdvice) {
  testutil::Scanner sorter("SORTER-1"), bagger("BAGGER-1"), loader("LOADER-1");
  v1::ReferenceChange route = testutil::RouteRef("D-SH", "R-SH", "C1", "L-SH");
  route.mutable_upsert_route()->set_next_hub("HUB-SH");
  route.mutable_upsert_route()->set_transit_minutes(90);
  const std::vector<v1::LogRecord> records = {
      testutil::Record(route),
      testutil::Record(sorter.ParcelSorted("P1", "D-SH")),
      testutil::Record(bagger.BagCreated("OB1", "R-SH")),
      testutil::Record(bagger.ParcelBagged("P1", "OB1")),
      testutil::Record(bagger.BagClosed("OB1", 1)),
      testutil::Record(loader.LoadOpened("L-SH", "TRUCK-9", "R-SH")),
      testutil::Record(loader.BagLoaded("OB1", "L-SH")),
      testutil::Record(loader.LoadDeparted("L-SH", "S-9"))};
  core::HubState hub;
  ApplyAndCommit(hub, records);
  core::HubState again;  // what the core made of the departure
  core::ApplyResult r;
  for (const auto& rec : records) again.Apply(rec, &r);
  ASSERT_TRUE(r.dispatch.has_value());
  EXPECT_EQ(r.dispatch->to_hub(), "HUB-SH");

  std::vector<v1::LogRecord> log;
  ASSERT_TRUE(db_->ReadLog(1, 100, &log).ok());
  ASSERT_EQ(log.size(), records.size());
  for (size_t i = 0; i + 1 < log.size(); ++i) EXPECT_FALSE(log[i].has_dispatch()) << "at " << i;
  ASSERT_TRUE(log.back().has_dispatch());
  EXPECT_EQ(log.back().dispatch().SerializeAsString(), r.dispatch->SerializeAsString());
  EXPECT_EQ(log.back().dispatch().from_hub_seq(), log.back().hub_seq());
  EXPECT_EQ(log.back().dispatch().bags(0).parcel_ids(0), "P1");
  // Recovery ignores it (the core derives it again) and rebuilds the state.
  const std::string state = Bytes(hub);
  Reopen();
  core::HubState recovered;
  ASSERT_TRUE(db_->Recover(&recovered).ok());
  EXPECT_EQ(Bytes(recovered), state);
}

TEST_F(StoreTest, AReceivedDispatchAdviceIsInTheHistoryOfItsVehicleAndEachBag) {
  v1::ReferenceChange c;
  v1::DispatchAdvice* a = c.mutable_dispatch_advice();
  a->set_from_hub("HUB-A");
  a->set_from_hub_seq(17);
  a->mutable_vehicle()->set_vehicle_id("TRUCK-9");
  for (const char* bag : {"OB1", "OB2"}) {
    a->mutable_vehicle()->add_bag_ids(bag);
    a->add_bags()->set_bag_id(bag);
    a->mutable_bags()->rbegin()->add_parcel_ids(std::string("P-") + bag);
  }
  core::HubState hub;
  ApplyAndCommit(hub, {testutil::Record(c)});
  using store::keys::Kind;
  for (auto [kind, id] : {std::pair{Kind::kVehicle, "TRUCK-9"}, std::pair{Kind::kBag, "OB1"},
                          std::pair{Kind::kBag, "OB2"}}) {
    RocksDbStore::EntityHistory history;
    ASSERT_TRUE(db_->History(kind, id, 100, &history).ok());
    ASSERT_EQ(history.records.size(), 1u) << id;
    EXPECT_EQ(history.records[0].reference().dispatch_advice().from_hub_seq(), 17u);
  }
  // A parcel of a bag advice is not indexed by it, in a dispatch advice as alone.
  RocksDbStore::EntityHistory none;
  ASSERT_TRUE(db_->History(Kind::kParcel, "P-OB1", 100, &none).ok());
  EXPECT_TRUE(none.records.empty());
}

TEST_F(StoreTest, RecordsWithoutOriginLeaveNoAuditRow) {
  core::HubState hub;
  testutil::Scanner desk("DESK-1");
  ApplyAndCommit(hub, {testutil::Record(testutil::RouteRef("D1", "R1", "C1", "L1")),
                       testutil::Record(desk.ParcelDamaged("P1", 100)), Acknowledge(1, "")});
  std::vector<v1::AuditEntry> out;
  ASSERT_TRUE(db_->AuditAfter(0, 100, {}, &out).ok());
  EXPECT_EQ(Trail(out), "");
}

}  // namespace
}  // namespace hub::testing
