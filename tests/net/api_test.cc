// The supervisor API of a real hubd: tokens and roles, reference data
// through the sequencer, exceptions with filters, paging and life cycle.

#include <gtest/gtest.h>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>


#include "net/api_fixture.h"
#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"
#include "hub/v1/views.pb.h"

namespace hub::testing {
namespace {

using testutil::HttpCall;

TEST_F(ApiTest, MissingOrWrongTokenGets401AndTooLowARoleGets403) {
  auto hubd = Start();
  const uint16_t port = hubd->http_port();
  EXPECT_EQ(HttpCall(port, "GET", "/v1/exceptions").status, 401);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/exceptions", "", "not-a-token").status, 401);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/exceptions", "", kViewer).status, 200);
  auto r = HttpCall(port, "POST", "/v1/exceptions/1:resolve", "{}", kViewer);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("supervisor role"), std::string::npos);
  EXPECT_EQ(HttpCall(port, "POST", "/v1/reference", "{\"changes\":[]}", kSupervisor).status, 403);
  EXPECT_EQ(hubd->Terminate(), 0);
}

TEST_F(ApiTest, ReferenceDataLoadedThroughTheApiRoutesTheNextScan) {
  auto hubd = Start();
  auto r = HttpCall(hubd->http_port(), "POST", "/v1/reference",
                    R"({"changes":[{"upsert_route":{"destination":"D-SH","route_code":"R-SH","chute":"C9","load_id":"L-SH"}},
                                   {"add_hold":{"parcel_id":"P-HELD","reason":"HOLD_REASON_SECURITY"}}]})",
                    kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"applied\":2"), std::string::npos) << r.body;
  testutil::ScanClient c(hubd->port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  testutil::Scanner s("SORTER-1");
  c.SendAll({s.ParcelSorted("P1", "D-SH"), s.ParcelSorted("P-HELD", "D-SH")});
  std::vector<v1::ServerFrame> frames;
  ASSERT_EQ(c.WaitForAck(2, &frames), 2u);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].decision().chute(), "C9");
  EXPECT_EQ(frames[1].decision().divert(), v1::DIVERT_HELD);
  // Bad rows are refused whole, with the row named.
  r = HttpCall(hubd->http_port(), "POST", "/v1/reference",
               R"({"changes":[{"upsert_route":{"destination":"D1","route_code":"R1"}},{"bag_advice":{}}]})",
               kAdmin);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("change 1: bag_advice.bag_id is missing"), std::string::npos) << r.body;
  EXPECT_EQ(HttpCall(hubd->http_port(), "POST", "/v1/reference", "{not json", kAdmin).status, 400);
  EXPECT_EQ(hubd->Terminate(), 0);
  // Durable: the route survives a restart.
  auto again = Start();
  testutil::ScanClient c2(again->port());
  ASSERT_EQ(c2.Hello("SORTER-1"), 2);
  s.Rewind(2);
  c2.Send(s.ParcelSorted("P2", "D-SH"));
  frames.clear();
  ASSERT_EQ(c2.WaitForAck(3, &frames), 3u);
  EXPECT_EQ(frames.at(0).decision().chute(), "C9");
  EXPECT_EQ(again->Terminate(), 0);
}

