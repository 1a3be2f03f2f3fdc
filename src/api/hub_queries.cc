#include "api/hub_queries.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "api/api_parse.h"
#include "util/time_text.h"
#include "core/validate.h"
#include "core/views.h"
#include "hub/v1/desk.pb.h"
#include "hub/version.h"

namespace hub::api {
namespace {

constexpr size_t kMaxPage = 1000;
// Most cases a newest-first page looks at before it answers short (with
// next_before, so the client goes on from there).
constexpr size_t kMaxExamined = 100'000;
// Most records one entity view reads (a busy load's sort decisions).
constexpr size_t kMaxHistory = 200'000;
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kMaxReportMs = 31 * 24 * kHourMs;

std::optional<Failure> UnknownParams(const Params& q, const std::set<std::string>& known,
                                     const char* what) {
  for (const auto& [k, v] : q)
    if (!known.count(k)) return BadRequest(std::string("unknown ") + what + " '" + k + "'");
  return std::nullopt;
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<Failure> TimeParam(const Params& q, const std::string& name, int64_t now_ms,
                                 int64_t* out) {
  const std::string ms_name = name + "_ms";
  if (q.count(name) && q.count(ms_name)) return BadRequest("give " + name + " or " + ms_name + ", not both");
  if (auto it = q.find(ms_name); it != q.end()) {
    if (!ParseNumber(it->second, out)) return BadRequest(ms_name + " is a whole number of milliseconds");
    return std::nullopt;
  }
  if (auto it = q.find(name); it != q.end()) {
    if (!util::ParseTime(it->second, now_ms, out))
      return BadRequest(name + " '" + it->second + "' is not a time: give " + util::kTimeForms);
  }
  return std::nullopt;
}

std::optional<Failure> TypeAndStatus(const Params& q, v1::ExceptionType* type,
                                     v1::ExceptionStatus* status) {
  if (auto it = q.find("type");
      it != q.end() && (!v1::ExceptionType_Parse(Upper(it->second), type) || *type == v1::EXCEPTION_TYPE_UNSPECIFIED))
    return BadRequest("unknown type '" + it->second + "'");
  if (auto it = q.find("status");
      it != q.end() && (!v1::ExceptionStatus_Parse(Upper(it->second), status) ||
                        *status == v1::EXCEPTION_STATUS_UNSPECIFIED))
    return BadRequest("unknown status '" + it->second + "' (open, acknowledged, resolved)");
  return std::nullopt;
}

std::string HubQueries::AgedOutNote(uint64_t case_id, bool entity) const {
  const auto r = store_->RetainedSoFar();
  if ((case_id == 0 || case_id > r.through_case_id) && !(entity && r.through_hub_seq > 0)) return "";
  return std::string(case_id != 0 ? ": it has aged out" : "") + " (records and cases from before " +
         util::LocalIso(r.cutoff_ms) + " hub time have aged out: retention)";
}

Answer HubQueries::ListExceptions(const Params& q_in) const {
  Params q = q_in;
  if (auto f = UnknownParams(q, {"type", "status", "vehicle", "bag", "parcel", "load", "id", "from",
                                 "to", "from_ms", "to_ms", "after", "before", "order", "limit"},
                             "filter"))
    return *f;
  v1::ExceptionType type = v1::EXCEPTION_TYPE_UNSPECIFIED;
  v1::ExceptionStatus status = v1::EXCEPTION_STATUS_UNSPECIFIED;
  if (auto f = TypeAndStatus(q, &type, &status)) return *f;
  const bool newest = q.count("order") && q["order"] == "newest";
  if (q.count("order") && !newest) return BadRequest("order is 'newest' (or absent: oldest first)");
  if (newest && q.count("after")) return BadRequest("order=newest pages with before, not after");
  if (!newest && q.count("before")) return BadRequest("before goes with order=newest");
  int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;
  const int64_t now = NowMs();
  if (auto f = TimeParam(q, "from", now, &from_ms)) return *f;
  if (auto f = TimeParam(q, "to", now, &to_ms)) return *f;
  uint64_t after = 0, before = UINT64_MAX, limit = 100;
  if ((q.count("after") && !ParseNumber(q["after"], &after)) ||
      (q.count("before") && !ParseNumber(q["before"], &before)) ||
      (q.count("limit") && !ParseNumber(q["limit"], &limit)))
    return BadRequest("after, before and limit are whole numbers");
  if (limit == 0 || limit > kMaxPage) return BadRequest("limit must be 1..1000");
  for (const char* key : {"parcel", "bag", "vehicle", "load", "id"})
    if (q.count(key) && (q[key].empty() || q[key].size() > core::kMaxIdLength))
      return BadRequest(std::string(key) + " must be 1.." + std::to_string(core::kMaxIdLength) + " bytes");

  // Candidates from the most selective index, then every filter on the case,
  // all read at one point in time.
  const auto view = store_->NewReadView();
  std::vector<uint64_t> ids;
  bool indexed = false;
  for (auto [key, kind] : {std::pair{"parcel", store::keys::Kind::kParcel},
                           {"bag", store::keys::Kind::kBag},
                           {"vehicle", store::keys::Kind::kVehicle},
                           {"load", store::keys::Kind::kLoad}}) {
    if (indexed || !q.count(key)) continue;
    if (!store_->CaseIdsForEntity(kind, q[key], &ids, view.get()).ok()) return StoreFailed();
    indexed = true;
  }
  if (!indexed && q.count("id")) {
    std::vector<uint64_t> some;
    for (auto kind : {store::keys::Kind::kParcel, store::keys::Kind::kBag, store::keys::Kind::kVehicle,
                      store::keys::Kind::kLoad}) {
      if (!store_->CaseIdsForEntity(kind, q["id"], &some, view.get()).ok()) return StoreFailed();
      ids.insert(ids.end(), some.begin(), some.end());
    }
    indexed = true;
  }
  auto matches = [&](const v1::ExceptionCase& c) {
    const std::string* any = q.count("id") ? &q["id"] : nullptr;
    return (type == v1::EXCEPTION_TYPE_UNSPECIFIED || c.type() == type) &&
           (status == v1::EXCEPTION_STATUS_UNSPECIFIED || c.status() == status) &&
           (!q.count("parcel") || c.parcel_id() == q["parcel"]) &&
           (!q.count("bag") || c.bag_id() == q["bag"]) &&
           (!q.count("vehicle") || c.vehicle_id() == q["vehicle"]) &&
           (!q.count("load") || c.load_id() == q["load"]) &&
           (any == nullptr || c.parcel_id() == *any || c.bag_id() == *any || c.vehicle_id() == *any ||
            c.load_id() == *any) &&
           c.event_time_ms() >= from_ms && c.event_time_ms() <= to_ms;
  };
  v1::ExceptionPage page;
  if (indexed) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (newest) std::reverse(ids.begin(), ids.end());
    for (uint64_t id : ids) {
      if (newest ? id >= before : id <= after) continue;
      v1::ExceptionCase c;
      if (!store_->GetCase(id, &c, view.get()).ok()) continue;
      if (!matches(c)) continue;
      if (static_cast<size_t>(page.exceptions_size()) == limit) {
        const uint64_t last = page.exceptions(page.exceptions_size() - 1).id();
        newest ? page.set_next_before(last) : page.set_next_after(last);
        break;
      }
      *page.add_exceptions() = std::move(c);
    }
    return page;
  }
  std::vector<v1::ExceptionCase> cases;
  if (newest) {
    uint64_t last_examined = 0;
    if (!store_->CasesBefore(before, limit, kMaxExamined, matches, &cases, &last_examined, view.get()).ok())
      return StoreFailed();
    for (auto& c : cases) *page.add_exceptions() = std::move(c);
    if (last_examined > 1) page.set_next_before(last_examined);
    return page;
  }
  // By type: that type's (type, status, id) index from the cursor on;
  // otherwise every case from the cursor on.
  std::vector<v1::ExceptionStatus> statuses = {v1::OPEN, v1::ACKNOWLEDGED, v1::RESOLVED};
  if (status != v1::EXCEPTION_STATUS_UNSPECIFIED) statuses = {status};
  const auto s = type != v1::EXCEPTION_TYPE_UNSPECIFIED
                     ? store_->CasesByType(type, statuses, after, limit + 1, matches, &cases, view.get())
                     : store_->CasesAfter(after, limit + 1, matches, &cases, view.get());
  if (!s.ok()) return StoreFailed();
  for (size_t i = 0; i < cases.size() && i < limit; ++i) *page.add_exceptions() = cases[i];
  if (cases.size() > limit) page.set_next_after(cases[limit - 1].id());
  return page;
}

Answer HubQueries::GetException(const std::string& id_text) const {
  uint64_t id = 0;
  if (!ParseNumber(id_text, &id)) return BadRequest("exception id must be a number");
  v1::ExceptionCase c;
  auto s = store_->GetCase(id, &c);
  if (s.IsNotFound()) return NotFound("no exception " + id_text + AgedOutNote(id, false));
  if (!s.ok()) return StoreFailed();
  return c;
}

Answer HubQueries::Summary(const Params& q) const {
  if (auto f = UnknownParams(q, {"from", "to", "from_ms", "to_ms"}, "parameter")) return *f;
  int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;
  const int64_t now = NowMs();
  if (auto f = TimeParam(q, "from", now, &from_ms)) return *f;
  if (auto f = TimeParam(q, "to", now, &to_ms)) return *f;
  const sequencer::SequencerProbe& probe = sequencer_->probe();
  v1::Summary out;
  out.set_hub_seq(probe.hub_seq.load(std::memory_order_relaxed));
  uint64_t applied = 0;
  for (const auto& n : probe.events_applied) applied += n.load(std::memory_order_relaxed);
  out.set_events_applied(applied);
  out.set_parcels_in_hub(probe.parcels_in_hub.load(std::memory_order_relaxed));
  if (from_ms != INT64_MIN) out.set_from_ms(from_ms);
  if (to_ms != INT64_MAX) out.set_to_ms(to_ms);
  const auto view = store_->NewReadView();
  for (int t = v1::ExceptionType_MIN + 1; t <= v1::ExceptionType_MAX; ++t) {
    uint64_t n[4] = {};
    for (int st = v1::OPEN; st <= v1::RESOLVED; ++st)
      if (!store_->CountCases(static_cast<v1::ExceptionType>(t), static_cast<v1::ExceptionStatus>(st),
                              from_ms, to_ms, &n[st], view.get()).ok())
        return StoreFailed();
    if (n[1] + n[2] + n[3] == 0) continue;
    auto* c = out.add_exceptions();
    c->set_type(static_cast<v1::ExceptionType>(t));
    c->set_open(n[v1::OPEN]);
    c->set_acknowledged(n[v1::ACKNOWLEDGED]);
    c->set_resolved(n[v1::RESOLVED]);
  }
  return out;
}

Answer HubQueries::Report(const Params& q) const {
  if (auto f = UnknownParams(q, {"from", "to", "from_ms", "to_ms"}, "parameter")) return *f;
  const int64_t now = NowMs();
  int64_t from_ms = now - 8 * kHourMs, to_ms = now;
  if (auto f = TimeParam(q, "from", now, &from_ms)) return *f;
  if (auto f = TimeParam(q, "to", now, &to_ms)) return *f;
  if (to_ms < from_ms) return BadRequest("to is before from");
  if (to_ms - from_ms > kMaxReportMs) return BadRequest("a report covers at most 31 days");
  v1::Report out;
  out.set_from_ms(from_ms);
  out.set_to_ms(to_ms);
  const int64_t first_hour = from_ms - ((from_ms % kHourMs) + kHourMs) % kHourMs;
  for (int64_t h = first_hour; h <= to_ms; h += kHourMs) out.add_per_hour()->set_hour_ms(h);
  const auto view = store_->NewReadView();
  std::map<std::string, std::vector<std::string>> left_behind;  // load -> parcels
  uint64_t oldest_id = 0;
  for (int t = v1::ExceptionType_MIN + 1; t <= v1::ExceptionType_MAX; ++t) {
    const auto type = static_cast<v1::ExceptionType>(t);
    uint64_t n[4] = {};
    for (int st = v1::OPEN; st <= v1::RESOLVED; ++st) {
      std::vector<uint64_t> ids;
      const bool detail = type == v1::LEFT_BEHIND || type == v1::BAGS_MISSING;
      auto s = store_->ForEachCaseInWindow(
          type, static_cast<v1::ExceptionStatus>(st), from_ms, to_ms,
          [&](int64_t time_ms, uint64_t id) {
            ++n[st];
            auto* hour = out.mutable_per_hour(static_cast<int>((time_ms - first_hour) / kHourMs));
            hour->set_raised(hour->raised() + 1);
            if (detail) ids.push_back(id);
          },
          view.get());
      if (!s.ok()) return StoreFailed();
      for (uint64_t id : ids) {
        v1::ExceptionCase c;
        if (!store_->GetCase(id, &c, view.get()).ok()) return StoreFailed();
        if (type == v1::LEFT_BEHIND) {
          left_behind[c.load_id()].push_back(c.parcel_id());
        } else {
          auto* m = out.add_missing_bags();
          m->set_vehicle_id(c.vehicle_id());
          *m->mutable_bag_ids() = c.missing_ids();
        }
      }
    }
    uint64_t open_id = 0;
    if (!store_->OldestOpenCase(type, &open_id, view.get()).ok()) return StoreFailed();
    if (open_id != 0 && (oldest_id == 0 || open_id < oldest_id)) oldest_id = open_id;
    if (n[1] + n[2] + n[3] == 0) continue;
    auto* c = out.add_by_type();
    c->set_type(type);
    c->set_open(n[v1::OPEN]);
    c->set_acknowledged(n[v1::ACKNOWLEDGED]);
    c->set_resolved(n[v1::RESOLVED]);
    out.set_raised(out.raised() + n[1] + n[2] + n[3]);
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> loads(left_behind.begin(), left_behind.end());
  std::stable_sort(loads.begin(), loads.end(),
                   [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  for (auto& [load, parcels] : loads) {
    auto* l = out.add_left_behind();
    l->set_load_id(load);
    l->set_parcels(parcels.size());
    std::sort(parcels.begin(), parcels.end());
    for (size_t i = 0; i < parcels.size() && i < 100; ++i) l->add_parcel_ids(parcels[i]);
  }
  if (oldest_id != 0 && !store_->GetCase(oldest_id, out.mutable_oldest_open(), view.get()).ok())
    return StoreFailed();
  out.set_open_now(sequencer_->probe().open_cases.load(std::memory_order_relaxed));
  return out;
}

Answer HubQueries::HubInfo(const std::string& who, const char* role) const {
  v1::HubInfo out;
  out.set_who(who);
  out.set_role(role);
  const util::ZoneInfo zone = util::HubZone();
  out.set_time_zone(zone.name);
  out.set_utc_offset(zone.offset);
  out.set_now_ms(NowMs());
  out.set_hub_seq(sequencer_->probe().hub_seq.load(std::memory_order_relaxed));
  out.set_hub_time_ms(sequencer_->probe().hub_time_ms.load(std::memory_order_relaxed));
  out.set_version(hub::kVersion);
  return out;
}

namespace {

// One entity's records and cases, read at one point in time.
struct Entity {
  store::RocksDbStore::EntityHistory history;
  google::protobuf::RepeatedPtrField<v1::ExceptionCase> cases;
};

}  // namespace

Answer HubQueries::EntityView(const std::string& collection, const std::string& id) const {
  const char* noun = collection == "parcels"    ? "parcel"
                     : collection == "bags"     ? "bag"
                     : collection == "vehicles" ? "vehicle"
                                                : "load";
  const core::EntityKind kind = collection == "parcels"    ? core::EntityKind::kParcel
                                : collection == "bags"     ? core::EntityKind::kBag
                                : collection == "vehicles" ? core::EntityKind::kVehicle
                                                           : core::EntityKind::kLoad;
  if (id.empty() || id.size() > core::kMaxIdLength)
    return BadRequest(std::string(noun) + " id must be 1.." + std::to_string(core::kMaxIdLength) + " bytes");
  Entity e;
  if (!store_->History(kind, id, kMaxHistory, &e.history).ok()) return StoreFailed();
  const Failure none = NotFound(std::string("no record of ") + noun + " " + id + AgedOutNote(0, true));
  if (e.history.records.empty()) return none;
  // Bags, vehicles and loads: the latest life, and the cases raised since
  // the retirement before it.
  uint64_t since = 0;
  if (kind != core::EntityKind::kParcel) {
    core::KeepLatestLife(e.history.retired_at, &e.history.records);
    if (e.history.records.empty()) return none;
    for (uint64_t r : e.history.retired_at)
      if (r < e.history.records.front().hub_seq()) since = r;
  }
  std::vector<uint64_t> ids;
  if (!store_->CaseIdsForEntity(kind, id, &ids, e.history.view.get()).ok()) return StoreFailed();
  for (uint64_t case_id : ids) {
    v1::ExceptionCase c;
    if (!store_->GetCase(case_id, &c, e.history.view.get()).ok()) return StoreFailed();
    if (c.hub_seq() > since) *e.cases.Add() = std::move(c);
  }
  const bool truncated = e.history.truncated || e.history.aged_out;
  if (kind == core::EntityKind::kParcel) {
    auto t = core::BuildParcelTrace(id, e.history.records);
    // Its last life ended: with a departure, or forgotten when idle.
    const auto& retired = e.history.retired_at;
    const auto& forgotten = e.history.forgotten_at;
    if (!retired.empty() && retired.back() >= e.history.records.back().hub_seq()) {
      if (!forgotten.empty() && forgotten.back() == retired.back()) {
        t.set_forgotten_hub_seq(retired.back());
      } else {
        t.set_departed_hub_seq(retired.back());
      }
    }
    *t.mutable_exceptions() = std::move(e.cases);
    t.set_truncated(truncated);
    return t;
  }
  if (kind == core::EntityKind::kBag) {
    auto b = core::BuildBagView(id, e.history.records);
    *b.mutable_exceptions() = std::move(e.cases);
    b.set_truncated(truncated);
    return b;
  }
  // Vehicles and loads: a first pass names the bags, whose views complete
  // the manifest.
  std::vector<v1::BagView> bags;
  auto read_bags = [&](const google::protobuf::RepeatedPtrField<v1::ManifestBag>& manifest) {
    for (const auto& bag : manifest) {
      store::RocksDbStore::EntityHistory h;
      if (!store_->History(core::EntityKind::kBag, bag.bag_id(), kMaxHistory, &h).ok()) return false;
      core::KeepLatestLife(h.retired_at, &h.records);
      if (!h.records.empty()) bags.push_back(core::BuildBagView(bag.bag_id(), h.records));
    }
    return true;
  };
  if (kind == core::EntityKind::kVehicle) {
    if (!read_bags(core::BuildVehicleView(id, e.history.records, {}).bags())) return StoreFailed();
    auto v = core::BuildVehicleView(id, e.history.records, bags);
    *v.mutable_exceptions() = std::move(e.cases);
    v.set_truncated(truncated);
    return v;
  }
  if (!read_bags(core::BuildLoadView(id, e.history.records, {}).bags())) return StoreFailed();
  auto l = core::BuildLoadView(id, e.history.records, bags);
  *l.mutable_exceptions() = std::move(e.cases);
  l.set_truncated(truncated);
  return l;
}

}  // namespace hub::api
