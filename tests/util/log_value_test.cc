#include "util/log_value.h"
#include "util/utf8.h"

#include <gtest/gtest.h>

namespace hub::testing {
namespace {

TEST(LogValueTest, PlainTextStaysAsItIs) { EXPECT_EQ(util::LogValue("SORTER-1"), "SORTER-1"); }

TEST(LogValueTest, TextThatCouldForgeAFieldOrALineIsQuotedAndEscaped) {
  EXPECT_EQ(util::LogValue("A event=x"), "\"A event=x\"");
  EXPECT_EQ(util::LogValue("a\nevent=ready"), "\"a\\x0aevent=ready\"");
  EXPECT_EQ(util::LogValue("say \"hi\" \\"), "\"say \\\"hi\\\" \\\\\"");
  EXPECT_EQ(util::LogValue(""), "\"\"");
  EXPECT_EQ(util::LogValue("H\u009b31m"), "\"H\\xc2\\x9b31m\"") << "C1 CSI escaped";
  EXPECT_EQ(util::LogValue("Zürich"), "Zürich");
}

TEST(LogThrottleTest, LetsOneLineThroughPerIntervalAndCountsTheRest) {
  util::LogThrottle t(std::chrono::hours(1));
  uint64_t held = 99;
  EXPECT_TRUE(t.Allow(&held));
  EXPECT_EQ(held, 0u);
  EXPECT_FALSE(t.Allow(&held));
  EXPECT_FALSE(t.Allow(&held));
  util::LogThrottle fast(std::chrono::nanoseconds(1));
  EXPECT_TRUE(fast.Allow(&held));
  EXPECT_TRUE(fast.Allow(&held));
}

TEST(JsonStringContentsTest, EscapesAndReplacesWhatIsNotUtf8) {
  EXPECT_EQ(util::JsonStringContents("P1 \"x\" \\"), "P1 \\\"x\\\" \\\\");
  EXPECT_EQ(util::JsonStringContents("a\nb"), "a\\u000ab");
  EXPECT_EQ(util::JsonStringContents("\xff\xc3("), "\xef\xbf\xbd\xef\xbf\xbd(");
  EXPECT_EQ(util::JsonStringContents("Zürich"), "Zürich");
}

}  // namespace
}  // namespace hub::testing
