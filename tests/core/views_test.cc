// The read models behind the supervisor API's parcel trace and bag, vehicle
// and load views, built from the records the core logged (SPEC §5).

#include "core/views.h"

#include <gtest/gtest.h>

#include <map>

#include "core/hub_state.h"
#include "api/audit_api.h"
#include "testutil/events.h"

namespace hub::testing {
namespace {

using testutil::Record;

// Applies records the way the sequencer does and keeps, for every entity,
// the records that involved it as the log stores them (hub_seq, decision).
class ViewsTest : public ::testing::Test {
 protected:
  ViewsTest() {
    Add(Record(testutil::RouteRef("D-SH", "R-SH", "C1", "L-SH")));
    Add(Record(testutil::RouteRef("D-BJ", "R-BJ", "C2", "L-BJ")));
  }

  void Add(v1::LogRecord rec) {
    hub_.Apply(rec, &result_);
    ASSERT_EQ(result_.outcome, core::ApplyResult::Outcome::kApplied) << result_.reject_reason;
    rec.set_hub_seq(result_.hub_seq);
    if (result_.has_decision) *rec.mutable_decision() = result_.decision;
    std::vector<core::EntityRef> refs;
    core::EntitiesOf(rec, &refs);
    for (const auto& ref : refs) by_entity_[core::EntityKey(ref.kind, *ref.id)].push_back(rec);
  }
  void Add(const v1::ScanEvent& e) { Add(Record(e)); }
  void Add(const v1::ReferenceChange& c) { Add(Record(c)); }

  const std::vector<v1::LogRecord>& Of(core::EntityKind kind, const std::string& id) {
    return by_entity_[core::EntityKey(kind, id)];
  }
  v1::BagView Bag(const std::string& id) { return core::BuildBagView(id, Of(core::EntityKind::kBag, id)); }

