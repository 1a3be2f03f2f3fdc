// The DWS and multi-read rules of issue 13: a parcel's known weight,
// WEIGHT_MISMATCH against a reading, AMBIGUOUS_READ, and NO_READ of an
// invalid id (SPEC §4).

#include <gtest/gtest.h>

#include "core/hub_fixture.h"
#include "core/hub_state.h"

namespace hub::testing {
namespace {

using testutil::BagAdviceRef;

v1::ReferenceChange AdviceWithWeights(
    const std::string& bag, const std::vector<std::pair<std::string, uint64_t>>& weights) {
  v1::ReferenceChange c;
  auto* a = c.mutable_bag_advice();
  a->set_bag_id(bag);
  for (const auto& [pid, grams] : weights) {
    a->add_parcel_ids(pid);
    auto* w = a->add_parcel_weights();
    w->set_parcel_id(pid);
    w->set_weight_g(grams);
  }
  return c;
}

// A sort scan of `parcel` to D-SH with a DWS reading of `grams`.
v1::ScanEvent Measured(testutil::Scanner& s, const std::string& parcel, uint64_t grams,
                       bool scale_error = false) {
  v1::ScanEvent e = s.ParcelSorted(parcel, "D-SH");
  e.mutable_parcel_sorted()->mutable_measurement()->set_weight_g(grams);
  e.mutable_parcel_sorted()->mutable_measurement()->set_scale_error(scale_error);
  return e;
}

// A sort scan of `parcel` to D-SH weighed by the sorter itself (no reading).
v1::ScanEvent Weighed(testutil::Scanner& s, const std::string& parcel, uint64_t grams) {
  v1::ScanEvent e = s.ParcelSorted(parcel, "D-SH");
  e.mutable_parcel_sorted()->set_weight_g(grams);
  return e;
}

v1::ScanEvent Read(testutil::Scanner& s, v1::ReadOutcome outcome,
                   const std::vector<std::string>& codes, const std::string& destination = "D-SH") {
  v1::ScanEvent e = s.ParcelSorted("", destination);
  e.mutable_parcel_sorted()->set_read(outcome);
  for (const auto& c : codes) e.mutable_parcel_sorted()->add_read_codes(c);
  return e;
}

class DwsRulesTest : public HubTest {
 protected:
  // P1 (1.000 kg on the advice) unbagged from B1.
  void UnbagAdvisedParcel() {
    Ref(AdviceWithWeights("B1", {{"P1", 1000}, {"P2", 2000}}));
    EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B1")), "");
  }
};

TEST_F(DwsRulesTest, DefaultToleranceIsFiftyGramsAndFivePercent) {
  EXPECT_EQ(core::HubState::DefaultSettings().weight_tolerance_g(), 50u);
  EXPECT_EQ(core::HubState::DefaultSettings().weight_tolerance_percent(), 5u);
}

TEST_F(DwsRulesTest, WeightMismatchWhenDwsReadingDiffersFromAdvisedWeight) {
  UnbagAdvisedParcel();
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1520)),
            "WEIGHT_MISMATCH bag=B1 parcel=P1 known=1000g measured=1520g");
  EXPECT_EQ(result.raised[0].detail(),
            "measured 1.520 kg, known 1.000 kg (advice), tolerance 50 g / 5 %");
  // Still routed normally: a case for the supervisor, not a divert.
  EXPECT_EQ(result.decision.divert(), v1::DIVERT_NONE);
  EXPECT_EQ(result.decision.route_code(), "R-SH");
}

TEST_F(DwsRulesTest, ReadingWithinToleranceRaisesNothing) {
  UnbagAdvisedParcel();
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1050)), "");  // 50 g = max(50 g, 5 % of 1 kg)
  EXPECT_EQ(Apply(Measured(sorter, "P1", 950)), "");
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1051)),
            "WEIGHT_MISMATCH bag=B1 parcel=P1 known=1000g measured=1051g");
}

