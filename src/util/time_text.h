#pragma once

// Times as people write them: ISO 8601 in the hub's time zone for answers,
// and the forms a time parameter takes (docs/api.md, "Times"). The hub's
// zone is the process's local zone (TZ, /etc/localtime), set once at start
// by SetTimeZone(). Thread-safe after that.

#include <cstdint>
#include <string>
#include <string_view>

namespace hub::util {

// "2026-11-27T06:00:00.000+08:00": `ms` since the epoch in the hub's zone.
std::string LocalIso(int64_t ms);

// Parses a time parameter into ms since the epoch:
//   ISO 8601 with offset   2026-11-27T06:00:00+08:00, ...Z, fractions kept to ms
//   ISO 8601 without       2026-11-27T06:00[:00], 2026-11-27 (midnight), hub's zone
//   relative               30m, 8h, 2d, 90s: that long before `now_ms`
//   milliseconds           1795723200000
// False for anything else (then *out_ms is unspecified).
bool ParseTime(std::string_view text, int64_t now_ms, int64_t* out_ms);

// What a refused time parameter is told.
inline constexpr const char* kTimeForms =
    "an ISO 8601 time (2026-11-27T06:00:00+08:00, 2026-11-27T06:00, 2026-11-27), "
    "a time before now (30m, 8h, 2d) or milliseconds since the epoch";

struct ZoneInfo {
  std::string name;    // IANA name, or "UTC" when the machine names none
  std::string offset;  // "+08:00" now
};
ZoneInfo HubZone();

// Makes `name` (an IANA zone such as "Asia/Shanghai") the hub's zone; false
// with *error when the machine has no such zone.
bool SetTimeZone(const std::string& name, std::string* error);

}  // namespace hub::util
