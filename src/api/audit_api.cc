#include "api/audit_api.h"

#include <set>

#include "api/api_parse.h"
#include "hub/v1/desk.pb.h"

namespace hub::api {

void StampOrigin(const std::string& who, int64_t now_ms, v1::LogRecord* rec) {
  rec->mutable_origin()->set_who(who);
  rec->mutable_origin()->set_at_ms(now_ms);
  if (rec->has_reference() && rec->reference().has_add_hold()) {
    v1::HoldEntry* hold = rec->mutable_reference()->mutable_add_hold();
    hold->set_placed_by(who);
    hold->set_placed_at_ms(now_ms);
  }
}

Answer ListAudit(const Params& q_in, store::RocksDbStore* store) {
  constexpr uint64_t kMaxPage = 1000;
  static const std::set<std::string> kParams = {"from", "to", "from_ms", "to_ms", "who", "after", "limit"};
  Params q = q_in;
  for (const auto& [k, v] : q)
    if (!kParams.count(k)) return BadRequest("unknown parameter '" + k + "'");
  store::RocksDbStore::AuditFilter filter;
  const int64_t now = NowMs();
  if (auto f = TimeParam(q, "from", now, &filter.from_ms)) return *f;
  if (auto f = TimeParam(q, "to", now, &filter.to_ms)) return *f;
  uint64_t after = 0, limit = 100;
  if ((q.count("after") && !ParseNumber(q["after"], &after)) ||
      (q.count("limit") && !ParseNumber(q["limit"], &limit)))
    return BadRequest("after and limit are whole numbers");
  if (limit == 0 || limit > kMaxPage) return BadRequest("limit must be 1..1000");
  if (q.count("who")) {
    if (q["who"].empty()) return BadRequest("who is empty: name a token");
    filter.who = q["who"];
  }
  std::vector<v1::AuditEntry> entries;
  if (!store->AuditAfter(after, limit + 1, filter, &entries).ok()) return StoreFailed();
  v1::AuditPage page;
  for (size_t i = 0; i < entries.size() && i < limit; ++i) *page.add_entries() = std::move(entries[i]);
  if (entries.size() > limit) page.set_next_after(page.entries(page.entries_size() - 1).hub_seq());
  return page;
}

}  // namespace hub::api
