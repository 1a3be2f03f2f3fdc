// The audit trail's entries read from log records, and the reference data
// the core reads back (routes, holds with who placed them, advices).

#include "core/audit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "core/hub_fixture.h"
#include "core/hub_state.h"
#include "testutil/events.h"

namespace hub::testing {
namespace {

using testutil::Record;

v1::LogRecord WithOrigin(v1::LogRecord rec, uint64_t hub_seq, const std::string& who, int64_t at_ms) {
  rec.set_hub_seq(hub_seq);
  rec.mutable_origin()->set_who(who);
  rec.mutable_origin()->set_at_ms(at_ms);
  return rec;
}

v1::LogRecord CaseAction(uint64_t case_id, v1::ExceptionStatus to, const std::string& note) {
  v1::LogRecord rec;
  rec.mutable_case_action()->set_case_id(case_id);
  rec.mutable_case_action()->set_to(to);
  rec.mutable_case_action()->mutable_transition()->set_note(note);
  rec.mutable_case_action()->mutable_transition()->set_by("sup-li");
  return rec;
}

// "hub_seq who@at action subject [note]"
std::string Print(const std::optional<v1::AuditEntry>& e) {
  if (!e) return "none";
  return std::to_string(e->hub_seq()) + " " + e->who() + "@" + std::to_string(e->at_ms()) + " " +
         e->action() + " " + e->subject() + " [" + e->note() + "]";
}

TEST(AuditEntryTest, EachApiWriteSaysWhoWhenWhatOnWhichSubjectWithItsNote) {
  auto hold = testutil::HoldRef("P-HELD", v1::HOLD_REASON_CUSTOMER_INTERCEPT);
  hold.mutable_add_hold()->set_note("customer asked");
  v1::ReferenceChange remove;
  remove.set_remove_hold("P-HELD");
  v1::ReferenceChange replace;
  *replace.mutable_replace_routes()->add_entries() = testutil::RouteRef("D1", "R1", "C1", "L1").upsert_route();
  *replace.mutable_replace_routes()->add_entries() = testutil::RouteRef("D2", "R2", "C2", "L2").upsert_route();
  v1::ReferenceChange dispatch;
  dispatch.mutable_dispatch_advice()->set_from_hub("HUB-A");
  dispatch.mutable_dispatch_advice()->set_from_hub_seq(17);
  dispatch.mutable_dispatch_advice()->mutable_vehicle()->set_vehicle_id("TRUCK-9");
  dispatch.mutable_dispatch_advice()->add_bags()->set_bag_id("B1");
  dispatch.mutable_dispatch_advice()->add_bags()->set_bag_id("B2");
  std::vector<std::string> printed;
  for (const auto& rec : {
           CaseAction(3, v1::ACKNOWLEDGED, "on the scale"),
           CaseAction(3, v1::RESOLVED, "reweighed"),
           Record(testutil::RouteRef("200030", "SH-HUB", "C12", "L-SH")),
           Record(replace),
           Record(testutil::VehicleAdviceRef("V1", "S1", {"B1"})),
           Record(testutil::BagAdviceRef("B2", {"P1", "P2"})),
           Record(hold),
           Record(remove),
           Record(testutil::SettingsRef(24, 30)),
           Record(dispatch),
       })
    printed.push_back(Print(core::AuditEntryOf(WithOrigin(rec, 10 + printed.size(), "sup-li", 1000))));
  EXPECT_EQ(printed, (std::vector<std::string>{
                         "10 sup-li@1000 acknowledge 3 [on the scale]",
                         "11 sup-li@1000 resolve 3 [reweighed]",
                         "12 sup-li@1000 upsert_route 200030 []",
                         "13 sup-li@1000 replace_routes 2 routes []",
                         "14 sup-li@1000 vehicle_advice V1 []",
                         "15 sup-li@1000 bag_advice B2 []",
                         "16 sup-li@1000 add_hold P-HELD [customer asked]",
                         "17 sup-li@1000 remove_hold P-HELD []",
                         "18 sup-li@1000 settings dwell_hours=24 forget_after_days=30 []",
                         "19 sup-li@1000 dispatch_advice TRUCK-9 [from hub HUB-A (its hub_seq 17), 2 bags]",
                     }));
}

TEST(AuditEntryTest, RecordsWithoutAnOriginAreNotInTheTrail) {
  testutil::Scanner desk("DESK-1");
  EXPECT_EQ(Print(core::AuditEntryOf(Record(desk.HoldPlaced("P1", v1::HOLD_REASON_SECURITY)))), "none");
  EXPECT_EQ(Print(core::AuditEntryOf(Record(testutil::SettingsRef(48, 30)))), "none");
  EXPECT_EQ(Print(core::AuditEntryOf(CaseAction(1, v1::RESOLVED, "x"))), "none");
}

TEST(AuditEntryTest, TheCoreIgnoresTheOriginSoReplayGivesTheSameState) {
  core::HubState with, without;
  core::ApplyResult r;
  testutil::Scanner desk("DESK-1");
  std::vector<v1::LogRecord> records = {
      Record(testutil::RouteRef("D1", "R1", "C1", "L1")), Record(desk.ParcelDamaged("P1", 100)),
      CaseAction(1, v1::ACKNOWLEDGED, "n"), Record(testutil::BagAdviceRef("B1", {"P1"}))};
  for (auto rec : records) {
    without.Apply(rec, &r);
    ASSERT_EQ(r.outcome, core::ApplyResult::Outcome::kApplied) << r.reject_reason;
    rec.mutable_origin()->set_who("sup-li");
    rec.mutable_origin()->set_at_ms(42);
    with.Apply(rec, &r);
    ASSERT_EQ(r.outcome, core::ApplyResult::Outcome::kApplied) << r.reject_reason;
  }
  EXPECT_EQ(with.Snapshot().SerializeAsString(), without.Snapshot().SerializeAsString());
}

// --- Reference data read back -------------------------------------------------

// Sorted (the core hands its copies out in no particular order).
std::vector<std::string> Printed(const std::shared_ptr<const v1::RoutingTable>& t) {
  std::vector<std::string> out;
  for (const auto& r : t->entries())
    out.push_back(r.destination() + "->" + r.route_code() + "/" + r.chute() + "/" + r.load_id());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Printed(const std::shared_ptr<const std::vector<v1::HoldEntry>>& holds) {
  std::vector<std::string> out;
  for (const auto& h : *holds)
    out.push_back(h.parcel_id() + " " + v1::HoldReason_Name(h.reason()) + " [" + h.note() + "] by '" +
                  h.placed_by() + "' at " + std::to_string(h.placed_at_ms()));
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(HubTest, RoutesReadBackAreTheTableInForce) {
  Ref(testutil::RouteRef("D-AA", "R-AA", "C0", "L-AA"));
  EXPECT_EQ(Printed(hub.Routes()),
            (std::vector<std::string>{"D-AA->R-AA/C0/L-AA", "D-BJ->R-BJ/C2/L-BJ", "D-SH->R-SH/C1/L-SH"}));
  Ref(testutil::RouteRef("D-SH", "R-SH2", "C7", "L-SH2"));  // upsert replaces
  EXPECT_EQ(Printed(hub.Routes()),
            (std::vector<std::string>{"D-AA->R-AA/C0/L-AA", "D-BJ->R-BJ/C2/L-BJ", "D-SH->R-SH2/C7/L-SH2"}));
  v1::ReferenceChange replace;
  *replace.mutable_replace_routes()->add_entries() = testutil::RouteRef("D-GZ", "R-GZ", "C3", "L-GZ").upsert_route();
  Ref(replace);
  EXPECT_EQ(Printed(hub.Routes()), (std::vector<std::string>{"D-GZ->R-GZ/C3/L-GZ"}));
}

TEST_F(HubTest, ReadBackCopiesAreSharedUntilTheNextChangeAndNeverChangeThemselves) {
  Ref(testutil::HoldRef("P1", v1::HOLD_REASON_SECURITY));
  const auto routes = hub.Routes();
  const auto holds = hub.Holds();
  EXPECT_EQ(hub.Routes(), routes);  // the same copy: no new one while nothing changed
  EXPECT_EQ(hub.Holds(), holds);
  Apply(sorter.ParcelSorted("P2", "D-SH"));  // scans change neither
  EXPECT_EQ(hub.Routes(), routes);
  EXPECT_EQ(hub.Holds(), holds);

  Ref(testutil::RouteRef("D-GZ", "R-GZ", "C3", "L-GZ"));
  Ref(testutil::HoldRef("P3", v1::HOLD_REASON_SECURITY));
  EXPECT_EQ(hub.Routes()->entries_size(), 3);
  EXPECT_EQ(routes->entries_size(), 2);  // a reader's copy stays as it was
  EXPECT_EQ(hub.Holds()->size(), 2u);
  EXPECT_EQ(holds->size(), 1u);
  const auto before_lift = hub.Holds();
  v1::ReferenceChange lift;
  lift.set_remove_hold("P1");
  Ref(lift);
  EXPECT_EQ(Printed(hub.Holds()), (std::vector<std::string>{"P3 HOLD_REASON_SECURITY [] by '' at 0"}));
  EXPECT_EQ(before_lift->size(), 2u);
  core::HubState other;
  other.Restore(hub.Snapshot());
  EXPECT_EQ(Printed(other.Routes()), Printed(hub.Routes()));
}

TEST_F(HubTest, HoldsReadBackKeepWhoPlacedThemAndWhenThroughSnapshotAndReplay) {
  auto api_hold = testutil::HoldRef("P1", v1::HOLD_REASON_CUSTOMER_INTERCEPT);
  api_hold.mutable_add_hold()->set_note("customer asked");
  api_hold.mutable_add_hold()->set_placed_by("sup-li");
  api_hold.mutable_add_hold()->set_placed_at_ms(1'795'723'300'000);
  Ref(api_hold);
  Apply(desk.HoldPlaced("P2", v1::HOLD_REASON_SECURITY));  // a scanned hold: nobody's token
  Ref(testutil::HoldRef("P3", v1::HOLD_REASON_SECURITY));
  v1::ReferenceChange lift;
  lift.set_remove_hold("P3");
  Ref(lift);
  const std::vector<std::string> want = {
      "P1 HOLD_REASON_CUSTOMER_INTERCEPT [customer asked] by 'sup-li' at 1795723300000",
      "P2 HOLD_REASON_SECURITY [] by '' at 0"};
  EXPECT_EQ(Printed(hub.Holds()), want);
  // A checkpoint keeps them.
  core::HubState restored;
  restored.Restore(hub.Snapshot());
  EXPECT_EQ(Printed(restored.Holds()), want);
  EXPECT_EQ(restored.Snapshot().SerializeAsString(), hub.Snapshot().SerializeAsString());
}

TEST_F(HubTest, AdvicesReadBackByVehicleAndByBagOrNoneWhenNeverAdvised) {
  Ref(testutil::VehicleAdviceRef("V1", "S-1", {"B2", "B1"}));
  Ref(testutil::BagAdviceRef("B1", {"P2", "P1"}));
  auto v = hub.VehicleAdviceOf("V1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->ShortDebugString(), R"(vehicle_id: "V1" seal_id: "S-1" bag_ids: "B1" bag_ids: "B2")");
  auto b = hub.BagAdviceOf("B1");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->ShortDebugString(), R"(bag_id: "B1" parcel_ids: "P1" parcel_ids: "P2")");
  EXPECT_FALSE(hub.VehicleAdviceOf("V2").has_value());
  EXPECT_FALSE(hub.BagAdviceOf("B2").has_value());
  EXPECT_FALSE(hub.VehicleAdviceOf("B1").has_value());  // a bag id is no vehicle
}

}  // namespace
}  // namespace hub::testing
