// hubctl: the supervisor's command line over hubd's HTTP API (docs/api.md).
//
//   hubctl exceptions list --type BAG_SHORT --status open --since 8h
//   hubctl exceptions resolve 42 43 --note "parcels found under the belt"
//   hubctl exceptions watch --type bag_short
//   hubctl report --since 8h [--csv]
//   hubctl trace parcel P123
//   hubctl bag B7          (also: hubctl vehicle V1, hubctl load L-SH)
//   hubctl routes load routes.csv
//   hubctl holds add P123 --reason CUSTOMER_INTERCEPT
//   hubctl feed tail --hub SH1 --kind events.parcel_sorted --nats nats://nats1:4222
//
// --server (or HUBCTL_SERVER) and --token (or HUBCTL_TOKEN) say where and
// who; these and the other global flags go anywhere on the line. Tables
// for people, --json for scripts (the daemon's answer as it sent it). Exit
// codes: 0 done, 1 the daemon refused (its reason on stderr), 2 bad usage
// or input, 3 the daemon could not be reached. `feed tail` reads NATS
// instead of hubd, with the same codes: 1 NATS refused (no such stream), 3
// NATS could not be reached (or was lost).

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "feed/feed_names.h"
#include "hub/v1/admin.pb.h"
#include "hub/version.h"
#include "tools/api_client.h"
#include "tools/desk_print.h"
#include "tools/feed_tail.h"
#include "tools/route_file.h"
#include "tools/sse_parser.h"
#include "tools/time_arg.h"

namespace {

namespace pbu = google::protobuf::util;
using namespace hub;
using tools::AnswerTimes;
using tools::PercentEncode;
using tools::ToJson;

struct Exit {
  int code;
};

[[noreturn]] void Fail(int code, const std::string& message) {
  std::cerr << "hubctl: " << message << "\n";
  throw Exit{code};
}

struct Client {
  tools::ApiServer server;
  std::string token;

  [[noreturn]] void Unreachable(const std::exception& e) const {
    Fail(3, "cannot reach hubd at " + server.host + ":" + server.port + ": " + e.what());
  }

