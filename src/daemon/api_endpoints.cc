#include "daemon/api_endpoints.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "core/validate.h"
#include "core/views.h"
#include "daemon/api_json.h"
#include "daemon/api_parse.h"
#include "daemon/audit_api.h"
#include "daemon/reference_api.h"
#include "hub/v1/admin.pb.h"
#include "util/log_value.h"
#include "util/utc_time.h"

namespace hub::daemon {
namespace {

using net::HttpResponse;
using util::LogValue;
namespace pbu = google::protobuf::util;

// Refused callers are logged at most once per 10 s (with how many lines were
// held back), so a client guessing tokens costs a few lines, not a disk.
util::LogThrottle auth_log(std::chrono::seconds(10));

constexpr size_t kMaxPage = 1000;
// Most records one entity view reads (a busy load's sort decisions).
constexpr size_t kMaxHistory = 200'000;

std::string_view Path(const net::HttpRequest& r) {
  return std::string_view(r.target).substr(0, r.target.find('?'));
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kSupervisor: return "supervisor";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

// A request refused for who sent it. The token itself is never logged; a
// known token is named by its name.
void LogAuthFailure(const net::HttpRequest& r, const char* reason, const ApiToken* who = nullptr,
                    Role needs = Role::kViewer) {
  uint64_t held = 0;
  if (!auth_log.Allow(&held)) return;
  if (who == nullptr) {
    spdlog::warn("event=api_auth_failed peer={} method={} path={} reason={} suppressed={}",
                 LogValue(r.peer), LogValue(r.method), LogValue(Path(r)), reason, held);
  } else {
    spdlog::warn(
        "event=api_auth_failed peer={} method={} path={} reason={} who={} role={} needs={} suppressed={}",
        LogValue(r.peer), LogValue(r.method), LogValue(Path(r)), reason, LogValue(who->name),
        RoleName(who->role), RoleName(needs), held);
  }
}

const ApiToken* Authenticate(const net::HttpRequest& r, const ApiSources& src, HttpResponse* deny) {
  if (src.tokens.empty()) {
    LogAuthFailure(r, "no_tokens_configured");
    *deny = Error(401, "no API tokens are configured; add [[api.tokens]] to the configuration");
    return nullptr;
  }
  const std::string prefix = "Bearer ";
  if (r.authorization.rfind(prefix, 0) != 0) {
    LogAuthFailure(r, "missing_bearer_token");
    *deny = Error(401, "missing bearer token");
    return nullptr;
  }
  const std::string token = r.authorization.substr(prefix.size());
  // Compare every byte of every token, so timing does not leak a prefix.
  const ApiToken* found = nullptr;
  for (const auto& t : src.tokens) {
    unsigned diff = t.token.size() != token.size();
    for (size_t i = 0; i < t.token.size(); ++i)
      diff |= static_cast<unsigned char>(t.token[i]) ^
              static_cast<unsigned char>(i < token.size() ? token[i] : 0);
    if (diff == 0) found = &t;
  }
  if (found != nullptr) return found;
  LogAuthFailure(r, "unknown_token");
  *deny = Error(401, "unknown token");
  return nullptr;
}

// The role a write needs, checked before anything else of the request.
std::optional<HttpResponse> Authorize(const net::HttpRequest& r, const ApiToken& who, Role needs,
                                      const char* what) {
  if (who.role >= needs) return std::nullopt;
  LogAuthFailure(r, "role_too_low", &who, needs);
  return Error(403, std::string(what) + " needs the " + RoleName(needs) + " role");
}

// The reason of an error answer (its "error" member), for the log.
std::string ErrorMessage(const HttpResponse& out) {
  google::protobuf::Struct body;
  if (!pbu::JsonStringToMessage(out.body, &body).ok()) return out.body;
  const auto it = body.fields().find("error");
  return it == body.fields().end() ? out.body : it->second.string_value();
}

// Every write through the API leaves one line: who (the token's name), what,
// the details the handler gathered (`detail`: " key=value" pairs) and the
// result.
HttpResponse Audited(const net::HttpRequest& r, const ApiToken& who, std::string_view what,
                     const std::string& detail, HttpResponse out) {
  if (out.status == 200) {
    spdlog::info("event=api_action who={} what={}{} result=applied peer={}", LogValue(who.name), what,
                 detail, LogValue(r.peer));
  } else {
    spdlog::warn("event=api_action who={} what={}{} result=refused status={} reason={} peer={}",
                 LogValue(who.name), what, detail, out.status, LogValue(ErrorMessage(out)),
                 LogValue(r.peer));
  }
  return out;
}

// Submits a command; the future is ready once its commit is durable.
std::future<sequencer::CommandResult> Submit(const ApiSources& src, v1::LogRecord record) {
  auto promise = std::make_shared<std::promise<sequencer::CommandResult>>();
  auto future = promise->get_future();
  sequencer::Submission s;
  s.command = std::move(record);
  s.done = [promise](sequencer::CommandResult r) { promise->set_value(std::move(r)); };
  src.sequencer->Submit(std::move(s));
  return future;
}

// Waits for a commit until `deadline` (one deadline for a whole request).
sequencer::CommandResult Wait(std::future<sequencer::CommandResult>& future,
                              std::chrono::steady_clock::time_point deadline) {
  if (future.wait_until(deadline) != std::future_status::ready) {
    sequencer::CommandResult timeout;
    timeout.code = v1::REJECT_UNAVAILABLE;
    timeout.reason = "timed out waiting for the commit";
    return timeout;
  }
  return future.get();
}

constexpr auto kCommitTimeout = std::chrono::seconds(30);

sequencer::CommandResult Run(const ApiSources& src, v1::LogRecord record) {
  auto future = Submit(src, std::move(record));
  return Wait(future, std::chrono::steady_clock::now() + kCommitTimeout);
}

HttpResponse ListExceptions(const net::HttpRequest& r, const ApiSources& src) {
  static const std::set<std::string> kFilters = {"type", "status", "vehicle", "bag", "parcel",
                                                 "load", "from_ms", "to_ms", "after", "limit"};
  auto q = Query(r.target);
  for (const auto& [k, v] : q)
    if (!kFilters.count(k)) return Error(400, "unknown filter '" + k + "'");
  v1::ExceptionType type = v1::EXCEPTION_TYPE_UNSPECIFIED;
  if (q.count("type") && !v1::ExceptionType_Parse(q["type"], &type))
    return Error(400, "unknown type '" + q["type"] + "'");
  v1::ExceptionStatus status = v1::EXCEPTION_STATUS_UNSPECIFIED;
  if (q.count("status")) {
    std::string upper = q["status"];
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!v1::ExceptionStatus_Parse(upper, &status) || status == v1::EXCEPTION_STATUS_UNSPECIFIED)
      return Error(400, "unknown status '" + q["status"] + "' (open, acknowledged, resolved)");
  }
  int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;
  uint64_t after = 0, limit = 100;
  if ((q.count("from_ms") && !ParseNumber(q["from_ms"], &from_ms)) ||
      (q.count("to_ms") && !ParseNumber(q["to_ms"], &to_ms)) ||
      (q.count("after") && !ParseNumber(q["after"], &after)) ||
      (q.count("limit") && !ParseNumber(q["limit"], &limit)))
    return Error(400, "from_ms, to_ms, after and limit are whole numbers");
  if (limit == 0 || limit > kMaxPage) return Error(400, "limit must be 1..1000");

  // Candidates from the most selective index, then every filter on the case,
  // all read at one point in time.
  const auto view = src.store->NewReadView();
  std::vector<uint64_t> ids;
  bool indexed = false;
  for (auto [key, kind] : {std::pair{"parcel", store::keys::Kind::kParcel},
                           {"bag", store::keys::Kind::kBag},
                           {"vehicle", store::keys::Kind::kVehicle},
                           {"load", store::keys::Kind::kLoad}}) {
    if (indexed || !q.count(key)) continue;
    if (!src.store->CaseIdsForEntity(kind, q[key], &ids, view.get()).ok())
      return Error(500, "store read failed");
    indexed = true;
  }
  v1::ExceptionPage page;
  auto matches = [&](const v1::ExceptionCase& c) {
    return (type == v1::EXCEPTION_TYPE_UNSPECIFIED || c.type() == type) &&
           (status == v1::EXCEPTION_STATUS_UNSPECIFIED || c.status() == status) &&
           (!q.count("parcel") || c.parcel_id() == q["parcel"]) &&
           (!q.count("bag") || c.bag_id() == q["bag"]) &&
           (!q.count("vehicle") || c.vehicle_id() == q["vehicle"]) &&
           (!q.count("load") || c.load_id() == q["load"]) && c.event_time_ms() >= from_ms &&
           c.event_time_ms() <= to_ms;
  };
  if (indexed) {
    std::sort(ids.begin(), ids.end());
    for (uint64_t id : ids) {
      if (id <= after) continue;
      v1::ExceptionCase c;
      if (!src.store->GetCase(id, &c, view.get()).ok()) continue;
      if (!matches(c)) continue;
      if (static_cast<size_t>(page.exceptions_size()) == limit) {
        page.set_next_after(page.exceptions(page.exceptions_size() - 1).id());
        break;
      }
      *page.add_exceptions() = std::move(c);
    }
  } else {
    // By type: that type's (type, status, id) index from the cursor on;
    // otherwise every case from the cursor on.
    std::vector<v1::ExceptionCase> cases;
    std::vector<v1::ExceptionStatus> statuses = {v1::OPEN, v1::ACKNOWLEDGED, v1::RESOLVED};
    if (status != v1::EXCEPTION_STATUS_UNSPECIFIED) statuses = {status};
    const auto s = type != v1::EXCEPTION_TYPE_UNSPECIFIED
                       ? src.store->CasesByType(type, statuses, after, limit + 1, matches, &cases, view.get())
                       : src.store->CasesAfter(after, limit + 1, matches, &cases, view.get());
    if (!s.ok()) return Error(500, "store read failed");
    for (size_t i = 0; i < cases.size() && i < limit; ++i) *page.add_exceptions() = cases[i];
    if (cases.size() > limit) page.set_next_after(cases[limit - 1].id());
  }
  return Json(page);
}

// Appends " case=ID" (and " hub_seq=N" once applied) to *detail.
HttpResponse CaseAction(const std::string& id_text, const std::string& verb,
                        const net::HttpRequest& r, const ApiSources& src, const ApiToken& who,
                        std::string* detail) {
  *detail += " case=" + LogValue(id_text);
  uint64_t id = 0;
  if (!ParseNumber(id_text, &id)) return Error(400, "exception id must be a number");
  v1::CaseNote note;
  std::string error;
  if (!ParseJson(r.body, &note, &error)) return Error(400, error);
  v1::LogRecord rec;
  auto* a = rec.mutable_case_action();
  a->set_case_id(id);
  a->set_to(verb == "acknowledge" ? v1::ACKNOWLEDGED : v1::RESOLVED);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  a->mutable_transition()->set_by(who.name);
  a->mutable_transition()->set_at_ms(now_ms);
  a->mutable_transition()->set_note(note.note());
  StampOrigin(who.name, now_ms, &rec);
  if (!core::ValidateCaseAction(*a, &error)) return Error(400, error);
  auto result = Run(src, std::move(rec));
  if (!result.applied) {
    if (result.code == v1::REJECT_UNAVAILABLE) return Error(503, result.reason);
    if (result.reason.rfind("no case", 0) == 0 || result.reason.find("aged out") != std::string::npos)
      return Error(404, result.reason);
    return Error(409, result.reason);
  }
  *detail += " hub_seq=" + std::to_string(result.hub_seq);
  v1::ExceptionCase c;
  if (!src.store->GetCase(id, &c).ok()) return Error(500, "store read failed");
  return Json(c);
}

// Appends " changes=N kinds=KIND:COUNT,..." (and " applied=N
// last_hub_seq=N" once queued) to *detail.
HttpResponse LoadReference(const net::HttpRequest& r, const ApiSources& src, const ApiToken& who,
                           std::string* detail) {
  v1::ReferenceBatch batch;
  std::string error;
  if (!ParseJson(r.body, &batch, &error)) return Error(400, error);
  if (batch.changes().empty()) return Error(400, "no changes in the body");
  std::map<std::string, int> kinds;
  for (const auto& change : batch.changes()) {
    const auto* field = v1::ReferenceChange::descriptor()->FindFieldByNumber(change.body_case());
    ++kinds[field != nullptr ? field->name() : "none"];
  }
  *detail += " changes=" + std::to_string(batch.changes_size()) + " kinds=";
  const char* comma = "";
  for (const auto& [kind, n] : kinds) {
    *detail += comma + kind + ":" + std::to_string(n);
    comma = ",";
  }
  // Validate all first, so a bad row applies nothing.
  for (int i = 0; i < batch.changes_size(); ++i)
    if (core::ValidateReference(batch.changes(i), &error) != v1::REJECT_NONE)
      return Error(400, "change " + std::to_string(i) + ": " + error);
  // All queued at once, so they share group commits; the sequencer keeps
  // their order.
  std::vector<std::future<sequencer::CommandResult>> pending;
  pending.reserve(batch.changes_size());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (auto& change : *batch.mutable_changes()) {
    v1::LogRecord rec;
    *rec.mutable_reference() = std::move(change);
    StampOrigin(who.name, now_ms, &rec);
    pending.push_back(Submit(src, std::move(rec)));
  }
  v1::ReferenceApplied out;
  std::string failure;
  const auto deadline = std::chrono::steady_clock::now() + kCommitTimeout;
  for (auto& f : pending) {
    auto result = Wait(f, deadline);
    if (!result.applied) {
      if (failure.empty()) failure = result.reason;
      continue;
    }
    out.set_applied(out.applied() + 1);
    out.set_last_hub_seq(std::max(out.last_hub_seq(), result.hub_seq));
  }
  *detail += " applied=" + std::to_string(out.applied()) +
             " last_hub_seq=" + std::to_string(out.last_hub_seq());
  if (!failure.empty())
    return Error(503, std::to_string(out.applied()) + " of " + std::to_string(pending.size()) +
                          " changes applied: " + failure);
  return Json(out);
}

HttpResponse Summary(const net::HttpRequest& r, const ApiSources& src) {
  auto q = Query(r.target);
  for (const auto& [k, v] : q)
    if (k != "from_ms" && k != "to_ms") return Error(400, "unknown parameter '" + k + "'");
  int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;
  if ((q.count("from_ms") && !ParseNumber(q["from_ms"], &from_ms)) ||
      (q.count("to_ms") && !ParseNumber(q["to_ms"], &to_ms)))
    return Error(400, "from_ms and to_ms are whole numbers");
  const sequencer::SequencerProbe& probe = src.sequencer->probe();
  v1::Summary out;
  out.set_hub_seq(probe.hub_seq.load(std::memory_order_relaxed));
  uint64_t applied = 0;
  for (const auto& n : probe.events_applied) applied += n.load(std::memory_order_relaxed);
  out.set_events_applied(applied);
  out.set_parcels_in_hub(probe.parcels_in_hub.load(std::memory_order_relaxed));
  if (q.count("from_ms")) out.set_from_ms(from_ms);
  if (q.count("to_ms")) out.set_to_ms(to_ms);
  const auto view = src.store->NewReadView();
  for (int t = v1::ExceptionType_MIN + 1; t <= v1::ExceptionType_MAX; ++t) {
    uint64_t n[4] = {};
    for (int st = v1::OPEN; st <= v1::RESOLVED; ++st)
      if (!src.store->CountCases(static_cast<v1::ExceptionType>(t), static_cast<v1::ExceptionStatus>(st),
                                 from_ms, to_ms, &n[st], view.get()).ok())
        return Error(500, "store read failed");
    if (n[1] + n[2] + n[3] == 0) continue;
    auto* c = out.add_exceptions();
    c->set_type(static_cast<v1::ExceptionType>(t));
    c->set_open(n[v1::OPEN]);
    c->set_acknowledged(n[v1::ACKNOWLEDGED]);
    c->set_resolved(n[v1::RESOLVED]);
  }
  return Json(out);
}

// Why an id may have no record: " (...aged out...)" once retention removed
// anything that could have held it (a case id at or below the aged-out
// one; any entity once anything aged out), else "".
std::string AgedOutNote(const ApiSources& src, uint64_t case_id, bool entity) {
  const auto r = src.store->RetainedSoFar();
  if ((case_id == 0 || case_id > r.through_case_id) && !(entity && r.through_hub_seq > 0)) return "";
  return std::string(case_id != 0 ? ": it has aged out" : "") + " (records and cases from before " +
         util::UtcIso(r.cutoff_ms) + " hub time have aged out: retention)";
}

// POST /v1/admin/backup: an online backup into a new directory. Runs on the
// HTTP thread like the other handlers (a checkpoint flushes and hard-links:
// seconds, not minutes); ingest goes on meanwhile. Appends " dir=...
// hub_seq=N" to *detail.
HttpResponse TakeBackup(const net::HttpRequest& r, const ApiSources& src, std::string* detail) {
  v1::BackupRequest request;
  std::string error;
  if (!ParseJson(r.body, &request, &error)) return Error(400, error);
  *detail += " dir=" + LogValue(request.dir());
  if (request.dir().empty()) return Error(400, "dir is missing: name a directory that does not exist yet");
  v1::BackupManifest manifest;
  const store::Status s = src.store->Backup(request.dir(), &manifest);
  if (!s.ok()) {
    if (s.IsAlreadyExists()) return Error(409, s.message());
    if (s.code() == store::Status::Code::kInvalidArgument) return Error(400, s.message());
    if (s.IsNoSpace()) return Error(507, "no space for the backup: " + s.message());
    return Error(500, "backup failed: " + s.message());
  }
  *detail += " hub_seq=" + std::to_string(manifest.hub_seq()) +
             " bytes=" + std::to_string(manifest.total_bytes());
  return Json(manifest);
}

// One entity's records and cases, read at one point in time.
struct Entity {
  store::RocksDbStore::EntityHistory history;
  google::protobuf::RepeatedPtrField<v1::ExceptionCase> cases;
};

// Fills *out; an error response when the read fails or the hub has no
// record of the entity.
std::optional<HttpResponse> ReadEntity(core::EntityKind kind, const std::string& id,
                                       const char* noun, const ApiSources& src, Entity* out) {
  if (id.empty() || id.size() > core::kMaxIdLength)
    return Error(400, std::string(noun) + " id must be 1.." + std::to_string(core::kMaxIdLength) +
                          " bytes");
  if (!src.store->History(kind, id, kMaxHistory, &out->history).ok())
    return Error(500, "store read failed");
  if (out->history.records.empty())
    return Error(404, std::string("no record of ") + noun + " " + id + AgedOutNote(src, 0, 1));
  // Bags, vehicles and loads: the latest life, and the cases raised since
  // the retirement before it.
  uint64_t since = 0;
  if (kind != core::EntityKind::kParcel) {
    core::KeepLatestLife(out->history.retired_at, &out->history.records);
    if (out->history.records.empty())
      return Error(404, std::string("no record of ") + noun + " " + id + AgedOutNote(src, 0, 1));
    for (uint64_t r : out->history.retired_at)
      if (r < out->history.records.front().hub_seq()) since = r;
  }
  std::vector<uint64_t> ids;
  if (!src.store->CaseIdsForEntity(kind, id, &ids, out->history.view.get()).ok())
    return Error(500, "store read failed");
  for (uint64_t case_id : ids) {
    v1::ExceptionCase c;
    if (!src.store->GetCase(case_id, &c, out->history.view.get()).ok())
      return Error(500, "store read failed");
    if (c.hub_seq() > since) *out->cases.Add() = std::move(c);
  }
  return std::nullopt;
}

// Views of the given bags (those the hub has records of).
std::optional<HttpResponse> ReadBags(const google::protobuf::RepeatedPtrField<v1::ManifestBag>& bags,
                                     const ApiSources& src, std::vector<v1::BagView>* out) {
  for (const auto& bag : bags) {
    store::RocksDbStore::EntityHistory h;
    if (!src.store->History(core::EntityKind::kBag, bag.bag_id(), kMaxHistory, &h).ok())
      return Error(500, "store read failed");
    core::KeepLatestLife(h.retired_at, &h.records);
    if (!h.records.empty()) out->push_back(core::BuildBagView(bag.bag_id(), h.records));
  }
  return std::nullopt;
}

HttpResponse EntityView(const std::string& collection, const std::string& id,
                        const ApiSources& src) {
  Entity e;
  if (collection == "parcels") {
    if (auto err = ReadEntity(core::EntityKind::kParcel, id, "parcel", src, &e)) return *err;
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
    t.set_truncated(e.history.truncated || e.history.aged_out);
    return Json(t);
  }
  if (collection == "bags") {
    if (auto err = ReadEntity(core::EntityKind::kBag, id, "bag", src, &e)) return *err;
    auto b = core::BuildBagView(id, e.history.records);
    *b.mutable_exceptions() = std::move(e.cases);
    b.set_truncated(e.history.truncated || e.history.aged_out);
    return Json(b);
  }
  // Vehicles and loads: a first pass names the bags, whose views complete
  // the manifest.
  std::vector<v1::BagView> bags;
  if (collection == "vehicles") {
    if (auto err = ReadEntity(core::EntityKind::kVehicle, id, "vehicle", src, &e)) return *err;
    auto v = core::BuildVehicleView(id, e.history.records, {});
    if (auto err = ReadBags(v.bags(), src, &bags)) return *err;
    v = core::BuildVehicleView(id, e.history.records, bags);
    *v.mutable_exceptions() = std::move(e.cases);
    v.set_truncated(e.history.truncated || e.history.aged_out);
    return Json(v);
  }
  if (auto err = ReadEntity(core::EntityKind::kLoad, id, "load", src, &e)) return *err;
  auto l = core::BuildLoadView(id, e.history.records, {});
  if (auto err = ReadBags(l.bags(), src, &bags)) return *err;
  l = core::BuildLoadView(id, e.history.records, bags);
  *l.mutable_exceptions() = std::move(e.cases);
  l.set_truncated(e.history.truncated || e.history.aged_out);
  return Json(l);
}

}  // namespace

HttpResponse HandleApi(const net::HttpRequest& r, const ApiSources& src) {
  HttpResponse deny;
  const ApiToken* who = Authenticate(r, src, &deny);
  if (who == nullptr) return deny;
  if (!src.ready->load()) return Error(503, "not ready: recovering");
  const std::string path(Path(r));
  const std::string kCases = "/v1/exceptions";
  if (path == kCases) {
    if (r.method != "GET") return Error(405, path + " answers GET");
    return ListExceptions(r, src);
  }
  if (path.rfind(kCases + "/", 0) == 0) {
    std::string rest = path.substr(kCases.size() + 1);
    const auto colon = rest.find(':');
    if (colon != std::string::npos) {
      const std::string verb = rest.substr(colon + 1);
      if (verb != "acknowledge" && verb != "resolve") return Error(404, "unknown action '" + verb + "'");
      if (r.method != "POST") return Error(405, "actions answer POST");
      if (auto deny = Authorize(r, *who, Role::kSupervisor, "acknowledging and resolving")) return *deny;
      std::string detail;
      HttpResponse out = CaseAction(rest.substr(0, colon), verb, r, src, *who, &detail);
      return Audited(r, *who, verb, detail, std::move(out));
    }
    if (r.method != "GET") return Error(405, path + " answers GET");
    uint64_t id = 0;
    if (!ParseNumber(rest, &id)) return Error(400, "exception id must be a number");
    v1::ExceptionCase c;
    auto s = src.store->GetCase(id, &c);
    if (s.IsNotFound()) return Error(404, "no exception " + rest + AgedOutNote(src, id, 0));
    if (!s.ok()) return Error(500, "store read failed");
    return Json(c);
  }
  if (path == "/v1/summary") {
    if (r.method != "GET") return Error(405, path + " answers GET");
    return Summary(r, src);
  }
  if (path == "/v1/reference") {
    if (r.method != "POST") return Error(405, path + " answers POST");
    if (auto deny = Authorize(r, *who, Role::kAdmin, "reference data")) return *deny;
    std::string detail;
    HttpResponse out = LoadReference(r, src, *who, &detail);
    return Audited(r, *who, "reference_load", detail, std::move(out));
  }
  if (path == "/v1/admin/backup") {
    if (r.method != "POST") return Error(405, path + " answers POST");
    if (auto deny = Authorize(r, *who, Role::kAdmin, "a backup")) return *deny;
    std::string detail;
    HttpResponse out = TakeBackup(r, src, &detail);
    return Audited(r, *who, "backup", detail, std::move(out));
  }
  if (path == "/v1/audit") return ListAudit(r, src);
  if (path == "/v1/routes") return ListRoutes(r, src);
  if (path == "/v1/holds") return ListHolds(r, src);
  if (path.rfind("/v1/advices/", 0) == 0) return GetAdvice(r, src);
  for (const char* collection : {"parcels", "bags", "vehicles", "loads"}) {
    const std::string prefix = std::string("/v1/") + collection + "/";
    if (path.rfind(prefix, 0) != 0) continue;
    if (r.method != "GET") return Error(405, path + " answers GET");
    if (r.target.find('?') != std::string::npos) return Error(400, path + " takes no parameters");
    return EntityView(collection, Unescape(path.substr(prefix.size()), false), src);
  }
  return Error(404, "no such endpoint: " + path);
}

}  // namespace hub::daemon
