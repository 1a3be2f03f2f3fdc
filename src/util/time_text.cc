#include "util/time_text.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <filesystem>

namespace hub::util {
namespace {

std::string Offset(long gmtoff) {
  char buf[40];
  const long a = gmtoff < 0 ? -gmtoff : gmtoff;
  snprintf(buf, sizeof(buf), "%c%02ld:%02ld", gmtoff < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return buf;
}

// Reads `n` digits at *p into *out, advancing *p.
bool Digits(std::string_view s, size_t* p, size_t n, int* out) {
  if (*p + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*p + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* p, char c) {
  if (*p >= s.size() || s[*p] != c) return false;
  ++*p;
  return true;
}

bool ParseIso(std::string_view s, int64_t* out_ms) {
  size_t p = 0;
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, ms = 0;
  if (!Digits(s, &p, 4, &year) || !Expect(s, &p, '-') || !Digits(s, &p, 2, &month) ||
      !Expect(s, &p, '-') || !Digits(s, &p, 2, &day))
    return false;
  if (p < s.size()) {
    if (s[p] != 'T') return false;
    ++p;
    if (!Digits(s, &p, 2, &hour) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &minute)) return false;
    if (p < s.size() && s[p] == ':') {
      ++p;
      if (!Digits(s, &p, 2, &second)) return false;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        int scale = 100, digits = 0;
        while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
          ms += (s[p] - '0') * scale;
          scale /= 10;
          ++p;
          ++digits;
        }
        if (digits == 0) return false;
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return false;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t secs = 0;
  if (p == s.size()) {  // no offset: the hub's zone
    tm.tm_isdst = -1;
    const time_t t = mktime(&tm);
    if (t == static_cast<time_t>(-1)) return false;
    secs = t;
  } else {
    long offset = 0;
    if (s[p] == 'Z' || s[p] == 'z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      const long sign = s[p] == '-' ? -1 : 1;
      ++p;
      int oh = 0, om = 0;
      if (!Digits(s, &p, 2, &oh)) return false;
      if (p < s.size() && s[p] == ':') ++p;
      if (!Digits(s, &p, 2, &om) || oh > 23 || om > 59) return false;
      offset = sign * (oh * 3600L + om * 60L);
    } else {
      return false;
    }
    if (p != s.size()) return false;
    secs = timegm(&tm) - offset;
  }
  // mktime and timegm normalise 31 February into March: refuse that.
  if (tm.tm_mday != day) return false;
  *out_ms = secs * 1000 + ms;
  return true;
}

}  // namespace

std::string LocalIso(int64_t ms) {
  int64_t secs = ms / 1000, rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    --secs;
  }
  const auto t = static_cast<time_t>(secs);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%03d", static_cast<int>(rem));
  return buf + Offset(tm.tm_gmtoff);
}

bool ParseTime(std::string_view text, int64_t now_ms, int64_t* out_ms) {
  if (text.empty() || text.size() > 40) return false;
  const char last = text.back();
  bool digits = true;
  for (char c : text.substr(0, text.size() - 1)) digits &= c >= '0' && c <= '9';
  if (digits && last >= '0' && last <= '9') {
    const auto r = std::from_chars(text.data(), text.data() + text.size(), *out_ms);
    return r.ec == std::errc() && r.ptr == text.data() + text.size();
  }
  if (digits && text.size() > 1 && (last == 's' || last == 'm' || last == 'h' || last == 'd')) {
    int64_t n = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size() - 1, n);
    if (r.ec != std::errc() || n > 100 * 365 * 24 * 3600LL) return false;
    const int64_t unit = last == 's' ? 1000 : last == 'm' ? 60'000 : last == 'h' ? 3'600'000 : 86'400'000;
    *out_ms = now_ms - n * unit;
    return true;
  }
  return ParseIso(text, out_ms);
}

ZoneInfo HubZone() {
  ZoneInfo z;
  const char* tz = getenv("TZ");
  if (tz != nullptr && *tz != '\0') {
    z.name = tz[0] == ':' ? tz + 1 : tz;
  } else {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink("/etc/localtime", ec).string();
    const auto at = target.find("zoneinfo/");
    z.name = !ec && at != std::string::npos ? target.substr(at + 9) : "UTC";
  }
  const time_t now = time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  z.offset = Offset(tm.tm_gmtoff);
  return z;
}

bool SetTimeZone(const std::string& name, std::string* error) {
  const bool plausible = !name.empty() && name.find("..") == std::string::npos && name[0] != '/';
  if (!plausible || !std::filesystem::is_regular_file("/usr/share/zoneinfo/" + name)) {
    *error = "no time zone '" + name + "' on this machine (an IANA name such as Asia/Shanghai; " +
             "Debian's tzdata package provides them)";
    return false;
  }
  setenv("TZ", name.c_str(), 1);
  tzset();
  return true;
}

}  // namespace hub::util
