#include "tools/desk_print.h"

#include <google/protobuf/text_format.h>

#include <cstdio>

#include "tools/csv_reader.h"

namespace hub::tools {

namespace {

using Ids = google::protobuf::RepeatedPtrField<std::string>;
using History = google::protobuf::RepeatedPtrField<v1::TraceEntry>;

unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

std::string Join(const Ids& ids, const char* none = "-") {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : " ") + id;
  return out.empty() ? none : out;
}

std::string OrDash(const std::string& v) { return v.empty() ? "-" : v; }

std::string Label(const v1::ManifestBag& b) {
  return b.has_label_count() ? std::to_string(b.label_count()) : "-";
}

void PrintHistory(const History& entries, const AnswerTimes& times) {
  std::printf("%-8s %-29s %-12s %-12s %s\n", "HUB_SEQ", "TIME", "SCANNER", "STATION", "WHAT");
  for (const auto& e : entries) {
    std::string what;
    if (e.has_event()) {
      what = OneofBody(e.event(), "body");
    } else {
      what = "reference " + OneofBody(e.reference(), "body");
    }
    if (e.has_decision()) {
      const auto& d = e.decision();
      what += d.divert() != v1::DIVERT_NONE
                  ? " -> " + v1::DivertReason_Name(d.divert())
                  : " -> route " + d.route_code() + " chute " + d.chute() + " load " + d.load_id();
    }
    std::printf("%-8llu %-29s %-12s %-12s %s\n", U(e.hub_seq()),
                e.has_event() ? times.Text(e.event().event_time_ms()).c_str() : "-",
                e.event().scanner_id().c_str(), e.event().station().c_str(), what.c_str());
  }
}

void PrintCasesOf(const Cases& cases, const AnswerTimes& times) {
  std::printf("\n%d exception(s)\n", cases.size());
  if (!cases.empty()) PrintCases(cases, times);
}

void PrintTransition(const char* what, const v1::Transition& t, const AnswerTimes& times) {
  std::printf("%-12s by %s at %s", what, t.by().c_str(), times.Text(t.at_ms()).c_str());
  if (!t.note().empty()) std::printf("  note \"%s\"", t.note().c_str());
  std::printf("\n");
}

}  // namespace

std::string OneofBody(const google::protobuf::Message& m, const char* oneof) {
  const auto* d = m.GetDescriptor()->FindOneofByName(oneof);
  const auto* f = d ? m.GetReflection()->GetOneofFieldDescriptor(m, d) : nullptr;
  if (f == nullptr) return "";
  if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE)
    return f->name() + " { " + m.GetReflection()->GetMessage(m, f).ShortDebugString() + " }";
  std::string value;
  google::protobuf::TextFormat::PrintFieldValueToString(m, f, -1, &value);
  return f->name() + " " + value;
}

void PrintCaseHeader() {
  std::printf("%-8s %-20s %-13s %-29s %-16s %-14s %-12s %-12s %s\n", "ID", "TYPE", "STATUS", "TIME",
              "PARCEL", "BAG", "VEHICLE", "LOAD", "DETAIL");
}

void PrintCaseRow(const v1::ExceptionCase& c, const AnswerTimes& times) {
  std::string detail = c.detail();
  if (c.has_expected_count())
    detail = "expected " + std::to_string(c.expected_count()) + ", actual " +
             std::to_string(c.actual_count()) + (detail.empty() ? "" : "; " + detail);
  if (!c.missing_ids().empty()) detail += "; missing " + Join(c.missing_ids());
  if (!c.unexpected_ids().empty()) detail += "; unexpected " + Join(c.unexpected_ids());
  std::printf("%-8llu %-20s %-13s %-29s %-16s %-14s %-12s %-12s %s\n", U(c.id()),
              v1::ExceptionType_Name(c.type()).c_str(),
              v1::ExceptionStatus_Name(c.status()).c_str(), times.Text(c.event_time_ms()).c_str(),
              c.parcel_id().c_str(), c.bag_id().c_str(), c.vehicle_id().c_str(),
              c.load_id().c_str(), detail.c_str());
}

