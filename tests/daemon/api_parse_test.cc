#include "api/api_parse.h"

#include <gtest/gtest.h>

#include "hub/v1/exception.pb.h"
#include "hub/v1/reference.pb.h"

namespace hub::testing {
namespace {

using api::ParseJson;
using api::ParseNumber;
using api::Query;
using api::Unescape;

// "k=v; k2=v2", in key order.
std::string Print(const std::map<std::string, std::string>& q) {
  std::string out;
  for (const auto& [k, v] : q) out += (out.empty() ? "" : "; ") + k + "=" + v;
  return out;
}

TEST(ApiParseTest, QueryTakesEachPairUnescapedAndTheLastOfARepeatedKey) {
  EXPECT_EQ(Print(Query("/v1/exceptions?type=BAG_SHORT&status=open&limit=2")),
            "limit=2; status=open; type=BAG_SHORT");
  EXPECT_EQ(Print(Query("/v1/exceptions?bag=B%201&parcel=P+2&bag=B3")), "bag=B3; parcel=P 2");
  EXPECT_EQ(Print(Query("/p?flag&=v&k=a=b")), "=v; flag=; k=a=b");
  EXPECT_EQ(Print(Query("/p?a=1&&b=2&")), "=; a=1; b=2");
  EXPECT_TRUE(Query("/v1/summary").empty());
  EXPECT_TRUE(Query("/v1/summary?").empty());
}

TEST(ApiParseTest, UnescapeDecodesTwoHexDigitsAndLeavesAStrayPercent) {
  EXPECT_EQ(Unescape("B%2F7"), "B/7");
  EXPECT_EQ(Unescape("%41%62"), "Ab");
  EXPECT_EQ(Unescape("%00", false), std::string(1, '\0'));
  EXPECT_EQ(Unescape("%ff"), "\xff");
  EXPECT_EQ(Unescape("100%"), "100%");
  EXPECT_EQ(Unescape("%4"), "%4");
  EXPECT_EQ(Unescape("%zz%4g"), "%zz%4g");
  EXPECT_EQ(Unescape("a+b"), "a b");
  EXPECT_EQ(Unescape("a+b", false), "a+b");
}

TEST(ApiParseTest, NumbersAreWholeDecimalStrings) {
  uint64_t u = 0;
  EXPECT_TRUE(ParseNumber("18446744073709551615", &u));
  EXPECT_EQ(u, UINT64_MAX);
  EXPECT_TRUE(ParseNumber("007", &u));
  EXPECT_EQ(u, 7u);
  for (const char* bad : {"", "18446744073709551616", "-1", "+1", " 1", "1 ", "1x", "0x10"})
    EXPECT_FALSE(ParseNumber(bad, &u)) << bad;
  int64_t i = 0;
  EXPECT_TRUE(ParseNumber("-9223372036854775808", &i));
  EXPECT_EQ(i, INT64_MIN);
  for (const char* bad : {"", "-", "9223372036854775808", "+1", "1.5", "--1"})
    EXPECT_FALSE(ParseNumber(bad, &i)) << bad;
}

TEST(ApiParseTest, JsonBodyIsTheProtoJsonMappingWithoutUnknownFields) {
  v1::CaseNote note;
  std::string error;
  ASSERT_TRUE(ParseJson("", &note, &error));
  EXPECT_EQ(note.note(), "");
  ASSERT_TRUE(ParseJson(R"({"note":"on the scale"})", &note, &error));
  EXPECT_EQ(note.note(), "on the scale");
  EXPECT_FALSE(ParseJson(R"({"note":"x","by":"me"})", &note, &error));
  EXPECT_EQ(error.rfind("bad JSON: ", 0), 0u) << error;

  v1::ReferenceBatch batch;
  ASSERT_TRUE(ParseJson(
      R"({"changes":[{"upsert_route":{"destination":"D1","route_code":"R1"}},)"
      R"({"add_hold":{"parcel_id":"P1","reason":"HOLD_REASON_CUSTOMER_INTERCEPT"}}]})",
      &batch, &error));
  ASSERT_EQ(batch.changes_size(), 2);
  EXPECT_EQ(batch.changes(1).add_hold().reason(), v1::HOLD_REASON_CUSTOMER_INTERCEPT);
  EXPECT_FALSE(ParseJson("{\"changes\":[", &batch, &error));
}

}  // namespace
}  // namespace hub::testing
