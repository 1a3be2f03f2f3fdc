#pragma once

// Fixture for tests against a real hubd: a fresh temporary directory for
// the database, reference data written before start, and a look at the log
// after the daemon stopped.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "store/rocksdb_store.h"

namespace hub::testing {

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hubd-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<store::RocksDbStore> OpenStore() {
    std::unique_ptr<store::RocksDbStore> db;
    store::StoreOptions o;
    o.path = db_;
    EXPECT_TRUE(store::RocksDbStore::Open(o, &db).ok());
    return db;
  }

  // Writes reference data into the store before the daemon starts.
  void Seed(const std::vector<v1::ReferenceChange>& changes) {
    auto db = OpenStore();
    core::HubState hub;
    ASSERT_TRUE(db->Recover(&hub).ok());
    store::CommitBatch batch(db.get());
    core::ApplyResult r;
    for (const auto& c : changes) {
      hub.ApplyReference(c, &r);
      batch.AddReference(c, &r);
    }
    ASSERT_TRUE(db->Commit(&batch).ok());
  }

  // With the daemon stopped: the scan events in the log, by scanner, as
  // seq -> times logged. Also checks the whole log still replays.
  std::map<std::string, std::map<uint64_t, int>> LoggedEvents() {
    auto db = OpenStore();
    core::HubState hub;
    EXPECT_TRUE(db->Recover(&hub).ok());
    std::vector<v1::LogRecord> log;
    EXPECT_TRUE(db->ReadLog(1, 10'000'000, &log).ok());
    std::map<std::string, std::map<uint64_t, int>> out;
    for (const auto& rec : log)
      if (rec.has_event()) ++out[rec.event().scanner_id()][rec.event().seq()];
    return out;
  }

  std::filesystem::path dir_;
  std::string db_;
};

}  // namespace hub::testing
