// Time parameters and ISO times (docs/api.md, "Times").

#include "util/time_text.h"

#include <gtest/gtest.h>

#include "testutil/shanghai_zone.h"

namespace hub::testing {
namespace {

using TimeTextTest = testutil::ShanghaiZone;

TEST_F(TimeTextTest, IsoWithOffsetZuluOrNoneMeansTheSameInstantInTheHubsZone) {
  int64_t ms = 0;
  ASSERT_TRUE(util::ParseTime("2026-11-27T04:00:00+08:00", kNow, &ms));
  EXPECT_EQ(ms, kNow);
  ASSERT_TRUE(util::ParseTime("2026-11-26T20:00:00Z", kNow, &ms));
  EXPECT_EQ(ms, kNow);
  ASSERT_TRUE(util::ParseTime("2026-11-27T04:00", kNow, &ms));  // hub's zone
  EXPECT_EQ(ms, kNow);
  ASSERT_TRUE(util::ParseTime("2026-11-26T15:00:00.250-05:00", kNow, &ms));
  EXPECT_EQ(ms, kNow + 250);
  ASSERT_TRUE(util::ParseTime("2026-11-27", kNow, &ms));  // midnight, hub's zone
  EXPECT_EQ(ms, kNow - 4 * 3'600'000);
}

TEST_F(TimeTextTest, RelativeTimesCountBackFromNow) {
  int64_t ms = 0;
  ASSERT_TRUE(util::ParseTime("8h", kNow, &ms));
  EXPECT_EQ(ms, kNow - 8 * 3'600'000);
  ASSERT_TRUE(util::ParseTime("30m", kNow, &ms));
  EXPECT_EQ(ms, kNow - 30 * 60'000);
  ASSERT_TRUE(util::ParseTime("2d", kNow, &ms));
  EXPECT_EQ(ms, kNow - 2 * 86'400'000);
  ASSERT_TRUE(util::ParseTime("90s", kNow, &ms));
  EXPECT_EQ(ms, kNow - 90'000);
  ASSERT_TRUE(util::ParseTime("1795723200000", kNow, &ms));
  EXPECT_EQ(ms, kNow);
}

TEST_F(TimeTextTest, AnythingElseIsRefused) {
  int64_t ms = 0;
  for (const char* bad : {"", "h", "8x", "-8h", "2026-13-01", "2026-02-30", "2026-11-27T25:00",
                          "2026-11-27T04:00+8", "2026-11-27T04:00:00+08:00junk", "2026-11-27 04:00", "yesterday",
                          "2026/11/27", "99999999999999999999"})
    EXPECT_FALSE(util::ParseTime(bad, kNow, &ms)) << bad;
}

TEST_F(TimeTextTest, LocalIsoShowsTheHubsOffset) {
  EXPECT_EQ(util::LocalIso(kNow), "2026-11-27T04:00:00.000+08:00");
  EXPECT_EQ(util::LocalIso(kNow + 5), "2026-11-27T04:00:00.005+08:00");
  const util::ZoneInfo z = util::HubZone();
  EXPECT_EQ(z.name, "Asia/Shanghai");
  EXPECT_EQ(z.offset, "+08:00");
  std::string error;
  EXPECT_FALSE(util::SetTimeZone("Mars/Olympus", &error));
  EXPECT_NE(error.find("Mars/Olympus"), std::string::npos);
}

}  // namespace
}  // namespace hub::testing
