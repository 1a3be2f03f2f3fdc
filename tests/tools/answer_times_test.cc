// Times in hubctl's tables: the answer's ISO sibling, else UTC.

#include "tools/answer_times.h"

#include <gtest/gtest.h>

namespace hub::tools {
namespace {

TEST(AnswerTimesTest, UsesTheIsoSiblingAtAnyDepth) {
  const AnswerTimes t(R"({"exceptions":[{"id":"1","event_time_ms":"1795723200000",
      "event_time":"2026-11-27T00:00:00.000+08:00","acknowledged":{"by":"sup-li","at_ms":"1795723260000",
      "at":"2026-11-27T00:01:00.000+08:00"}}],"next_after":"1"})");
  EXPECT_EQ(t.Text(1795723200000), "2026-11-27T00:00:00.000+08:00");
  EXPECT_EQ(t.Text(1795723260000), "2026-11-27T00:01:00.000+08:00");
}

TEST(AnswerTimesTest, WithoutASiblingFormatsUtc) {
  const AnswerTimes t(R"({"event_time_ms":"1767225600250","recovery_ms":"12"})");
  EXPECT_EQ(t.Text(1767225600250), "2026-01-01T00:00:00.250Z");
  EXPECT_EQ(t.Text(0), "-");
  const AnswerTimes broken("not json");
  EXPECT_EQ(broken.Text(1767225600250), "2026-01-01T00:00:00.250Z");
}

}  // namespace
}  // namespace hub::tools
