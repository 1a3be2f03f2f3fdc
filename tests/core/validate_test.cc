#include "core/validate.h"

#include <gtest/gtest.h>

#include "core/hub_state.h"
#include "testutil/events.h"

namespace hub::testing {
namespace {

v1::RejectCode Check(const v1::ScanEvent& e, std::string* reason = nullptr) {
  std::string r;
  return core::ValidateEvent(e, reason ? reason : &r);
}

TEST(ValidateTest, WellFormedEventsPass) {
  testutil::Scanner s("S1");
  EXPECT_EQ(Check(s.ParcelSorted("P1", "D1")), v1::REJECT_NONE);
  EXPECT_EQ(Check(s.ParcelSorted("", "")), v1::REJECT_NONE);  // no-read is data
  EXPECT_EQ(Check(s.VehicleArrived("V1", "")), v1::REJECT_NONE);
}

TEST(ValidateTest, EventWithoutBodyIsUnknownKind) {
  testutil::Scanner s("S1");
  v1::ScanEvent e = s.BagOpened("B1");
  e.clear_body();
  std::string reason;
  EXPECT_EQ(Check(e, &reason), v1::REJECT_UNKNOWN_KIND);
  EXPECT_EQ(reason, "body is not set or is a kind this daemon does not know");
}

TEST(ValidateTest, MissingIdIsNamed) {
  testutil::Scanner s("S1");
  std::string reason;
  EXPECT_EQ(Check(s.ParcelUnbagged("P1", ""), &reason), v1::REJECT_MISSING_ID);
  EXPECT_EQ(reason, "parcel_unbagged.bag_id is missing");
  v1::ScanEvent e = s.BagOpened("B1");
  e.clear_scanner_id();
  EXPECT_EQ(Check(e, &reason), v1::REJECT_MISSING_ID);
  EXPECT_EQ(reason, "scanner_id is missing");
  e = s.BagOpened("B1");
  e.clear_station();
  EXPECT_EQ(Check(e), v1::REJECT_MISSING_ID);
}

TEST(ValidateTest, IdLongerThan64BytesIsRejected) {
  testutil::Scanner s("S1");
  std::string reason;
  EXPECT_EQ(Check(s.BagOpened(std::string(64, 'b'))), v1::REJECT_NONE);
  EXPECT_EQ(Check(s.BagOpened(std::string(65, 'b')), &reason), v1::REJECT_ID_TOO_LONG);
  EXPECT_EQ(reason, "bag_opened.bag_id is longer than 64 bytes");
}

TEST(ValidateTest, UndefinedEnumValueIsRejected) {
  testutil::Scanner s("S1");
  v1::ScanEvent e = s.ParcelSorted("P1", "D1");
  e.mutable_parcel_sorted()->set_service_class(static_cast<v1::ServiceClass>(42));
  EXPECT_EQ(Check(e), v1::REJECT_BAD_ENUM);
  e = s.HoldPlaced("P1", static_cast<v1::HoldReason>(-3));
  EXPECT_EQ(Check(e), v1::REJECT_BAD_ENUM);
}

TEST(ValidateTest, SeqZeroIsRejected) {
  testutil::Scanner s("S1");
  v1::ScanEvent e = s.BagOpened("B1");
  e.set_seq(0);
  EXPECT_EQ(Check(e), v1::REJECT_BAD_SEQ);
}

TEST(ValidateTest, ReferenceChangesNeedTheirIds) {
  std::string reason;
  EXPECT_EQ(core::ValidateReference(testutil::RouteRef("D1", "R1", "C1", "L1"), &reason),
            v1::REJECT_NONE);
  EXPECT_EQ(core::ValidateReference(testutil::RouteRef("D1", "", "C1", "L1"), &reason),
            v1::REJECT_MISSING_ID);
  EXPECT_EQ(reason, "route.route_code is missing");
  EXPECT_EQ(core::ValidateReference(testutil::RouteRef("D1", "R1", std::string(65, 'c'), "L1"),
                                    &reason),
            v1::REJECT_ID_TOO_LONG);
  EXPECT_EQ(core::ValidateReference(testutil::BagAdviceRef("B1", {"P1", ""}), &reason),
            v1::REJECT_MISSING_ID);
  EXPECT_EQ(core::ValidateReference(v1::ReferenceChange(), &reason), v1::REJECT_UNKNOWN_KIND);
}

TEST(ValidateTest, ControlCharacterInAnIdIsRefused) {
  testutil::Scanner s("SORTER-1", "ST-1");
  std::string reason;
  EXPECT_EQ(core::ValidateEvent(s.ParcelSorted("P\n1", "D1"), &reason), v1::REJECT_BAD_ID);
  EXPECT_EQ(reason, "parcel_sorted.parcel_id holds a control character");
  v1::ScanEvent e = s.BagOpened("B1");
  e.set_station(std::string("ST\x7f", 3));
  EXPECT_EQ(core::ValidateEvent(e, &reason), v1::REJECT_BAD_ID);
  EXPECT_EQ(core::ValidateReference(testutil::RouteRef("D\t1", "R1", "C1", "L1"), &reason),
            v1::REJECT_BAD_ID);
  EXPECT_EQ(core::ValidateEvent(s.ParcelSorted("P\u009b2J", "D1"), &reason), v1::REJECT_BAD_ID)
      << "C1 controls (U+009B is a terminal's CSI) are control characters too";
  EXPECT_EQ(core::ValidateEvent(s.ParcelSorted("P\u0085", "D1"), &reason), v1::REJECT_BAD_ID);
  EXPECT_EQ(core::ValidateEvent(s.ParcelSorted("P 1 (ü) \u00a0", "D1"), &reason), v1::REJECT_NONE)
      << "spaces and other UTF-8 are printable";
}

TEST(ValidateTest, ContentRejectsUseUpTheSeqAndSessionRejectsDoNot) {
  for (auto code : {v1::REJECT_UNKNOWN_KIND, v1::REJECT_MISSING_ID, v1::REJECT_ID_TOO_LONG,
                    v1::REJECT_BAD_ENUM, v1::REJECT_BAD_ID})
    EXPECT_TRUE(core::ConsumesSeq(code)) << v1::RejectCode_Name(code);
  for (auto code : {v1::REJECT_BAD_SEQ, v1::REJECT_NOT_HELLO, v1::REJECT_SCANNER_MISMATCH,
                    v1::REJECT_UNAVAILABLE, v1::REJECT_UNAUTHENTICATED, v1::REJECT_FENCED,
                    v1::REJECT_TIMEOUT})
    EXPECT_FALSE(core::ConsumesSeq(code)) << v1::RejectCode_Name(code);
}


// --- Read outcomes, read codes and DWS readings (issue 13) ---------------------

v1::ScanEvent SortRead(testutil::Scanner& s, const std::string& parcel, v1::ReadOutcome read,
                       const std::vector<std::string>& codes) {
  v1::ScanEvent e = s.ParcelSorted(parcel, "D1");
  e.mutable_parcel_sorted()->set_read(read);
  for (const auto& c : codes) e.mutable_parcel_sorted()->add_read_codes(c);
  return e;
}

TEST(ValidateTest, ReadOutcomeMustBeADefinedValue) {
  testutil::Scanner s("S1");
  std::string reason;
  EXPECT_EQ(Check(SortRead(s, "P1", static_cast<v1::ReadOutcome>(9), {}), &reason),
            v1::REJECT_BAD_ENUM);
  EXPECT_EQ(reason, "parcel_sorted.read is not a defined value");
}

TEST(ValidateTest, ReadOutcomeMustAgreeWithParcelIdAndCodes) {
  testutil::Scanner s("S1");
  std::string reason;
  EXPECT_EQ(Check(SortRead(s, "P1", v1::READ_SINGLE, {"P1", "X9"})), v1::REJECT_NONE);
  EXPECT_EQ(Check(SortRead(s, "P1", v1::READ_OUTCOME_UNSPECIFIED, {})), v1::REJECT_NONE);
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_NO_READ, {})), v1::REJECT_NONE);
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_AMBIGUOUS, {"A1", "A2"})), v1::REJECT_NONE);
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_INVALID_ID, {"RR473124828GB"})), v1::REJECT_NONE);

  EXPECT_EQ(Check(SortRead(s, "", v1::READ_SINGLE, {}), &reason), v1::REJECT_MISSING_ID);
  EXPECT_EQ(reason, "parcel_sorted.parcel_id is missing but read is READ_SINGLE");
  EXPECT_EQ(Check(SortRead(s, "P1", v1::READ_NO_READ, {}), &reason), v1::REJECT_BAD_ENUM);
  EXPECT_EQ(reason, "parcel_sorted.read is READ_NO_READ but parcel_id is set");
  EXPECT_EQ(Check(SortRead(s, "A1", v1::READ_AMBIGUOUS, {"A1", "A2"}), &reason),
            v1::REJECT_BAD_ENUM);
  EXPECT_EQ(reason, "parcel_sorted.read is READ_AMBIGUOUS but parcel_id is set");
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_AMBIGUOUS, {}), &reason), v1::REJECT_MISSING_ID);
  EXPECT_EQ(reason, "parcel_sorted.read_codes is empty but read is READ_AMBIGUOUS");
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_INVALID_ID, {}), &reason), v1::REJECT_MISSING_ID);
  EXPECT_EQ(Check(SortRead(s, "P1", v1::READ_INVALID_ID, {"P1"})), v1::REJECT_BAD_ENUM);
}

