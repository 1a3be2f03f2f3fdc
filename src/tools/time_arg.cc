#include "tools/time_arg.h"

#include <cstdio>

#include "util/time_text.h"
#include "util/utc_time.h"

namespace hub::tools {

// The same grammar hubd parses (util/time_text.h); the time it names does
// not matter here.
bool CheckTimeArg(std::string_view value, std::string* why) {
  int64_t ms = 0;
  if (util::ParseTime(value, 0, &ms)) return true;
  *why = "'" + std::string(value) + "' is not a time: give " + util::kTimeForms;
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
