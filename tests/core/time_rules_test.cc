// The time rules (SPEC §4): DWELL_EXCEEDED once per stay, and entities with
// no scan for forget_after_days retired to the archive. Hub time is the
// latest event time seen, so the rules replay the same.

#include <map>
#include <set>

#include "core/hub_fixture.h"

namespace hub::testing {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

class TimeRulesTest : public HubTest {
 protected:
  // Any scan that moves hub time to the desk's clock.
  std::string Tick() { return Apply(desk.VehicleArrived("V-TICK-" + std::to_string(++ticks_), "S")); }
  int ticks_ = 0;
};

TEST_F(TimeRulesTest, DefaultsAreDwell48HoursAndForget30Days) {
  EXPECT_EQ(hub.settings().dwell_hours(), 48u);
  EXPECT_EQ(hub.settings().forget_after_days(), 30u);
}

TEST_F(TimeRulesTest, DwellExceededOncePerStayWhenAParcelOverstays) {
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
  desk.Wait(47 * kHour);
  EXPECT_EQ(Tick(), "");
  desk.Wait(1 * kHour);
  EXPECT_EQ(Tick(), "DWELL_EXCEEDED parcel=P1 load=L-SH");
  ASSERT_EQ(result.raised.size(), 1u);
  EXPECT_EQ(result.raised[0].scanner_id(), "");
  EXPECT_EQ(result.raised[0].station(), "");
  EXPECT_NE(result.raised[0].detail().find("over the dwell limit of 48 h"), std::string::npos)
      << result.raised[0].detail();
  desk.Wait(48 * kHour);
  EXPECT_EQ(Tick(), "");  // once per stay
}

TEST_F(TimeRulesTest, DwellNotRaisedForAParcelThatLeftInTime) {
  ShipCleanly("P1");
  loader.Wait(40 * kHour);
  EXPECT_EQ(Apply(loader.LoadDeparted("L-SH", "SEAL")), "");
  desk.Wait(100 * kHour);
  EXPECT_EQ(Tick(), "");
}

TEST_F(TimeRulesTest, AParcelBackInTheHubStartsANewStay) {
  ShipCleanly("P1");
  EXPECT_EQ(Apply(loader.LoadDeparted("L-SH", "SEAL")), "");
  sorter.Wait(10 * kHour);
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-BJ")), "");  // returned
  desk.Wait(10 * kHour + 49 * kHour);
  EXPECT_EQ(Tick(), "DWELL_EXCEEDED parcel=P1 load=L-BJ");
}

TEST_F(TimeRulesTest, HubTimeIsTheLatestEventTimeSoALateEventDoesNotTurnItBack) {
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
  desk.Wait(49 * kHour);
  EXPECT_EQ(Tick(), "DWELL_EXCEEDED parcel=P1 load=L-SH");
  const int64_t now = hub.hub_time_ms();
  EXPECT_EQ(Apply(table.ParcelUnbagged("P2", "IB1")), "");  // table's clock is days behind
  EXPECT_EQ(hub.hub_time_ms(), now);
  // P2's stay began at hub time, not at its late event time.
  desk.Wait(47 * kHour);
  EXPECT_EQ(Tick(), "");
  desk.Wait(1 * kHour);
  EXPECT_EQ(Tick(), "DWELL_EXCEEDED bag=IB1 parcel=P2");
}

TEST_F(TimeRulesTest, DwellOffWhenSettingsSayZero) {
  Ref(testutil::SettingsRef(0, 30));
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
  desk.Wait(100 * kHour);
  EXPECT_EQ(Tick(), "");
}

TEST_F(TimeRulesTest, TurningDwellOnCountsParcelsFromTheirArrival) {
  Ref(testutil::SettingsRef(0, 0));
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
  desk.Wait(5 * kHour);
  EXPECT_EQ(Tick(), "");
  Ref(testutil::SettingsRef(6, 0));
  desk.Wait(1 * kHour);
  EXPECT_EQ(Tick(), "DWELL_EXCEEDED parcel=P1 load=L-SH");
}

TEST_F(TimeRulesTest, SeveralOverstayingParcelsRaiseInArrivalOrder) {
  EXPECT_EQ(Apply(sorter.ParcelSorted("P2", "D-SH")), "");
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-BJ")), "");
  desk.Wait(49 * kHour);
  EXPECT_EQ(Tick(), "DWELL_EXCEEDED parcel=P2 load=L-SH; DWELL_EXCEEDED parcel=P1 load=L-BJ");
}

TEST_F(TimeRulesTest, IdleEntitiesAreForgottenToTheArchive) {
  Ref(testutil::SettingsRef(0, 30));
  Ref(testutil::BagAdviceRef("IB1", {"P1", "P9"}));
  EXPECT_EQ(Apply(dock.BagUnloaded("IB1", "V1", 2)), "");
  EXPECT_EQ(Apply(table.ParcelUnbagged("P1", "IB1")), "");
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");  // routed to L-SH
  EXPECT_EQ(Apply(loader.LoadOpened("L-SH", "TRUCK-9", "R-SH")), "");
  desk.Wait(29 * kDay);
  EXPECT_EQ(Tick(), "");
  EXPECT_TRUE(result.retired.empty());
  desk.Wait(2 * kDay);
  EXPECT_EQ(Tick(), "");
  std::vector<std::string> forgotten;
  for (const auto& a : result.retired) {
    EXPECT_TRUE(a.forgotten());
    EXPECT_EQ(a.retired_at_hub_seq(), result.hub_seq);
    forgotten.push_back(a.has_parcel() ? "parcel " + a.parcel().parcel_id()
                        : a.has_bag()  ? "bag " + a.bag().bag_id()
                        : a.has_load() ? "load " + a.load().load_id()
                                       : "vehicle " + a.vehicle().vehicle_id());
  }
  EXPECT_EQ(forgotten,
            (std::vector<std::string>{"parcel P1", "bag IB1", "load L-SH", "vehicle V1"}));
  const v1::HubSnapshot s = hub.Snapshot();
  EXPECT_EQ(s.parcels_size(), 0);
  EXPECT_EQ(s.bag_advices_size(), 0);
  EXPECT_EQ(s.loads_size(), 0);
  ASSERT_EQ(s.vehicles_size(), 2);  // the ticks' vehicles, seen within 30 days
  EXPECT_EQ(s.vehicles(0).vehicle_id(), "V-TICK-1");
}

// The hourly sweep looks only where something may be due (per-shard floors
// of the last-seen times): over two months of parcels arriving every hour,
// some scanned again, each parcel is forgotten in the first sweep whose
// cutoff has passed its last scan, never earlier and never later.
TEST_F(TimeRulesTest, EveryIdleParcelIsForgottenInTheFirstSweepPastItsLastScan) {
  Ref(testutil::SettingsRef(0, 30));
  testutil::Scanner s("SORT-9");
  std::map<std::string, int64_t> last;  // live parcel -> hub time of its last scan
  size_t forgotten = 0;
  auto scan = [&](const std::string& id) {
    const int64_t before = hub.hub_time_ms();
    const v1::ScanEvent e = s.ParcelSorted(id, "D-SH");
    std::set<std::string> due;  // the sweep (if this scan starts an hour) comes first
    if (e.event_time_ms() / kHour > before / kHour) {
      for (const auto& [p, t] : last)
        if (t < e.event_time_ms() - 30 * kDay) due.insert(p);
    }
    hub.ApplyEvent(e, &result);
    ASSERT_EQ(result.outcome, core::ApplyResult::Outcome::kApplied);
    std::set<std::string> got;
    for (const auto& a : result.retired)
      if (a.forgotten() && a.has_parcel()) got.insert(a.parcel().parcel_id());
    ASSERT_EQ(got, due) << "at hub time " << e.event_time_ms();
    for (const auto& p : got) last.erase(p);
    forgotten += got.size();
    last[id] = hub.hub_time_ms();
  };
  for (int hour = 1; hour <= 60 * 24; ++hour) {
    s.Wait(kHour);
    for (int i = 0; i < 3; ++i) scan("P" + std::to_string(hour) + "-" + std::to_string(i));
    // Now and then a parcel from half the time ago is scanned again.
    if (hour % 5 == 0) scan("P" + std::to_string(hour / 2) + "-1");
  }
  EXPECT_GT(forgotten, 2000u);
}

TEST_F(TimeRulesTest, AForgottenParcelScannedAgainStartsAFreshLife) {
  Ref(testutil::SettingsRef(0, 30));
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");
  desk.Wait(31 * kDay);
  Tick();
  sorter.Wait(31 * kDay);
  EXPECT_EQ(Apply(sorter.ParcelSorted("P1", "D-SH")), "");  // not a duplicate of a live parcel
  const v1::HubSnapshot s = hub.Snapshot();
  ASSERT_EQ(s.parcels_size(), 1);
  EXPECT_EQ(s.parcels(0).arrived_ms(), hub.hub_time_ms());
}

TEST_F(TimeRulesTest, SettingsOutOfBoundsAreRejected) {
  hub.ApplyReference(testutil::SettingsRef(24 * 366 + 1, 30), &result);
  EXPECT_EQ(result.outcome, core::ApplyResult::Outcome::kRejected);
  hub.ApplyReference(testutil::SettingsRef(48, 3661), &result);
  EXPECT_EQ(result.outcome, core::ApplyResult::Outcome::kRejected);
}

// The rules' whole state (hub time, stays, flags, sweep hour, advice times)
// is in the snapshot: a hub restored half-way raises and forgets exactly
// what the original does.
TEST_F(TimeRulesTest, RestoredHubRaisesAndForgetsExactlyLikeTheOriginal) {
  Ref(testutil::SettingsRef(6, 2));
  std::vector<v1::LogRecord> records;
  for (int i = 0; i < 200; ++i) {
    const std::string p = "P" + std::to_string(i);
    records.push_back(testutil::Record(sorter.ParcelSorted(p, i % 2 ? "D-SH" : "D-BJ")));
    if (i % 3 == 0) records.push_back(testutil::Record(bagger.ParcelBagged(p, "OB" + std::to_string(i % 7))));
    if (i % 10 == 0) records.push_back(testutil::Record(testutil::BagAdviceRef("IB" + std::to_string(i), {p})));
    sorter.Wait(kHour / 2);
    bagger.Wait(kHour / 2);
  }
  auto run = [&](core::HubState* h, size_t from, std::string* cases) {
    core::ApplyResult r;
    for (size_t i = from; i < records.size(); ++i) {
      h->Apply(records[i], &r);
      EXPECT_EQ(r.outcome, core::ApplyResult::Outcome::kApplied) << r.reject_reason;
      for (const auto& c : r.raised) *cases += c.SerializeAsString();
      for (const auto& a : r.retired) *cases += a.SerializeAsString();
    }
  };
  core::HubState whole;
  whole.Restore(hub.Snapshot());
  std::string whole_out;
  run(&whole, 0, &whole_out);

  core::HubState first;
  first.Restore(hub.Snapshot());
  std::string first_out;
  const size_t half = records.size() / 2;
  {
    core::ApplyResult r;
    for (size_t i = 0; i < half; ++i) {
      first.Apply(records[i], &r);
      for (const auto& c : r.raised) first_out += c.SerializeAsString();
      for (const auto& a : r.retired) first_out += a.SerializeAsString();
    }
  }
  core::HubState resumed;
  resumed.Restore(first.Snapshot());
  run(&resumed, half, &first_out);
  EXPECT_EQ(first_out, whole_out);
  EXPECT_EQ(resumed.Snapshot().SerializeAsString(), whole.Snapshot().SerializeAsString());
  EXPECT_NE(whole_out.find("over the dwell limit"), std::string::npos);
  EXPECT_NE(whole_out.find("D-SH"), std::string::npos);  // and forgotten parcels
}

// VEHICLE_OVERDUE (SPEC §4): an advised vehicle not arrived by its expected
// time plus the grace, in hub time, once per advice.
class OverdueTest : public TimeRulesTest {
 protected:
  // An advice for `vehicle` expected `in_ms` after the current hub time.
  std::string Advise(const std::string& vehicle, int64_t in_ms) {
    v1::ReferenceChange c = testutil::VehicleAdviceRef(vehicle, "SEAL-" + vehicle, {"B1", "B2"});
    c.mutable_vehicle_advice()->set_expected_arrival_ms(hub.hub_time_ms() + in_ms);
    return Ref(c);
  }
  void SetGrace(uint32_t minutes) {
    v1::ReferenceChange c = testutil::SettingsRef(48, 30);
    c.mutable_settings()->set_overdue_grace_minutes(minutes);
    Ref(c);
  }
  static constexpr int64_t kMinute = 60'000;
};

TEST_F(OverdueTest, DefaultGraceIsThirtyMinutes) {
  EXPECT_EQ(hub.settings().overdue_grace_minutes(), 30u);
}

TEST_F(OverdueTest, VehicleOverdueOnceWhenNotArrivedByItsExpectedTimePlusTheGrace) {
  Tick();
  Advise("V1", kHour);
  desk.Wait(kHour + 29 * kMinute);
  EXPECT_EQ(Tick(), "");
  desk.Wait(1 * kMinute);
  EXPECT_EQ(Tick(), "VEHICLE_OVERDUE vehicle=V1");
  ASSERT_EQ(result.raised.size(), 1u);
  EXPECT_EQ(result.raised[0].scanner_id(), "");
  EXPECT_EQ(result.raised[0].station(), "");
  EXPECT_EQ(result.raised[0].event_time_ms(), hub.hub_time_ms());
  EXPECT_NE(result.raised[0].detail().find("seal SEAL-V1, 2 bags), not arrived 30 min later"),
            std::string::npos)
      << result.raised[0].detail();
  desk.Wait(10 * kHour);
  EXPECT_EQ(Tick(), "");  // once per advice
}

TEST_F(OverdueTest, AVehicleThatArrivedInTimeIsNeverOverdue) {
  Tick();
  Advise("V1", kHour);
  EXPECT_EQ(Apply(dock.VehicleArrived("V1", "SEAL-V1")), "");
  desk.Wait(5 * kHour);
  EXPECT_EQ(Tick(), "");
}

TEST_F(OverdueTest, ABagOffTheVehicleCountsAsArrivalWhenItsArrivalScanWasMissed) {
  Tick();
  Advise("V1", kHour);
  EXPECT_EQ(Apply(dock.BagUnloaded("B1", "V1", 3)), "");
  desk.Wait(5 * kHour);
  EXPECT_EQ(Tick(), "");
}

TEST_F(OverdueTest, ArrivingAfterTheCaseResolvesNothing) {
  Tick();
  Advise("V1", kHour);
  desk.Wait(2 * kHour);
  EXPECT_EQ(Tick(), "VEHICLE_OVERDUE vehicle=V1");
  const size_t open = hub.open_cases();
  EXPECT_EQ(Apply(dock.VehicleArrived("V1", "SEAL-V1")), "");
  EXPECT_EQ(hub.open_cases(), open);
}

TEST_F(OverdueTest, ANewAdviceSetsANewExpectation) {
  Tick();
  Advise("V1", kHour);
  desk.Wait(kHour);
  Tick();
  Advise("V1", 3 * kHour);  // the sending hub says it left late
  desk.Wait(kHour);
  EXPECT_EQ(Tick(), "");    // past the first expectation and its grace
  desk.Wait(2 * kHour + 30 * kMinute);
  EXPECT_EQ(Tick(), "VEHICLE_OVERDUE vehicle=V1");
}

TEST_F(OverdueTest, TheGraceComesFromTheSettingsInForce) {
  SetGrace(0);
  Tick();
  Advise("V1", kHour);
  desk.Wait(kHour);
  EXPECT_EQ(Tick(), "VEHICLE_OVERDUE vehicle=V1");
}

TEST_F(OverdueTest, AnAdviceWithoutAnExpectedTimeIsNeverOverdue) {
  Tick();
  Ref(testutil::VehicleAdviceRef("V1", "SEAL-V1", {"B1"}));
  desk.Wait(100 * kHour);
  EXPECT_EQ(Tick(), "");
}

TEST_F(OverdueTest, ASnapshotKeepsWhatIsAwaitedAndWhatWasRaised) {
  Tick();
  Advise("V1", kHour);
  Advise("V2", 5 * kHour);
  desk.Wait(2 * kHour);
  EXPECT_EQ(Tick(), "VEHICLE_OVERDUE vehicle=V1");
  core::HubState restored;
  restored.Restore(hub.Snapshot());
  EXPECT_EQ(restored.Snapshot().SerializeAsString(), hub.Snapshot().SerializeAsString());
  desk.Wait(4 * kHour);
  const v1::ScanEvent tick = desk.VehicleArrived("V-TICK-X", "S");
  hub.ApplyEvent(tick, &result);
  EXPECT_EQ(testutil::Describe(result.raised), "VEHICLE_OVERDUE vehicle=V2");
  restored.ApplyEvent(tick, &result);
  EXPECT_EQ(testutil::Describe(result.raised), "VEHICLE_OVERDUE vehicle=V2");  // V1 not again
}

}  // namespace
}  // namespace hub::testing