TEST(ValidateTest, ReadCodesAreAtMostSixteenIds) {
  testutil::Scanner s("S1");
  std::string reason;
  std::vector<std::string> codes(16, "C1");
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_AMBIGUOUS, codes)), v1::REJECT_NONE);
  codes.push_back("C17");
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_AMBIGUOUS, codes), &reason), v1::REJECT_ID_TOO_LONG);
  EXPECT_EQ(reason, "parcel_sorted.read_codes holds more than 16 codes");
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_AMBIGUOUS, {"A1", ""}), &reason),
            v1::REJECT_MISSING_ID);
  EXPECT_EQ(reason, "parcel_sorted.read_codes is missing");
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_AMBIGUOUS, {"A1", std::string(65, 'c')}), &reason),
            v1::REJECT_ID_TOO_LONG);
  EXPECT_EQ(reason, "parcel_sorted.read_codes is longer than 64 bytes");
  EXPECT_EQ(Check(SortRead(s, "", v1::READ_AMBIGUOUS, {"A1", "A\n2"}), &reason),
            v1::REJECT_BAD_ID);
  EXPECT_EQ(reason, "parcel_sorted.read_codes holds a control character");
}

TEST(ValidateTest, NoDimensionReasonIsFreeTextUpTo1024Bytes) {
  testutil::Scanner s("S1");
  std::string reason;
  v1::ScanEvent e = s.ParcelSorted("P1", "D1");
  e.mutable_parcel_sorted()->mutable_measurement()->set_no_dimension_reason(std::string(1024, 'r'));
  EXPECT_EQ(Check(e), v1::REJECT_NONE);
  e.mutable_parcel_sorted()->mutable_measurement()->set_no_dimension_reason(std::string(1025, 'r'));
  EXPECT_EQ(Check(e, &reason), v1::REJECT_ID_TOO_LONG);
  EXPECT_EQ(reason, "parcel_sorted.measurement.no_dimension_reason is longer than 1024 bytes");
}

