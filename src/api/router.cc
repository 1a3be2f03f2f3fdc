#include "api/router.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "api/api_parse.h"
#include "api/audit_api.h"
#include "api/reference_api.h"
#include "core/validate.h"
#include "hub/v1/admin.pb.h"
#include "util/log_value.h"

namespace hub::api {
namespace {

using util::LogValue;

std::string_view Path(const net::HttpRequest& r) {
  return std::string_view(r.target).substr(0, r.target.find('?'));
}

Failure MethodNotAllowed(const std::string& what) { return {ApiError::kMethodNotAllowed, what}; }

// Every write through the API leaves one line: who (the token's name), what,
// the details (" key=value" pairs) and the result.
void Audit(const net::HttpRequest& r, const ApiToken& who, std::string_view what,
           const std::string& detail, const std::optional<Failure>& failure) {
  if (!failure) {
    spdlog::info("event=api_action who={} what={}{} result=applied peer={}", LogValue(who.name), what,
                 detail, LogValue(r.peer));
  } else {
    spdlog::warn("event=api_action who={} what={}{} result=refused status={} reason={} peer={}",
                 LogValue(who.name), what, detail, HttpStatus(failure->error),
                 LogValue(failure->message), LogValue(r.peer));
  }
}

std::optional<Failure> FailureOf(const Answer& a) {
  if (a.ok()) return std::nullopt;
  return a.failure();
}

}  // namespace

net::HttpResponse RenderServerError(const std::string& target, int status, const std::string& message) {
  if (target.rfind("/v1/", 0) != 0) return {status, "text/plain; charset=utf-8", message + "\n", {}};
  const ApiError e = status == 413 ? ApiError::kTooLarge : ApiError::kBadRequest;
  return Render(Failure{e, message});
}

ApiRouter::ApiRouter(ApiSources sources)
    : src_(std::move(sources)),
      queries_(src_.query_threads),
      hub_(src_.sequencer, src_.store),
      commands_(src_.sequencer, src_.store, &answers_),
      stream_(&src_.sequencer->probe()) {}

ApiRouter::~ApiRouter() { Stop(); }

void ApiRouter::Stop() {
  stream_.Stop();
  queries_.join();
  answers_.join();
  backups_.join();
}

void ApiRouter::RunQuery(net::HttpReply reply, std::function<Answer()> query) {
  boost::asio::post(queries_, [this, reply = std::move(reply), query = std::move(query)] {
    if (src_.before_query) src_.before_query();
    reply.Send(Render(query()));
  });
}

void ApiRouter::Handle(net::HttpRequest r, net::HttpReply reply) {
  Failure deny;
  const ApiToken* who = Authenticate(r, src_.tokens, &deny);
  if (who == nullptr) return reply.Send(Render(deny));
  if (!src_.ready->load()) return reply.Send(Render(Unavailable("not ready: recovering")));
  const std::string path(Path(r));
  auto send = [&reply](const Failure& f) { reply.Send(Render(f)); };
  auto only = [&](const char* method) {
    if (r.method == method) return true;
    send(MethodNotAllowed(path + " answers " + method));
    return false;
  };
  auto no_params = [&] {
    if (r.target.find('?') == std::string::npos) return true;
    send(BadRequest(path + " takes no parameters"));
    return false;
  };
  const std::string kCases = "/v1/exceptions";
  if (path == "/v1/hub") {
    if (only("GET") && no_params()) reply.Send(Render(hub_.HubInfo(who->name, RoleName(who->role))));
    return;
  }
  if (path == kCases) {
    if (only("GET")) RunQuery(std::move(reply), [this, q = Query(r.target)] { return hub_.ListExceptions(q); });
    return;
  }
  if (path == kCases + "/stream") {
    if (only("GET")) Stream(r, std::move(reply));
    return;
  }
  if (path == kCases + ":acknowledge" || path == kCases + ":resolve") {
    if (!only("POST")) return;
    if (auto f = Authorize(r, *who, Role::kSupervisor, "acknowledging and resolving")) return send(*f);
    return BulkAction(r, *who, path.substr(kCases.size() + 1), std::move(reply));
  }
  if (path.rfind(kCases + "/", 0) == 0) {
    std::string rest = path.substr(kCases.size() + 1);
    const auto colon = rest.find(':');
    if (colon != std::string::npos) {
      const std::string verb = rest.substr(colon + 1);
      if (verb != "acknowledge" && verb != "resolve") return send(NotFound("unknown action '" + verb + "'"));
      if (!only("POST")) return;
      if (auto f = Authorize(r, *who, Role::kSupervisor, "acknowledging and resolving")) return send(*f);
      return CaseAction(r, *who, rest.substr(0, colon), verb, std::move(reply));
    }
    if (only("GET")) RunQuery(std::move(reply), [this, rest] { return hub_.GetException(rest); });
    return;
  }
  if (path == "/v1/summary") {
    if (only("GET")) RunQuery(std::move(reply), [this, q = Query(r.target)] { return hub_.Summary(q); });
    return;
  }
  if (path == "/v1/report") {
    if (only("GET")) RunQuery(std::move(reply), [this, q = Query(r.target)] { return hub_.Report(q); });
    return;
  }
  if (path == "/v1/audit") {
    if (only("GET"))
      RunQuery(std::move(reply), [this, q = Query(r.target)] { return ListAudit(q, src_.store); });
    return;
  }
  if (path == "/v1/routes" || path == "/v1/holds") {
    if (only("GET") && no_params())
      RunQuery(std::move(reply), [this, routes = path == "/v1/routes"] {
        return routes ? ListRoutes(src_.sequencer) : ListHolds(src_.sequencer);
      });
    return;
  }
  for (const char* kind : {"vehicles", "bags"}) {
    const std::string prefix = std::string("/v1/advices/") + kind + "/";
    if (path.rfind(prefix, 0) != 0) continue;
    if (only("GET") && no_params())
      RunQuery(std::move(reply), [this, vehicle = kind[0] == 'v', id = Unescape(path.substr(prefix.size()), false)] {
        return GetAdvice(src_.sequencer, vehicle, id);
      });
    return;
  }
  if (path == "/v1/reference") {
    if (!only("POST")) return;
    if (auto f = Authorize(r, *who, Role::kAdmin, "reference data")) return send(*f);
    return LoadReference(r, *who, std::move(reply));
  }
  if (path == "/v1/admin/backup") {
    if (!only("POST")) return;
    if (auto f = Authorize(r, *who, Role::kAdmin, "a backup")) return send(*f);
    return Backup(r, *who, std::move(reply));
  }
  for (const char* collection : {"parcels", "bags", "vehicles", "loads"}) {
    const std::string prefix = std::string("/v1/") + collection + "/";
    if (path.rfind(prefix, 0) != 0) continue;
    if (only("GET") && no_params())
      RunQuery(std::move(reply), [this, c = std::string(collection), id = Unescape(path.substr(prefix.size()), false)] {
        return hub_.EntityView(c, id);
      });
    return;
  }
  send(NotFound("no such endpoint: " + path));
}

void ApiRouter::CaseAction(const net::HttpRequest& r, const ApiToken& who, const std::string& id_text,
                           const std::string& verb, net::HttpReply reply) {
  std::string detail = " case=" + LogValue(id_text);
  auto refuse = [&](Failure f) {
    Audit(r, who, verb, detail, f);
    reply.Send(Render(f));
  };
  uint64_t id = 0;
  if (!ParseNumber(id_text, &id)) return refuse(BadRequest("exception id must be a number"));
  v1::CaseNote note;
  std::string error;
  if (!ParseJson(r.body, &note, &error)) return refuse(BadRequest(error));
  commands_.ActOnCases({id}, verb == "acknowledge" ? v1::ACKNOWLEDGED : v1::RESOLVED, who, note.note(),
                       [r, who, verb, detail, reply](std::vector<HubCommands::CaseOutcome> outcomes) {
                         auto& o = outcomes[0];
                         Audit(r, who, verb, detail, o.failure);
                         reply.Send(o.failure ? Render(*o.failure) : Render(Answer(std::move(o.c))));
                       });
}

void ApiRouter::BulkAction(const net::HttpRequest& r, const ApiToken& who, const std::string& verb,
                           net::HttpReply reply) {
  v1::BulkCaseAction body;
  std::string error;
  auto refuse = [&](Failure f) {
    Audit(r, who, verb, " bulk=true", f);
    reply.Send(Render(f));
  };
  if (!ParseJson(r.body, &body, &error)) return refuse(BadRequest(error));
  if (body.ids().empty() || body.ids_size() > 1000) return refuse(BadRequest("ids must hold 1..1000 case ids"));
  std::vector<uint64_t> ids(body.ids().begin(), body.ids().end());
  std::vector<uint64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return refuse(BadRequest("ids repeat a case"));
  commands_.ActOnCases(std::move(ids), verb == "acknowledge" ? v1::ACKNOWLEDGED : v1::RESOLVED, who,
                       body.note(), [r, who, verb, reply](std::vector<HubCommands::CaseOutcome> outcomes) {
                         v1::BulkCaseResult result;
                         for (auto& o : outcomes) {
                           Audit(r, who, verb, " case=" + std::to_string(o.id) + " bulk=true", o.failure);
                           auto* out = result.add_results();
                           out->set_id(o.id);
                           if (o.failure) {
                             out->set_status(HttpStatus(o.failure->error));
                             out->set_error(o.failure->message);
                             continue;
                           }
                           out->set_status(200);
                           *out->mutable_case_() = std::move(o.c);
                           result.set_applied(result.applied() + 1);
                         }
                         reply.Send(Render(Answer(std::move(result))));
                       });
}

void ApiRouter::LoadReference(const net::HttpRequest& r, const ApiToken& who, net::HttpReply reply) {
  v1::ReferenceBatch batch;
  std::string error, detail;
  auto refuse = [&](Failure f) {
    Audit(r, who, "reference_load", detail, f);
    reply.Send(Render(f));
  };
  if (!ParseJson(r.body, &batch, &error)) return refuse(BadRequest(error));
  if (batch.changes().empty()) return refuse(BadRequest("no changes in the body"));
  std::map<std::string, int> kinds;
  for (const auto& change : batch.changes()) {
    const auto* field = v1::ReferenceChange::descriptor()->FindFieldByNumber(change.body_case());
    ++kinds[field != nullptr ? field->name() : "none"];
  }
  detail = " changes=" + std::to_string(batch.changes_size()) + " kinds=";
  const char* comma = "";
  for (const auto& [kind, n] : kinds) {
    detail += comma + kind + ":" + std::to_string(n);
    comma = ",";
  }
  // Validate all first, so a bad row applies nothing.
  for (int i = 0; i < batch.changes_size(); ++i)
    if (core::ValidateReference(batch.changes(i), &error) != v1::REJECT_NONE)
      return refuse(BadRequest("change " + std::to_string(i) + ": " + error));
  commands_.LoadReference(std::move(batch), who, [r, who, detail, reply](Answer a) {
    std::string d = detail;
    if (a.ok()) {
      const auto& applied = static_cast<const v1::ReferenceApplied&>(a.body());
      d += " applied=" + std::to_string(applied.applied()) +
           " last_hub_seq=" + std::to_string(applied.last_hub_seq());
    }
    Audit(r, who, "reference_load", d, FailureOf(a));
    reply.Send(Render(a));
  });
}

// An online backup into a new directory, on the backup thread (a
// checkpoint flushes and hard-links: seconds); one at a time.
void ApiRouter::Backup(const net::HttpRequest& r, const ApiToken& who, net::HttpReply reply) {
  v1::BackupRequest request;
  std::string error;
  std::string detail = " dir=" + LogValue(request.dir());
  auto refuse = [&](Failure f) {
    Audit(r, who, "backup", detail, f);
    reply.Send(Render(f));
  };
  if (!ParseJson(r.body, &request, &error)) return refuse(BadRequest(error));
  detail = " dir=" + LogValue(request.dir());
  if (request.dir().empty()) return refuse(BadRequest("dir is missing: name a directory that does not exist yet"));
  if (backup_running_.exchange(true)) return refuse(Conflict("a backup is already being taken"));
  boost::asio::post(backups_, [this, r, who, detail, request, reply] {
    v1::BackupManifest manifest;
    const store::Status s = src_.store->Backup(request.dir(), &manifest);
    backup_running_ = false;
    std::optional<Failure> f;
    if (s.IsAlreadyExists()) {
      f = Conflict(s.message());
    } else if (s.code() == store::Status::Code::kInvalidArgument) {
      f = BadRequest(s.message());
    } else if (s.IsNoSpace()) {
      f = Failure{ApiError::kNoSpace, "no space for the backup: " + s.message()};
    } else if (!s.ok()) {
      f = Failure{ApiError::kInternal, "backup failed: " + s.message()};
    }
    std::string d = detail;
    if (!f) d += " hub_seq=" + std::to_string(manifest.hub_seq()) + " bytes=" + std::to_string(manifest.total_bytes());
    Audit(r, who, "backup", d, f);
    reply.Send(f ? Render(*f) : Render(Answer(std::move(manifest))));
  });
}

void ApiRouter::Stream(const net::HttpRequest& r, net::HttpReply reply) {
  auto q = Query(r.target);
  for (const auto& [k, v] : q)
    if (k != "type" && k != "status" && k != "id")
      return reply.Send(Render(BadRequest("unknown filter '" + k + "'")));
  CaseFilter filter;
  if (auto f = TypeAndStatus(q, &filter.type, &filter.status)) return reply.Send(Render(*f));
  if (q.count("id")) filter.id = q["id"];
  if (stream_.subscribers() >= CaseStream::kMaxSubscribers)
    return reply.Send(Render(Unavailable("too many streams open (at most 64)")));
  auto out = reply.OpenStream("text/event-stream; charset=utf-8");
  if (out && !stream_.Subscribe(out, std::move(filter))) out->Close();
}

}  // namespace hub::api
