// hubctl: the supervisor's command line over hubd's HTTP API (docs/api.md).
//
//   hubctl exceptions list --type BAG_SHORT --status open
//   hubctl exceptions resolve 42 --note "parcel found under the belt"
//   hubctl summary
//   hubctl trace parcel P123
//   hubctl bag B7          (also: hubctl vehicle V1, hubctl load L-SH)
//   hubctl routes load routes.csv
//   hubctl holds add P123 --reason CUSTOMER_INTERCEPT
//
// --server (or HUBCTL_SERVER) and --token (or HUBCTL_TOKEN) say where and
// who. Tables for people, --json for scripts. Exit codes: 0 done, 1 the
// daemon refused (its reason on stderr), 2 bad usage or input, 3 the daemon
// could not be reached.

#include <google/protobuf/util/json_util.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "hub/v1/exception.pb.h"
#include "hub/version.h"
#include "hub/v1/admin.pb.h"
#include "hub/v1/reference.pb.h"
#include "hub/v1/views.pb.h"
#include "tools/api_client.h"

namespace {

namespace pbu = google::protobuf::util;
using namespace hub;
using tools::ToJson;

struct Exit {
  int code;
};

struct Client {
  tools::ApiServer server;
  std::string token;

  // Returns the body of a 2xx answer; otherwise prints the error and throws.
  std::string Call(const std::string& method, const std::string& target, const std::string& body = "") {
    tools::ApiAnswer res;
    try {
      res = tools::CallApi(server, token, method, target, body);
    } catch (const std::exception& e) {
      std::cerr << "hubctl: cannot reach hubd at " << server.host << ":" << server.port << ": "
                << e.what() << "\n";
      throw Exit{3};
    }
    if (res.status / 100 != 2) {
      std::cerr << "hubctl: " << res.status << " " << tools::ErrorMessage(res.body) << "\n";
      throw Exit{1};
    }
    return res.body;
  }
};

template <typename M>
M Parse(const std::string& json) {
  M m;
  pbu::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  if (!pbu::JsonStringToMessage(json, &m, o).ok()) {
    std::cerr << "hubctl: the daemon's answer does not parse\n";
    throw Exit{1};
  }
  return m;
}

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '%' || c == '&' || c == '+' || c == ' ' || c == '?' || c == '#' || c == '/') {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Upper(std::string v) {
  for (auto& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v;
}

void PrintCases(const google::protobuf::RepeatedPtrField<v1::ExceptionCase>& cases) {
  std::printf("%-8s %-20s %-13s %-14s %-16s %-14s %-12s %-12s %s\n", "ID", "TYPE", "STATUS",
              "TIME(ms)", "PARCEL", "BAG", "VEHICLE", "LOAD", "DETAIL");
  for (const auto& c : cases) {
    std::string detail = c.detail();
    if (c.has_expected_count())
      detail = "expected " + std::to_string(c.expected_count()) + ", actual " +
               std::to_string(c.actual_count()) + (detail.empty() ? "" : "; " + detail);
    std::printf("%-8llu %-20s %-13s %-14lld %-16s %-14s %-12s %-12s %s\n",
                static_cast<unsigned long long>(c.id()), v1::ExceptionType_Name(c.type()).c_str(),
                v1::ExceptionStatus_Name(c.status()).c_str(),
                static_cast<long long>(c.event_time_ms()), c.parcel_id().c_str(), c.bag_id().c_str(),
                c.vehicle_id().c_str(), c.load_id().c_str(), detail.c_str());
  }
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : " ") + id;
  return out.empty() ? "-" : out;
}

// The set fields of a message's one-of body, as "name { field: value ... }".
std::string Body(const google::protobuf::Message& m, const char* oneof) {
  const auto* d = m.GetDescriptor()->FindOneofByName(oneof);
  const auto* f = d ? m.GetReflection()->GetOneofFieldDescriptor(m, d) : nullptr;
  if (f == nullptr) return "";
  return f->name() + " { " + m.GetReflection()->GetMessage(m, f).ShortDebugString() + " }";
}

void PrintHistory(const google::protobuf::RepeatedPtrField<v1::TraceEntry>& entries) {
  std::printf("%-8s %-14s %-12s %-12s %s\n", "HUB_SEQ", "TIME(ms)", "SCANNER", "STATION", "WHAT");
  for (const auto& e : entries) {
    std::string what;
    if (e.has_event()) {
      what = Body(e.event(), "body");
    } else {
      what = "reference " + Body(e.reference(), "body");
    }
    if (e.has_decision()) {
      const auto& d = e.decision();
      what += d.divert() != v1::DIVERT_NONE
                  ? " -> " + v1::DivertReason_Name(d.divert())
                  : " -> route " + d.route_code() + " chute " + d.chute() + " load " + d.load_id();
    }
    std::printf("%-8llu %-14lld %-12s %-12s %s\n", static_cast<unsigned long long>(e.hub_seq()),
                static_cast<long long>(e.event().event_time_ms()), e.event().scanner_id().c_str(),
                e.event().station().c_str(), what.c_str());
  }
}

void PrintView(const v1::ParcelTrace& t) {
  std::printf("parcel %s  destination %s  load %s  from bag %s  into bag %s%s%s",
              t.parcel_id().c_str(), t.destination().c_str(), t.load_id().c_str(),
              t.inbound_bag().c_str(), t.outbound_bag().c_str(), t.held() ? "  HELD" : "",
              t.damaged() ? "  DAMAGED" : "");
  if (t.departed_hub_seq() != 0)
    std::printf("  departed at hub_seq %llu", static_cast<unsigned long long>(t.departed_hub_seq()));
  if (t.forgotten_hub_seq() != 0)
    std::printf("  forgotten (no scan for the hub's forget_after_days) at hub_seq %llu",
                static_cast<unsigned long long>(t.forgotten_hub_seq()));
  std::printf("\n\n");
  PrintHistory(t.entries());
}

void PrintView(const v1::BagView& b) {
  std::printf("bag %s  %s", b.bag_id().c_str(), v1::BagDirection_Name(b.direction()).c_str());
  if (b.direction() == v1::OUTBOUND)
    std::printf("  destination %s  %s  load %s", b.destination().c_str(),
                b.closed() ? "closed" : "open", b.load_id().empty() ? "-" : b.load_id().c_str());
  else
    std::printf("  vehicle %s%s%s%s", b.vehicle_id().c_str(), b.unloaded() ? "  unloaded" : "",
                b.opened() ? "  opened" : "", b.emptied() ? "  emptied" : "");
  std::printf("\nlabel %s  scanned %u\nmembers: %s\n",
              b.has_label_count() ? std::to_string(b.label_count()).c_str() : "-", b.scanned_count(),
              Join(b.members()).c_str());
  if (!b.advised().empty())
    std::printf("advised: %s\nmissing: %s\nforeign: %s\n", Join(b.advised()).c_str(),
                Join(b.missing()).c_str(), Join(b.foreign()).c_str());
  std::printf("\n");
  PrintHistory(b.history());
}

void PrintView(const v1::VehicleView& v) {
  std::printf("vehicle %s  %s  route %s  seal %s (%s)", v.vehicle_id().c_str(),
              v.arrived() ? "arrived" : "not arrived", v.route_code().c_str(), v.seal_id().c_str(),
              v.seal_intact() ? "intact" : "NOT INTACT");
  if (v.unloaded()) std::printf("  unloaded");
  std::printf("\n");
  if (v.advised())
    std::printf("advice: route %s  seal %s  bags %s\n", v.advised_route_code().c_str(),
                v.advised_seal_id().c_str(), Join(v.advised_bags()).c_str());
  std::printf("missing bags: %s\nunexpected bags: %s\n\n%-16s %6s %8s\n",
              Join(v.missing_bags()).c_str(), Join(v.unexpected_bags()).c_str(), "BAG", "LABEL",
              "SCANNED");
  for (const auto& b : v.bags())
    std::printf("%-16s %6s %8u\n", b.bag_id().c_str(),
                b.has_label_count() ? std::to_string(b.label_count()).c_str() : "-", b.scanned_count());
}

void PrintView(const v1::LoadView& l) {
  std::printf("load %s  vehicle %s  route %s  %s", l.load_id().c_str(), l.vehicle_id().c_str(),
              l.route_code().c_str(), l.departed() ? "departed" : l.opened() ? "open" : "not opened");
  if (!l.seal_id().empty()) std::printf("  seal %s", l.seal_id().c_str());
  std::printf("\nparcels on board %u  routed here %d  not loaded: %s\n\n%-16s %-12s %-7s %6s %8s  %s\n",
              l.parcel_count(), l.routed_size(), Join(l.not_loaded()).c_str(), "BAG", "DESTINATION",
              "CLOSED", "LABEL", "SCANNED", "PARCELS");
  for (const auto& b : l.bags())
    std::printf("%-16s %-12s %-7s %6s %8u  %s\n", b.bag_id().c_str(), b.destination().c_str(),
                b.closed() ? "yes" : "no",
                b.has_label_count() ? std::to_string(b.label_count()).c_str() : "-",
                b.scanned_count(), Join(b.parcel_ids()).c_str());
}

// destination,route_code,chute,load_id per line; a header line and blank
// lines are skipped.
v1::ReferenceBatch ReadRoutes(const std::string& path, bool replace) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "hubctl: cannot read " << path << "\n";
    throw Exit{2};
  }
  v1::ReferenceBatch batch;
  v1::RoutingTable table;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (n == 1 && line.rfind("destination", 0) == 0)) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    if (f.size() < 2 || f.size() > 4) {
      std::cerr << "hubctl: " << path << ":" << n
                << ": expected destination,route_code[,chute[,load_id]]\n";
      throw Exit{2};
    }
    f.resize(4);
    v1::RouteEntry e;
    e.set_destination(f[0]);
    e.set_route_code(f[1]);
    e.set_chute(f[2]);
    e.set_load_id(f[3]);
    if (replace) *table.add_entries() = e;
    else *batch.add_changes()->mutable_upsert_route() = e;
  }
  if (replace) *batch.add_changes()->mutable_replace_routes() = table;
  if (batch.changes().empty()) {
    std::cerr << "hubctl: " << path << " holds no routes\n";
    throw Exit{2};
  }
  return batch;
}