TEST(ValidateTest, BagAdviceWeightsNameListedParcels) {
  std::string reason;
  v1::ReferenceChange c = testutil::BagAdviceRef("B1", {"P1", "P2"});
  auto* w = c.mutable_bag_advice()->add_parcel_weights();
  w->set_parcel_id("P2");
  w->set_weight_g(1200);
  EXPECT_EQ(core::ValidateReference(c, &reason), v1::REJECT_NONE);
  w->set_parcel_id("P9");
  EXPECT_EQ(core::ValidateReference(c, &reason), v1::REJECT_MISSING_ID);
  EXPECT_EQ(reason, "bag_advice.parcel_weights names P9, which parcel_ids does not list");
  w->set_parcel_id("");
  EXPECT_EQ(core::ValidateReference(c, &reason), v1::REJECT_MISSING_ID);
  EXPECT_EQ(reason, "bag_advice.parcel_weights.parcel_id is missing");
  w->set_parcel_id("P\t2");
  EXPECT_EQ(core::ValidateReference(c, &reason), v1::REJECT_BAD_ID);
}

TEST(ValidateTest, BagAdviceWithAnUnlistedWeightIsRefusedAsInvalid) {
  core::HubState hub;
  core::ApplyResult r;
  v1::ReferenceChange c = testutil::BagAdviceRef("B1", {"P1"});
  auto* w = c.mutable_bag_advice()->add_parcel_weights();
  w->set_parcel_id("P9");
  w->set_weight_g(1200);
  hub.ApplyReference(c, &r);
  EXPECT_EQ(r.outcome, core::ApplyResult::Outcome::kRejected);
  EXPECT_EQ(r.refusal, core::Refusal::kInvalid);
  EXPECT_FALSE(hub.BagAdviceOf("B1").has_value());
}

