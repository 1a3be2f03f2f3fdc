// What an API write logs about who made it (api/audit_api.h).

#include "api/audit_api.h"

#include <gtest/gtest.h>

#include "testutil/events.h"

namespace hub::testing {
namespace {

TEST(StampOriginTest, EveryApiRecordSaysWhoAndWhen) {
  v1::LogRecord ack;
  ack.mutable_case_action()->set_case_id(3);
  ack.mutable_case_action()->set_to(v1::ACKNOWLEDGED);
  api::StampOrigin("sup-li", 1234, &ack);
  EXPECT_EQ(ack.origin().ShortDebugString(), R"(who: "sup-li" at_ms: 1234)");

  v1::LogRecord route = testutil::Record(testutil::RouteRef("D1", "R1", "C1", "L1"));
  api::StampOrigin("ops", 99, &route);
  EXPECT_EQ(route.origin().ShortDebugString(), R"(who: "ops" at_ms: 99)");
  EXPECT_EQ(route.reference().ShortDebugString(),
            testutil::RouteRef("D1", "R1", "C1", "L1").ShortDebugString());  // body untouched
}

TEST(StampOriginTest, AHoldIsPlacedByTheTokenWhateverTheBodySays) {
  auto change = testutil::HoldRef("P1", v1::HOLD_REASON_SECURITY);
  change.mutable_add_hold()->set_note("x-ray");
  change.mutable_add_hold()->set_placed_by("somebody else");
  change.mutable_add_hold()->set_placed_at_ms(1);
  v1::LogRecord rec = testutil::Record(change);
  api::StampOrigin("sup-li", 1'795'723'300'000, &rec);
  EXPECT_EQ(rec.reference().add_hold().ShortDebugString(),
            R"(parcel_id: "P1" reason: HOLD_REASON_SECURITY note: "x-ray" placed_by: "sup-li" placed_at_ms: 1795723300000)");
  EXPECT_EQ(rec.origin().who(), "sup-li");
}

}  // namespace
}  // namespace hub::testing
