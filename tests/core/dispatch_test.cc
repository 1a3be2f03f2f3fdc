// Dispatch advices between hubs (SPEC §7): a load departing on a route that
// names a next hub carries what it holds as a DispatchAdvice, and the next
// hub applies such an advice once, as its vehicle advice and bag advices.

#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include "core/hub_fixture.h"
#include "core/hub_state.h"
#include "core/validate.h"

namespace hub::testing {
namespace {

using Outcome = core::ApplyResult::Outcome;

constexpr int64_t kMinute = 60'000;

v1::ReferenceChange RouteTo(const std::string& destination, const std::string& route,
                            const std::string& load, const std::string& next_hub,
                            uint32_t transit_minutes = 0) {
  v1::ReferenceChange c = testutil::RouteRef(destination, route, "C-" + route, load);
  c.mutable_upsert_route()->set_next_hub(next_hub);
  c.mutable_upsert_route()->set_transit_minutes(transit_minutes);
  return c;
}

v1::DispatchAdvice Parse(const std::string& text) {
  v1::DispatchAdvice a;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &a)) << text;
  return a;
}

struct Bag {
  std::string id;
  std::vector<std::string> parcels;
  std::optional<uint32_t> label_count = {};
};

// An advice from `from_hub` for vehicle V1 (seal S-1) carrying `bags`.
v1::ReferenceChange Dispatch(const std::string& from_hub, uint64_t from_hub_seq,
                             const std::vector<Bag>& bags, const std::string& vehicle = "V1",
                             const std::string& seal = "S-1") {
  v1::ReferenceChange c;
  v1::DispatchAdvice* a = c.mutable_dispatch_advice();
  a->set_from_hub(from_hub);
  a->set_from_hub_seq(from_hub_seq);
  a->set_to_hub("HUB-HERE");
  a->set_load_id("L-" + vehicle);
  a->mutable_vehicle()->set_vehicle_id(vehicle);
  a->mutable_vehicle()->set_seal_id(seal);
  for (const auto& b : bags) {
    a->mutable_vehicle()->add_bag_ids(b.id);
    v1::BagAdvice* bag = a->add_bags();
    bag->set_bag_id(b.id);
    for (const auto& p : b.parcels) bag->add_parcel_ids(p);
    if (b.label_count) bag->set_label_count(*b.label_count);
  }
  return c;
}

class DispatchTest : public HubTest {
 protected:
  // Applies a change expected to be refused; returns the refusal.
  core::Refusal Refused(const v1::ReferenceChange& c) {
    hub.ApplyReference(c, &result);
    EXPECT_EQ(result.outcome, Outcome::kRejected);
    EXPECT_EQ(result.hub_seq, 0u);
    return result.refusal;
  }
  std::string Bytes() const { return hub.Snapshot().SerializeAsString(); }
};

// --- The sending hub ---------------------------------------------------------

