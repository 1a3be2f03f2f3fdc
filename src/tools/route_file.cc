#include "tools/route_file.h"

#include <charconv>
#include <map>
#include <vector>

#include "tools/csv_reader.h"

namespace hub::tools {

bool ReadRouteFile(std::string_view text, bool replace, v1::ReferenceBatch* batch,
                   std::string* error) {
  std::vector<CsvRecord> records;
  if (!ReadCsv(text, &records, error)) return false;
  v1::RoutingTable table;
  std::map<std::string, int> line_of;  // destination -> its line
  for (size_t i = 0; i < records.size(); ++i) {
    auto& f = records[i].fields;
    const std::string at = "line " + std::to_string(records[i].line) + ": ";
    if (i == 0 && f[0] == "destination") continue;
    if (f.size() < 2 || f.size() > 6) {
      *error = at +
               "expected destination,route_code[,chute[,load_id[,next_hub[,transit_minutes]]]], got " +
               std::to_string(f.size()) + " field(s)";
      return false;
    }
    if (f[0].empty() || f[1].empty()) {
      *error = at + (f[0].empty() ? "the destination is empty" : "the route code is empty");
      return false;
    }
    auto [seen, fresh] = line_of.try_emplace(f[0], records[i].line);
    if (!fresh) {
      *error = at + "destination " + f[0] + " is already on line " + std::to_string(seen->second);
      return false;
    }
    f.resize(6);
    uint32_t transit_minutes = 0;
    if (!f[5].empty()) {
      const char* end = f[5].data() + f[5].size();
      auto [ptr, ec] = std::from_chars(f[5].data(), end, transit_minutes);
      if (ec != std::errc() || ptr != end) {
        *error = at + "transit_minutes must be a whole number of minutes, got '" + f[5] + "'";
        return false;
      }
    }
    v1::RouteEntry e;
    e.set_destination(f[0]);
    e.set_route_code(f[1]);
    e.set_chute(f[2]);
    e.set_load_id(f[3]);
    e.set_next_hub(f[4]);
    e.set_transit_minutes(transit_minutes);
    if (replace)
      *table.add_entries() = std::move(e);
    else
      *batch->add_changes()->mutable_upsert_route() = std::move(e);
  }
  if (line_of.empty()) {
    *error = "the file holds no routes";
    return false;
  }
  if (replace) *batch->add_changes()->mutable_replace_routes() = std::move(table);
  return true;
}

}  // namespace hub::tools