TEST(ValidateTest, WeightToleranceSettingsHaveLimits) {
  std::string reason;
  v1::ReferenceChange c;
  *c.mutable_settings() = core::HubState::DefaultSettings();
  EXPECT_EQ(core::ValidateReference(c, &reason), v1::REJECT_NONE);
  c.mutable_settings()->set_weight_tolerance_percent(101);
  EXPECT_EQ(core::ValidateReference(c, &reason), v1::REJECT_BAD_ENUM);
  EXPECT_EQ(reason, "settings.weight_tolerance_percent is over 100");
  c.mutable_settings()->set_weight_tolerance_percent(5);
  c.mutable_settings()->set_weight_tolerance_g(1'000'001);
  EXPECT_EQ(core::ValidateReference(c, &reason), v1::REJECT_BAD_ENUM);
}

TEST(ValidateTest, OverdueGraceIsAtMostAWeekAndAnExpectedArrivalNotNegative) {
  std::string reason;
  v1::ReferenceChange c;
  *c.mutable_settings() = core::HubState::DefaultSettings();
  c.mutable_settings()->set_overdue_grace_minutes(7 * 24 * 60);
  EXPECT_EQ(core::ValidateReference(c, &reason), v1::REJECT_NONE);
  c.mutable_settings()->set_overdue_grace_minutes(7 * 24 * 60 + 1);
  EXPECT_EQ(core::ValidateReference(c, &reason), v1::REJECT_BAD_ENUM);
  EXPECT_EQ(reason, "settings.overdue_grace_minutes is over 7 days");
  v1::ReferenceChange advice = testutil::VehicleAdviceRef("V1", "S1", {"B1"});
  advice.mutable_vehicle_advice()->set_expected_arrival_ms(1'767'225'600'000);
  EXPECT_EQ(core::ValidateReference(advice, &reason), v1::REJECT_NONE);
  advice.mutable_vehicle_advice()->set_expected_arrival_ms(-1);
  EXPECT_EQ(core::ValidateReference(advice, &reason), v1::REJECT_BAD_ENUM);
  EXPECT_EQ(reason, "vehicle_advice.expected_arrival_ms is negative");
}

}  // namespace
}  // namespace hub::testing
