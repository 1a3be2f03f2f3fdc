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
            "error: line 2: expected destination,route_code[,chute[,load_id]], got 1 field(s)");
  EXPECT_EQ(Load("D1,R1\n\nD2,R2,C2,L2,extra\n"),
            "error: line 3: expected destination,route_code[,chute[,load_id]], got 5 field(s)");
  EXPECT_EQ(Load("D1,\n"), "error: line 1: the route code is empty");
  EXPECT_EQ(Load("D1,R1\nD1,R2\n"), "error: line 2: destination D1 is already on line 1");
  EXPECT_EQ(Load("D1,\"R1\n"), "error: line 1: the quote that opens field 2 is never closed");
  EXPECT_EQ(Load("destination,route_code\r\n\r\n"), "error: the file holds no routes");
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