void PrintCases(const Cases& cases, const AnswerTimes& times) {
  PrintCaseHeader();
  for (const auto& c : cases) PrintCaseRow(c, times);
}

void PrintCase(const v1::ExceptionCase& c, const AnswerTimes& times) {
  auto line = [](const char* name, const std::string& value) {
    if (!value.empty()) std::printf("%-12s %s\n", name, value.c_str());
  };
  line("case", std::to_string(c.id()));
  line("type", v1::ExceptionType_Name(c.type()));
  line("status", v1::ExceptionStatus_Name(c.status()));
  line("raised", times.Text(c.event_time_ms()) + "  (hub_seq " + std::to_string(c.hub_seq()) + ")");
  line("scanner", c.scanner_id());
  line("station", c.station());
  line("vehicle", c.vehicle_id());
  line("bag", c.bag_id());
  line("parcel", c.parcel_id());
  line("load", c.load_id());
  if (c.has_expected_count()) line("expected", std::to_string(c.expected_count()));
  if (c.has_actual_count()) line("actual", std::to_string(c.actual_count()));
  line("missing", Join(c.missing_ids(), ""));
  line("unexpected", Join(c.unexpected_ids(), ""));
  line("codes read", Join(c.read_codes(), ""));
  if (c.has_known_weight_g()) line("known", std::to_string(c.known_weight_g()) + " g");
  if (c.has_measured_weight_g()) line("measured", std::to_string(c.measured_weight_g()) + " g");
  line("detail", c.detail());
  if (c.has_acknowledged()) PrintTransition("acknowledged", c.acknowledged(), times);
  if (c.has_resolved()) PrintTransition("resolved", c.resolved(), times);
}

void PrintAnswer(const v1::ParcelTrace& t, const AnswerTimes& times) {
  std::printf("parcel %s  destination %s  load %s  from bag %s  into bag %s%s%s",
              t.parcel_id().c_str(), t.destination().c_str(), t.load_id().c_str(),
              t.inbound_bag().c_str(), t.outbound_bag().c_str(), t.held() ? "  HELD" : "",
              t.damaged() ? "  DAMAGED" : "");
  if (t.departed_hub_seq() != 0) std::printf("  departed at hub_seq %llu", U(t.departed_hub_seq()));
  if (t.forgotten_hub_seq() != 0)
    std::printf("  forgotten (no scan for the hub's forget_after_days) at hub_seq %llu",
                U(t.forgotten_hub_seq()));
  std::printf("\n\n");
  PrintHistory(t.entries(), times);
  PrintCasesOf(t.exceptions(), times);
}

void PrintAnswer(const v1::BagView& b, const AnswerTimes& times) {
  std::printf("bag %s  %s", b.bag_id().c_str(), v1::BagDirection_Name(b.direction()).c_str());
  if (b.direction() == v1::OUTBOUND)
    std::printf("  destination %s  %s  load %s", b.destination().c_str(),
                b.closed() ? "closed" : "open", OrDash(b.load_id()).c_str());
  else
    std::printf("  vehicle %s%s%s%s", b.vehicle_id().c_str(), b.unloaded() ? "  unloaded" : "",
                b.opened() ? "  opened" : "", b.emptied() ? "  emptied" : "");
  std::printf("\nlabel %s  scanned %u\nmembers: %s\n",
              b.has_label_count() ? std::to_string(b.label_count()).c_str() : "-",
              b.scanned_count(), Join(b.members()).c_str());
  if (!b.advised().empty())
    std::printf("advised: %s\nmissing: %s\nforeign: %s\n", Join(b.advised()).c_str(),
                Join(b.missing()).c_str(), Join(b.foreign()).c_str());
  std::printf("\n");
  PrintHistory(b.history(), times);
  PrintCasesOf(b.exceptions(), times);
}

