#pragma once

// Parsing of what a supervisor API request carries: the query string, the
// percent-encoded path segments, whole-number parameters and JSON bodies
// (protobuf's JSON mapping). Pure functions: no I/O, no state, thread-safe.
// Every input is untrusted; none of these throws or reads outside `text`.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

namespace hub::api {

// Parses `body` (empty means "{}") into *m, rejecting unknown fields. On
// failure returns false and sets *error to "bad JSON: " and the parser's
// reason; *m may then be partly filled.
bool ParseJson(const std::string& body, google::protobuf::Message* m, std::string* error);

// Whole-string decimal: no sign (unsigned), spaces or trailing text; an
// empty string or a value out of range is refused. Returns false and leaves
// *out unspecified on failure.
bool ParseNumber(std::string_view text, uint64_t* out);
// Same, signed: an optional leading '-'.
bool ParseNumber(std::string_view text, int64_t* out);

// Percent-decoding: "%XY" with two hex digits becomes that byte (any byte,
// NUL included); a '%' not followed by two hex digits stays as it is. '+'
// is a space in a query (plus_is_space), itself in a path.
std::string Unescape(std::string_view v, bool plus_is_space = true);

// The query of a request target ("/path?k=v&k2"): each '&'-separated pair,
// key and value unescaped; a pair without '=' has an empty value; a repeated
// key keeps its last value. Empty when the target has no '?'.
std::map<std::string, std::string> Query(const std::string& target);

}  // namespace hub::api