TEST_F(ApiTest, ExceptionsFilterPageAndFollowTheirLifeCycle) {
  auto hubd = Start();
  const uint16_t port = hubd->http_port();
  testutil::ScanClient c(hubd->port());
  ASSERT_EQ(c.Hello("DESK-1"), 0);
  testutil::Scanner s("DESK-1");
  std::vector<v1::ScanEvent> events;
  for (int i = 0; i < 25; ++i) events.push_back(s.ParcelDamaged("P" + std::to_string(i), 100));
  events.push_back(s.ParcelSorted("", ""));  // one NO_READ
  c.SendAll(events);
  ASSERT_EQ(c.WaitForAck(26), 26u);

  // Paging by cursor: 25 DAMAGED in pages of 10.
  std::vector<std::string> pages;
  std::string after = "0";
  for (int i = 0; i < 5; ++i) {
    auto r = HttpCall(port, "GET", "/v1/exceptions?type=DAMAGED&limit=10&after=" + after, "", kViewer);
    ASSERT_EQ(r.status, 200) << r.body;
    pages.push_back(r.body);
    auto at = r.body.find("\"next_after\":\"");
    if (at == std::string::npos) break;
    after = r.body.substr(at + 14, r.body.find('"', at + 14) - at - 14);
  }
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_NE(pages[0].find("\"parcel_id\":\"P0\""), std::string::npos);
  EXPECT_NE(pages[2].find("\"parcel_id\":\"P24\""), std::string::npos);
  EXPECT_EQ(pages[2].find("NO_READ"), std::string::npos);

  auto r = HttpCall(port, "GET", "/v1/exceptions?parcel=P7", "", kViewer);
  EXPECT_NE(r.body.find("\"id\":\"8\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"parcel_id\":\"P8\""), std::string::npos);
  r = HttpCall(port, "GET", "/v1/exceptions?type=NO_READ", "", kViewer);
  EXPECT_NE(r.body.find("\"id\":\"26\""), std::string::npos) << r.body;

  // Life cycle: open -> acknowledged -> resolved; never twice, never back.
  r = HttpCall(port, "POST", "/v1/exceptions/3:acknowledge", R"({"note":"on the scale"})", kSupervisor);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"status\":\"ACKNOWLEDGED\""), std::string::npos);
  EXPECT_NE(r.body.find("\"by\":\"sup-li\""), std::string::npos);
  EXPECT_EQ(HttpCall(port, "POST", "/v1/exceptions/3:acknowledge", "{}", kSupervisor).status, 409);
  EXPECT_EQ(HttpCall(port, "POST", "/v1/exceptions/3:resolve", R"({"note":"reweighed"})", kSupervisor).status, 200);
  EXPECT_EQ(HttpCall(port, "POST", "/v1/exceptions/3:resolve", "{}", kSupervisor).status, 409);
  EXPECT_EQ(HttpCall(port, "POST", "/v1/exceptions/999:resolve", "{}", kSupervisor).status, 404);
  r = HttpCall(port, "GET", "/v1/exceptions?status=resolved", "", kViewer);
  EXPECT_NE(r.body.find("\"id\":\"3\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"note\":\"reweighed\""), std::string::npos);
  r = HttpCall(port, "GET", "/v1/exceptions?type=DAMAGED&status=open&limit=1000", "", kViewer);
  EXPECT_EQ(r.body.find("\"id\":\"3\""), std::string::npos);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/exceptions/3", "", kViewer).status, 200);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/exceptions/12345", "", kViewer).status, 404);

  // The summary counts cases by type and status.
  r = HttpCall(port, "GET", "/v1/summary", "", kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"({"type":"DAMAGED","open":"24","resolved":"1"})"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"({"type":"NO_READ","open":"1"})"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("events_applied":"26")"), std::string::npos) << r.body;
  // An event-time window before any scan holds nothing.
  r = HttpCall(port, "GET", "/v1/summary?to_ms=1000", "", kViewer);
  EXPECT_EQ(r.body.find("DAMAGED"), std::string::npos) << r.body;
  EXPECT_EQ(HttpCall(port, "GET", "/v1/summary?window=1h", "", kViewer).status, 400);

  // Bad queries are 400 with the reason.
  r = HttpCall(port, "GET", "/v1/exceptions?colour=red", "", kViewer);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown filter 'colour'"), std::string::npos);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/exceptions?type=NOPE", "", kViewer).status, 400);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/exceptions?limit=0", "", kViewer).status, 400);
  EXPECT_EQ(HttpCall(port, "POST", "/v1/exceptions/3:resolve", "[1,2", kSupervisor).status, 400);
  EXPECT_EQ(hubd->Terminate(), 0);
}