void PrintAnswer(const v1::VehicleView& v, const AnswerTimes& times) {
  std::printf("vehicle %s  %s", v.vehicle_id().c_str(),
              v.arrived() ? ("arrived " + times.Text(v.arrived_ms())).c_str() : "not arrived");
  std::printf("  route %s  seal %s (%s)", v.route_code().c_str(), v.seal_id().c_str(),
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
    std::printf("%-16s %6s %8u\n", b.bag_id().c_str(), Label(b).c_str(), b.scanned_count());
  PrintCasesOf(v.exceptions(), times);
}

void PrintAnswer(const v1::LoadView& l, const AnswerTimes& times) {
  std::printf("load %s  vehicle %s  route %s  %s", l.load_id().c_str(), l.vehicle_id().c_str(),
              l.route_code().c_str(),
              l.departed() ? ("departed " + times.Text(l.departed_ms())).c_str()
              : l.opened() ? "open"
                           : "not opened");
  if (!l.seal_id().empty()) std::printf("  seal %s", l.seal_id().c_str());
  std::printf(
      "\nparcels on board %u  routed here %d  not loaded: %s\n\n%-16s %-12s %-7s %6s %8s  %s\n",
      l.parcel_count(), l.routed_size(), Join(l.not_loaded()).c_str(), "BAG", "DESTINATION",
      "CLOSED", "LABEL", "SCANNED", "PARCELS");
  for (const auto& b : l.bags())
    std::printf("%-16s %-12s %-7s %6s %8u  %s\n", b.bag_id().c_str(), b.destination().c_str(),
                b.closed() ? "yes" : "no", Label(b).c_str(), b.scanned_count(),
                Join(b.parcel_ids()).c_str());
  PrintCasesOf(l.exceptions(), times);
}

namespace {

void PrintTypeCounts(const google::protobuf::RepeatedPtrField<v1::Summary::TypeCounts>& counts) {
  std::printf("%-20s %8s %13s %9s\n", "TYPE", "OPEN", "ACKNOWLEDGED", "RESOLVED");
  for (const auto& t : counts)
    std::printf("%-20s %8llu %13llu %9llu\n", v1::ExceptionType_Name(t.type()).c_str(), U(t.open()),
                U(t.acknowledged()), U(t.resolved()));
}

}  // namespace

void PrintAnswer(const v1::Summary& s, const AnswerTimes&) {
  std::printf("hub_seq %llu  events applied %llu  parcels in hub %llu\n", U(s.hub_seq()),
              U(s.events_applied()), U(s.parcels_in_hub()));
  PrintTypeCounts(s.exceptions());
}

void PrintReport(const v1::Report& r, const AnswerTimes& times) {
  std::printf("cases raised from %s to %s: %llu\n", times.Text(r.from_ms()).c_str(),
              times.Text(r.to_ms()).c_str(), U(r.raised()));
  std::printf("open now (any time): %llu", U(r.open_now()));
  if (r.has_oldest_open()) {
    const auto& c = r.oldest_open();
    std::printf("  oldest open: case %llu %s raised %s", U(c.id()),
                v1::ExceptionType_Name(c.type()).c_str(), times.Text(c.event_time_ms()).c_str());
  }
  std::printf("\n\n");
  PrintTypeCounts(r.by_type());
  std::printf("\n%-29s %8s\n", "HOUR", "RAISED");
  for (const auto& h : r.per_hour())
    std::printf("%-29s %8llu\n", times.Text(h.hour_ms()).c_str(), U(h.raised()));
  std::printf("\n%-20s %11s  %s\n", "LOAD", "LEFT_BEHIND", "PARCELS");
  for (const auto& l : r.left_behind())
    std::printf("%-20s %11llu  %s\n", l.load_id().c_str(), U(l.parcels()),
                Join(l.parcel_ids()).c_str());
  std::printf("\n%-20s %s\n", "VEHICLE", "MISSING_BAGS");
  for (const auto& v : r.missing_bags())
    std::printf("%-20s %s\n", v.vehicle_id().c_str(), Join(v.bag_ids()).c_str());
}

void PrintReportCsv(const v1::Report& r, const AnswerTimes& times) {
  std::printf("type,open,acknowledged,resolved\n");
  for (const auto& t : r.by_type())
    std::printf("%s,%llu,%llu,%llu\n", v1::ExceptionType_Name(t.type()).c_str(), U(t.open()),
                U(t.acknowledged()), U(t.resolved()));
  std::printf("\nhour,raised\n");
  for (const auto& h : r.per_hour())
    std::printf("%s,%llu\n", CsvField(times.Text(h.hour_ms())).c_str(), U(h.raised()));
  std::printf("\nload,left_behind\n");
  for (const auto& l : r.left_behind())
    std::printf("%s,%llu\n", CsvField(l.load_id()).c_str(), U(l.parcels()));
  std::printf("\nvehicle,missing_bags\n");
  for (const auto& v : r.missing_bags())
    std::printf("%s,%s\n", CsvField(v.vehicle_id()).c_str(),
                CsvField(Join(v.bag_ids(), "")).c_str());
}

void PrintAudit(const v1::AuditPage& page, const AnswerTimes& times) {
  std::printf("%-10s %-29s %-16s %-15s %-20s %s\n", "HUB_SEQ", "AT", "WHO", "ACTION", "SUBJECT",
              "NOTE");
  for (const auto& e : page.entries())
    std::printf("%-10llu %-29s %-16s %-15s %-20s %s\n", U(e.hub_seq()),
                times.Text(e.at_ms()).c_str(), e.who().c_str(), e.action().c_str(),
                e.subject().c_str(), e.note().c_str());
}

void PrintAnswer(const v1::RoutingTable& table, const AnswerTimes&) {
  std::printf("%-20s %-16s %-12s %-16s %-10s %s\n", "DESTINATION", "ROUTE", "CHUTE", "LOAD", "NEXT_HUB",
              "TRANSIT_MIN");
  for (const auto& e : table.entries())
    std::printf("%-20s %-16s %-12s %-16s %-10s %s\n", e.destination().c_str(), e.route_code().c_str(),
                OrDash(e.chute()).c_str(), OrDash(e.load_id()).c_str(), OrDash(e.next_hub()).c_str(),
                e.transit_minutes() > 0 ? std::to_string(e.transit_minutes()).c_str() : "-");
}

void PrintAnswer(const v1::HoldList& holds, const AnswerTimes& times) {
  std::printf("%-20s %-20s %-16s %-29s %s\n", "PARCEL", "REASON", "PLACED_BY", "PLACED_AT", "NOTE");
  for (const auto& h : holds.holds()) {
    std::string reason = v1::HoldReason_Name(h.reason());
    if (reason.rfind("HOLD_REASON_", 0) == 0) reason = reason.substr(12);
    std::printf("%-20s %-20s %-16s %-29s %s\n", h.parcel_id().c_str(), reason.c_str(),
                OrDash(h.placed_by()).c_str(), times.Text(h.placed_at_ms()).c_str(),
                h.note().c_str());
  }
}

void PrintAnswer(const v1::VehicleAdvice& a, const AnswerTimes&) {
  std::printf("vehicle %s  route %s  seal %s\nbags (%d): %s\n", a.vehicle_id().c_str(),
              OrDash(a.route_code()).c_str(), OrDash(a.seal_id()).c_str(), a.bag_ids_size(),
              Join(a.bag_ids()).c_str());
}

void PrintAnswer(const v1::BagAdvice& a, const AnswerTimes&) {
  std::printf("bag %s\nparcels (%d): %s\n", a.bag_id().c_str(), a.parcel_ids_size(),
              Join(a.parcel_ids()).c_str());
}

}  // namespace hub::tools
