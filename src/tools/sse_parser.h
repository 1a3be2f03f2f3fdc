#pragma once

// Server-sent events (the WHATWG "text/event-stream" format) as hubd's
// GET /v1/exceptions/stream sends them: fields `event:`, `id:`, `data:`
// (several data lines join with "\n"), comment lines starting with ':'
// (keep-alives), and a blank line ending each event. Lines may end in LF,
// CRLF or CR, and bytes may arrive split anywhere. Unlike a browser's
// EventSource, a named event without data (`event: overflow` alone) is
// still delivered, with empty data.

#include <string>
#include <string_view>
#include <vector>

namespace hub::tools {

struct SseEvent {
  std::string event = "message";  // the type; "message" when not named
  std::string id;
  std::string data;
};

// Not thread-safe; one per stream.
class SseParser {
 public:
  // Feeds the next bytes; appends the events they complete to *out.
  void Feed(std::string_view bytes, std::vector<SseEvent>* out);

 private:
  void Line(std::string_view line, std::vector<SseEvent>* out);

  std::string line_;
  bool after_cr_ = false;  // the last byte was a CR: a following LF is its pair
  SseEvent event_;
  bool has_data_ = false;
  bool has_any_ = false;
};

}  // namespace hub::tools
