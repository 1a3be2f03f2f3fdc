// The event stream hubctl reads (exceptions watch), fed in every split.

#include "tools/sse_parser.h"

#include <gtest/gtest.h>

namespace hub::tools {
namespace {

std::string Print(const std::vector<SseEvent>& events) {
  std::string out;
  for (const auto& e : events) out += e.event + "#" + e.id + "=" + e.data + ";";
  return out;
}

const char kStream[] =
    "event: hello\ndata: {\"hub_seq\":\"108448\"}\n\n"
    ": keep-alive\n\n"
    "event: case\r\nid: 108461\r\ndata: {\"id\":\"412\"}\r\n\r\n"
    "event:case\rid:108462\rdata:line one\rdata: line two\r\r"
    "data: unnamed\n\n"
    "event: overflow\ndata: {}\n\n"
    "id: 7\n\n"
    "event: overflow\n\n"
    "event: cut\ndata: never finished\n";

TEST(SseParserTest, EventsCommentsAndEveryLineEnd) {
  SseParser p;
  std::vector<SseEvent> out;
  p.Feed(kStream, &out);
  EXPECT_EQ(
      Print(out),
      "hello#={\"hub_seq\":\"108448\"};case#108461={\"id\":\"412\"};case#108462=line one\nline two;"
      "message#=unnamed;overflow#={};overflow#=;");
}

TEST(SseParserTest, SameEventsWhereverTheBytesAreSplit) {
  SseParser whole;
  std::vector<SseEvent> want;
  whole.Feed(kStream, &want);
  const std::string_view s(kStream);
  for (size_t a = 0; a <= s.size(); ++a) {
    for (size_t b = a; b <= s.size(); b += 7) {
      SseParser p;
      std::vector<SseEvent> got;
      p.Feed(s.substr(0, a), &got);
      p.Feed(s.substr(a, b - a), &got);
      p.Feed(s.substr(b), &got);
      ASSERT_EQ(Print(got), Print(want)) << "split at " << a << " and " << b;
    }
  }
}

}  // namespace
}  // namespace hub::tools
