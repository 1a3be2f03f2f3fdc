#include "util/log_format.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <cstdlib>
#include <ctime>

#include "util/log_value.h"

namespace hub::testing {
namespace {

using util::LogFormat;

// 2026-11-30T09:49:56.157Z
spdlog::log_clock::time_point FixedTime() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = 30;
  tm.tm_hour = 9;
  tm.tm_min = 49;
  tm.tm_sec = 56;
  return spdlog::log_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(157);
}

// One line as hubd's formatter writes it, in a time zone far from UTC so a
// local timestamp would show.
std::string Line(LogFormat format, std::string_view message,
                 spdlog::level::level_enum level = spdlog::level::info) {
  const char* tz = std::getenv("TZ");
  const std::string saved = tz ? tz : "";
  setenv("TZ", "Asia/Shanghai", 1);
  tzset();
  spdlog::details::log_msg msg(FixedTime(), spdlog::source_loc{}, "hubd", level,
                               spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t out;
  util::MakeLogFormatter(format)->format(msg, out);
  if (tz) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  return std::string(out.data(), out.size());
}

google::protobuf::Struct ParseJson(const std::string& line) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok()) << "not JSON: " << line;
  return s;
}

TEST(LogFormatTest, LogfmtLineHasUtcTimeAndLevelBeforeTheMessage) {
  EXPECT_EQ(Line(LogFormat::kLogfmt, "event=ready listen=127.0.0.1:7400 http=127.0.0.1:7480"),
            "ts=2026-11-30T09:49:56.157Z level=info event=ready listen=127.0.0.1:7400 "
            "http=127.0.0.1:7480\n");
  EXPECT_EQ(Line(LogFormat::kLogfmt, "event=commit_failed", spdlog::level::err),
            "ts=2026-11-30T09:49:56.157Z level=error event=commit_failed\n");
}

TEST(LogFormatTest, JsonLineIsOneObjectWithTheMessagePairsAsStringMembers) {
  EXPECT_EQ(Line(LogFormat::kJson,
                 "event=session_closed peer=127.0.0.1:5 scanner=\"TABLE 1 event=forged\" reason=done "
                 "events=3",
                 spdlog::level::warn),
            R"({"ts":"2026-11-30T09:49:56.157Z","level":"warning","event":"session_closed",)"
            R"("peer":"127.0.0.1:5","scanner":"TABLE 1 event=forged","reason":"done","events":"3"})"
            "\n");
}

TEST(LogFormatTest, JsonValuesAreTheTextLogValueQuoted) {
  // Whatever LogValue() quoted comes back as the original text.
  for (const std::string text :
       {"plain", "", "two words", "say \"hi\" \\ back", "a\nb\rc\x1b[2J", "H\u009b31m", "Zürich",
        "k=v", "trailing\\", "\\x41 is not an escape here"}) {
    const std::string line = Line(LogFormat::kJson, "event=x value=" + util::LogValue(text) + " after=1");
    auto s = ParseJson(line);
    EXPECT_EQ(s.fields().at("value").string_value(), text) << line;
    EXPECT_EQ(s.fields().at("after").string_value(), "1") << line;
    for (const char c : line.substr(0, line.size() - 1))
      EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << "a control byte in " << line;
    EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos) << "C1 CSI unescaped in " << line;
  }
}

TEST(LogFormatTest, JsonStaysValidWhateverTheMessageHolds) {
  // Text that is not a pair goes to "msg"; a hand-quoted value with a quote
  // inside, an unterminated quote, bytes that are not UTF-8: still one JSON
  // object per line.
  auto s = ParseJson(Line(LogFormat::kJson, "starting up event=x error=\"a \"b\" c\" tail=\"open"));
  EXPECT_EQ(s.fields().at("event").string_value(), "x");
  EXPECT_EQ(s.fields().at("msg").string_value(), "starting up c\"");
  EXPECT_EQ(s.fields().at("error").string_value(), "a b\"");
  EXPECT_EQ(s.fields().at("tail").string_value(), "open");
  s = ParseJson(Line(LogFormat::kJson, "event=x id=P\xc3\x28 ="));
  EXPECT_EQ(s.fields().at("id").string_value(), "P\xef\xbf\xbd(");
  EXPECT_EQ(s.fields().at("msg").string_value(), "=");
  EXPECT_EQ(s.fields().at("level").string_value(), "info");
  EXPECT_EQ(s.fields().at("ts").string_value(), "2026-11-30T09:49:56.157Z");
}

TEST(LogFormatTest, LogfmtLineStaysOneLineWhateverTheMessageHolds) {
  EXPECT_EQ(Line(LogFormat::kLogfmt, "event=x error=\"disk\nevent=forged\""),
            "ts=2026-11-30T09:49:56.157Z level=info event=x error=\"disk\\x0aevent=forged\"\n");
}

TEST(LogFormatTest, ParsesTheTwoNamesOnly) {
  util::LogFormat f = LogFormat::kJson;
  EXPECT_TRUE(util::ParseLogFormat("logfmt", &f));
  EXPECT_EQ(f, LogFormat::kLogfmt);
  EXPECT_TRUE(util::ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_FALSE(util::ParseLogFormat("JSON", &f));
  EXPECT_FALSE(util::ParseLogFormat("text", &f));
}

}  // namespace
}  // namespace hub::testing
