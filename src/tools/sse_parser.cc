#include "tools/sse_parser.h"

namespace hub::tools {

void SseParser::Feed(std::string_view bytes, std::vector<SseEvent>* out) {
  for (const char c : bytes) {
    if (c == '\n' && after_cr_) {
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      Line(line_, out);
      line_.clear();
    } else {
      line_.push_back(c);
    }
  }
}

void SseParser::Line(std::string_view line, std::vector<SseEvent>* out) {
  if (line.empty()) {  // dispatch
    // WHATWG drops an event without data; a named one (an `event: overflow`
    // sent bare) still counts here.
    if (has_data_ || (has_any_ && event_.event != "message")) out->push_back(std::move(event_));
    event_ = SseEvent{};
    has_data_ = has_any_ = false;
    return;
  }
  if (line.front() == ':') return;  // a comment: keep-alive
  const auto colon = line.find(':');
  std::string_view name = line.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  has_any_ = true;
  if (name == "event") {
    event_.event = value.empty() ? "message" : std::string(value);
  } else if (name == "data") {
    if (has_data_) event_.data.push_back('\n');
    event_.data.append(value);
    has_data_ = true;
  } else if (name == "id") {
    event_.id = value;
  }
}

}  // namespace hub::tools