TEST_F(DispatchTest, DepartingLoadOnARouteWithANextHubCarriesItsDispatchAdvice) {
  Ref(RouteTo("D-SH", "R-SH", "L-SH", "HUB-SH", /*transit_minutes=*/90));
  // P3 came in with a weight on its bag's advice; P1 and P4 were weighed by
  // the sorter; P2 was bagged without a sort scan, so no weight is known.
  v1::ReferenceChange inbound = testutil::BagAdviceRef("IB1", {"P3"});
  auto* w = inbound.mutable_bag_advice()->add_parcel_weights();
  w->set_parcel_id("P3");
  w->set_weight_g(800);
  Ref(inbound);
  EXPECT_EQ(Apply(table.ParcelUnbagged("P3", "IB1")), "");
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
  EXPECT_EQ(Apply(sorter.ParcelSorted("P3", "D-SH")), "");
  v1::ScanEvent p4 = sorter.ParcelSorted("P4", "D-SH");
  p4.mutable_parcel_sorted()->set_weight_g(950);
  EXPECT_EQ(Apply(p4), "");
  for (const char* bag : {"OB1", "OB2", "OB3"}) EXPECT_EQ(Apply(bagger.BagCreated(bag, "R-SH")), "");
  EXPECT_EQ(Apply(bagger.ParcelBagged("P2", "OB2")), "");
  EXPECT_EQ(Apply(bagger.BagClosed("OB2", 1)), "");
  EXPECT_EQ(Apply(bagger.ParcelBagged("P3", "OB1")), "");
  EXPECT_EQ(Apply(bagger.ParcelBagged("P1", "OB1")), "");
  EXPECT_EQ(Apply(bagger.BagClosed("OB1", 2)), "");
  EXPECT_EQ(Apply(bagger.ParcelBagged("P4", "OB3")), "");  // OB3 is never closed
  EXPECT_EQ(Apply(loader.LoadOpened("L-SH", "TRUCK-9", "R-SH")), "");
  EXPECT_EQ(Apply(loader.BagLoaded("OB2", "L-SH")), "");
  EXPECT_EQ(Apply(loader.BagLoaded("OB1", "L-SH")), "");
  EXPECT_EQ(Apply(loader.BagLoaded("OB3", "L-SH")), "UNCLOSED_BAG_LOADED vehicle=TRUCK-9 bag=OB3 load=L-SH");
  EXPECT_FALSE(result.dispatch.has_value());  // only a departure carries one

  const v1::ScanEvent departure = loader.LoadDeparted("L-SH", "S-77");
  EXPECT_EQ(Apply(departure), "");
  ASSERT_TRUE(result.dispatch.has_value());
  v1::DispatchAdvice want = Parse(R"pb(
    to_hub: "HUB-SH"
    load_id: "L-SH"
    vehicle {
      vehicle_id: "TRUCK-9"
      route_code: "R-SH"
      seal_id: "S-77"
      bag_ids: [ "OB2", "OB1", "OB3" ]
    }
    bags { bag_id: "OB2" parcel_ids: "P2" label_count: 1 }
    bags {
      bag_id: "OB1"
      parcel_ids: [ "P3", "P1" ]
      parcel_weights { parcel_id: "P3" weight_g: 800 }
      parcel_weights { parcel_id: "P1" weight_g: 1200 }
      label_count: 2
    }
    bags {
      bag_id: "OB3"
      parcel_ids: "P4"
      parcel_weights { parcel_id: "P4" weight_g: 950 }
    }
  )pb");
  want.set_from_hub_seq(result.hub_seq);
  want.set_departed_ms(departure.event_time_ms());
  want.mutable_vehicle()->set_expected_arrival_ms(departure.event_time_ms() + 90 * kMinute);
  EXPECT_EQ(result.dispatch->DebugString(), want.DebugString());
  EXPECT_TRUE(result.dispatch->from_hub().empty());  // the feed fills it in
  // Computed before the load left: its bags and parcels are gone now.
  EXPECT_EQ(hub.live_loads(), 0u);
  EXPECT_EQ(hub.live_parcels(), 0u);

  EXPECT_EQ(Apply(sorter.ParcelSorted("P5", "D-SH")), "");
  EXPECT_FALSE(result.dispatch.has_value());  // cleared for the next record
}

TEST_F(DispatchTest, NoDispatchAdviceWithoutANextHub) {
  Ref(RouteTo("D-BJ", "R-BJ", "L-BJ", "HUB-BJ"));  // another route has one
  ShipCleanly("P1");                              // on R-SH, which has none
  EXPECT_EQ(Apply(loader.LoadDeparted("L-SH", "S-1")), "");
  EXPECT_FALSE(result.dispatch.has_value());
  // A load whose opening was never scanned has no route at all.
  EXPECT_EQ(Apply(loader.BagLoaded("OB9", "L-X")), "UNCLOSED_BAG_LOADED bag=OB9 load=L-X");
  EXPECT_EQ(Apply(loader.LoadDeparted("L-X", "S-2")), "");
  EXPECT_FALSE(result.dispatch.has_value());
}

