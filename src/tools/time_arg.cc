#include "tools/time_arg.h"

#include <cctype>
#include <cstdio>

#include "util/utc_time.h"

namespace hub::tools {

namespace {

// Reads exactly `n` digits at *at into *out, within [lo, hi].
bool Digits(std::string_view v, size_t* at, int n, int lo, int hi, int* out = nullptr) {
  if (*at + n > v.size()) return false;
  int x = 0;
  for (int i = 0; i < n; ++i) {
    const char c = v[*at + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    x = x * 10 + (c - '0');
  }
  *at += n;
  if (out) *out = x;
  return x >= lo && x <= hi;
}

bool Literal(std::string_view v, size_t* at, char c) {
  if (*at >= v.size() || v[*at] != c) return false;
  ++*at;
  return true;
}

bool AllDigits(std::string_view v) {
  return !v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos;
}

bool IsRelative(std::string_view v) {
  return v.size() >= 2 && AllDigits(v.substr(0, v.size() - 1)) &&
         std::string_view("smhd").find(v.back()) != std::string_view::npos;
}

bool IsIso(std::string_view v) {
  size_t at = 0;
  int month = 0, day = 0;
  if (!Digits(v, &at, 4, 1970, 9999) || !Literal(v, &at, '-') ||
      !Digits(v, &at, 2, 1, 12, &month) || !Literal(v, &at, '-') || !Digits(v, &at, 2, 1, 31, &day))
    return false;
  if (at == v.size()) return true;
  if (!Literal(v, &at, 'T') || !Digits(v, &at, 2, 0, 23) || !Literal(v, &at, ':') ||
      !Digits(v, &at, 2, 0, 59))
    return false;
  if (Literal(v, &at, ':')) {
    if (!Digits(v, &at, 2, 0, 60)) return false;
    if (Literal(v, &at, '.')) {
      const size_t from = at;
      while (at < v.size() && std::isdigit(static_cast<unsigned char>(v[at]))) ++at;
      if (at == from || at - from > 9) return false;
    }
  }
  if (at == v.size()) return true;
  if (Literal(v, &at, 'Z')) return at == v.size();
  if (!Literal(v, &at, '+') && !Literal(v, &at, '-')) return false;
  if (!Digits(v, &at, 2, 0, 23)) return false;
  Literal(v, &at, ':');
  return Digits(v, &at, 2, 0, 59) && at == v.size();
}

}  // namespace

bool CheckTimeArg(std::string_view value, std::string* why) {
  if (AllDigits(value) || IsRelative(value) || IsIso(value)) return true;
  *why = "'" + std::string(value) +
         "' is not a time: give ISO 8601 (2026-11-27T06:00:00+08:00, 2026-11-27T06:00 or "
         "2026-11-27 in "
         "the hub's zone), a time before now (30m, 8h, 2d, 90s) or milliseconds since the epoch";
  return false;
}

std::string IsoUtcMillis(int64_t ms) {
  const int64_t millis = ((ms % 1000) + 1000) % 1000;
  std::string out = util::UtcIso(ms - millis);
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03d", static_cast<int>(millis));
  out.insert(out.size() - 1, frac);
  return out;
}

}  // namespace hub::tools
