#pragma once

// The times of one hubd answer as people read them. hubd sends each time
// twice (docs/api.md, "Times"): milliseconds in a member `*_ms` and, beside
// it, the same instant as ISO 8601 in the hub's zone under the name without
// `_ms`. The typed messages keep only the milliseconds (the ISO siblings are
// unknown fields to them), so this keeps the siblings, by instant.

#include <cstdint>
#include <map>
#include <string>

namespace hub::tools {

class AnswerTimes {
 public:
  // Collects every `X_ms` with a string sibling `X`, at any depth of the
  // JSON answer `body`. An answer that does not parse, or has no siblings,
  // gives none.
  explicit AnswerTimes(const std::string& body);

  // The answer's ISO text for the instant `ms`, else `ms` as ISO 8601 UTC;
  // "-" for 0 (not set).
  std::string Text(int64_t ms) const;

 private:
  std::map<int64_t, std::string> iso_;
};

}  // namespace hub::tools
