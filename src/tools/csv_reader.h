#pragma once

// A reader for comma-separated values as RFC 4180 writes them, and as
// spreadsheets save them: the route files hubctl loads.
//
// Beyond RFC 4180 it accepts what people's files carry: a UTF-8 byte-order
// mark before the first record (Excel's "CSV UTF-8"), lines ending in LF,
// CRLF or CR, blank lines (skipped; a file's last line end is no record),
// and spaces or tabs around a field, which are not part of it (quote the
// field to keep them). A quoted field may hold commas, line ends and
// doubled quotes ("" for "). It refuses a quote inside an unquoted field,
// text after a closing quote and a quote that is never closed, naming the
// line.

#include <string>
#include <string_view>
#include <vector>

namespace hub::tools {

struct CsvRecord {
  int line = 0;  // the line (from 1) the record starts on
  std::vector<std::string> fields;
};

// Splits `text` into records. On a malformed record returns false and sets
// *error to "line N: what is wrong"; *records then holds those before it.
bool ReadCsv(std::string_view text, std::vector<CsvRecord>* records, std::string* error);

// `v` as one field of a record ReadCsv (and a spreadsheet) reads back as
// `v`: quoted, with quotes doubled, when it holds a comma, quote, line end
// or surrounding space.
std::string CsvField(std::string_view v);

}  // namespace hub::tools
