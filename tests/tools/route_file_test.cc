// Route files as supervisors save them from a spreadsheet.

#include "tools/route_file.h"

#include <gtest/gtest.h>

namespace hub::tools {
namespace {

// "D>R/C/L; ..." for the upserts, or "error: ...".
std::string Load(std::string_view text) {
  v1::ReferenceBatch batch;
  std::string error;
  if (!ReadRouteFile(text, false, &batch, &error)) return "error: " + error;
  std::string out;
  for (const auto& c : batch.changes()) {
    const auto& r = c.upsert_route();
    out += (out.empty() ? "" : "; ") + r.destination() + ">" + r.route_code() + "/" + r.chute() +
           "/" + r.load_id();
  }
  return out;
}

TEST(RouteFileTest, ExcelFileWithByteOrderMarkHeaderAndCrLf) {
  EXPECT_EQ(Load("\xEF\xBB\xBF"
                 "destination,route_code,chute,load_id\r\n200030,SH-HUB,C12,L-SH-0930\r\n"
                 "100010,BJ-HUB,C3,\r\n"),
            "200030>SH-HUB/C12/L-SH-0930; 100010>BJ-HUB/C3/");
}

TEST(RouteFileTest, SpacesAreTrimmedAndQuotedFieldsRead) {
  EXPECT_EQ(Load(" D1 , R1 ,\"C1, left\"\nD2,R2\n"), "D1>R1/C1, left/; D2>R2//");
}

TEST(RouteFileTest, BadRecordsNameTheirLine) {
  EXPECT_EQ(Load("destination,route_code\nD1\n"),
            "error: line 2: expected destination,route_code[,chute[,load_id[,next_hub[,transit_minutes]]]], "
            "got 1 field(s)");
  EXPECT_EQ(Load("D1,R1\n\nD2,R2,C2,L2,HUB-2,90,extra\n"),
            "error: line 3: expected destination,route_code[,chute[,load_id[,next_hub[,transit_minutes]]]], "
            "got 7 field(s)");
  EXPECT_EQ(Load("D1,\n"), "error: line 1: the route code is empty");
  EXPECT_EQ(Load("D1,R1\nD1,R2\n"), "error: line 2: destination D1 is already on line 1");
  EXPECT_EQ(Load("D1,\"R1\n"), "error: line 1: the quote that opens field 2 is never closed");
  EXPECT_EQ(Load("destination,route_code\r\n\r\n"), "error: the file holds no routes");
}

TEST(RouteFileTest, NextHubAndTransitMinutesAreOptionalColumns) {
  v1::ReferenceBatch batch;
  std::string error;
  ASSERT_TRUE(ReadRouteFile("destination,route_code,chute,load_id,next_hub,transit_minutes\n"
                            "D1,R1,C1,L1,HUB-SH,90\nD2,R2,,,HUB-BJ,\nD3,R3,C3,L3,,\nD4,R4\n",
                            false, &batch, &error))
      << error;
  std::string out;
  for (const auto& c : batch.changes())
    out += c.upsert_route().ShortDebugString() + "\n";
  EXPECT_EQ(out,
            "destination: \"D1\" route_code: \"R1\" chute: \"C1\" load_id: \"L1\" next_hub: \"HUB-SH\" "
            "transit_minutes: 90\n"
            "destination: \"D2\" route_code: \"R2\" next_hub: \"HUB-BJ\"\n"
            "destination: \"D3\" route_code: \"R3\" chute: \"C3\" load_id: \"L3\"\n"
            "destination: \"D4\" route_code: \"R4\"\n");
  for (const char* bad : {"90m", "-5", "1.5", "99999999999"}) {
    EXPECT_EQ(Load(std::string("D1,R1,C1,L1,HUB-SH,") + bad + "\n"),
              std::string("error: line 1: transit_minutes must be a whole number of minutes, got '") + bad + "'");
  }
}

TEST(RouteFileTest, ReplaceMakesOneTable) {
  v1::ReferenceBatch batch;
  std::string error;
  ASSERT_TRUE(ReadRouteFile("D1,R1\nD2,R2\n", true, &batch, &error)) << error;
  ASSERT_EQ(batch.changes_size(), 1);
  EXPECT_EQ(batch.changes(0).replace_routes().entries_size(), 2);
}

}  // namespace
}  // namespace hub::tools