TEST_F(DispatchTest, SmallestDestinationNamesTheNextHubOfARoute) {
  Ref(RouteTo("D-SH2", "R-SH", "L-SH", "HUB-Z", 45));
  Ref(RouteTo("D-SH1", "R-SH", "L-SH", "HUB-Y", 30));
  Ref(RouteTo("D-AA", "R-SH", "L-SH", ""));  // smaller, but names no next hub
  ShipCleanly("P1");
  const v1::ScanEvent departure = loader.LoadDeparted("L-SH", "S-1");
  Apply(departure);
  ASSERT_TRUE(result.dispatch.has_value());
  EXPECT_EQ(result.dispatch->to_hub(), "HUB-Y");
  EXPECT_EQ(result.dispatch->vehicle().expected_arrival_ms(), departure.event_time_ms() + 30 * kMinute);

  Ref(RouteTo("D-SH1", "R-SH", "L-SH", ""));  // D-SH1 no longer names one
  ShipCleanly("P2");
  Apply(loader.LoadDeparted("L-SH", "S-2"));
  ASSERT_TRUE(result.dispatch.has_value());
  EXPECT_EQ(result.dispatch->to_hub(), "HUB-Z");
}

TEST_F(DispatchTest, NoTransitMinutesMeansNoExpectedArrival) {
  Ref(RouteTo("D-SH", "R-SH", "L-SH", "HUB-SH", 0));
  ShipCleanly("P1");
  Apply(loader.LoadDeparted("L-SH", "S-1"));
  ASSERT_TRUE(result.dispatch.has_value());
  EXPECT_EQ(result.dispatch->vehicle().expected_arrival_ms(), 0);
  EXPECT_GT(result.dispatch->departed_ms(), 0);
}

TEST_F(DispatchTest, RoutesKeepNextHubAndTransitMinutesThroughSnapshotAndRestore) {
  Ref(RouteTo("D-SH", "R-SH", "L-SH", "HUB-SH", 90));
  auto find = [](const v1::RoutingTable& t, const std::string& destination) {
    for (const auto& e : t.entries())
      if (e.destination() == destination) return e.ShortDebugString();
    return std::string("none");
  };
  const std::string want =
      R"(destination: "D-SH" route_code: "R-SH" chute: "C-R-SH" load_id: "L-SH" next_hub: "HUB-SH" transit_minutes: 90)";
  EXPECT_EQ(find(*hub.Routes(), "D-SH"), want);
  core::HubState restored;
  restored.Restore(hub.Snapshot());
  EXPECT_EQ(find(*restored.Routes(), "D-SH"), want);
  EXPECT_EQ(restored.Snapshot().SerializeAsString(), Bytes());
  v1::ReferenceChange replace;
  *replace.mutable_replace_routes()->add_entries() = RouteTo("D-GZ", "R-GZ", "L-GZ", "HUB-GZ", 5).upsert_route();
  Ref(replace);
  EXPECT_EQ(find(*hub.Routes(), "D-GZ"),
            R"(destination: "D-GZ" route_code: "R-GZ" chute: "C-R-GZ" load_id: "L-GZ" next_hub: "HUB-GZ" transit_minutes: 5)");
}

