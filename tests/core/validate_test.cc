#include "core/validate.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hub::testing