// Fetches one entity view and prints it with its exceptions.
template <typename View>
void Show(Client& client, const std::string& target, bool json) {
  auto view = Parse<View>(client.Call("GET", target));
  if (json) {
    std::cout << ToJson(view) << "\n";
    return;
  }
  PrintView(view);
  std::printf("\n%d exception(s)\n", view.exceptions_size());
  if (!view.exceptions().empty()) PrintCases(view.exceptions());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hubctl: supervise a hubd hub (exceptions, traces, summary, reference data)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("hubctl ") + hub::kVersion);
  Client client;
  std::string server = std::getenv("HUBCTL_SERVER") ? std::getenv("HUBCTL_SERVER") : "127.0.0.1:7480";
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
  std::string data_dir = std::getenv("HUBCTL_DATA_DIR") ? std::getenv("HUBCTL_DATA_DIR") : "hubd-data";
  app.add_option("--data-dir", data_dir,
                 "data directory of a hubd on this machine, for its local admin token when no "
                 "--token is given (env HUBCTL_DATA_DIR) [hubd-data]");
  app.add_flag("--json", json, "print the daemon's JSON instead of a table");

  auto* exc = app.add_subcommand("exceptions", "list, show, acknowledge and resolve exceptions");
  exc->require_subcommand(1);
  std::string type, status, parcel, bag, vehicle, load, note, id;
  int limit = 100;
  bool all = false;
  auto* list = exc->add_subcommand("list", "list exceptions, oldest first");
  list->add_option("--type", type, "e.g. BAG_SHORT");
  list->add_option("--status", status, "open, acknowledged or resolved");
  list->add_option("--parcel", parcel);
  list->add_option("--bag", bag);
  list->add_option("--vehicle", vehicle);
  list->add_option("--load", load);
  list->add_option("--limit", limit, "per page (1-1000)")->check(CLI::Range(1, 1000));
  list->add_flag("--all", all, "follow every page");
  auto* get = exc->add_subcommand("get", "show one exception");
  get->add_option("ID", id)->required();
  auto* ack = exc->add_subcommand("acknowledge", "OPEN -> ACKNOWLEDGED");
  ack->alias("ack");
  ack->add_option("ID", id)->required();
  ack->add_option("--note", note);
  auto* resolve = exc->add_subcommand("resolve", "-> RESOLVED");
  resolve->add_option("ID", id)->required();
  resolve->add_option("--note", note)->required();

  auto* summary = app.add_subcommand("summary", "open exceptions by type and the hub's position");

  auto* trace = app.add_subcommand("trace", "every scan, decision, hold and exception of an entity");
  trace->require_subcommand(1);
  auto* trace_parcel = trace->add_subcommand("parcel", "a parcel's trace");
  trace_parcel->add_option("ID", id)->required();
  auto* bag_view = app.add_subcommand("bag", "a bag: label vs. scanned, members, missing and foreign");
  bag_view->add_option("ID", id)->required();
  auto* vehicle_view = app.add_subcommand("vehicle", "an inbound vehicle: advice vs. arrival, bags");
  vehicle_view->add_option("ID", id)->required();
  auto* load_view = app.add_subcommand("load", "a load: manifest, seal, parcels not loaded");
  load_view->add_option("ID", id)->required();

  auto* routes = app.add_subcommand("routes", "routing table");
  routes->require_subcommand(1);
  std::string file;
  bool replace = false;
  auto* routes_load = routes->add_subcommand("load", "load routes from a CSV file");
  routes_load->add_option("FILE", file, "destination,route_code,chute,load_id per line")->required();
  routes_load->add_flag("--replace", replace, "replace the whole table instead of upserting");

  auto* holds = app.add_subcommand("holds", "parcel holds");
  holds->require_subcommand(1);
  std::string reason = "CUSTOMER_INTERCEPT";
  auto* holds_add = holds->add_subcommand("add", "hold a parcel wherever it is next scanned");
  holds_add->add_option("PARCEL", parcel)->required();
  holds_add->add_option("--reason", reason, "ADDRESS_UNCLEAR, MISSENT, NO_LABEL, PROHIBITED, RETURN, DAMAGED, CUSTOMER_INTERCEPT, SECURITY");
  holds_add->add_option("--note", note);
  auto* holds_remove = holds->add_subcommand("remove", "lift a hold");
  holds_remove->add_option("PARCEL", parcel)->required();

  auto* admin = app.add_subcommand("admin", "operator actions (admin role)");
  admin->require_subcommand(1);
  std::string backup_dir;
  auto* backup = admin->add_subcommand(
      "backup", "take an online backup into DIR on hubd's machine (DIR must not exist yet); "
                "restore it with hubd --restore-from DIR --data-dir NEW");
  backup->add_option("DIR", backup_dir, "absolute path of a new directory")->required();

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
    if (list->parsed()) {
      std::string query = "?limit=" + std::to_string(limit);
      for (auto [k, v] : {std::pair{"type", Upper(type)}, {"status", status}, {"parcel", parcel},
                          {"bag", bag}, {"vehicle", vehicle}, {"load", load}})
        if (!v.empty()) query += std::string("&") + k + "=" + Escape(v);
      v1::ExceptionPage everything;
      uint64_t after = 0;
      do {
        const std::string body = client.Call("GET", "/v1/exceptions" + query +
                                                                  "&after=" + std::to_string(after));
        auto page = Parse<v1::ExceptionPage>(body);
        for (auto& c : *page.mutable_exceptions()) *everything.add_exceptions() = std::move(c);
        after = page.next_after();
        everything.set_next_after(after);
      } while (all && after != 0);
      if (json) std::cout << ToJson(everything) << "\n";
      else PrintCases(everything.exceptions());
    } else if (get->parsed() || ack->parsed() || resolve->parsed()) {
      std::string body;
      if (get->parsed()) {
        body = client.Call("GET", "/v1/exceptions/" + Escape(id));
      } else {
        v1::CaseNote n;
        n.set_note(note);
        body = client.Call("POST", "/v1/exceptions/" + Escape(id) +
                                                 (ack->parsed() ? ":acknowledge" : ":resolve"),
                           ToJson(n));
      }
      auto c = Parse<v1::ExceptionCase>(body);
      if (json) {
        std::cout << ToJson(c) << "\n";
      } else {
        google::protobuf::RepeatedPtrField<v1::ExceptionCase> one;
        *one.Add() = c;
        PrintCases(one);
      }
    } else if (summary->parsed()) {
      auto s = Parse<v1::Summary>(client.Call("GET", "/v1/summary"));
      if (json) {
        std::cout << ToJson(s) << "\n";
      } else {
        std::printf("hub_seq %llu  events applied %llu  parcels in hub %llu\n",
                    static_cast<unsigned long long>(s.hub_seq()),
                    static_cast<unsigned long long>(s.events_applied()),
                    static_cast<unsigned long long>(s.parcels_in_hub()));
        std::printf("%-20s %8s %13s %9s\n", "TYPE", "OPEN", "ACKNOWLEDGED", "RESOLVED");
        for (const auto& t : s.exceptions())
          std::printf("%-20s %8llu %13llu %9llu\n", v1::ExceptionType_Name(t.type()).c_str(),
                      static_cast<unsigned long long>(t.open()),
                      static_cast<unsigned long long>(t.acknowledged()),
                      static_cast<unsigned long long>(t.resolved()));
      }
    } else if (trace_parcel->parsed()) {
      Show<v1::ParcelTrace>(client, "/v1/parcels/" + Escape(id), json);
    } else if (bag_view->parsed()) {
      Show<v1::BagView>(client, "/v1/bags/" + Escape(id), json);
    } else if (vehicle_view->parsed()) {
      Show<v1::VehicleView>(client, "/v1/vehicles/" + Escape(id), json);
    } else if (load_view->parsed()) {
      Show<v1::LoadView>(client, "/v1/loads/" + Escape(id), json);
    } else if (backup->parsed()) {
      v1::BackupRequest req;
      req.set_dir(backup_dir);
      auto m = Parse<v1::BackupManifest>(client.Call("POST", "/v1/admin/backup", ToJson(req)));
      if (json) std::cout << ToJson(m) << "\n";
      else std::printf("backup %s: hub_seq %llu, %d files, %llu bytes, %.2f s\n", backup_dir.c_str(),
                       static_cast<unsigned long long>(m.hub_seq()), m.files_size(),
                       static_cast<unsigned long long>(m.total_bytes()), m.seconds());
    } else if (routes_load->parsed() || holds_add->parsed() || holds_remove->parsed()) {
      v1::ReferenceBatch batch;
      if (routes_load->parsed()) {
        batch = ReadRoutes(file, replace);
      } else if (holds_add->parsed()) {
        v1::HoldReason r;
        if (!v1::HoldReason_Parse("HOLD_REASON_" + Upper(reason), &r)) {
          std::cerr << "hubctl: unknown hold reason '" << reason << "'\n";
          return 2;
        }
        auto* h = batch.add_changes()->mutable_add_hold();
        h->set_parcel_id(parcel);
        h->set_reason(r);
        h->set_note(note);
      } else {
        batch.add_changes()->set_remove_hold(parcel);
      }
      auto done = Parse<v1::ReferenceApplied>(client.Call("POST", "/v1/reference", ToJson(batch)));
      if (json) std::cout << ToJson(done) << "\n";
      else std::printf("applied %u change(s), hub_seq %llu\n", done.applied(),
                       static_cast<unsigned long long>(done.last_hub_seq()));
    }
  } catch (const Exit& e) {
    return e.code;
  }
  return 0;
}