TEST_F(DispatchTest, NextHubAndTransitMinutesOfARouteAreValidated) {
  std::string reason;
  auto check = [&reason](const std::string& next_hub, uint32_t transit) {
    return core::ValidateReference(RouteTo("D1", "R1", "L1", next_hub, transit), &reason);
  };
  EXPECT_EQ(check("", 0), v1::REJECT_NONE);
  EXPECT_EQ(check("HUB_sh-2", 7 * 24 * 60), v1::REJECT_NONE);
  EXPECT_EQ(check(std::string(64, 'h'), 0), v1::REJECT_NONE);
  EXPECT_EQ(check("HUB.SH", 0), v1::REJECT_BAD_ID);
  EXPECT_EQ(reason, "route.next_hub must be 1..64 of A-Z a-z 0-9 _ -");
  EXPECT_EQ(check("HUB SH", 0), v1::REJECT_BAD_ID);
  EXPECT_EQ(check(std::string(65, 'h'), 0), v1::REJECT_BAD_ID);
  EXPECT_EQ(check("HUB-SH", 7 * 24 * 60 + 1), v1::REJECT_BAD_ENUM);
  EXPECT_EQ(reason, "route.transit_minutes is over 7 days");
  v1::ReferenceChange replace;
  *replace.mutable_replace_routes()->add_entries() = RouteTo("D1", "R1", "L1", "HUB/1").upsert_route();
  EXPECT_EQ(core::ValidateReference(replace, &reason), v1::REJECT_BAD_ID);
}

// --- The receiving hub -------------------------------------------------------

TEST_F(DispatchTest, AdviceFromThePreviousHubRaisesSealMismatch) {
  Ref(Dispatch("HUB-A", 17, {{"B1", {"P1"}}}));
  EXPECT_EQ(Apply(dock.VehicleArrived("V1", "S-2")), "SEAL_MISMATCH vehicle=V1");
  EXPECT_EQ(result.raised[0].detail(), "advised seal S-1, scanned S-2");
}

TEST_F(DispatchTest, BagMissingFromTheDispatchedLoadIsBagsMissing) {
  Ref(Dispatch("HUB-A", 17, {{"B1", {"P1"}}, {"B2", {"P2"}}}));
  EXPECT_EQ(Apply(dock.VehicleArrived("V1", "S-1")), "");
  EXPECT_EQ(Apply(dock.BagUnloaded("B1", "V1", 1)), "");
  EXPECT_EQ(Apply(dock.VehicleUnloaded("V1")), "BAGS_MISSING vehicle=V1 expected=2 actual=1 missing=[B2]");
}

TEST_F(DispatchTest, ParcelThatFellOutInTransitIsBagShortWithItsId) {
  Ref(Dispatch("HUB-A", 17, {{"B1", {"P1", "P2"}, 2}}));
  EXPECT_EQ(Apply(dock.BagUnloaded("B1", "V1", 2)), "");
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B1")), "");
  EXPECT_EQ(Apply(table.BagEmptied("B1")), "BAG_SHORT vehicle=V1 bag=B1 expected=2 actual=1 missing=[P2]");
}

TEST_F(DispatchTest, ParcelNotInTheDispatchedBagIsMisbagged) {
  Ref(Dispatch("HUB-A", 17, {{"B1", {"P1"}}}));
  EXPECT_EQ(Apply(dock.BagUnloaded("B1", "V1")), "");
  EXPECT_EQ(Apply(table.ParcelUnbagged("P9", "B1")), "MISBAGGED vehicle=V1 bag=B1 parcel=P9");
}

TEST_F(DispatchTest, AdviceIsReadBackAsItsVehicleAndBagAdvices) {
  Ref(Dispatch("HUB-A", 17, {{"B2", {"P3"}}, {"B1", {"P2", "P1"}, 2}}));
  EXPECT_EQ(hub.VehicleAdviceOf("V1")->ShortDebugString(),
            R"(vehicle_id: "V1" seal_id: "S-1" bag_ids: "B1" bag_ids: "B2")");
  EXPECT_EQ(hub.BagAdviceOf("B1")->ShortDebugString(),
            R"(bag_id: "B1" parcel_ids: "P1" parcel_ids: "P2" label_count: 2)");
  EXPECT_EQ(hub.BagAdviceOf("B2")->ShortDebugString(), R"(bag_id: "B2" parcel_ids: "P3")");
  EXPECT_EQ(hub.last_hub_seq(), 3u);  // the fixture's two routes, then one record
}

