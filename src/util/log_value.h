#pragma once

// Helpers for key=value log lines that carry text from outside (scanner ids,
// peers' strings, request targets): such text must never be able to forge a
// line or a field.
//
// Thread safety: LogValue is pure; a LogThrottle may be shared by threads.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace hub::util {

// `text` as one logfmt value: as it is when it holds only printable text
// other than space, '"', '=' and '\\'; otherwise in double quotes with '"'
// and '\\' escaped and control characters (C0, DEL, and C1 in UTF-8) as
// \xNN. Never holds a newline or a terminal escape.
inline std::string LogValue(std::string_view text) {
  // Bytes [i, i + n) form a control character when n > 0.
  auto control = [&](size_t i) -> size_t {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return 1;
    if (c == 0xc2 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xe0) == 0x80)
      return 2;
    return 0;
  };
  bool plain = !text.empty();
  for (size_t i = 0; i < text.size() && plain; ++i) {
    const char c = text[i];
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || control(i) > 0) plain = false;
  }
  if (plain) return std::string(text);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (const size_t n = control(i); n > 0) {
      for (size_t k = 0; k < n; ++k, ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        out += "\\x";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      --i;
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

// Lets one log line through per interval and counts the ones held back, so
// a storm (a flood of refused connections, accept failing for want of file
// descriptors) costs a few lines, not a disk.
class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // True when a line may be written now; *suppressed then gets how many
  // lines were held back since the last one let through.
  bool Allow(uint64_t* suppressed) {
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    int64_t next = next_.load(std::memory_order_relaxed);
    if (now < next || !next_.compare_exchange_strong(next, now + interval_.count())) {
      held_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    *suppressed = held_.exchange(0, std::memory_order_relaxed);
    return true;
  }

 private:
  const std::chrono::steady_clock::duration interval_;
  std::atomic<int64_t> next_{0};
  std::atomic<uint64_t> held_{0};
};

}  // namespace hub::util
