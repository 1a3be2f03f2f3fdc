// One test per exception type of SPEC §4 that provokes it, and the same flows
// without the anomaly raising nothing.

#include <gtest/gtest.h>

#include "core/hub_state.h"
#include "core/hub_fixture.h"

namespace hub::testing {
namespace {

using testutil::BagAdviceRef;
using testutil::HoldRef;
using testutil::VehicleAdviceRef;

// --- Inbound -----------------------------------------------------------------

TEST_F(HubTest, CleanInboundFlowRaisesNothing) {
  Ref(VehicleAdviceRef("V1", "S-1", {"B1", "B2"}));
  Ref(BagAdviceRef("B1", {"P1", "P2"}));
  Ref(BagAdviceRef("B2", {"P3"}));
  EXPECT_EQ(Apply(dock.VehicleArrived("V1", "S-1", true)), "");
  EXPECT_EQ(Apply(dock.BagUnloaded("B1", "V1", 2)), "");
  EXPECT_EQ(Apply(dock.BagUnloaded("B2", "V1", 1)), "");
  EXPECT_EQ(Apply(dock.VehicleUnloaded("V1")), "");
  EXPECT_EQ(Apply(table.BagOpened("B1")), "");
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B1")), "");
  EXPECT_EQ(Apply(table.ParcelUnbagged("P2", "B1")), "");
  EXPECT_EQ(Apply(table.BagEmptied("B1")), "");
  EXPECT_EQ(Apply(table.BagOpened("B2")), "");
  EXPECT_EQ(Apply(table.ParcelUnbagged("P3", "B2")), "");
  EXPECT_EQ(Apply(table.BagEmptied("B2")), "");
  EXPECT_EQ(hub.open_cases(), 0u);
}

TEST_F(HubTest, SealBrokenWhenVehicleArrivesWithSealNotIntact) {
  EXPECT_EQ(Apply(dock.VehicleArrived("V1", "S-1", /*intact=*/false)), "SEAL_BROKEN vehicle=V1");
}

TEST_F(HubTest, SealMismatchWhenScannedSealDiffersFromAdvice) {
  Ref(VehicleAdviceRef("V1", "S-1", {}));
  EXPECT_EQ(Apply(dock.VehicleArrived("V1", "S-2")), "SEAL_MISMATCH vehicle=V1");
  EXPECT_EQ(result.raised[0].detail(), "advised seal S-1, scanned S-2");
}

TEST_F(HubTest, BrokenAndMismatchedSealRaisesBoth) {
  Ref(VehicleAdviceRef("V1", "S-1", {}));
  EXPECT_EQ(Apply(dock.VehicleArrived("V1", "S-2", false)),
            "SEAL_BROKEN vehicle=V1; SEAL_MISMATCH vehicle=V1");
}

TEST_F(HubTest, BagsMissingNamesAdvisedBagsNotUnloaded) {
  Ref(VehicleAdviceRef("V1", "S-1", {"B1", "B2", "B3"}));
  Apply(dock.VehicleArrived("V1", "S-1"));
  Apply(dock.BagUnloaded("B2", "V1"));
  EXPECT_EQ(Apply(dock.VehicleUnloaded("V1")),
            "BAGS_MISSING vehicle=V1 expected=3 actual=1 missing=[B1,B3]");
}

TEST_F(HubTest, BagsExtraNamesBagsNotOnTheAdvice) {
  Ref(VehicleAdviceRef("V1", "S-1", {"B1"}));
  Apply(dock.VehicleArrived("V1", "S-1"));
  Apply(dock.BagUnloaded("B1", "V1"));
  Apply(dock.BagUnloaded("B9", "V1"));
  EXPECT_EQ(Apply(dock.VehicleUnloaded("V1")),
            "BAGS_EXTRA vehicle=V1 expected=1 actual=2 unexpected=[B9]");
}

TEST_F(HubTest, BagCountsFromArrivalScanWhenNoAdvice) {
  Apply(dock.VehicleArrived("V1", "S-1", true, /*advised_bags=*/3));
  Apply(dock.BagUnloaded("B1", "V1"));
  EXPECT_EQ(Apply(dock.VehicleUnloaded("V1")), "BAGS_MISSING vehicle=V1 expected=3 actual=1");
  Apply(dock.VehicleArrived("V2", "S-2", true, 1));
  Apply(dock.BagUnloaded("B2", "V2"));
  Apply(dock.BagUnloaded("B3", "V2"));
  EXPECT_EQ(Apply(dock.VehicleUnloaded("V2")), "BAGS_EXTRA vehicle=V2 expected=1 actual=2");
}

TEST_F(HubTest, NoBagReconciliationWithoutAnyAdvisedCount) {
  Apply(dock.VehicleArrived("V1", "S-1"));
  Apply(dock.BagUnloaded("B1", "V1"));
  EXPECT_EQ(Apply(dock.VehicleUnloaded("V1")), "");
}

TEST_F(HubTest, BagShortWhenFewerParcelsThanLabel) {
  Ref(BagAdviceRef("B1", {"P1", "P2", "P3"}));
  Apply(dock.BagUnloaded("B1", "V1", 3));
  Apply(table.BagOpened("B1"));
  Apply(table.ParcelUnbagged("P2", "B1"));
  EXPECT_EQ(Apply(table.BagEmptied("B1")),
            "BAG_SHORT vehicle=V1 bag=B1 expected=3 actual=1 missing=[P1,P3]");
}

TEST_F(HubTest, BagOverWhenMoreParcelsThanLabel) {
  Apply(dock.BagUnloaded("B1", "V1", 1));
  Apply(table.ParcelUnbagged("P1", "B1"));
  Apply(table.ParcelUnbagged("P2", "B1"));
  EXPECT_EQ(Apply(table.BagEmptied("B1")), "BAG_OVER vehicle=V1 bag=B1 expected=1 actual=2");
}

TEST_F(HubTest, BagRescanOfSameParcelCountsOnce) {
  Apply(dock.BagUnloaded("B1", "V1", 1));
  Apply(table.ParcelUnbagged("P1", "B1"));
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B1")), "");
  EXPECT_EQ(Apply(table.BagEmptied("B1")), "");
}

TEST_F(HubTest, MisbaggedWhenParcelNotOnBagAdvice) {
  Ref(BagAdviceRef("B1", {"P1"}));
  Apply(dock.BagUnloaded("B1", "V1", 1));
  EXPECT_EQ(Apply(table.ParcelUnbagged("P9", "B1")), "MISBAGGED vehicle=V1 bag=B1 parcel=P9");
  EXPECT_EQ(Apply(table.BagEmptied("B1")), "");  // counts agree: 1 label, 1 scanned
}

TEST_F(HubTest, BagOverListsForeignParcelsFromAdvice) {
  Ref(BagAdviceRef("B1", {"P1"}));
  Apply(dock.BagUnloaded("B1", "V1", 1));
  Apply(table.ParcelUnbagged("P1", "B1"));
  Apply(table.ParcelUnbagged("P9", "B1"));
  EXPECT_EQ(Apply(table.BagEmptied("B1")),
            "BAG_OVER vehicle=V1 bag=B1 expected=1 actual=2 unexpected=[P9]");
}

// --- Sort ----------------------------------------------------------------------

TEST_F(HubTest, SortScanRoutesToChuteAndLoad) {
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
  ASSERT_TRUE(result.has_decision);
  EXPECT_EQ(result.decision.route_code(), "R-SH");
  EXPECT_EQ(result.decision.chute(), "C1");
  EXPECT_EQ(result.decision.load_id(), "L-SH");
  EXPECT_EQ(result.decision.divert(), v1::DIVERT_NONE);
  EXPECT_EQ(result.decision.seq(), sorter.seq());
}

TEST_F(HubTest, NoReadWhenSortScanHasNoParcelId) {
  EXPECT_EQ(Apply(sorter.ParcelSorted("", "D-SH")), "NO_READ");
  EXPECT_EQ(result.decision.divert(), v1::DIVERT_NO_READ);
  EXPECT_EQ(result.raised[0].scanner_id(), "SORTER-1");
}

TEST_F(HubTest, NoRouteWhenDestinationHasNoOutboundRoute) {
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-XX")), "NO_ROUTE parcel=P1");
  EXPECT_EQ(result.decision.divert(), v1::DIVERT_NO_ROUTE);
  EXPECT_EQ(Apply(sorter.ParcelSorted("P2", "")), "NO_ROUTE parcel=P2");
}

TEST_F(HubTest, HeldParcelIsDivertedNeverRouted) {
  Ref(HoldRef("P1", v1::HOLD_REASON_CUSTOMER_INTERCEPT));
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "HELD_PARCEL parcel=P1");
  EXPECT_EQ(result.decision.divert(), v1::DIVERT_HELD);
  EXPECT_EQ(result.decision.load_id(), "");
}

TEST_F(HubTest, HeldParcelRaisedWhereverScanned) {
  Apply(desk.HoldPlaced("P1", v1::HOLD_REASON_PROHIBITED));
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B1")), "HELD_PARCEL parcel=P1");
  EXPECT_EQ(Apply(bagger.ParcelBagged("P1", "OB1")), "HELD_PARCEL parcel=P1");
  EXPECT_EQ(Apply(loader.BagLoaded("OB1", "L-SH")),
            "UNCLOSED_BAG_LOADED bag=OB1 load=L-SH; HELD_PARCEL bag=OB1 parcel=P1 load=L-SH");
}

TEST_F(HubTest, ReleasedHoldRoutesAgain) {
  Ref(HoldRef("P1", v1::HOLD_REASON_SECURITY));
  Apply(desk.HoldReleased("P1"));
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
  EXPECT_EQ(result.decision.divert(), v1::DIVERT_NONE);
}

// --- Outbound ------------------------------------------------------------------

TEST_F(HubTest, CleanOutboundFlowRaisesNothing) {
  ShipCleanly("P1");
  EXPECT_EQ(Apply(loader.LoadDeparted("L-SH", "S-OUT")), "");
  EXPECT_EQ(hub.open_cases(), 0u);
}

TEST_F(HubTest, MissortWhenParcelBaggedForAnotherRoute) {
  Apply(sorter.ParcelSorted("P1", "D-SH"));
  Apply(bagger.BagCreated("OB2", "R-BJ"));
  EXPECT_EQ(Apply(bagger.ParcelBagged("P1", "OB2")), "MISSORT bag=OB2 parcel=P1 load=L-SH");
  EXPECT_EQ(result.raised[0].detail(), "parcel routed to R-SH, bag is for R-BJ");
}

TEST_F(HubTest, BagLabelMismatchWhenWrittenCountDiffers) {
  Apply(bagger.BagCreated("OB1", "R-SH"));
  Apply(bagger.ParcelBagged("P1", "OB1"));
  Apply(bagger.ParcelBagged("P2", "OB1"));
  EXPECT_EQ(Apply(bagger.BagClosed("OB1", 3)), "BAG_LABEL_MISMATCH bag=OB1 expected=3 actual=2");
}

TEST_F(HubTest, BagLabelMismatchWhenParcelAddedAfterClose) {
  Apply(bagger.BagCreated("OB1", "R-SH"));
  Apply(bagger.ParcelBagged("P1", "OB1"));
  Apply(bagger.BagClosed("OB1", 1));
  EXPECT_EQ(Apply(bagger.ParcelBagged("P2", "OB1")),
            "BAG_LABEL_MISMATCH bag=OB1 parcel=P2 expected=1 actual=2");
}

TEST_F(HubTest, MisloadWhenBagLoadedOntoLoadForAnotherRoute) {
  Apply(bagger.BagCreated("OB1", "R-SH"));
  Apply(bagger.BagClosed("OB1", 0));
  Apply(loader.LoadOpened("L-BJ", "TRUCK-2", "R-BJ"));
  EXPECT_EQ(Apply(loader.BagLoaded("OB1", "L-BJ")), "MISLOAD vehicle=TRUCK-2 bag=OB1 load=L-BJ");
}

TEST_F(HubTest, UnclosedBagLoadedWhenBagNotClosed) {
  Apply(bagger.BagCreated("OB1", "R-SH"));
  Apply(loader.LoadOpened("L-SH", "TRUCK-1", "R-SH"));
  EXPECT_EQ(Apply(loader.BagLoaded("OB1", "L-SH")),
            "UNCLOSED_BAG_LOADED vehicle=TRUCK-1 bag=OB1 load=L-SH");
}

TEST_F(HubTest, LeftBehindWhenLoadDepartsWithoutRoutedParcel) {
  ShipCleanly("P1");
  Apply(sorter.ParcelSorted("P2", "D-SH"));  // routed to L-SH, never bagged
  Apply(sorter.ParcelSorted("P3", "D-SH"));
  EXPECT_EQ(Apply(loader.LoadDeparted("L-SH", "S-OUT")),
            "LEFT_BEHIND vehicle=TRUCK-9 parcel=P2 load=L-SH; "
            "LEFT_BEHIND vehicle=TRUCK-9 parcel=P3 load=L-SH");
  EXPECT_EQ(hub.live_parcels(), 2u);  // P1 left with the load; P2, P3 stay
}

TEST_F(HubTest, DamagedWhenParcelReportedDamaged) {
  EXPECT_EQ(Apply(desk.ParcelDamaged("P1", 740)), "DAMAGED parcel=P1");
  EXPECT_EQ(result.raised[0].detail(), "weighed 740 g");
}

TEST_F(HubTest, DuplicateParcelWhenUnbaggedFromTwoBags) {
  Apply(table.ParcelUnbagged("P1", "B1"));
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B2")), "DUPLICATE_PARCEL bag=B2 parcel=P1");
}

TEST_F(HubTest, DuplicateParcelWhenBaggedWhileInAClosedBag) {
  Apply(bagger.ParcelBagged("P1", "OB1"));
  Apply(bagger.BagClosed("OB1", 1));
  EXPECT_EQ(Apply(bagger.ParcelBagged("P1", "OB2")), "DUPLICATE_PARCEL bag=OB2 parcel=P1");
}

TEST_F(HubTest, MovingParcelBetweenOpenBagsIsNoDuplicate) {
  Apply(bagger.ParcelBagged("P1", "OB1"));
  EXPECT_EQ(Apply(bagger.ParcelBagged("P1", "OB2")), "");
  EXPECT_EQ(Apply(bagger.BagClosed("OB1", 0)), "");
  EXPECT_EQ(Apply(bagger.BagClosed("OB2", 1)), "");
}

// --- Cases carry their context ---------------------------------------------------

TEST_F(HubTest, CaseCarriesIdsSequenceTimeScannerAndStation) {
  auto e = desk.ParcelDamaged("P1", 10);
  Apply(e);
  const v1::ExceptionCase& c = result.raised.at(0);
  EXPECT_EQ(c.id(), 1u);
  EXPECT_EQ(c.status(), v1::OPEN);
  EXPECT_EQ(c.hub_seq(), result.hub_seq);
  EXPECT_EQ(c.event_time_ms(), e.event_time_ms());
  EXPECT_EQ(c.scanner_id(), "DESK-1");
  EXPECT_EQ(c.station(), "ST-DESK-1");
  Apply(desk.ParcelDamaged("P2", 10));
  EXPECT_EQ(result.raised.at(0).id(), 2u);
}

// --- Sequencing, duplicates and rejects -------------------------------------------

TEST_F(HubTest, ResentEventIsDuplicateAndChangesNothing) {
  Apply(desk.ParcelDamaged("P1", 10));
  const std::string before = hub.Snapshot().SerializeAsString();
  desk.Rewind(0);
  hub.ApplyEvent(desk.ParcelDamaged("P1", 10), &result);
  EXPECT_EQ(result.outcome, core::ApplyResult::Outcome::kDuplicate);
  EXPECT_TRUE(result.raised.empty());
  EXPECT_EQ(hub.Snapshot().SerializeAsString(), before);
}

TEST_F(HubTest, HubSequenceCountsAppliedRecordsOnly) {
  const uint64_t start = hub.last_hub_seq();  // the two routes
  EXPECT_EQ(start, 2u);
  Apply(sorter.ParcelSorted("P1", "D-SH"));
  EXPECT_EQ(result.hub_seq, 3u);
  v1::ScanEvent bad = sorter.ParcelBagged("", "OB1");
  hub.ApplyEvent(bad, &result);
  EXPECT_EQ(result.outcome, core::ApplyResult::Outcome::kRejected);
  EXPECT_EQ(result.reject_code, v1::REJECT_MISSING_ID);
  EXPECT_EQ(hub.last_hub_seq(), 3u);
}

TEST_F(HubTest, ContentRejectUsesUpItsSeqSoAResendIsRejectedAgainNotApplied) {
  v1::ScanEvent bad = sorter.ParcelBagged("", "OB1");
  hub.ApplyEvent(bad, &result);
  EXPECT_EQ(result.reject_code, v1::REJECT_MISSING_ID);
  EXPECT_EQ(hub.ScannerMark("SORTER-1"), bad.seq()) << "the resume point moves past it";
  hub.ApplyEvent(bad, &result);  // re-sent as it was: the same reject
  EXPECT_EQ(result.outcome, core::ApplyResult::Outcome::kRejected);
  EXPECT_EQ(result.reject_code, v1::REJECT_MISSING_ID);
  v1::ScanEvent corrected = bad;  // "corrected" under the used-up seq: a re-send
  corrected.mutable_parcel_bagged()->set_parcel_id("P1");
  hub.ApplyEvent(corrected, &result);
  EXPECT_EQ(result.outcome, core::ApplyResult::Outcome::kDuplicate);
}

TEST_F(HubTest, AdvanceScannerMarkNeverLowersIt) {
  hub.AdvanceScannerMark("DOCK-9", 7);
  hub.AdvanceScannerMark("DOCK-9", 3);
  EXPECT_EQ(hub.ScannerMark("DOCK-9"), 7u);
}

// --- Case life cycle ----------------------------------------------------------------

class CaseLifeCycleTest : public HubTest {
 protected:
  core::ApplyResult::Outcome Act(uint64_t id, v1::ExceptionStatus to) {
    v1::CaseAction a;
    a.set_case_id(id);
    a.set_to(to);
    a.mutable_transition()->set_by("supervisor-li");
    a.mutable_transition()->set_note("checked");
    hub.ApplyCaseAction(a, &result);
    return result.outcome;
  }
  static constexpr auto kApplied = core::ApplyResult::Outcome::kApplied;
  static constexpr auto kRejected = core::ApplyResult::Outcome::kRejected;
};

TEST_F(CaseLifeCycleTest, OpenThenAcknowledgedThenResolved) {
  Apply(desk.ParcelDamaged("P1", 10));
  EXPECT_EQ(Act(1, v1::ACKNOWLEDGED), kApplied);
  EXPECT_EQ(result.transition->from, v1::OPEN);
  EXPECT_EQ(Act(1, v1::RESOLVED), kApplied);
  EXPECT_EQ(result.transition->from, v1::ACKNOWLEDGED);
  EXPECT_EQ(hub.open_cases(), 0u);
}

TEST_F(CaseLifeCycleTest, AnActionChangesTheCaseItsStatusAndWhoWhenWhy) {
  Apply(desk.ParcelDamaged("P1", 10));
  ASSERT_EQ(result.raised.size(), 1u);
  v1::ExceptionCase c = result.raised[0];
  ASSERT_EQ(Act(1, v1::ACKNOWLEDGED), kApplied);
  result.transition->ApplyTo(&c);
  EXPECT_EQ(c.status(), v1::ACKNOWLEDGED);
  EXPECT_EQ(c.acknowledged().by(), "supervisor-li");
  EXPECT_FALSE(c.has_resolved());
  ASSERT_EQ(Act(1, v1::RESOLVED), kApplied);
  result.transition->ApplyTo(&c);
  EXPECT_EQ(c.status(), v1::RESOLVED);
  EXPECT_EQ(c.resolved().note(), "checked");
  EXPECT_EQ(c.acknowledged().by(), "supervisor-li") << "the acknowledgement stays";
}

TEST_F(CaseLifeCycleTest, NoResolvingTwiceNoGoingBack) {
  Apply(desk.ParcelDamaged("P1", 10));
  EXPECT_EQ(Act(1, v1::RESOLVED), kApplied);
  EXPECT_EQ(Act(1, v1::RESOLVED), kRejected);
  EXPECT_EQ(result.reject_reason, "case 1 is already RESOLVED");
  EXPECT_EQ(result.refusal, core::Refusal::kConflict);
  EXPECT_EQ(Act(1, v1::ACKNOWLEDGED), kRejected);
  Apply(desk.ParcelDamaged("P2", 10));
  EXPECT_EQ(Act(2, v1::ACKNOWLEDGED), kApplied);
  EXPECT_EQ(Act(2, v1::ACKNOWLEDGED), kRejected);
  EXPECT_EQ(result.refusal, core::Refusal::kConflict);
  EXPECT_EQ(Act(2, v1::OPEN), kRejected);
  EXPECT_EQ(result.refusal, core::Refusal::kInvalid);
  EXPECT_EQ(Act(99, v1::RESOLVED), kRejected);
  EXPECT_EQ(result.reject_reason, "no case 99");
  EXPECT_EQ(result.refusal, core::Refusal::kNotFound);
}

}  // namespace
}  // namespace hub::testing