TEST_F(DispatchTest, ReDeliveredAdviceIsRefusedAndChangesNothing) {
  const v1::ReferenceChange advice = Dispatch("HUB-A", 17, {{"B1", {"P1"}}});
  Ref(advice);
  const std::string before = Bytes();
  EXPECT_EQ(Refused(advice), core::Refusal::kDuplicate);
  EXPECT_EQ(result.reject_reason, "dispatch advice 17 from hub HUB-A was applied already");
  EXPECT_TRUE(result.raised.empty());
  EXPECT_EQ(Bytes(), before);
}

TEST_F(DispatchTest, AnOlderAdviceFromTheSameHubIsRefused) {
  Ref(Dispatch("HUB-A", 17, {{"B1", {"P1"}}}));
  const std::string before = Bytes();
  EXPECT_EQ(Refused(Dispatch("HUB-A", 12, {{"B2", {"P2"}}}, "V2")), core::Refusal::kDuplicate);
  EXPECT_EQ(result.reject_reason,
            "dispatch advice 12 from hub HUB-A is older than advice 17, applied already");
  EXPECT_EQ(Bytes(), before);
  EXPECT_FALSE(hub.VehicleAdviceOf("V2").has_value());
  EXPECT_EQ(Ref(Dispatch("HUB-A", 18, {{"B2", {"P2"}}}, "V2")), "");
  EXPECT_TRUE(hub.VehicleAdviceOf("V2").has_value());
}

TEST_F(DispatchTest, AdvicesFromTwoHubsAreTrackedApart) {
  Ref(Dispatch("HUB-B", 5, {{"B1", {"P1"}}}, "V1"));
  Ref(Dispatch("HUB-A", 17, {{"B2", {"P2"}}}, "V2"));
  Ref(Dispatch("HUB-B", 6, {{"B3", {"P3"}}}, "V3"));  // below HUB-A's 17: another hub
  EXPECT_EQ(Refused(Dispatch("HUB-A", 17, {{"B2", {"P2"}}}, "V2")), core::Refusal::kDuplicate);
  EXPECT_EQ(Refused(Dispatch("HUB-B", 5, {{"B1", {"P1"}}}, "V1")), core::Refusal::kDuplicate);
  const v1::HubSnapshot s = hub.Snapshot();
  ASSERT_EQ(s.dispatch_marks_size(), 2);
  EXPECT_EQ(s.dispatch_marks(0).ShortDebugString(), R"(from_hub: "HUB-A" hub_seq: 17)");
  EXPECT_EQ(s.dispatch_marks(1).ShortDebugString(), R"(from_hub: "HUB-B" hub_seq: 6)");
}

TEST_F(DispatchTest, MarksSurviveSnapshotAndRestore) {
  Ref(Dispatch("HUB-A", 17, {{"B1", {"P1"}}}));
  Ref(Dispatch("HUB-B", 3, {{"B2", {"P2"}}}, "V2"));
  core::HubState restored;
  restored.Restore(hub.Snapshot());
  EXPECT_EQ(restored.Snapshot().SerializeAsString(), Bytes());
  restored.ApplyReference(Dispatch("HUB-A", 17, {{"B1", {"P1"}}}), &result);
  EXPECT_EQ(result.outcome, Outcome::kRejected);
  EXPECT_EQ(result.refusal, core::Refusal::kDuplicate);
  restored.ApplyReference(Dispatch("HUB-B", 4, {{"B3", {"P3"}}}, "V3"), &result);
  EXPECT_EQ(result.outcome, Outcome::kApplied) << result.reject_reason;
  // A restore replaces the marks too.
  restored.Restore(core::HubState().Snapshot());
  restored.ApplyReference(Dispatch("HUB-A", 17, {{"B1", {"P1"}}}), &result);
  EXPECT_EQ(result.outcome, Outcome::kApplied) << result.reject_reason;
}

