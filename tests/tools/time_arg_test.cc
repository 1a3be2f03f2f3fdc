// hubctl's time flags: what it passes on to hubd and what it refuses itself.

#include "tools/time_arg.h"

#include <gtest/gtest.h>

namespace hub::tools {
namespace {

bool Ok(std::string_view v) {
  std::string why;
  return CheckTimeArg(v, &why);
}

TEST(TimeArgTest, AcceptsEveryFormOfTheContract) {
  for (const char* v : {"2026-11-27T06:00:00+08:00", "2026-11-26T22:00:00Z",
                        "2026-11-27T06:00:00.123Z", "2026-11-27T06:00:00-0530", "2026-11-27T06:00",
                        "2026-11-27", "30m", "8h", "2d", "90s", "1795723200000", "0"})
    EXPECT_TRUE(Ok(v)) << v;
}

TEST(TimeArgTest, RefusesObviouslyBadValuesSayingWhichForms) {
  for (const char* v : {"", "yesterday", "8x", "h", "-8h", "8 h", "2026-13-01", "2026-11-32",
                        "2026-11-27T24:00", "2026-11-27T06:00+8", "2026-11-27 06:00", "27/11/2026",
                        "2026-11-27T06:00:00+08:00x", "1.5h"})
    EXPECT_FALSE(Ok(v)) << v;
  std::string why;
  ASSERT_FALSE(CheckTimeArg("soon", &why));
  EXPECT_EQ(why.rfind("'soon' is not a time: give an ISO 8601 time (2026-11-27T06:00:00+08:00", 0), 0u)
      << why;
  EXPECT_NE(why.find("30m, 8h"), std::string::npos) << why;
}

TEST(TimeArgTest, FormatsMillisecondsAsUtcIso) {
  EXPECT_EQ(IsoUtcMillis(1767225600250), "2026-01-01T00:00:00.250Z");
  EXPECT_EQ(IsoUtcMillis(0), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace hub::tools
