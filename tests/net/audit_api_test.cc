// The audit trail and the reference data read back, through a real hubd:
// every API write says who made it and when (GET /v1/audit), the routing
// table, holds and advices in force can be read back, and a hold shows who
// placed it in the holds list and in the parcel's trace.

#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <thread>

#include "hub/v1/desk.pb.h"
#include "hub/v1/views.pb.h"
#include "net/api_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::HttpCall;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Parses an answer, ignoring members the message does not know (answers
// may carry ISO siblings of *_ms times).
template <typename M>
M Parse(const testutil::HttpResult& r) {
  M m;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &m, o).ok()) << r.body;
  return m;
}

// "who action subject [note]" per entry.
std::vector<std::string> Printed(const v1::AuditPage& page) {
  std::vector<std::string> out;
  for (const auto& e : page.entries())
    out.push_back(e.who() + " " + e.action() + " " + e.subject() + " [" + e.note() + "]");
  return out;
}

class AuditApiTest : public ApiTest {};

TEST_F(AuditApiTest, EveryApiWriteIsInTheTrailWithWhoWhenSubjectAndNote) {
  auto hubd = Start();
  const uint16_t port = hubd->http_port();
  const int64_t t0 = NowMs();
  auto r = HttpCall(port, "POST", "/v1/reference",
                    R"({"changes":[{"upsert_route":{"destination":"200030","route_code":"SH-HUB","chute":"C12","load_id":"L-SH"}},
                                   {"add_hold":{"parcel_id":"P-HELD","reason":"HOLD_REASON_CUSTOMER_INTERCEPT","note":"customer asked"}}]})",
                    kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  testutil::ScanClient c(hubd->port());
  ASSERT_EQ(c.Hello("DESK-1"), 0);
  testutil::Scanner s("DESK-1");
  c.SendAll({s.ParcelDamaged("P1", 100), s.ParcelDamaged("P2", 100)});  // cases 1 and 2
  ASSERT_EQ(c.WaitForAck(2), 2u);
  ASSERT_EQ(HttpCall(port, "POST", "/v1/exceptions/1:acknowledge", R"({"note":"on the scale"})", kSupervisor).status, 200);
  const int64_t t1 = NowMs();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // resolves come strictly later
  const int64_t t2 = NowMs();
  ASSERT_EQ(HttpCall(port, "POST", "/v1/exceptions/1:resolve", R"({"note":"reweighed"})", kSupervisor).status, 200);
  ASSERT_EQ(HttpCall(port, "POST", "/v1/exceptions/1:resolve", "{}", kSupervisor).status, 409);  // refused: no entry
  ASSERT_EQ(HttpCall(port, "POST", "/v1/exceptions/2:resolve", "{}", kSupervisor).status, 200);
  const int64_t t3 = NowMs();

  const std::vector<std::string> all = {
      "ops upsert_route 200030 []", "ops add_hold P-HELD [customer asked]",
      "sup-li acknowledge 1 [on the scale]", "sup-li resolve 1 [reweighed]", "sup-li resolve 2 []"};
  r = HttpCall(port, "GET", "/v1/audit", "", kViewer);  // any role reads
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = Parse<v1::AuditPage>(r);
  EXPECT_EQ(Printed(page), all);
  EXPECT_EQ(page.next_after(), 0u);
  uint64_t last = 0;
  for (const auto& e : page.entries()) {
    EXPECT_GT(e.hub_seq(), last);  // oldest first, each its own log record
    last = e.hub_seq();
    EXPECT_GE(e.at_ms(), t0);
    EXPECT_LE(e.at_ms(), t3);
  }
  // The case's own history and the trail agree on who and when.
  r = HttpCall(port, "GET", "/v1/exceptions/1", "", kViewer);
  const auto case1 = Parse<v1::ExceptionCase>(r);
  EXPECT_EQ(case1.acknowledged().at_ms(), page.entries(2).at_ms());
  EXPECT_EQ(case1.resolved().at_ms(), page.entries(3).at_ms());

  // Filters: who, time window (on `at`), and both together.
  EXPECT_EQ(Printed(Parse<v1::AuditPage>(HttpCall(port, "GET", "/v1/audit?who=ops", "", kViewer))),
            (std::vector<std::string>{all[0], all[1]}));
  EXPECT_EQ(Printed(Parse<v1::AuditPage>(HttpCall(port, "GET", "/v1/audit?who=nobody", "", kViewer))),
            std::vector<std::string>{});
  EXPECT_EQ(Printed(Parse<v1::AuditPage>(HttpCall(
                port, "GET", "/v1/audit?from_ms=" + std::to_string(t2) + "&to_ms=" + std::to_string(t3), "",
                kViewer))),
            (std::vector<std::string>{all[3], all[4]}));
  EXPECT_EQ(Printed(Parse<v1::AuditPage>(HttpCall(
                port, "GET", "/v1/audit?who=sup-li&to_ms=" + std::to_string(t1), "", kViewer))),
            (std::vector<std::string>{all[2]}));

  // Paging: pages of two, following next_after.
  std::vector<std::string> paged;
  std::string after = "0";
  for (int i = 0; i < 5; ++i) {
    r = HttpCall(port, "GET", "/v1/audit?limit=2&after=" + after, "", kViewer);
    ASSERT_EQ(r.status, 200) << r.body;
    page = Parse<v1::AuditPage>(r);
    for (const auto& e : Printed(page)) paged.push_back(e);
    if (page.next_after() == 0) break;
    EXPECT_EQ(page.next_after(), page.entries(1).hub_seq());
    after = std::to_string(page.next_after());
  }
  EXPECT_EQ(paged, all);

  // Bad requests.
  for (const char* bad : {"/v1/audit?limit=0", "/v1/audit?limit=1001", "/v1/audit?from_ms=yesterday",
                          "/v1/audit?after=-1", "/v1/audit?type=add_hold", "/v1/audit?who="}) {
    r = HttpCall(port, "GET", bad, "", kViewer);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
  }
  EXPECT_EQ(HttpCall(port, "POST", "/v1/audit", "{}", kAdmin).status, 405);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/audit").status, 401);

  // Durable: the trail is in the log, and survives a restart.
  EXPECT_EQ(hubd->Terminate(), 0);
  auto again = Start();
  EXPECT_EQ(Printed(Parse<v1::AuditPage>(HttpCall(again->http_port(), "GET", "/v1/audit", "", kViewer))), all);
  EXPECT_EQ(again->Terminate(), 0);
}

