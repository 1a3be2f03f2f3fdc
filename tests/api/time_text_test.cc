// Time parameters and ISO answers (docs/api.md, "Times").

#include "api/time_text.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "api/render.h"
#include "hub/v1/views.pb.h"

namespace hub::testing {
namespace {

// The hub in Shanghai (+08:00, no summer time) for every test here.
class TimeTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(api::SetTimeZone("Asia/Shanghai", &error)) << error;
  }
  void TearDown() override {
    unsetenv("TZ");
    tzset();
  }
  static constexpr int64_t kNow = 1795723200000;  // 2026-11-26T20:00:00Z
};

TEST_F(TimeTextTest, IsoWithOffsetZuluOrNoneMeansTheSameInstantInTheHubsZone) {
  int64_t ms = 0;
  ASSERT_TRUE(api::ParseTime("2026-11-27T04:00:00+08:00", kNow, &ms));
  EXPECT_EQ(ms, kNow);
  ASSERT_TRUE(api::ParseTime("2026-11-26T20:00:00Z", kNow, &ms));
  EXPECT_EQ(ms, kNow);
  ASSERT_TRUE(api::ParseTime("2026-11-27T04:00", kNow, &ms));  // hub's zone
  EXPECT_EQ(ms, kNow);
  ASSERT_TRUE(api::ParseTime("2026-11-26T15:00:00.250-05:00", kNow, &ms));
  EXPECT_EQ(ms, kNow + 250);
  ASSERT_TRUE(api::ParseTime("2026-11-27", kNow, &ms));  // midnight, hub's zone
  EXPECT_EQ(ms, kNow - 4 * 3'600'000);
}

TEST_F(TimeTextTest, RelativeTimesCountBackFromNow) {
  int64_t ms = 0;
  ASSERT_TRUE(api::ParseTime("8h", kNow, &ms));
  EXPECT_EQ(ms, kNow - 8 * 3'600'000);
  ASSERT_TRUE(api::ParseTime("30m", kNow, &ms));
  EXPECT_EQ(ms, kNow - 30 * 60'000);
  ASSERT_TRUE(api::ParseTime("2d", kNow, &ms));
  EXPECT_EQ(ms, kNow - 2 * 86'400'000);
  ASSERT_TRUE(api::ParseTime("90s", kNow, &ms));
  EXPECT_EQ(ms, kNow - 90'000);
  ASSERT_TRUE(api::ParseTime("1795723200000", kNow, &ms));
  EXPECT_EQ(ms, kNow);
}

TEST_F(TimeTextTest, AnythingElseIsRefused) {
  int64_t ms = 0;
  for (const char* bad : {"", "h", "8x", "-8h", "2026-13-01", "2026-02-30", "2026-11-27T25:00",
                          "2026-11-27T04:00+8", "2026-11-27T04:00:00+08:00junk", "yesterday",
                          "2026/11/27", "99999999999999999999"})
    EXPECT_FALSE(api::ParseTime(bad, kNow, &ms)) << bad;
}

TEST_F(TimeTextTest, LocalIsoShowsTheHubsOffset) {
  EXPECT_EQ(api::LocalIso(kNow), "2026-11-27T04:00:00.000+08:00");
  EXPECT_EQ(api::LocalIso(kNow + 5), "2026-11-27T04:00:00.005+08:00");
  const api::ZoneInfo z = api::HubZone();
  EXPECT_EQ(z.name, "Asia/Shanghai");
  EXPECT_EQ(z.offset, "+08:00");
  std::string error;
  EXPECT_FALSE(api::SetTimeZone("Mars/Olympus", &error));
  EXPECT_NE(error.find("Mars/Olympus"), std::string::npos);
}

TEST_F(TimeTextTest, AnswersCarryIsoNextToEveryMillisecondTime) {
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

TEST_F(TimeTextTest, FailuresAreJsonAndA401SaysHowToAuthenticate) {
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
