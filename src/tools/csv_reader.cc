#include "tools/csv_reader.h"

namespace hub::tools {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsLineEnd(char c) { return c == '\n' || c == '\r'; }

class CsvScanner {
 public:
  explicit CsvScanner(std::string_view text) : text_(text) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }

  bool Done() const { return at_ >= text_.size(); }

  // Reads one record (possibly blank) and its line end.
  bool Record(CsvRecord* r, std::string* error) {
    r->line = line_;
    r->fields.clear();
    for (;;) {
      std::string field;
      if (!Field(&field, r->fields.size() + 1, error)) return false;
      r->fields.push_back(std::move(field));
      if (Done()) return true;
      const char c = text_[at_++];
      if (c == ',') continue;
      EndLine(c);
      return true;
    }
  }

 private:
  void EndLine(char c) {
    if (c == '\r' && at_ < text_.size() && text_[at_] == '\n') ++at_;
    ++line_;
  }
  void SkipBlanks() {
    while (!Done() && IsBlank(text_[at_])) ++at_;
  }

  // One field, up to (not including) its comma or line end.
  bool Field(std::string* out, size_t n, std::string* error) {
    SkipBlanks();
    if (!Done() && text_[at_] == '"') return Quoted(out, n, error);
    const size_t begin = at_;
    while (!Done() && text_[at_] != ',' && !IsLineEnd(text_[at_])) {
      if (text_[at_] == '"') {
        *error = "line " + std::to_string(line_) + ": a quote inside unquoted field " +
                 std::to_string(n) + " (quote the whole field and double the quotes in it)";
        return false;
      }
      ++at_;
    }
    size_t end = at_;
    while (end > begin && IsBlank(text_[end - 1])) --end;
    out->assign(text_.substr(begin, end - begin));
    return true;
  }

  bool Quoted(std::string* out, size_t n, std::string* error) {
    const int opened = line_;
    ++at_;
    for (;;) {
      if (Done()) {
        *error = "line " + std::to_string(opened) + ": the quote that opens field " +
                 std::to_string(n) + " is never closed";
        return false;
      }
      const char c = text_[at_++];
      if (c == '"') {
        if (!Done() && text_[at_] == '"') {
          out->push_back('"');
          ++at_;
          continue;
        }
        break;
      }
      if (c == '\r' || c == '\n') {
        // A line end inside quotes is kept as the file has it.
        out->push_back(c);
        if (c == '\r' && !Done() && text_[at_] == '\n') out->push_back(text_[at_++]);
        ++line_;
        continue;
      }
      out->push_back(c);
    }
    SkipBlanks();
    if (!Done() && text_[at_] != ',' && !IsLineEnd(text_[at_])) {
      *error = "line " + std::to_string(line_) + ": text after the closing quote of field " +
               std::to_string(n);
      return false;
    }
    return true;
  }

  std::string_view text_;
  size_t at_ = 0;
  int line_ = 1;
};

}  // namespace

bool ReadCsv(std::string_view text, std::vector<CsvRecord>* records, std::string* error) {
  CsvScanner scanner(text);
  CsvRecord r;
  while (!scanner.Done()) {
    if (!scanner.Record(&r, error)) return false;
    const bool blank = r.fields.size() == 1 && r.fields[0].empty();
    if (!blank) records->push_back(std::move(r));
  }
  return true;
}

std::string CsvField(std::string_view v) {
  const bool quote = v.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!v.empty() && (IsBlank(v.front()) || IsBlank(v.back())));
  if (!quote) return std::string(v);
  std::string out = "\"";
  for (const char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace hub::tools