// The supervisor's desk: who am I and the hub's zone, newest-first paging,
// any-id and any-case filters, ISO times both ways, the shift report and
// bulk actions (docs/api.md).
TEST_F(ApiTest, DeskAnswersNewestFirstWithIsoTimesAndAShiftReport) {
  auto hubd = Start();
  const uint16_t port = hubd->http_port();
  testutil::ScanClient c(hubd->port());
  ASSERT_EQ(c.Hello("DESK-1"), 0);
  testutil::Scanner s("DESK-1");
  std::vector<v1::ScanEvent> events;
  for (int i = 0; i < 5; ++i) events.push_back(s.ParcelDamaged("P" + std::to_string(i), 100));
  s.Wait(3'600'000);  // the next hour of 2026-01-01 (UTC)
  events.push_back(s.ParcelSorted("", ""));  // NO_READ, case 6
  c.SendAll(events);
  ASSERT_EQ(c.WaitForAck(6), 6u);

  auto r = HttpCall(port, "GET", "/v1/hub", "", kSupervisor);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("who":"sup-li","role":"supervisor","time_zone":"UTC","utc_offset":"+00:00")"),
            std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("hub_time":"2026-01-01T01:00:01.500+00:00")"), std::string::npos) << r.body;

  // Newest first, two a page, following next_before.
  r = HttpCall(port, "GET", "/v1/exceptions?order=newest&limit=2", "", kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(R"({"exceptions":[{"id":"6")"), 0u) << r.body;
  EXPECT_NE(r.body.find(R"("next_before":"5")"), std::string::npos) << r.body;
  r = HttpCall(port, "GET", "/v1/exceptions?order=newest&limit=2&before=5", "", kViewer);
  EXPECT_EQ(r.body.find(R"({"exceptions":[{"id":"4")"), 0u) << r.body;
  EXPECT_NE(r.body.find(R"("event_time_ms":"1767225601000","event_time":"2026-01-01T00:00:01.000+00:00")"),
            std::string::npos) << r.body;
  EXPECT_EQ(HttpCall(port, "GET", "/v1/exceptions?order=newest&after=3", "", kViewer).status, 400);
  // Any id, any case of type and status; ISO and relative times.
  r = HttpCall(port, "GET", "/v1/exceptions?id=P3&type=damaged&status=Open", "", kViewer);
  EXPECT_NE(r.body.find(R"("id":"4")"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(R"("id":"3")"), std::string::npos) << r.body;
  r = HttpCall(port, "GET", "/v1/exceptions?from=2026-01-01T09:00:00%2B08:00", "", kViewer);
  EXPECT_EQ(r.body.find(R"({"exceptions":[{"id":"6")"), 0u) << r.body;
  EXPECT_EQ(r.body.find(R"("id":"5")"), std::string::npos) << r.body;
  EXPECT_EQ(HttpCall(port, "GET", "/v1/exceptions?to=1h", "", kViewer).status, 200);
  r = HttpCall(port, "GET", "/v1/exceptions?from=yesterday", "", kViewer);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("from 'yesterday' is not a time"), std::string::npos) << r.body;

  // The shift report: 00:00-02:00 UTC, by type, per hour, oldest open.
  r = HttpCall(port, "GET", "/v1/report?from=2026-01-01T00:00:00Z&to=2026-01-01T01:59:59Z", "", kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("by_type":[{"type":"NO_READ","open":"1"},{"type":"DAMAGED","open":"5"}])"),
            std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("raised":"6")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("per_hour":[{"hour_ms":"1767225600000","hour":"2026-01-01T00:00:00.000+00:00","raised":"5"},)"
                        R"({"hour_ms":"1767229200000","hour":"2026-01-01T01:00:00.000+00:00","raised":"1"}])"),
            std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("oldest_open":{"id":"1",)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("open_now":"6")"), std::string::npos) << r.body;
  EXPECT_EQ(HttpCall(port, "GET", "/v1/report?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "", kViewer).status,
            400);  // over 31 days

  // Bulk: acknowledge three, one of them twice refused.
  r = HttpCall(port, "POST", "/v1/exceptions:acknowledge", R"({"ids":["1","2"],"note":"on it"})", kSupervisor);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("applied":2)"), std::string::npos) << r.body;
  r = HttpCall(port, "POST", "/v1/exceptions:acknowledge", R"({"ids":["2","3"]})", kSupervisor);
  EXPECT_NE(r.body.find(R"({"id":"2","status":409,"error":"case 2 is already ACKNOWLEDGED"})"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("applied":1)"), std::string::npos) << r.body;
  EXPECT_EQ(HttpCall(port, "POST", "/v1/exceptions:resolve", R"({"ids":["1","1"]})", kSupervisor).status, 400);
  EXPECT_EQ(HttpCall(port, "POST", "/v1/exceptions:resolve", R"({"ids":[]})", kSupervisor).status, 400);
  EXPECT_EQ(HttpCall(port, "POST", "/v1/exceptions:resolve", R"({"ids":["4"]})", kViewer).status, 403);
  EXPECT_EQ(hubd->Terminate(), 0);
}

template <typename M>
M Get(uint16_t port, const std::string& target) {
  auto r = HttpCall(port, "GET", target, "", kViewer);
  M m;
  EXPECT_EQ(r.status, 200) << target << ": " << r.body;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &m, testutil::kLenientJson).ok()) << r.body;
  return m;
}

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  return {ids.begin(), ids.end()};
}

std::vector<std::string> Types(const google::protobuf::RepeatedPtrField<v1::ExceptionCase>& cases) {
  std::vector<std::string> out;
  for (const auto& c : cases) out.push_back(v1::ExceptionType_Name(c.type()));
  return out;
}

// One vehicle in, one bag unbagged (short one advised parcel, one foreign),
// two parcels sorted to L-SH, one of them bagged and loaded, the load gone.
TEST_F(ApiTest, TraceAndEntityViewsShowWhatTheHubSawAndDecided) {
  auto hubd = Start();
  const uint16_t port = hubd->http_port();
  auto r = HttpCall(port, "POST", "/v1/reference",
                    R"({"changes":[{"upsert_route":{"destination":"D-SH","route_code":"R-SH","chute":"C1","load_id":"L-SH"}},
                                   {"vehicle_advice":{"vehicle_id":"V1","seal_id":"S1","bag_ids":["B1","B2"]}},
                                   {"bag_advice":{"bag_id":"B1","parcel_ids":["P1","P2","P3"]}}]})",
                    kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  testutil::ScanClient c(hubd->port());
  ASSERT_EQ(c.Hello("HUB-1"), 0);
  testutil::Scanner s("HUB-1");
  c.SendAll({s.VehicleArrived("V1", "S1"), s.BagUnloaded("B1", "V1", 3), s.VehicleUnloaded("V1"),
             s.BagOpened("B1"), s.ParcelUnbagged("P1", "B1"), s.ParcelUnbagged("P2", "B1"),
             s.ParcelUnbagged("P9", "B1"), s.BagEmptied("B1"), s.ParcelSorted("P1", "D-SH"),
             s.ParcelSorted("P2", "D-SH"), s.BagCreated("OB1", "R-SH"), s.ParcelBagged("P1", "OB1"),
             s.BagClosed("OB1", 1), s.LoadOpened("L-SH", "TRUCK-9", "R-SH"),
             s.BagLoaded("OB1", "L-SH"), s.LoadDeparted("L-SH", "SEAL-77")});
  ASSERT_EQ(c.WaitForAck(16), 16u);

  auto check = [&](uint16_t port) {
    auto t = Get<v1::ParcelTrace>(port, "/v1/parcels/P1");
    ASSERT_EQ(t.entries_size(), 3);
    EXPECT_TRUE(t.entries(0).event().has_parcel_unbagged());
    EXPECT_EQ(t.entries(1).decision().chute(), "C1");
    EXPECT_EQ(t.entries(1).decision().load_id(), "L-SH");
    EXPECT_TRUE(t.entries(2).event().has_parcel_bagged());
    EXPECT_EQ(t.outbound_bag(), "OB1");
    EXPECT_GT(t.departed_hub_seq(), t.entries(2).hub_seq());

    auto b = Get<v1::BagView>(port, "/v1/bags/B1");
    EXPECT_EQ(b.direction(), v1::INBOUND);
    EXPECT_EQ(b.label_count(), 3u);
    EXPECT_EQ(b.scanned_count(), 3u);
    EXPECT_EQ(Ids(b.missing()), std::vector<std::string>{"P3"});
    EXPECT_EQ(Ids(b.foreign()), std::vector<std::string>{"P9"});
    EXPECT_EQ(Types(b.exceptions()), std::vector<std::string>{"MISBAGGED"});

    auto v = Get<v1::VehicleView>(port, "/v1/vehicles/V1");
    EXPECT_EQ(v.advised_seal_id(), "S1");
    EXPECT_EQ(v.seal_id(), "S1");
    ASSERT_EQ(v.bags_size(), 1);
    EXPECT_EQ(v.bags(0).scanned_count(), 3u);
    EXPECT_EQ(Ids(v.missing_bags()), std::vector<std::string>{"B2"});

    auto l = Get<v1::LoadView>(port, "/v1/loads/L-SH");
    EXPECT_TRUE(l.departed());
    EXPECT_EQ(l.seal_id(), "SEAL-77");
    ASSERT_EQ(l.bags_size(), 1);
    EXPECT_EQ(Ids(l.bags(0).parcel_ids()), std::vector<std::string>{"P1"});
    EXPECT_EQ(Ids(l.routed()), (std::vector<std::string>{"P1", "P2"}));
    EXPECT_EQ(Ids(l.not_loaded()), std::vector<std::string>{"P2"});
  };
  check(port);

  auto missing = HttpCall(port, "GET", "/v1/parcels/NOBODY", "", kViewer);
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no record of parcel NOBODY"), std::string::npos) << missing.body;
  EXPECT_EQ(HttpCall(port, "GET", "/v1/bags/B1?x=1", "", kViewer).status, 400);
  EXPECT_EQ(HttpCall(port, "POST", "/v1/loads/L-SH", "", kViewer).status, 405);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/parcels/P1").status, 401);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/parcels/" + std::string(65, 'x'), "", kViewer).status, 400);

  // The same after a clean restart (checkpoint) and after a crash (replay).
  EXPECT_EQ(hubd->Terminate(), 0);
  hubd = Start();
  check(hubd->http_port());
  hubd->Kill();
  hubd = Start();
  check(hubd->http_port());
  EXPECT_EQ(hubd->Terminate(), 0);
}

