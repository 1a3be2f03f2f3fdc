#pragma once

// Route files: the routing table as a spreadsheet saves it, one route per
// record, `destination,route_code[,chute[,load_id[,next_hub[,transit_minutes]]]]`
// (CSV, see csv_reader.h). A first record whose first field is
// "destination" is a header and skipped.

#include <string>
#include <string_view>

#include "hub/v1/reference.pb.h"

namespace hub::tools {

// The routes of `text` as one replace_routes change (`replace`) or as one
// upsert_route change each. False, with *error "line N: ...", on a
// malformed record, a record without a destination or route code, a
// transit_minutes that is not a whole number (empty: 0), a destination
// given twice, or a file with no routes. The values themselves are checked
// by hubd (POST /v1/reference).
bool ReadRouteFile(std::string_view text, bool replace, v1::ReferenceBatch* batch,
                   std::string* error);

}  // namespace hub::tools
