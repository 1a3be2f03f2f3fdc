#include "daemon/audit_api.h"

#include <set>

#include "daemon/api_json.h"
#include "daemon/api_parse.h"
#include "hub/v1/desk.pb.h"

namespace hub::daemon {

void StampOrigin(const std::string& who, int64_t now_ms, v1::LogRecord* rec) {
  rec->mutable_origin()->set_who(who);
  rec->mutable_origin()->set_at_ms(now_ms);
  if (rec->has_reference() && rec->reference().has_add_hold()) {
    v1::HoldEntry* hold = rec->mutable_reference()->mutable_add_hold();
    hold->set_placed_by(who);
    hold->set_placed_at_ms(now_ms);
  }
}

net::HttpResponse ListAudit(const net::HttpRequest& r, const ApiSources& src) {
  constexpr uint64_t kMaxPage = 1000;
  if (r.method != "GET") return Error(405, "/v1/audit answers GET");
  static const std::set<std::string> kParams = {"from_ms", "to_ms", "who", "after", "limit"};
  auto q = Query(r.target);
  for (const auto& [k, v] : q)
    if (!kParams.count(k)) return Error(400, "unknown parameter '" + k + "'");
  store::RocksDbStore::AuditFilter filter;
  uint64_t after = 0, limit = 100;
  if ((q.count("from_ms") && !ParseNumber(q["from_ms"], &filter.from_ms)) ||
      (q.count("to_ms") && !ParseNumber(q["to_ms"], &filter.to_ms)) ||
      (q.count("after") && !ParseNumber(q["after"], &after)) ||
      (q.count("limit") && !ParseNumber(q["limit"], &limit)))
    return Error(400, "from_ms, to_ms, after and limit are whole numbers");
  if (limit == 0 || limit > kMaxPage) return Error(400, "limit must be 1..1000");
  if (q.count("who")) {
    if (q["who"].empty()) return Error(400, "who is empty: name a token");
    filter.who = q["who"];
  }
  std::vector<v1::AuditEntry> entries;
  if (!src.store->AuditAfter(after, limit + 1, filter, &entries).ok())
    return Error(500, "store read failed");
  v1::AuditPage page;
  for (size_t i = 0; i < entries.size() && i < limit; ++i) *page.add_entries() = std::move(entries[i]);
  if (entries.size() > limit) page.set_next_after(page.entries(page.entries_size() - 1).hub_seq());
  return Json(page);
}

}  // namespace hub::daemon