TEST_F(ApiTest, LoadViewShowsTheLatestLifeOfALoadIdUsedAgain) {
  auto hubd = Start();
  const uint16_t port = hubd->http_port();
  ASSERT_EQ(HttpCall(port, "POST", "/v1/reference",
                     R"({"changes":[{"upsert_route":{"destination":"D-SH","route_code":"R-SH","chute":"C1","load_id":"L-SH"}}]})",
                     kAdmin).status, 200);
  testutil::ScanClient c(hubd->port());
  ASSERT_EQ(c.Hello("HUB-1"), 0);
  testutil::Scanner s("HUB-1");
  // Monday's L-SH leaves with P1; Tuesday's L-SH is loading P2.
  c.SendAll({s.ParcelSorted("P1", "D-SH"), s.BagCreated("OB1", "R-SH"), s.ParcelBagged("P1", "OB1"),
             s.BagClosed("OB1", 1), s.LoadOpened("L-SH", "TRUCK-1", "R-SH"), s.BagLoaded("OB1", "L-SH"),
             s.LoadDeparted("L-SH", "SEAL-1"), s.ParcelSorted("P2", "D-SH"), s.BagCreated("OB2", "R-SH"),
             s.ParcelBagged("P2", "OB2"), s.BagClosed("OB2", 1), s.LoadOpened("L-SH", "TRUCK-2", "R-SH"),
             s.BagLoaded("OB2", "L-SH")});
  ASSERT_EQ(c.WaitForAck(13), 13u);
  auto l = Get<v1::LoadView>(port, "/v1/loads/L-SH");
  EXPECT_EQ(l.vehicle_id(), "TRUCK-2");
  EXPECT_FALSE(l.departed());
  ASSERT_EQ(l.bags_size(), 1);
  EXPECT_EQ(l.bags(0).bag_id(), "OB2");
  EXPECT_EQ(Ids(l.routed()), std::vector<std::string>{"P2"});
  EXPECT_FALSE(l.truncated());
  EXPECT_EQ(hubd->Terminate(), 0);
}

TEST_F(ApiTest, ErrorAnswersAreJsonEvenWhenTheyEchoBytesThatAreNotUtf8) {
  auto hubd = Start();
  for (const char* target : {"/v1/parcels/%FF%FE", "/v1/parcels/%01%1b%5B2J", "/v1/exceptions?type=%C3"}) {
    auto r = HttpCall(hubd->http_port(), "GET", target, "", kViewer);
    EXPECT_GE(r.status, 400) << target;
    google::protobuf::Value json;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &json, testutil::kLenientJson).ok())
        << target << " answered " << r.body;
  }
  EXPECT_EQ(hubd->Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
