#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace hub::util {

// "2026-11-27T08:00:00Z" for milliseconds since the epoch (seconds kept).
inline std::string UtcIso(int64_t ms) {
  const auto secs = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace hub::util