TEST_F(AuditApiTest, RoutesHoldsAndAdvicesInForceReadBack) {
  auto hubd = Start();
  const uint16_t port = hubd->http_port();
  const int64_t t0 = NowMs();
  auto r = HttpCall(port, "POST", "/v1/reference",
                    R"({"changes":[{"upsert_route":{"destination":"D-SH","route_code":"R-SH","chute":"C1","load_id":"L-SH"}},
                                   {"upsert_route":{"destination":"D-BJ","route_code":"R-BJ","chute":"C2","load_id":"L-BJ"}},
                                   {"upsert_route":{"destination":"D-GZ","route_code":"R-GZ","chute":"C3","load_id":"L-GZ"}},
                                   {"vehicle_advice":{"vehicle_id":"V1","route_code":"R-IN","seal_id":"S1","bag_ids":["B2","B1"]}},
                                   {"bag_advice":{"bag_id":"B1","parcel_ids":["P2","P1"]}},
                                   {"add_hold":{"parcel_id":"P9","reason":"HOLD_REASON_SECURITY","note":"x-ray",
                                                "placed_by":"mallory","placed_at_ms":"1"}},
                                   {"add_hold":{"parcel_id":"P3","reason":"HOLD_REASON_CUSTOMER_INTERCEPT"}},
                                   {"add_hold":{"parcel_id":"P5","reason":"HOLD_REASON_SECURITY"}},
                                   {"remove_hold":"P5"}]})",
                    kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  const int64_t t1 = NowMs();

  auto check = [&](uint16_t http) {
    r = HttpCall(http, "GET", "/v1/routes", "", kViewer);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Parse<v1::RoutingTable>(r).ShortDebugString(),
              R"(entries { destination: "D-BJ" route_code: "R-BJ" chute: "C2" load_id: "L-BJ" } )"
              R"(entries { destination: "D-GZ" route_code: "R-GZ" chute: "C3" load_id: "L-GZ" } )"
              R"(entries { destination: "D-SH" route_code: "R-SH" chute: "C1" load_id: "L-SH" })");

    r = HttpCall(http, "GET", "/v1/holds", "", kViewer);
    ASSERT_EQ(r.status, 200) << r.body;
    auto holds = Parse<v1::HoldList>(r);
    ASSERT_EQ(holds.holds_size(), 2) << r.body;  // by parcel id; P5's was lifted
    EXPECT_EQ(holds.holds(0).parcel_id(), "P3");
    EXPECT_EQ(holds.holds(1).parcel_id(), "P9");
    EXPECT_EQ(holds.holds(1).note(), "x-ray");
    for (const auto& h : holds.holds()) {
      EXPECT_EQ(h.placed_by(), "ops") << r.body;  // the token's name, whatever the body said
      EXPECT_GE(h.placed_at_ms(), t0);
      EXPECT_LE(h.placed_at_ms(), t1);
    }

    r = HttpCall(http, "GET", "/v1/advices/vehicles/V1", "", kViewer);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Parse<v1::VehicleAdvice>(r).ShortDebugString(),
              R"(vehicle_id: "V1" route_code: "R-IN" seal_id: "S1" bag_ids: "B1" bag_ids: "B2")");
    r = HttpCall(http, "GET", "/v1/advices/bags/B1", "", kViewer);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Parse<v1::BagAdvice>(r).ShortDebugString(), R"(bag_id: "B1" parcel_ids: "P1" parcel_ids: "P2")");
    r = HttpCall(http, "GET", "/v1/advices/vehicles/V9", "", kViewer);
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("no advice for vehicle V9"), std::string::npos) << r.body;
    r = HttpCall(http, "GET", "/v1/advices/bags/B2", "", kViewer);
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("no advice for bag B2"), std::string::npos) << r.body;
  };
  check(port);

  // Bad requests.
  EXPECT_EQ(HttpCall(port, "POST", "/v1/routes", "{}", kAdmin).status, 405);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/holds?parcel=P9", "", kViewer).status, 400);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/advices/vehicles/" + std::string(65, 'V'), "", kViewer).status, 400);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/advices/vehicles/", "", kViewer).status, 400);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/advices/loads/L1", "", kViewer).status, 404);
  EXPECT_EQ(HttpCall(port, "GET", "/v1/routes").status, 401);

  // What the core recovers (log replay) reads back the same.
  EXPECT_EQ(hubd->Terminate(), 0);
  auto again = Start();
  check(again->http_port());
  EXPECT_EQ(again->Terminate(), 0);
}