TEST_F(DwsRulesTest, PercentToleranceAppliesToHeavyParcels) {
  Ref(AdviceWithWeights("B1", {{"P1", 20'000}}));
  Apply(table.ParcelUnbagged("P1", "B1"));
  EXPECT_EQ(Apply(Measured(sorter, "P1", 21'000)), "");  // 5 % of 20 kg = 1 kg
  EXPECT_EQ(Apply(Measured(sorter, "P1", 18'999)),
            "WEIGHT_MISMATCH bag=B1 parcel=P1 known=20000g measured=18999g");
}

TEST_F(DwsRulesTest, ToleranceComesFromTheSettingsInForce) {
  v1::ReferenceChange settings;
  *settings.mutable_settings() = core::HubState::DefaultSettings();
  settings.mutable_settings()->set_weight_tolerance_g(600);
  Ref(settings);
  UnbagAdvisedParcel();
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1520)), "");
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1601)),
            "WEIGHT_MISMATCH bag=B1 parcel=P1 known=1000g measured=1601g");
  EXPECT_EQ(result.raised[0].detail(),
            "measured 1.601 kg, known 1.000 kg (advice), tolerance 600 g / 5 %");
}

TEST_F(DwsRulesTest, WeightMismatchIsRaisedOncePerStay) {
  UnbagAdvisedParcel();
  EXPECT_NE(Apply(Measured(sorter, "P1", 1520)), "");
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1700)), "");
  // The parcel leaves on its load; back in the hub, a new stay is checked anew.
  ShipCleanly("P1");
  Apply(loader.LoadDeparted("L-SH", "SEAL-9"));
  EXPECT_EQ(hub.live_parcels(), 0u);
  EXPECT_EQ(Apply(Weighed(sorter, "P1", 500)), "");
  EXPECT_EQ(Apply(Measured(sorter, "P1", 900)),
            "WEIGHT_MISMATCH parcel=P1 known=500g measured=900g");
  EXPECT_EQ(result.raised[0].detail(),
            "measured 0.900 kg, known 0.500 kg (scan), tolerance 50 g / 5 %");
}

TEST_F(DwsRulesTest, ScaleErrorNeverRaisesNorBecomesTheKnownWeight) {
  UnbagAdvisedParcel();
  EXPECT_EQ(Apply(Measured(sorter, "P1", 9000, /*scale_error=*/true)), "");
  EXPECT_EQ(Apply(Measured(sorter, "P3", 9000, /*scale_error=*/true)), "");
  EXPECT_EQ(Apply(Measured(sorter, "P3", 1000)), "");  // the first trusted reading
  EXPECT_EQ(Apply(Measured(sorter, "P3", 2000)),
            "WEIGHT_MISMATCH parcel=P3 known=1000g measured=2000g");
  EXPECT_EQ(result.raised[0].detail(),
            "measured 2.000 kg, known 1.000 kg (reading), tolerance 50 g / 5 %");
}

TEST_F(DwsRulesTest, AdviceArrivingAfterAKnownWeightNeverOverwritesIt) {
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1000)), "");  // the first reading: known 1000 g
  Ref(AdviceWithWeights("B1", {{"P1", 3000}}));
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1020)), "");
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "B1")), "");
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1040)), "");
}

TEST_F(DwsRulesTest, AdviceAppliesAtOnceToALiveParcelWithoutAWeight) {
  EXPECT_EQ(Apply(Weighed(sorter, "P7", 0)), "");  // no weight: learns nothing
  Ref(AdviceWithWeights("B5", {{"P7", 3000}}));
  EXPECT_EQ(Apply(Measured(sorter, "P7", 4000)),
            "WEIGHT_MISMATCH parcel=P7 known=3000g measured=4000g");
}

TEST_F(DwsRulesTest, AdviceOfAParcelNotYetInTheHubWaitsForItsUnbagging) {
  Ref(AdviceWithWeights("B3", {{"P5", 3000}}));
  EXPECT_EQ(Apply(Measured(sorter, "P5", 4000)), "");  // not out of B3: the reading is first
  EXPECT_EQ(Apply(Measured(sorter, "P5", 4100)), "");
}

TEST_F(DwsRulesTest, ScanWeightWithoutReadingIsKnownButAReadingIsNotComparedToItsOwnScan) {
  v1::ScanEvent e = Measured(sorter, "P1", 1000);
  e.mutable_parcel_sorted()->set_weight_g(5000);  // weight_g beside a reading is not "known"
  EXPECT_EQ(Apply(e), "");
  EXPECT_EQ(Apply(Measured(sorter, "P1", 1040)), "");
}

TEST_F(DwsRulesTest, AmbiguousReadDivertsLikeNoReadWithEveryCode) {
  EXPECT_EQ(Apply(Read(sorter, v1::READ_AMBIGUOUS, {"RR473124829GB", "JJD0001", "RR473124829GB"})),
            "AMBIGUOUS_READ codes=[RR473124829GB,JJD0001,RR473124829GB]");
  EXPECT_EQ(result.raised[0].detail(),
            "3 codes that disagree in one read: RR473124829GB, JJD0001, RR473124829GB; "
            "destination read: D-SH");
  EXPECT_EQ(result.decision.divert(), v1::DIVERT_NO_READ);
  EXPECT_EQ(result.decision.parcel_id(), "");
  EXPECT_EQ(hub.live_parcels(), 0u);
}