TEST_F(DispatchTest, LabelCountOfTheAdviceIsUsedWhenTheUnloadScanReadsNone) {
  // The sending hub's label said 4; three parcels were advised.
  Ref(Dispatch("HUB-A", 17, {{"B1", {"P1", "P2", "P3"}, 4}, {"B2", {"P1x", "P2x"}, 4}, {"B3", {"P1y", "P2y"}}}));
  EXPECT_EQ(Apply(dock.BagUnloaded("B1", "V1")), "");  // no label read
  for (const char* p : {"P1", "P2", "P3"}) EXPECT_EQ(Apply(table.ParcelUnbagged(p, "B1")), "");
  EXPECT_EQ(Apply(table.BagEmptied("B1")), "BAG_SHORT vehicle=V1 bag=B1 expected=4 actual=3");
  // A label read at the dock wins over the advice's.
  EXPECT_EQ(Apply(dock.BagUnloaded("B2", "V1", 2)), "");
  for (const char* p : {"P1x", "P2x"}) EXPECT_EQ(Apply(table.ParcelUnbagged(p, "B2")), "");
  EXPECT_EQ(Apply(table.BagEmptied("B2")), "");
  // Neither: the number of advised parcels.
  EXPECT_EQ(Apply(dock.BagUnloaded("B3", "V1")), "");
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1y", "B3")), "");
  EXPECT_EQ(Apply(table.BagEmptied("B3")), "BAG_SHORT vehicle=V1 bag=B3 expected=2 actual=1 missing=[P2y]");
}

TEST_F(DispatchTest, LabelCountOfAPlainBagAdviceCountsTooAndSurvivesASnapshot) {
  v1::ReferenceChange advice = testutil::BagAdviceRef("B1", {"P1"});
  advice.mutable_bag_advice()->set_label_count(3);
  Ref(advice);
  core::HubState restored;
  restored.Restore(hub.Snapshot());
  EXPECT_EQ(restored.BagAdviceOf("B1")->ShortDebugString(), R"(bag_id: "B1" parcel_ids: "P1" label_count: 3)");
  EXPECT_EQ(restored.Snapshot().SerializeAsString(), Bytes());
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B1")), "");
  EXPECT_EQ(Apply(table.BagEmptied("B1")), "BAG_SHORT bag=B1 expected=3 actual=1");
}

TEST_F(DispatchTest, ExpectedArrivalFromTransitMinutesMakesTheVehicleOverdue) {
  // The sending hub: a route 60 minutes away.
  Ref(RouteTo("D-SH", "R-SH", "L-SH", "HUB-HERE", 60));
  ShipCleanly("P1");
  const v1::ScanEvent departure = loader.LoadDeparted("L-SH", "S-9");
  Apply(departure);
  ASSERT_TRUE(result.dispatch.has_value());
  v1::ReferenceChange advice;
  *advice.mutable_dispatch_advice() = *result.dispatch;
  advice.mutable_dispatch_advice()->set_from_hub("HUB-A");

  core::HubState here;
  here.ApplyReference(advice, &result);
  ASSERT_EQ(result.outcome, Outcome::kApplied) << result.reject_reason;
  testutil::Scanner desk_here("DESK-HERE");
  int ticks = 0;
  auto tick_at = [&](int64_t time_ms) {
    v1::ScanEvent e = desk_here.VehicleArrived("V-TICK-" + std::to_string(++ticks), "S");
    e.set_event_time_ms(time_ms);
    here.ApplyEvent(e, &result);
    EXPECT_EQ(result.outcome, Outcome::kApplied) << result.reject_reason;
    return testutil::Describe(result.raised);
  };
  const int64_t departed = departure.event_time_ms();
  EXPECT_EQ(tick_at(departed + 60 * kMinute), "");
  EXPECT_EQ(tick_at(departed + 89 * kMinute), "");  // within the 30 minutes' grace
  EXPECT_EQ(tick_at(departed + 90 * kMinute), "VEHICLE_OVERDUE vehicle=TRUCK-9");
}

