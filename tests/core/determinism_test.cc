#include <gtest/gtest.h>

#include "core/hub_state.h"
#include "testutil/events.h"

namespace hub::testing {
namespace {

struct DayRun {
  std::string cases;     // every raised case, serialised, in order
  std::string decisions; // every sort decision, serialised, in order
  std::string dispatches; // every departure's dispatch advice, serialised, in order
  int dispatch_count = 0;
  std::string snapshot;  // final state
  std::map<v1::ExceptionType, int> by_type;
};

DayRun ApplyAll(const std::vector<v1::LogRecord>& records) {
  core::HubState hub;
  core::ApplyResult r;
  DayRun run;
  for (const auto& rec : records) {
    hub.Apply(rec, &r);
    EXPECT_EQ(r.outcome, core::ApplyResult::Outcome::kApplied) << r.reject_reason;
    for (const auto& c : r.raised) {
      run.cases += c.SerializeAsString();
      ++run.by_type[c.type()];
    }
    if (r.has_decision) run.decisions += r.decision.SerializeAsString();
    if (r.dispatch) {
      run.dispatches += r.dispatch->SerializeAsString();
      ++run.dispatch_count;
    }
  }
  run.snapshot = hub.Snapshot().SerializeAsString();
  return run;
}

TEST(DeterminismTest, SameSequenceTwiceGivesByteIdenticalCasesAndState) {
  const auto records = testutil::GenerateDay(/*seed=*/42, /*events=*/10'000);
  ASSERT_GE(records.size(), 10'000u);
  const DayRun a = ApplyAll(records);
  const DayRun b = ApplyAll(records);
  EXPECT_EQ(a.cases, b.cases);
  EXPECT_EQ(a.decisions, b.decisions);
  EXPECT_EQ(a.dispatches, b.dispatches);
  EXPECT_EQ(a.snapshot, b.snapshot);
  // Departures to next hubs, and advices received from previous ones.
  EXPECT_GT(a.dispatch_count, 0);
  v1::HubSnapshot snapshot;
  ASSERT_TRUE(snapshot.ParseFromString(a.snapshot));
  EXPECT_EQ(snapshot.dispatch_marks_size(), 3);
  // The day is not trivially quiet: most anomaly kinds occur in it, the
  // rules on readings, read codes and advised arrivals among them.
  EXPECT_GE(a.by_type.size(), 12u);
  for (v1::ExceptionType t : {v1::WEIGHT_MISMATCH, v1::AMBIGUOUS_READ, v1::VEHICLE_OVERDUE})
    EXPECT_GT(a.by_type.count(t), 0u) << v1::ExceptionType_Name(t);
}

TEST(DeterminismTest, RestoredSnapshotContinuesExactlyLikeTheOriginal) {
  const auto records = testutil::GenerateDay(7, 10'000);
  const size_t half = records.size() / 2;
  core::HubState whole, first, resumed;
  core::ApplyResult r;
  for (const auto& rec : records) whole.Apply(rec, &r);
  for (size_t i = 0; i < half; ++i) first.Apply(records[i], &r);
  resumed.Restore(first.Snapshot());
  EXPECT_EQ(resumed.Snapshot().SerializeAsString(), first.Snapshot().SerializeAsString());
  for (size_t i = half; i < records.size(); ++i) resumed.Apply(records[i], &r);
  EXPECT_EQ(resumed.Snapshot().SerializeAsString(), whole.Snapshot().SerializeAsString());
}

TEST(DeterminismTest, ReplayingAnAppliedPrefixChangesNothing) {
  const auto records = testutil::GenerateDay(3, 5'000);
  core::HubState hub;
  core::ApplyResult r;
  for (const auto& rec : records) hub.Apply(rec, &r);
  const std::string before = hub.Snapshot().SerializeAsString();
  size_t duplicates = 0;
  for (size_t i = 0; i < records.size() / 2; ++i) {
    if (!records[i].has_event()) continue;  // only scans carry a scanner seq
    hub.Apply(records[i], &r);
    EXPECT_EQ(r.outcome, core::ApplyResult::Outcome::kDuplicate);
    EXPECT_TRUE(r.raised.empty());
    ++duplicates;
  }
  EXPECT_GT(duplicates, 1000u);
  EXPECT_EQ(hub.Snapshot().SerializeAsString(), before);
}

TEST(DeterminismTest, LiveStateStaysBoundedAsLoadsDepart) {
  const auto records = testutil::GenerateDay(11, 60'000);
  core::HubState hub;
  core::ApplyResult r;
  size_t retired_parcels = 0;
  for (const auto& rec : records) {
    hub.Apply(rec, &r);
    for (const auto& a : r.retired) retired_parcels += a.has_parcel();
  }
  // Most parcels of the day have left with their loads; only those still on
  // the floor, in open bags or held remain in memory.
  EXPECT_GT(retired_parcels, 2 * hub.live_parcels());
}

}  // namespace
}  // namespace hub::testing