  core::HubState hub_;
  core::ApplyResult result_;
  std::map<std::string, std::vector<v1::LogRecord>> by_entity_;
  testutil::Scanner dock{"DOCK-1"}, table{"TABLE-1"}, sorter{"SORTER-1"}, bagger{"BAGGER-1"},
      loader{"LOADER-1"}, desk{"DESK-1"};
};

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  return {ids.begin(), ids.end()};
}

TEST_F(ViewsTest, EntitiesOfNamesEveryEntityOnceAndTheRoutedLoad) {
  v1::SortDecision routed;
  routed.set_load_id("L-SH");
  // The refs point into the records, so each record outlives its refs.
  const auto sorted = sorter.ParcelSorted("P1", "D-SH");
  std::vector<core::EntityRef> refs;
  core::EntitiesOf(sorted, &routed, &refs);
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(core::EntityKey(refs[0].kind, *refs[0].id), "PP1");
  EXPECT_EQ(core::EntityKey(refs[1].kind, *refs[1].id), "LL-SH");
  refs.clear();
  core::EntitiesOf(sorted, nullptr, &refs);  // not routed: no load
  EXPECT_EQ(refs.size(), 1u);
  refs.clear();
  const auto unbagged = table.ParcelUnbagged("P1", "B1");
  core::EntitiesOf(unbagged, nullptr, &refs);
  EXPECT_EQ(refs.size(), 2u);
  refs.clear();
  const auto route = testutil::RouteRef("D", "R", "C", "L");
  core::EntitiesOf(route, &refs);
  EXPECT_TRUE(refs.empty());
  const auto hold = testutil::HoldRef("P7", v1::HOLD_REASON_SECURITY);
  core::EntitiesOf(hold, &refs);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(*refs[0].id, "P7");
}

TEST_F(ViewsTest, ParcelTraceShowsWhoPlacedAHoldAndWhen) {
  // As the API logs it: the hold stamped with the token's name and hubd's clock.
  v1::LogRecord placed = Record(testutil::HoldRef("P1", v1::HOLD_REASON_CUSTOMER_INTERCEPT));
  placed.mutable_reference()->mutable_add_hold()->set_placed_by("client says me");
  api::StampOrigin("sup-li", 1'795'723'300'000, &placed);
  Add(placed);
  Add(sorter.ParcelSorted("P1", "D-SH"));  // held: diverted

  const auto t = core::BuildParcelTrace("P1", Of(core::EntityKind::kParcel, "P1"));
  ASSERT_EQ(t.entries_size(), 2);
  const auto& hold = t.entries(0).reference().add_hold();
  EXPECT_EQ(hold.placed_by(), "sup-li");
  EXPECT_EQ(hold.placed_at_ms(), 1'795'723'300'000);
  EXPECT_TRUE(t.held());
  EXPECT_EQ(t.entries(1).decision().divert(), v1::DIVERT_HELD);
}

TEST_F(ViewsTest, ParcelTraceShowsEveryScanDecisionAndHoldInHubOrder) {
  Add(testutil::HoldRef("P1", v1::HOLD_REASON_CUSTOMER_INTERCEPT));
  Add(table.ParcelUnbagged("P1", "B1"));
  Add(sorter.ParcelSorted("P1", "D-SH"));  // held: diverted
  Add(desk.HoldReleased("P1"));
  Add(sorter.ParcelSorted("P1", "D-SH"));  // routed
  Add(bagger.BagCreated("OB1", "R-SH"));
  Add(bagger.ParcelBagged("P1", "OB1"));
  Add(desk.ParcelDamaged("P1", 300));
  Add(table.ParcelUnbagged("P2", "B1"));  // another parcel: not in P1's trace

  const auto t = core::BuildParcelTrace("P1", Of(core::EntityKind::kParcel, "P1"));
  ASSERT_EQ(t.entries_size(), 7);
  uint64_t last = 0;
  for (const auto& e : t.entries()) {
    EXPECT_GT(e.hub_seq(), last);
    last = e.hub_seq();
  }
  EXPECT_TRUE(t.entries(0).reference().has_add_hold());
  EXPECT_TRUE(t.entries(1).event().has_parcel_unbagged());
  EXPECT_EQ(t.entries(2).decision().divert(), v1::DIVERT_HELD);
  EXPECT_TRUE(t.entries(3).event().has_hold_released());
  EXPECT_EQ(t.entries(4).decision().divert(), v1::DIVERT_NONE);
  EXPECT_EQ(t.entries(4).decision().chute(), "C1");
  EXPECT_FALSE(t.entries(5).has_decision());
  EXPECT_TRUE(t.entries(6).event().has_parcel_damaged());
  EXPECT_EQ(t.destination(), "D-SH");
  EXPECT_EQ(t.load_id(), "L-SH");
  EXPECT_EQ(t.inbound_bag(), "B1");
  EXPECT_EQ(t.outbound_bag(), "OB1");
  EXPECT_FALSE(t.held());
  EXPECT_TRUE(t.damaged());
}

TEST_F(ViewsTest, InboundBagViewShowsLabelAgainstScannedWithMissingAndForeignParcels) {
  Add(testutil::BagAdviceRef("B1", {"P1", "P2", "P3"}));
  Add(dock.BagUnloaded("B1", "V1", 3));
  Add(table.BagOpened("B1"));
  Add(table.ParcelUnbagged("P1", "B1"));
  Add(table.ParcelUnbagged("P9", "B1"));
  Add(table.ParcelUnbagged("P2", "B1"));
  Add(table.ParcelUnbagged("P2", "B1"));  // scanned twice: one member
  Add(table.BagEmptied("B1"));

  const auto b = Bag("B1");
  EXPECT_EQ(b.direction(), v1::INBOUND);
  EXPECT_EQ(b.vehicle_id(), "V1");
  EXPECT_EQ(b.label_count(), 3u);
  EXPECT_EQ(b.scanned_count(), 3u);
  EXPECT_EQ(Ids(b.members()), (std::vector<std::string>{"P1", "P9", "P2"}));
  EXPECT_EQ(Ids(b.advised()), (std::vector<std::string>{"P1", "P2", "P3"}));
  EXPECT_EQ(Ids(b.missing()), std::vector<std::string>{"P3"});
  EXPECT_EQ(Ids(b.foreign()), std::vector<std::string>{"P9"});
  EXPECT_TRUE(b.unloaded() && b.opened() && b.emptied());
  EXPECT_EQ(b.history_size(), 8);
}

TEST_F(ViewsTest, BagWithoutAdviceHasNoMissingOrForeignParcels) {
  Add(dock.BagUnloaded("B2", "V1", 2));
  Add(table.ParcelUnbagged("P1", "B2"));
  const auto b = Bag("B2");
  EXPECT_EQ(b.label_count(), 2u);
  EXPECT_EQ(b.scanned_count(), 1u);
  EXPECT_TRUE(b.missing().empty());
  EXPECT_TRUE(b.foreign().empty());
}

TEST_F(ViewsTest, OutboundBagViewShowsDestinationWrittenCountAndLoad) {
  Add(sorter.ParcelSorted("P1", "D-SH"));
  Add(bagger.BagCreated("OB1", "D-SH"));
  Add(bagger.ParcelBagged("P1", "OB1"));
  Add(bagger.BagClosed("OB1", 2));
  Add(loader.BagLoaded("OB1", "L-SH"));
  const auto b = Bag("OB1");
  EXPECT_EQ(b.direction(), v1::OUTBOUND);
  EXPECT_EQ(b.destination(), "D-SH");
  EXPECT_TRUE(b.closed());
  EXPECT_EQ(b.label_count(), 2u);
  EXPECT_EQ(b.scanned_count(), 1u);
  EXPECT_EQ(b.load_id(), "L-SH");
}

TEST_F(ViewsTest, BagViewOfAnS9BagIdShowsItsReceptacle) {
  const std::string s9 = "CNPEKAUSSYDAAUN61234001100125";
  Add(dock.BagUnloaded(s9, "V1", 1));
  const auto b = Bag(s9);
  ASSERT_TRUE(b.has_receptacle());
  EXPECT_EQ(b.receptacle().origin_office(), "CNPEKA");
  EXPECT_EQ(b.receptacle().destination_office(), "USSYDA");
  EXPECT_EQ(b.receptacle().mail_category(), "A");
  EXPECT_EQ(b.receptacle().mail_subclass(), "UN");
  EXPECT_EQ(b.receptacle().year_digit(), 6u);
  EXPECT_EQ(b.receptacle().dispatch_number(), 1234u);
  EXPECT_EQ(b.receptacle().receptacle_number(), 1u);
  EXPECT_TRUE(b.receptacle().last_receptacle());
  EXPECT_EQ(b.receptacle().registered_flag(), "0");
  EXPECT_EQ(b.receptacle().weight_g(), 12'500u);
  Add(dock.BagUnloaded("B1", "V1", 1));
  EXPECT_FALSE(Bag("B1").has_receptacle()) << "not an S9 id";
}

TEST_F(ViewsTest, ParcelTraceShowsTheDwsMeasurementOfASortScan) {
  v1::ScanEvent e = sorter.ParcelSorted("P1", "D-SH");
  auto* m = e.mutable_parcel_sorted()->mutable_measurement();
  m->set_weight_g(1520);
  m->set_length_mm(300);
  m->set_legal_for_trade(true);
  Add(e);
  const auto t = core::BuildParcelTrace("P1", Of(core::EntityKind::kParcel, "P1"));
  ASSERT_EQ(t.entries_size(), 1);
  EXPECT_EQ(t.entries(0).event().parcel_sorted().measurement().weight_g(), 1520u);
  EXPECT_EQ(t.entries(0).event().parcel_sorted().measurement().length_mm(), 300u);
  EXPECT_TRUE(t.entries(0).event().parcel_sorted().measurement().legal_for_trade());
}

TEST_F(ViewsTest, VehicleViewComparesTheAdviceWithWhatArrived) {
  Add(testutil::VehicleAdviceRef("V1", "SEAL-1", {"B1", "B2"}));
  Add(dock.VehicleArrived("V1", "SEAL-2", /*intact=*/false, 2));
  Add(dock.BagUnloaded("B1", "V1", 3));
  Add(dock.BagUnloaded("B3", "V1", 1));
  Add(dock.VehicleUnloaded("V1"));
  Add(table.ParcelUnbagged("P1", "B1"));

  const auto v = core::BuildVehicleView("V1", Of(core::EntityKind::kVehicle, "V1"),
                                        {Bag("B1"), Bag("B3")});
  EXPECT_TRUE(v.advised());
  EXPECT_EQ(v.advised_seal_id(), "SEAL-1");
  EXPECT_EQ(Ids(v.advised_bags()), (std::vector<std::string>{"B1", "B2"}));
  EXPECT_TRUE(v.arrived());
  EXPECT_EQ(v.seal_id(), "SEAL-2");
  EXPECT_FALSE(v.seal_intact());
  EXPECT_EQ(v.advised_bag_count(), 2u);
  ASSERT_EQ(v.bags_size(), 2);
  EXPECT_EQ(v.bags(0).bag_id(), "B1");
  EXPECT_EQ(v.bags(0).label_count(), 3u);
  EXPECT_EQ(v.bags(0).scanned_count(), 1u);
  EXPECT_TRUE(v.bags(0).parcel_ids().empty());
  EXPECT_EQ(Ids(v.missing_bags()), std::vector<std::string>{"B2"});
  EXPECT_EQ(Ids(v.unexpected_bags()), std::vector<std::string>{"B3"});
  EXPECT_TRUE(v.unloaded());
}

TEST_F(ViewsTest, ADispatchAdviceIsTheAdviceOfItsVehicleAndOfEachOfItsBags) {
  v1::ReferenceChange c;
  v1::DispatchAdvice* a = c.mutable_dispatch_advice();
  a->set_from_hub("HUB-A");
  a->set_from_hub_seq(17);
  a->mutable_vehicle()->set_vehicle_id("V1");
  a->mutable_vehicle()->set_seal_id("SEAL-1");
  for (const auto& [bag, parcels] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"B1", {"P1", "P2"}}, {"B2", {"P3"}}}) {
    a->mutable_vehicle()->add_bag_ids(bag);
    v1::BagAdvice* b = a->add_bags();
    b->set_bag_id(bag);
    for (const auto& p : parcels) b->add_parcel_ids(p);
  }
  std::vector<core::EntityRef> refs;
  core::EntitiesOf(c, &refs);
  std::vector<std::string> keys;
  for (const auto& r : refs) keys.push_back(core::EntityKey(r.kind, *r.id));
  EXPECT_EQ(keys, (std::vector<std::string>{"VV1", "BB1", "BB2"}));  // no parcels, as for a bag advice