TEST_F(DispatchTest, InvalidDispatchAdviceIsRefusedAsInvalid) {
  const std::string before = Bytes();
  auto refused = [&](v1::ReferenceChange c) {
    EXPECT_EQ(Refused(c), core::Refusal::kInvalid);
    EXPECT_EQ(Bytes(), before);
    return result.reject_reason;
  };
  v1::ReferenceChange c = Dispatch("", 17, {{"B1", {"P1"}}});
  EXPECT_EQ(refused(c), "dispatch_advice.from_hub is missing");
  c.mutable_dispatch_advice()->set_from_hub("HUB A");
  EXPECT_EQ(refused(c), "dispatch_advice.from_hub must be 1..64 of A-Z a-z 0-9 _ -");
  c.mutable_dispatch_advice()->set_from_hub("HUB-A");
  c.mutable_dispatch_advice()->set_from_hub_seq(0);
  EXPECT_EQ(refused(c), "dispatch_advice.from_hub_seq must be at least 1");
  c.mutable_dispatch_advice()->set_from_hub_seq(17);
  c.mutable_dispatch_advice()->clear_vehicle();
  EXPECT_EQ(refused(c), "dispatch_advice.vehicle is missing");
  c = Dispatch("HUB-A", 17, {{"B1", {"P1"}}}, "");
  EXPECT_EQ(refused(c), "dispatch_advice.vehicle.vehicle_id is missing");
  c = Dispatch("HUB-A", 17, {{"B1", {"P1"}}});
  c.mutable_dispatch_advice()->mutable_vehicle()->set_expected_arrival_ms(-1);
  EXPECT_EQ(refused(c), "dispatch_advice.vehicle.expected_arrival_ms is negative");
  c = Dispatch("HUB-A", 17, {{"B1", {"P1", "P\n2"}}});
  EXPECT_EQ(refused(c), "dispatch_advice.bags.parcel_ids holds a control character");
  c = Dispatch("HUB-A", 17, {{"B1", {"P1"}}});
  auto* w = c.mutable_dispatch_advice()->mutable_bags(0)->add_parcel_weights();
  w->set_parcel_id("P9");
  w->set_weight_g(100);
  EXPECT_EQ(refused(c), "dispatch_advice.bags.parcel_weights names P9, which parcel_ids does not list");
  c = Dispatch("HUB-A", 17, {{"", {"P1"}}});
  EXPECT_EQ(refused(c), "dispatch_advice.vehicle.bag_ids is missing");
  // The core does not check to_hub (the consumer subscribed to it), and
  // nothing refused left a mark: the same number applies now.
  c = Dispatch("HUB-A", 17, {{"B1", {"P1"}}});
  c.mutable_dispatch_advice()->set_to_hub("");
  EXPECT_EQ(Ref(c), "");
}

