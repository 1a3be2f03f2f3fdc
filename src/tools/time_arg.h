#pragma once

// Time values as hubctl takes them on its command line and passes them on
// to hubd's `from`/`to` parameters (docs/api.md, "Times"). hubd interprets
// them (a relative time against its clock, an ISO time without an offset in
// the hub's zone); hubctl only refuses what hubd would surely refuse, so a
// typo is caught before a request.

#include <cstdint>
#include <string>
#include <string_view>

namespace hub::tools {

// True for one of the forms of docs/api.md, "Times" (util::ParseTime, the
// grammar hubd parses). Otherwise false and *why says what is wrong and
// lists the forms.
bool CheckTimeArg(std::string_view value, std::string* why);

// "2026-11-27T00:00:00.250Z": ISO 8601 in UTC with milliseconds.
std::string IsoUtcMillis(int64_t ms);

}  // namespace hub::tools