  Add(c);
  Add(dock.VehicleArrived("V1", "SEAL-1"));
  Add(dock.BagUnloaded("B1", "V1", 2));
  Add(table.ParcelUnbagged("P1", "B1"));
  Add(table.ParcelUnbagged("P9", "B1"));
  const auto b1 = Bag("B1");
  EXPECT_EQ(b1.direction(), v1::INBOUND);
  EXPECT_EQ(Ids(b1.advised()), (std::vector<std::string>{"P1", "P2"}));
  EXPECT_EQ(Ids(b1.missing()), std::vector<std::string>{"P2"});
  EXPECT_EQ(Ids(b1.foreign()), std::vector<std::string>{"P9"});
  EXPECT_EQ(Ids(Bag("B2").advised()), std::vector<std::string>{"P3"});
  const auto v = core::BuildVehicleView("V1", Of(core::EntityKind::kVehicle, "V1"), {b1});
  EXPECT_TRUE(v.advised());
  EXPECT_EQ(v.advised_seal_id(), "SEAL-1");
  EXPECT_EQ(Ids(v.advised_bags()), (std::vector<std::string>{"B1", "B2"}));
  EXPECT_EQ(Ids(v.missing_bags()), std::vector<std::string>{"B2"});
}

TEST_F(ViewsTest, LoadViewListsTheManifestSealAndParcelsRoutedButNotLoaded) {
  Add(sorter.ParcelSorted("P1", "D-SH"));
  Add(sorter.ParcelSorted("P2", "D-SH"));
  Add(sorter.ParcelSorted("P3", "D-BJ"));  // another load
  Add(bagger.BagCreated("OB1", "D-SH"));
  Add(bagger.ParcelBagged("P1", "OB1"));
  Add(bagger.BagClosed("OB1", 1));
  Add(loader.LoadOpened("L-SH", "TRUCK-9", "R-SH"));
  Add(loader.BagLoaded("OB1", "L-SH"));
  Add(loader.LoadDeparted("L-SH", "SEAL-77"));

  const auto l = core::BuildLoadView("L-SH", Of(core::EntityKind::kLoad, "L-SH"), {Bag("OB1")});
  EXPECT_TRUE(l.opened());
  EXPECT_EQ(l.vehicle_id(), "TRUCK-9");
  EXPECT_TRUE(l.departed());
  EXPECT_EQ(l.seal_id(), "SEAL-77");
  ASSERT_EQ(l.bags_size(), 1);
  EXPECT_EQ(l.bags(0).bag_id(), "OB1");
  EXPECT_EQ(Ids(l.bags(0).parcel_ids()), std::vector<std::string>{"P1"});
  EXPECT_TRUE(l.bags(0).closed());
  EXPECT_EQ(l.parcel_count(), 1u);
  EXPECT_EQ(Ids(l.routed()), (std::vector<std::string>{"P1", "P2"}));
  EXPECT_EQ(Ids(l.not_loaded()), std::vector<std::string>{"P2"});
}

TEST(KeepLatestLifeTest, KeepsTheRecordsOfTheEntitysLatestLife) {
  auto records = [](std::vector<uint64_t> seqs) {
    std::vector<v1::LogRecord> out;
    for (uint64_t s : seqs) out.emplace_back().set_hub_seq(s);
    return out;
  };
  auto seqs = [](const std::vector<v1::LogRecord>& r) {
    std::vector<uint64_t> out;
    for (const auto& x : r) out.push_back(x.hub_seq());
    return out;
  };
  auto r = records({1, 5, 9, 12, 20, 25});
  core::KeepLatestLife({}, &r);  // never left: everything
  EXPECT_EQ(seqs(r).size(), 6u);
  r = records({1, 5, 9, 12, 20, 25});
  core::KeepLatestLife({9, 25}, &r);  // left at 9 and at 25: the second life
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{12, 20, 25}));
  r = records({1, 5, 9, 12, 20});
  core::KeepLatestLife({9}, &r);  // back after leaving at 9: the live one
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{12, 20}));
  r = records({1, 5, 9});
  core::KeepLatestLife({9}, &r);  // one life, ended
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{1, 5, 9}));
}

}  // namespace
}  // namespace hub::testing