  // Returns the body of a 2xx answer; otherwise prints the error and throws.
  std::string Call(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    tools::ApiAnswer res;
    try {
      res = tools::CallApi(server, token, method, target, body);
    } catch (const std::exception& e) {
      Unreachable(e);
    }
    if (res.status / 100 != 2)
      Fail(1, std::to_string(res.status) + " " + tools::ErrorMessage(res.body));
    return res.body;
  }
};

// Answers are parsed with unknown fields ignored: hubd adds members (the
// ISO time siblings of docs/api.md "Times", and more to come).
template <typename M>
M Parse(const std::string& json) {
  M m;
  pbu::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  if (!pbu::JsonStringToMessage(json, &m, o).ok()) Fail(1, "the daemon's answer does not parse");
  return m;
}

// The daemon's JSON as it sent it, on one line.
void PrintJson(const std::string& body) {
  std::string out = body;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  std::cout << out << "\n";
}

// Pages of a list answer as one JSON document: the `member` arrays joined,
// the cursors of the last page kept.
std::string JoinPages(const std::vector<std::string>& bodies, const std::string& member) {
  google::protobuf::Value all;
  for (const auto& body : bodies) {
    google::protobuf::Value page;
    if (!pbu::JsonStringToMessage(body, &page).ok()) Fail(1, "the daemon's answer does not parse");
    auto& items = *(*page.mutable_struct_value()->mutable_fields())[member].mutable_list_value();
    if (!all.has_struct_value()) {
      all = page;
      continue;
    }
    auto& into = *(*all.mutable_struct_value()->mutable_fields())[member].mutable_list_value();
    for (auto& v : *items.mutable_values()) *into.add_values() = std::move(v);
    for (const auto& [k, v] : page.struct_value().fields())
      if (k != member) (*all.mutable_struct_value()->mutable_fields())[k] = v;
  }
  std::string out;
  (void)pbu::MessageToJsonString(all, &out);
  return out;
}

std::string Upper(std::string v) {
  for (auto& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v;
}

// "?k=v&..." of the set values, percent-encoded.
class Query {
 public:
  Query& Add(const std::string& key, const std::string& value) {
    if (!value.empty()) text_ += (text_.empty() ? "?" : "&") + key + "=" + PercentEncode(value);
    return *this;
  }
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

// A CLI11 check for time flags (tools/time_arg.h).
const CLI::Validator kTime(
    [](std::string& v) {
      std::string why;
      return tools::CheckTimeArg(v, &why) ? std::string() : why;
    },
    "TIME");

// GETs `target`, an answer of type M, and prints it: as a table, or with
// `json` as hubd sent it.
template <typename M>
void Show(Client& client, const std::string& target, bool json) {
  const std::string body = client.Call("GET", target);
  if (json) return PrintJson(body);
  tools::PrintAnswer(Parse<M>(body), AnswerTimes(body));
}

// Reads GET `target` (a list answer with `member` and a cursor) from the
// cursor `from` (0: the start), passed as `param`; with `all`, follows the
// answer's cursor `next` to the end. Returns the bodies and the cursor
// after the last page read (0: none).
std::pair<std::vector<std::string>, uint64_t> ReadPages(Client& client, const std::string& target,
                                                        const char* next, const char* param,
                                                        uint64_t from, bool all) {
  std::vector<std::string> bodies;
  for (uint64_t cursor = from;;) {
    bodies.push_back(client.Call(
        "GET", target + (cursor ? std::string("&") + param + "=" + std::to_string(cursor) : "")));
    google::protobuf::Value v;
    (void)pbu::JsonStringToMessage(bodies.back(), &v);
    const auto& f = v.struct_value().fields();
    const auto it = f.find(next);
    cursor = 0;
    if (it != f.end() && it->second.has_string_value())
      cursor = std::strtoull(it->second.string_value().c_str(), nullptr, 10);
    if (it != f.end() && it->second.has_number_value())
      cursor = static_cast<uint64_t>(it->second.number_value());
    if (!all || cursor == 0) return {bodies, cursor};
  }
}

std::vector<uint64_t> CaseIds(const std::vector<std::string>& ids) {
  std::vector<uint64_t> out;
  for (const auto& id : ids) {
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
      Fail(2, "'" + id + "' is not a case id (a number)");
    out.push_back(std::stoull(id));
  }
  return out;
}

// Several cases at once (POST /v1/exceptions:acknowledge or :resolve):
// each outcome printed; 1 when any was refused.
int BulkAction(Client& client, const std::string& action, const std::vector<uint64_t>& ids,
               const std::string& note, bool json) {
  v1::BulkCaseAction req;
  for (uint64_t id : ids) req.add_ids(id);
  req.set_note(note);
  const std::string body = client.Call("POST", "/v1/exceptions:" + action, ToJson(req));
  const auto res = Parse<v1::BulkCaseResult>(body);
  if (json) {
    PrintJson(body);
  } else {
    for (const auto& o : res.results())
      std::printf("%-8llu %3u  %s\n", static_cast<unsigned long long>(o.id()), o.status(),
                  o.status() / 100 == 2 ? v1::ExceptionStatus_Name(o.case_().status()).c_str()
                                        : o.error().c_str());
    std::printf("%s %u of %d case(s)\n", action == "acknowledge" ? "acknowledged" : "resolved",
                res.applied(), res.results_size());
  }
  for (const auto& o : res.results())
    if (o.status() / 100 != 2) return 1;
  return 0;
}

// Set by SIGINT: `exceptions watch` ends with 0. The handler only exits;
// each line was flushed when printed.
void OnInterrupt(int) { ::_exit(0); }

// GET /v1/exceptions/stream: a line per case until interrupted. 1 on an
// overflow (the daemon dropped this client), 3 when the stream breaks.
int Watch(Client& client, const std::string& query, bool json) {
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  ::sigaction(SIGINT, &sa, nullptr);  // also when started in the background (SIG_IGN inherited)
  tools::SseParser parser;
  std::vector<tools::SseEvent> events;
  bool overflow = false;
  tools::ApiAnswer res;
  try {
    res = tools::StreamApi(
        client.server, client.token, "/v1/exceptions/stream" + query, [&](std::string_view bytes) {
          events.clear();
          parser.Feed(bytes, &events);
          for (const auto& e : events) {
            if (e.event == "hello") {
              const auto hello = Parse<google::protobuf::Struct>(e.data);
              const auto seq = hello.fields().find("hub_seq");
              std::fprintf(stderr, "watching from hub_seq %s (Ctrl-C to stop)\n",
                           seq == hello.fields().end() ? "?" : seq->second.string_value().c_str());
              if (!json) tools::PrintCaseHeader();
            } else if (e.event == "case") {
              if (json)
                std::printf("%s\n", e.data.c_str());
              else
                tools::PrintCaseRow(Parse<v1::ExceptionCase>(e.data), AnswerTimes(e.data));
            } else if (e.event == "overflow") {
              overflow = true;
              return false;
            }
            std::fflush(stdout);
          }
          return true;
        });
  } catch (const std::exception& e) {
    client.Unreachable(e);
  }
  if (res.status / 100 != 2)
    Fail(1, std::to_string(res.status) + " " + tools::ErrorMessage(res.body));
  if (overflow)
    Fail(1,
         "the stream overflowed: hubd dropped this watch because it fell more than 10,000 cases "
         "behind; "
         "list the cases again (hubctl exceptions list) and watch anew");
  Fail(3, "hubd ended the stream (it stopped or restarted); watch anew");
}

// Set by SIGINT and SIGTERM during `feed tail`, which then ends with 0
// (its consumer deleted on the way out).
std::atomic<bool> feed_stop{false};
void OnFeedStop(int) { feed_stop = true; }

// hubctl feed tail: the hub's feed from NATS as JSON lines.
int TailFeed(tools::FeedTailOptions o, const std::string& nats, const std::string& kind,
             const std::string& stream) {
  if (!feed::ValidHubId(o.hub))
    Fail(2, "--hub '" + o.hub + "' is not a hub id (1-64 of A-Z a-z 0-9 _ -)");
  std::string why;
  const auto selection = tools::SelectFeed(o.hub, kind, stream, &why);
  if (!selection) Fail(2, why);
  o.selection = *selection;
  o.servers = tools::SplitServers(nats);
  if (o.servers.empty()) Fail(2, "--nats names no server");
  struct sigaction sa {};
  sa.sa_handler = OnFeedStop;
  ::sigaction(SIGINT, &sa, nullptr);  // also when started in the background (SIG_IGN inherited)
  ::sigaction(SIGTERM, &sa, nullptr);
  const int code = tools::FeedTail(o, stdout, feed_stop, &why);
  if (code != 0) Fail(code, why);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hubctl: supervise a hubd hub (exceptions, traces, reports, reference data)"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags anywhere: subcommands pass what they do not know up
  app.set_version_flag("--version", std::string("hubctl ") + hub::kVersion);
  Client client;
  std::string server =
      std::getenv("HUBCTL_SERVER") ? std::getenv("HUBCTL_SERVER") : "127.0.0.1:7480";
  client.token = std::getenv("HUBCTL_TOKEN") ? std::getenv("HUBCTL_TOKEN") : "";
  bool json = false;
  client.server.ca_file = std::getenv("HUBCTL_CA_FILE") ? std::getenv("HUBCTL_CA_FILE") : "";
  app.add_option("--server", server,
                 "hubd HTTP address HOST:PORT, or https://HOST:PORT (env HUBCTL_SERVER)");
  app.add_option("--ca-file", client.server.ca_file,
                 "PEM CA bundle that signs hubd's certificate, for https (env HUBCTL_CA_FILE; "
                 "default: the system's CAs)");
  app.add_option("--token", client.token,
                 "bearer token (env HUBCTL_TOKEN; default: the local admin token of a hubd on this "
                 "machine that has none configured, DATA_DIR/local-admin-token)");
  std::string data_dir =
      std::getenv("HUBCTL_DATA_DIR") ? std::getenv("HUBCTL_DATA_DIR") : "hubd-data";
  app.add_option("--data-dir", data_dir,
                 "data directory of a hubd on this machine, for its local admin token when no "
                 "--token is given (env HUBCTL_DATA_DIR) [hubd-data]");
  app.add_flag("--json", json, "print the daemon's JSON instead of a table");

  auto* exc =
      app.add_subcommand("exceptions", "list, show, watch, acknowledge and resolve exceptions");
  exc->require_subcommand(1);
  std::string type, status, parcel, bag, vehicle, load, any_id, since, until, note, id;
  std::vector<std::string> ids;
  int limit = 100;
  uint64_t after = 0, before = 0;
  bool all = false, newest = false;
  auto* list =
      exc->add_subcommand("list", "list exceptions, oldest first (--newest: newest first)");
  list->add_option("--type", type, "e.g. BAG_SHORT");
  list->add_option("--status", status, "open, acknowledged or resolved");
  list->add_option("--parcel", parcel);
  list->add_option("--bag", bag);
  list->add_option("--vehicle", vehicle);
  list->add_option("--load", load);
  list->add_option("--id", any_id, "an id the case names as vehicle, bag, parcel or load");
  list->add_option("--since", since, "event time from: ISO 8601, or 8h, 30m, 2d before now")
      ->check(kTime);
  list->add_option("--until", until, "event time to (as --since)")->check(kTime);
  list->add_option("--limit", limit, "per page (1-1000)")->check(CLI::Range(1, 1000));
  list->add_option("--after", after, "the page after this case id (the cursor a page ends with)");
  list->add_option("--before", before, "with --newest: the page before this case id");
  list->add_flag("--newest", newest, "newest first");
  list->add_flag("--all", all, "follow every page");
  auto* get = exc->add_subcommand("get", "show one exception with its ids, counts and history");
  get->add_option("ID", id)->required();
  auto* ack = exc->add_subcommand("acknowledge", "OPEN -> ACKNOWLEDGED, one or many cases");
  ack->alias("ack");
  ack->add_option("ID", ids, "case id(s)")->required();
  ack->add_option("--note", note);
  auto* resolve = exc->add_subcommand("resolve", "-> RESOLVED, one or many cases");
  resolve->add_option("ID", ids, "case id(s)")->required();
  resolve->add_option("--note", note)->required();
  auto* watch =
      exc->add_subcommand("watch", "a line per case raised or changed, until interrupted");
  watch->add_option("--type", type, "e.g. BAG_SHORT");
  watch->add_option("--status", status,
                    "the status after the change: open, acknowledged or resolved");
  watch->add_option("--id", any_id, "an id the case names as vehicle, bag, parcel or load");

  auto* summary = app.add_subcommand("summary", "open exceptions by type and the hub's position");

  auto* report = app.add_subcommand(
      "report", "the shift report: cases by type and hour, left behind, missing bags");
  bool csv = false;
  report->add_option("--since", since, "from: ISO 8601, or 8h, 30m, 2d before now [8h]")
      ->check(kTime);
  report->add_option("--until", until, "to (as --since) [now]")->check(kTime);
  report->add_flag("--csv", csv, "CSV sections for a spreadsheet");

  auto* audit = app.add_subcommand("audit", "who changed what through the API, oldest first");
  std::string who;
  audit->add_option("--since", since, "from (as for exceptions list)")->check(kTime);
  audit->add_option("--until", until, "to")->check(kTime);
  audit->add_option("--who", who, "a token's name");
  audit->add_option("--limit", limit, "per page (1-1000)")->check(CLI::Range(1, 1000));
  audit->add_option("--after", after, "the page after this hub_seq (the cursor a page ends with)");
  audit->add_flag("--all", all, "follow every page");

  auto* trace =
      app.add_subcommand("trace", "every scan, decision, hold and exception of an entity");
  trace->require_subcommand(1);
  auto* trace_parcel = trace->add_subcommand("parcel", "a parcel's trace");
  trace_parcel->add_option("ID", id)->required();
  auto* bag_view =
      app.add_subcommand("bag", "a bag: label vs. scanned, members, missing and foreign");
  bag_view->add_option("ID", id)->required();
  auto* vehicle_view =
      app.add_subcommand("vehicle", "an inbound vehicle: advice vs. arrival, bags");
  vehicle_view->add_option("ID", id)->required();
  auto* load_view = app.add_subcommand("load", "a load: manifest, seal, parcels not loaded");
  load_view->add_option("ID", id)->required();

  auto* routes = app.add_subcommand("routes", "routing table");
  routes->require_subcommand(1);
  std::string file;
  bool replace = false;
  auto* routes_load = routes->add_subcommand("load", "load routes from a CSV file");
  routes_load->add_option("FILE", file,
                          "destination,route_code[,chute[,load_id[,next_hub[,transit_minutes]]]] per line (CSV)")
      ->required();
  routes_load->add_flag("--replace", replace, "replace the whole table instead of upserting");
  auto* routes_list = routes->add_subcommand("list", "the routing table in force");

  auto* holds = app.add_subcommand("holds", "parcel holds");
  holds->require_subcommand(1);
  std::string reason = "CUSTOMER_INTERCEPT";
  auto* holds_add = holds->add_subcommand("add", "hold a parcel wherever it is next scanned");
  holds_add->add_option("PARCEL", parcel)->required();
  holds_add->add_option("--reason", reason,
                        "ADDRESS_UNCLEAR, MISSENT, NO_LABEL, PROHIBITED, RETURN, DAMAGED, "
                        "CUSTOMER_INTERCEPT, SECURITY");
  holds_add->add_option("--note", note);
  auto* holds_remove = holds->add_subcommand("remove", "lift a hold");
  holds_remove->add_option("PARCEL", parcel)->required();
  auto* holds_list = holds->add_subcommand("list", "the holds in force, who placed them and when");

  auto* advice = app.add_subcommand("advice", "the advice in force for an inbound vehicle or bag");
  advice->require_subcommand(1);
  auto* advice_vehicle = advice->add_subcommand("vehicle", "a vehicle's advice: route, seal, bags");
  advice_vehicle->add_option("ID", id)->required();
  auto* advice_bag = advice->add_subcommand("bag", "a bag's advice: its parcels");
  advice_bag->add_option("ID", id)->required();

  auto* admin = app.add_subcommand("admin", "operator actions (admin role)");
  admin->require_subcommand(1);
  std::string backup_dir;
  auto* backup = admin->add_subcommand(
      "backup",
      "take an online backup into DIR on hubd's machine (DIR must not exist yet); "
      "restore it with hubd --restore-from DIR --data-dir NEW");
  backup->add_option("DIR", backup_dir, "absolute path of a new directory")->required();

  auto* feed_cmd = app.add_subcommand("feed", "the hub's feed on NATS JetStream");
  feed_cmd->require_subcommand(1);
  tools::FeedTailOptions feed_options;
  std::string nats =
      std::getenv("HUBCTL_NATS") ? std::getenv("HUBCTL_NATS") : "nats://127.0.0.1:4222";
  std::string kind, stream;
  bool no_follow = false;
  auto* feed_tail = feed_cmd->add_subcommand(
      "tail",
      "one hub's feed as JSON lines, a line per message, following new ones until "
      "interrupted (--no-follow: up to the last one there at the start)");
  feed_tail->add_option("--nats", nats,
                        "NATS URL[,URL...] (env HUBCTL_NATS) [nats://127.0.0.1:4222]");
  feed_tail->add_option("--hub", feed_options.hub, "the hub whose feed to read")->required();
  feed_tail->add_option("--kind", kind,
                        "events, events.<kind> (events.parcel_sorted, ...), cases, reference, "
                        "retention, or dispatch (the advices to the hub) [all of the hub's]");
  feed_tail->add_option("--from-seq", feed_options.from_seq,
                        "messages from this hub_seq on (dispatch: advices with from_hub_seq >= N)");
  feed_tail->add_flag("--no-follow", no_follow,
                      "stop after the last message that was in the stream at the start");
  feed_tail->add_option("--stream", stream, "the stream [HUB_<hub>; dispatch: DISPATCH]");
  feed_tail->add_option("--creds", feed_options.creds_file, "NATS credentials file (JWT and seed)")
      ->check(CLI::ExistingFile);
  feed_tail
      ->add_option("--tls-ca", feed_options.ca_file,
                   "PEM CAs that sign the NATS servers' certificates (TLS)")
      ->check(CLI::ExistingFile);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is not an error; bad usage exits 2
  }
  if (client.token.empty()) {  // a first run: hubd's local admin token, if readable here
    std::ifstream in(data_dir + "/local-admin-token");
    std::getline(in, client.token);
  }
  if (!tools::ParseApiServer(server, &client.server)) {
    std::cerr << "hubctl: --server must be HOST:PORT or https://HOST:PORT\n";
    return 2;
  }

  try {
    if (feed_tail->parsed()) {
      feed_options.follow = !no_follow;
      return TailFeed(feed_options, nats, kind, stream);
    } else if (list->parsed()) {
      if (before != 0 && !newest)
        Fail(2, "--before goes with --newest (--after pages oldest first)");
      if (after != 0 && newest) Fail(2, "with --newest, page with --before");
      Query q;
      q.Add("limit", std::to_string(limit))
          .Add("type", Upper(type))
          .Add("status", status)
          .Add("parcel", parcel);
      q.Add("bag", bag)
          .Add("vehicle", vehicle)
          .Add("load", load)
          .Add("id", any_id)
          .Add("from", since)
          .Add("to", until);
      if (newest) q.Add("order", "newest");
      const char* next = newest ? "next_before" : "next_after";
      const char* param = newest ? "before" : "after";
      const auto [bodies, cursor] =
          ReadPages(client, "/v1/exceptions" + q.str(), next, param, newest ? before : after, all);
      if (json) {
        PrintJson(all ? JoinPages(bodies, "exceptions") : bodies.back());
      } else {
        tools::PrintCaseHeader();
        for (const auto& body : bodies) {
          const AnswerTimes times(body);
          const auto page = Parse<v1::ExceptionPage>(body);
          for (const auto& c : page.exceptions()) tools::PrintCaseRow(c, times);
        }
        if (cursor != 0)
          std::fprintf(stderr, "%s cases follow: add --%s %llu for the next page, or --all\n",
                       newest ? "older" : "more", param, static_cast<unsigned long long>(cursor));
      }
    } else if (get->parsed() || ((ack->parsed() || resolve->parsed()) && ids.size() == 1)) {
      std::string body;
      if (get->parsed()) {
        body = client.Call("GET", "/v1/exceptions/" + PercentEncode(id));
      } else {
        v1::CaseNote n;
        n.set_note(note);
        body = client.Call("POST",
                           "/v1/exceptions/" + PercentEncode(ids[0]) +
                               (ack->parsed() ? ":acknowledge" : ":resolve"),
                           ToJson(n));
      }
      if (json)
        PrintJson(body);
      else
        tools::PrintCase(Parse<v1::ExceptionCase>(body), AnswerTimes(body));
    } else if (ack->parsed() || resolve->parsed()) {
      return BulkAction(client, ack->parsed() ? "acknowledge" : "resolve", CaseIds(ids), note,
                        json);
    } else if (watch->parsed()) {
      return Watch(client,
                   Query().Add("type", Upper(type)).Add("status", status).Add("id", any_id).str(),
                   json);
    } else if (summary->parsed()) {
      Show<v1::Summary>(client, "/v1/summary", json);
    } else if (report->parsed()) {
      const std::string body =
          client.Call("GET", "/v1/report" + Query().Add("from", since).Add("to", until).str());
      const auto r = Parse<v1::Report>(body);
      if (json)
        PrintJson(body);
      else if (csv)
        tools::PrintReportCsv(r, AnswerTimes(body));
      else
        tools::PrintReport(r, AnswerTimes(body));
    } else if (audit->parsed()) {
      Query q;
      q.Add("limit", std::to_string(limit)).Add("from", since).Add("to", until).Add("who", who);
      const auto [bodies, cursor] =
          ReadPages(client, "/v1/audit" + q.str(), "next_after", "after", after, all);
      if (json) {
        PrintJson(all ? JoinPages(bodies, "entries") : bodies.back());
      } else {
        const std::string joined = JoinPages(bodies, "entries");
        tools::PrintAudit(Parse<v1::AuditPage>(joined), AnswerTimes(joined));
        if (cursor != 0)
          std::fprintf(stderr,
                       "more entries follow: add --after %llu for the next page, or --all\n",
                       static_cast<unsigned long long>(cursor));
      }
    } else if (trace_parcel->parsed()) {
      Show<v1::ParcelTrace>(client, "/v1/parcels/" + PercentEncode(id), json);
    } else if (bag_view->parsed()) {
      Show<v1::BagView>(client, "/v1/bags/" + PercentEncode(id), json);
    } else if (vehicle_view->parsed()) {
      Show<v1::VehicleView>(client, "/v1/vehicles/" + PercentEncode(id), json);
    } else if (load_view->parsed()) {
      Show<v1::LoadView>(client, "/v1/loads/" + PercentEncode(id), json);
    } else if (routes_list->parsed()) {
      Show<v1::RoutingTable>(client, "/v1/routes", json);
    } else if (holds_list->parsed()) {
      Show<v1::HoldList>(client, "/v1/holds", json);
    } else if (advice_vehicle->parsed()) {
      Show<v1::VehicleAdvice>(client, "/v1/advices/vehicles/" + PercentEncode(id), json);
    } else if (advice_bag->parsed()) {
      Show<v1::BagAdvice>(client, "/v1/advices/bags/" + PercentEncode(id), json);
    } else if (backup->parsed()) {
      v1::BackupRequest req;
      req.set_dir(backup_dir);
      const std::string body = client.Call("POST", "/v1/admin/backup", ToJson(req));
      auto m = Parse<v1::BackupManifest>(body);
      if (json)
        PrintJson(body);
      else
        std::printf("backup %s: hub_seq %llu, %d files, %llu bytes, %.2f s\n", backup_dir.c_str(),
                    static_cast<unsigned long long>(m.hub_seq()), m.files_size(),
                    static_cast<unsigned long long>(m.total_bytes()), m.seconds());
    } else if (routes_load->parsed() || holds_add->parsed() || holds_remove->parsed()) {
      v1::ReferenceBatch batch;
      if (routes_load->parsed()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) Fail(2, "cannot read " + file);
        std::stringstream text;
        text << in.rdbuf();
        std::string error;
        if (!tools::ReadRouteFile(text.str(), replace, &batch, &error))
          Fail(2, file + ": " + error);
      } else if (holds_add->parsed()) {
        v1::HoldReason r;
        if (!v1::HoldReason_Parse("HOLD_REASON_" + Upper(reason), &r))
          Fail(2, "unknown hold reason '" + reason + "'");
        auto* h = batch.add_changes()->mutable_add_hold();
        h->set_parcel_id(parcel);
        h->set_reason(r);
        h->set_note(note);
      } else {
        batch.add_changes()->set_remove_hold(parcel);
      }
      const std::string body = client.Call("POST", "/v1/reference", ToJson(batch));
      auto done = Parse<v1::ReferenceApplied>(body);
      if (json)
        PrintJson(body);
      else
        std::printf("applied %u change(s), hub_seq %llu\n", done.applied(),
                    static_cast<unsigned long long>(done.last_hub_seq()));
    }
  } catch (const Exit& e) {
    return e.code;
  }
  return 0;
}