TEST_F(DispatchTest, AdviceFromHubATravelsToHubBAndRaisesExactlyWhatWentWrongOnTheWay) {
  // Hub A (this fixture's hub): three bags on TRUCK-9 to HUB-B.
  Ref(RouteTo("D-SH", "R-SH", "L-SH", "HUB-B", 120));
  for (const char* p : {"P1", "P2", "P3", "P4", "P5"}) EXPECT_EQ(Apply(sorter.ParcelSorted(p, "D-SH")), "");
  const std::vector<std::pair<std::string, std::vector<std::string>>> bags = {
      {"OB1", {"P1", "P2"}}, {"OB2", {"P3"}}, {"OB3", {"P4", "P5"}}};
  EXPECT_EQ(Apply(loader.LoadOpened("L-SH", "TRUCK-9", "R-SH")), "");
  for (const auto& [bag, parcels] : bags) {
    EXPECT_EQ(Apply(bagger.BagCreated(bag, "R-SH")), "");
    for (const auto& p : parcels) EXPECT_EQ(Apply(bagger.ParcelBagged(p, bag)), "");
    EXPECT_EQ(Apply(bagger.BagClosed(bag, static_cast<uint32_t>(parcels.size()))), "");
    EXPECT_EQ(Apply(loader.BagLoaded(bag, "L-SH")), "");
  }
  EXPECT_EQ(Apply(loader.LoadDeparted("L-SH", "S-9")), "");
  ASSERT_TRUE(result.dispatch.has_value());
  v1::ReferenceChange advice;
  *advice.mutable_dispatch_advice() = *result.dispatch;
  advice.mutable_dispatch_advice()->set_from_hub("HUB-A");  // what the feed does
  EXPECT_EQ(advice.dispatch_advice().to_hub(), "HUB-B");

  // Hub B.
  core::HubState b;
  testutil::Scanner dock_b("DOCK-B"), table_b("TABLE-B"), sorter_b("SORTER-B");
  auto apply = [&](const v1::ScanEvent& e) {
    b.ApplyEvent(e, &result);
    EXPECT_EQ(result.outcome, Outcome::kApplied) << result.reject_reason;
    return testutil::Describe(result.raised);
  };
  b.ApplyReference(testutil::RouteRef("D-SH", "R-LOCAL", "C1", "L-LOCAL"), &result);
  b.ApplyReference(advice, &result);
  ASSERT_EQ(result.outcome, Outcome::kApplied) << result.reject_reason;
  b.ApplyReference(advice, &result);  // the feed delivers it again
  EXPECT_EQ(result.refusal, core::Refusal::kDuplicate);

  EXPECT_EQ(apply(dock_b.VehicleArrived("TRUCK-9", "S-9")), "");
  EXPECT_EQ(apply(dock_b.BagUnloaded("OB1", "TRUCK-9")), "");  // no label read
  EXPECT_EQ(apply(dock_b.BagUnloaded("OB3", "TRUCK-9", 2)), "");
  EXPECT_EQ(apply(dock_b.VehicleUnloaded("TRUCK-9")),
            "BAGS_MISSING vehicle=TRUCK-9 expected=3 actual=2 missing=[OB2]");
  // OB1 lost P2 on the way; OB3 holds a parcel A never put in it.
  EXPECT_EQ(apply(table_b.ParcelUnbagged("P1", "OB1")), "");
  EXPECT_EQ(apply(table_b.BagEmptied("OB1")), "BAG_SHORT vehicle=TRUCK-9 bag=OB1 expected=2 actual=1 missing=[P2]");
  EXPECT_EQ(apply(table_b.ParcelUnbagged("P4", "OB3")), "");
  EXPECT_EQ(apply(table_b.ParcelUnbagged("P9", "OB3")), "MISBAGGED vehicle=TRUCK-9 bag=OB3 parcel=P9");
  EXPECT_EQ(apply(table_b.ParcelUnbagged("P5", "OB3")), "");
  EXPECT_EQ(apply(table_b.BagEmptied("OB3")), "BAG_OVER vehicle=TRUCK-9 bag=OB3 expected=2 actual=3 unexpected=[P9]");
  // A's weight (its sort scan's 1200 g) came along: B's scale disagrees.
  v1::ScanEvent weighed = sorter_b.ParcelSorted("P1", "D-SH");
  weighed.mutable_parcel_sorted()->mutable_measurement()->set_weight_g(2500);
  EXPECT_EQ(apply(weighed), "WEIGHT_MISMATCH bag=OB1 parcel=P1 known=1200g measured=2500g");
  EXPECT_EQ(b.open_cases(), 5u);
}

}  // namespace
}  // namespace hub::testing
