// Answers of the supervisor API: ISO times beside milliseconds, and
// failures as JSON with their status (docs/api.md).

#include "api/render.h"

#include <gtest/gtest.h>

#include "hub/v1/views.pb.h"
#include "testutil/shanghai_zone.h"

namespace hub::testing {
namespace {

using RenderTest = testutil::ShanghaiZone;

TEST_F(RenderTest, AnswersCarryIsoNextToEveryMillisecondTime) {
  v1::VehicleView v;
  v.set_vehicle_id("V1");
  v.set_arrived(true);
  v.set_arrived_ms(kNow);
  v.add_exceptions()->set_event_time_ms(kNow + 1000);
  const auto out = api::Render(api::Answer(v));
  ASSERT_EQ(out.status, 200);
  // `arrived` is taken (a flag): the ISO sibling is `arrived_at`.
  EXPECT_NE(out.body.find(R"("arrived_ms":"1795723200000","arrived_at":"2026-11-27T04:00:00.000+08:00")"),
            std::string::npos)
      << out.body;
  EXPECT_NE(out.body.find(R"("event_time_ms":"1795723201000","event_time":"2026-11-27T04:00:01.000+08:00")"),
            std::string::npos)
      << out.body;
}

TEST_F(RenderTest, FailuresAreJsonAndA401SaysHowToAuthenticate) {
  auto out = api::Render(api::Failure{api::ApiError::kUnauthenticated, "missing bearer token"});
  EXPECT_EQ(out.status, 401);
  EXPECT_EQ(out.body, "{\"error\":\"missing bearer token\"}\n");
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(api::Render(api::Conflict("case 1 is already RESOLVED")).status, 409);
  EXPECT_EQ(api::Render(api::Failure{api::ApiError::kTooLarge, "big"}).status, 413);
}

}  // namespace
}  // namespace hub::testing