TEST_F(DwsRulesTest, InvalidIdIsANoReadNamingTheCodeThatFailedItsCheck) {
  EXPECT_EQ(Apply(Read(sorter, v1::READ_INVALID_ID, {"RR473124828GB"})),
            "NO_READ codes=[RR473124828GB]");
  EXPECT_EQ(result.raised[0].detail(),
            "S10 check digit wrong in RR473124828GB; destination read: D-SH");
  EXPECT_EQ(result.decision.divert(), v1::DIVERT_NO_READ);
  EXPECT_EQ(hub.live_parcels(), 0u);
  EXPECT_EQ(Apply(Read(sorter, v1::READ_INVALID_ID, {"X-17"}, "")), "NO_READ codes=[X-17]");
  EXPECT_EQ(result.raised[0].detail(), "id check failed for X-17; destination read: none");
}

TEST_F(DwsRulesTest, NoReadCarriesTheCodesOfTheRead) {
  EXPECT_EQ(Apply(Read(sorter, v1::READ_NO_READ, {})), "NO_READ");
  EXPECT_EQ(result.raised[0].detail(), "no readable label; destination read: D-SH");
  EXPECT_EQ(Apply(Read(sorter, v1::READ_NO_READ, {"NOREAD"})), "NO_READ codes=[NOREAD]");
  EXPECT_EQ(result.decision.divert(), v1::DIVERT_NO_READ);
}

TEST_F(DwsRulesTest, BagAdviceOfGivesParcelWeightsSortedByParcel) {
  v1::ReferenceChange c = AdviceWithWeights("B1", {{"P3", 300}, {"P1", 100}});
  c.mutable_bag_advice()->add_parcel_ids("P2");
  auto* dup = c.mutable_bag_advice()->add_parcel_weights();  // a second weight for P3
  dup->set_parcel_id("P3");
  dup->set_weight_g(999);
  Ref(c);
  auto a = hub.BagAdviceOf("B1");
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->parcel_weights_size(), 2);
  EXPECT_EQ(a->parcel_weights(0).parcel_id(), "P1");
  EXPECT_EQ(a->parcel_weights(0).weight_g(), 100u);
  EXPECT_EQ(a->parcel_weights(1).parcel_id(), "P3");
  EXPECT_EQ(a->parcel_weights(1).weight_g(), 300u);  // the first given
}

TEST_F(DwsRulesTest, SnapshotCarriesKnownWeightsFlagsAndAdvisedWeights) {
  UnbagAdvisedParcel();
  Apply(Measured(sorter, "P1", 1520));  // flagged
  Apply(Weighed(sorter, "P8", 800));
  const v1::HubSnapshot snap = hub.Snapshot();
  ASSERT_EQ(snap.bag_advices_size(), 1);
  EXPECT_EQ(snap.bag_advices(0).parcel_weights_size(), 2);
  bool saw_p1 = false;
  for (const auto& p : snap.parcels()) {
    if (p.parcel_id() != "P1") continue;
    saw_p1 = true;
    EXPECT_EQ(p.known_weight_g(), 1000u);
    EXPECT_EQ(p.known_weight_source(), v1::WEIGHT_FROM_ADVICE);
    EXPECT_TRUE(p.weight_flagged());
  }
  EXPECT_TRUE(saw_p1);

  core::HubState restored;
  restored.Restore(snap);
  EXPECT_EQ(restored.Snapshot().SerializeAsString(), snap.SerializeAsString());
  // The restored hub goes on exactly like the original.
  core::ApplyResult a, b;
  auto both = [&](const v1::ScanEvent& e) {
    hub.ApplyEvent(e, &a);
    restored.ApplyEvent(e, &b);
    ASSERT_EQ(a.raised.size(), b.raised.size());
    for (size_t i = 0; i < a.raised.size(); ++i)
      EXPECT_EQ(a.raised[i].SerializeAsString(), b.raised[i].SerializeAsString());
  };
  both(Measured(sorter, "P2", 2500));  // P2 not unbagged yet: its first reading
  both(table.ParcelUnbagged("P2", "B1"));
  both(Measured(sorter, "P8", 1000));
  EXPECT_EQ(testutil::Describe(a.raised), "WEIGHT_MISMATCH parcel=P8 known=800g measured=1000g");
  both(Measured(sorter, "P1", 3000));  // flagged already, in both
  EXPECT_TRUE(b.raised.empty());
  EXPECT_EQ(restored.Snapshot().SerializeAsString(), hub.Snapshot().SerializeAsString());
}

}  // namespace
}  // namespace hub::testing