TEST_F(AuditApiTest, AHoldInAParcelsTraceShowsWhoPlacedItAndWhen) {
  auto hubd = Start();
  const uint16_t port = hubd->http_port();
  const int64_t t0 = NowMs();
  auto r = HttpCall(port, "POST", "/v1/reference",
                    R"({"changes":[{"add_hold":{"parcel_id":"P-HELD","reason":"HOLD_REASON_CUSTOMER_INTERCEPT","note":"customer asked"}}]})",
                    kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  const int64_t t1 = NowMs();
  testutil::ScanClient c(hubd->port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  testutil::Scanner s("SORTER-1");
  c.Send(s.ParcelSorted("P-HELD", "D-SH"));
  ASSERT_EQ(c.WaitForAck(1), 1u);

  r = HttpCall(port, "GET", "/v1/parcels/P-HELD", "", kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto trace = Parse<v1::ParcelTrace>(r);
  ASSERT_EQ(trace.entries_size(), 2) << r.body;
  ASSERT_TRUE(trace.entries(0).reference().has_add_hold()) << r.body;
  const auto& hold = trace.entries(0).reference().add_hold();
  EXPECT_EQ(hold.placed_by(), "ops");
  EXPECT_GE(hold.placed_at_ms(), t0);
  EXPECT_LE(hold.placed_at_ms(), t1);
  EXPECT_EQ(trace.entries(1).decision().divert(), v1::DIVERT_HELD);
  EXPECT_TRUE(trace.held());
  EXPECT_EQ(hubd->Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
