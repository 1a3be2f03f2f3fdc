// Events arrive out of the ideal order in real hubs. None is dropped: each is
// applied, and where a step was skipped the precise case says so.

#include <gtest/gtest.h>

#include "core/hub_fixture.h"

namespace hub::testing {
namespace {

using testutil::BagAdviceRef;
using testutil::HoldRef;
using testutil::VehicleAdviceRef;

TEST_F(HubTest, UnbagScansApplyWhenUnloadScanWasMissed) {
  Ref(VehicleAdviceRef("V1", "S-1", {"B1", "B2"}));
  Ref(BagAdviceRef("B2", {"P1", "P2"}));
  Apply(dock.VehicleArrived("V1", "S-1"));
  Apply(dock.BagUnloaded("B1", "V1", 0));
  // B2's unload scan never came, but the bag is opened and unbagged.
  EXPECT_EQ(Apply(table.BagOpened("B2")), "");
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B2")), "");
  // The advice places B2 on V1, so unloading reconciles as complete.
  EXPECT_EQ(Apply(dock.VehicleUnloaded("V1")), "");
  // Without a label count, the bag advice gives the expected count.
  EXPECT_EQ(Apply(table.BagEmptied("B2")),
            "BAG_SHORT vehicle=V1 bag=B2 expected=2 actual=1 missing=[P2]");
  EXPECT_EQ(hub.live_parcels(), 1u);
}

TEST_F(HubTest, UnbagWithoutAnyAdviceOrUnloadStillCountsParcels) {
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B7")), "");
  EXPECT_EQ(Apply(table.BagEmptied("B7")), "");  // nothing to compare against
  EXPECT_EQ(hub.live_parcels(), 1u);
}

TEST_F(HubTest, ParcelBaggedBeforeItWasSortedIsCheckedAtSort) {
  Apply(bagger.BagCreated("OB1", "R-SH"));
  EXPECT_EQ(Apply(bagger.ParcelBagged("P1", "OB1")), "");  // route not known yet
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
  EXPECT_EQ(result.decision.load_id(), "L-SH");

  EXPECT_EQ(Apply(bagger.ParcelBagged("P2", "OB1")), "");
  EXPECT_EQ(Apply(sorter.ParcelSorted("P2", "D-BJ")), "MISSORT bag=OB1 parcel=P2 load=L-BJ");
}

TEST_F(HubTest, ParcelsBaggedBeforeBagCreatedAreCheckedAtCreation) {
  Apply(sorter.ParcelSorted("P1", "D-SH"));
  Apply(sorter.ParcelSorted("P2", "D-BJ"));
  EXPECT_EQ(Apply(bagger.ParcelBagged("P1", "OB1")), "");
  EXPECT_EQ(Apply(bagger.ParcelBagged("P2", "OB1")), "");
  EXPECT_EQ(Apply(bagger.BagCreated("OB1", "R-SH")), "MISSORT bag=OB1 parcel=P2 load=L-BJ");
}

TEST_F(HubTest, HoldPlacedBeforeParcelArrivesStopsItAtFirstScan) {
  Ref(HoldRef("P1", v1::HOLD_REASON_RETURN));
  EXPECT_EQ(hub.live_parcels(), 0u);
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B1")), "HELD_PARCEL parcel=P1");
}

TEST_F(HubTest, BagsLoadedBeforeLoadOpenedAreCheckedAtOpening) {
  Apply(bagger.BagCreated("OB1", "R-SH"));
  Apply(bagger.BagClosed("OB1", 0));
  EXPECT_EQ(Apply(loader.BagLoaded("OB1", "L-BJ")), "");  // load's route unknown yet
  EXPECT_EQ(Apply(loader.LoadOpened("L-BJ", "TRUCK-2", "R-BJ")),
            "MISLOAD vehicle=TRUCK-2 bag=OB1 load=L-BJ");
}

TEST_F(HubTest, LoadDepartingWithRoutedParcelsOnTheFloorLeavesThemBehind) {
  Apply(loader.LoadOpened("L-SH", "TRUCK-1", "R-SH"));
  Apply(sorter.ParcelSorted("P1", "D-SH"));
  EXPECT_EQ(Apply(loader.LoadDeparted("L-SH", "S-9")),
            "LEFT_BEHIND vehicle=TRUCK-1 parcel=P1 load=L-SH");
  // The parcel is still in the hub and is routed afresh at its next sort.
  EXPECT_EQ(hub.live_parcels(), 1u);
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
}

TEST_F(HubTest, HeldParcelIsNotLeftBehind) {
  Apply(sorter.ParcelSorted("P1", "D-SH"));
  Apply(desk.HoldPlaced("P1", v1::HOLD_REASON_ADDRESS_UNCLEAR));
  EXPECT_EQ(Apply(loader.LoadDeparted("L-SH", "S-9")), "");
}

TEST_F(HubTest, ResortToAnotherLoadMovesTheExpectation) {
  Apply(sorter.ParcelSorted("P1", "D-SH"));
  Apply(sorter.ParcelSorted("P1", "D-BJ"));
  EXPECT_EQ(Apply(loader.LoadDeparted("L-SH", "S-9")), "");
  EXPECT_EQ(Apply(loader.LoadDeparted("L-BJ", "S-8")), "LEFT_BEHIND parcel=P1 load=L-BJ");
}

TEST_F(HubTest, DepartedLoadRetiresItsBagsAndParcelsFromMemory) {
  ShipCleanly("P1");
  EXPECT_EQ(hub.live_parcels(), 1u);
  Apply(loader.LoadDeparted("L-SH", "S-OUT"));
  EXPECT_EQ(hub.live_parcels(), 0u);
  EXPECT_EQ(hub.live_bags(), 0u);
  EXPECT_EQ(hub.live_loads(), 0u);
  ASSERT_EQ(result.retired.size(), 3u);
  EXPECT_EQ(result.retired[0].parcel().parcel_id(), "P1");
  EXPECT_EQ(result.retired[0].parcel().load_id(), "L-SH");
  EXPECT_EQ(result.retired[1].bag().bag_id(), "OB1");
  EXPECT_EQ(result.retired[2].load().load_id(), "L-SH");
  EXPECT_TRUE(result.retired[2].load().departed());
  EXPECT_EQ(result.retired[2].retired_at_hub_seq(), result.hub_seq);
}

TEST_F(HubTest, EmptiedBagAndUnloadedVehicleAreRetired) {
  Apply(dock.VehicleArrived("V1", "S-1"));
  Apply(dock.BagUnloaded("B1", "V1", 1));
  Apply(dock.VehicleUnloaded("V1"));
  EXPECT_EQ(hub.live_vehicles(), 0u);
  ASSERT_EQ(result.retired.size(), 1u);
  EXPECT_EQ(result.retired[0].vehicle().bag_ids(0), "B1");
  Apply(table.ParcelUnbagged("P1", "B1"));
  Apply(table.BagEmptied("B1"));
  EXPECT_EQ(hub.live_bags(), 0u);
  ASSERT_EQ(result.retired.size(), 1u);
  EXPECT_TRUE(result.retired[0].bag().emptied());
  EXPECT_EQ(hub.live_parcels(), 1u);  // the parcel is on the floor
}

}  // namespace
}  // namespace hub::testing
