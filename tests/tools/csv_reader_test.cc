// The CSV reader fed the files people make: Excel's byte-order mark, CRLF,
// quoted commas and quotes, line ends inside quotes, a trailing empty line.

#include "tools/csv_reader.h"

#include <gtest/gtest.h>

namespace hub::tools {
namespace {

// "line:[f1|f2] line:[...]", or "error: ..." after the records read.
std::string Read(std::string_view text) {
  std::vector<CsvRecord> records;
  std::string error;
  const bool ok = ReadCsv(text, &records, &error);
  std::string out;
  for (const auto& r : records) {
    out += (out.empty() ? "" : " ") + std::to_string(r.line) + ":[";
    for (size_t i = 0; i < r.fields.size(); ++i) out += (i ? "|" : "") + r.fields[i];
    out += "]";
  }
  if (!ok) out += (out.empty() ? "" : " ") + std::string("error: ") + error;
  return out;
}

TEST(CsvReaderTest, PlainRecordsOnePerLine) {
  EXPECT_EQ(Read("a,b,c\nd,e,f\n"), "1:[a|b|c] 2:[d|e|f]");
  EXPECT_EQ(Read("a,b"), "1:[a|b]");  // no line end at the end
  EXPECT_EQ(Read(""), "");
}

TEST(CsvReaderTest, ExcelByteOrderMarkIsNotPartOfTheFirstField) {
  EXPECT_EQ(Read("\xEF\xBB\xBF"
                 "destination,route_code\r\nD1,R1\r\n"),
            "1:[destination|route_code] 2:[D1|R1]");
  // Only at the very start.
  EXPECT_EQ(Read("a\n\xEF\xBB\xBF"
                 "b\n"),
            "1:[a] 2:[\xEF\xBB\xBF"
            "b]");
}

TEST(CsvReaderTest, CrLfAndLoneCrEndLines) {
  EXPECT_EQ(Read("a,b\r\nc,d\r\n"), "1:[a|b] 2:[c|d]");
  EXPECT_EQ(Read("a,b\rc,d\r"), "1:[a|b] 2:[c|d]");
}

TEST(CsvReaderTest, BlankAndTrailingEmptyLinesAreSkipped) {
  EXPECT_EQ(Read("a\n\n\r\nb\n\n"), "1:[a] 4:[b]");
  EXPECT_EQ(Read("a\n   \n"), "1:[a]");
}

TEST(CsvReaderTest, SpacesAroundAFieldAreDroppedInsideQuotesKept) {
  EXPECT_EQ(Read("  D1 ,\tR1\t, C 1 \n"), "1:[D1|R1|C 1]");
  EXPECT_EQ(Read("\" D1 \" , R1\n"), "1:[ D1 |R1]");
}

TEST(CsvReaderTest, QuotedCommasAndDoubledQuotes) {
  EXPECT_EQ(Read("\"D1, east\",\"say \"\"hi\"\"\",\"\"\n"), "1:[D1, east|say \"hi\"|]");
  EXPECT_EQ(Read("a,,b,\n"), "1:[a||b|]");
}

TEST(CsvReaderTest, LineEndsInsideQuotesStayAndLinesAreCountedOn) {
  EXPECT_EQ(Read("\"two\nlines\",x\r\n\"three\r\nlines\r\nhere\",y\nz\n"),
            "1:[two\nlines|x] 3:[three\r\nlines\r\nhere|y] 6:[z]");
}

TEST(CsvReaderTest, MalformedRecordsNameTheirLine) {
  EXPECT_EQ(Read("a,b\nc\"d,e\n"),
            "1:[a|b] error: line 2: a quote inside unquoted field 1 (quote the whole field and "
            "double the "
            "quotes in it)");
  EXPECT_EQ(Read("a\n\"b\"c,d\n"), "1:[a] error: line 2: text after the closing quote of field 1");
  EXPECT_EQ(Read("a\nb,\"c\nd\n"),
            "1:[a] error: line 2: the quote that opens field 2 is never closed");
}

TEST(CsvReaderTest, WrittenFieldsReadBackAsThemselves) {
  const std::vector<std::string> fields = {"plain",      "a,b",      "say \"hi\"",
                                           "two\nlines", " padded ", ""};
  std::string line;
  for (const auto& f : fields) line += (line.empty() ? "" : ",") + CsvField(f);
  EXPECT_EQ(line, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded \",");
  std::vector<CsvRecord> records;
  std::string error;
  ASSERT_TRUE(ReadCsv(line + "\n", &records, &error)) << error;
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, fields);
}

}  // namespace
}  // namespace hub::tools
