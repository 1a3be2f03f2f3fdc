#pragma once

// UTF-8 for answers that echo text from outside (a percent-decoded id in an
// error message, a parser message cut mid-character): JSON must be UTF-8.
//
// Thread safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace hub::util {

// Length of the well-formed UTF-8 sequence at the start of `v` (RFC 3629:
// no overlong forms, surrogates or values above U+10FFFF); 0 when there is
// none (or `v` is empty).
inline size_t Utf8SequenceLength(std::string_view v) {
  if (v.empty()) return 0;
  const auto c = static_cast<unsigned char>(v[0]);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if ((c & 0xe0) == 0xc0) {
    n = 2, cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (n > v.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(v[k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// `text` as a JSON string's contents: '"' and '\\' escaped, control
// characters as \u00XX, and every byte that is not well-formed UTF-8
// replaced by U+FFFD.
inline std::string JsonStringContents(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const size_t n = Utf8SequenceLength(text);
    const auto c = static_cast<unsigned char>(text[0]);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      text.remove_prefix(1);
      continue;
    }
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  return out;
}

}  // namespace hub::util
