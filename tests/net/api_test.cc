// The supervisor API of a real hubd: tokens and roles, reference data
// through the sequencer, exceptions with filters, paging and life cycle.

#include <gtest/gtest.h>

#include <fstream>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::HttpCall;

constexpr const char* kViewer = "viewer-secret-1";
constexpr const char* kSupervisor = "supervisor-secret-1";
constexpr const char* kAdmin = "admin-secret-1";

class ApiTest : public DaemonTest {
 protected:
  std::unique_ptr<DaemonProcess> Start() {
    const std::string config = (dir_ / "hubd.toml").string();
    std::ofstream(config) << "[[api.tokens]]\nname = \"wall\"\ntoken = \"" << kViewer
                          << "\"\nrole = \"viewer\"\n"
                          << "[[api.tokens]]\nname = \"sup-li\"\ntoken = \"" << kSupervisor
                          << "\"\nrole = \"supervisor\"\n"
                          << "[[api.tokens]]\nname = \"ops\"\ntoken = \"" << kAdmin
                          << "\"\nrole = \"admin\"\n";
    return std::make_unique<DaemonProcess>(db_, std::vector<std::string>{"--config", config});
  }
};

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

}  // namespace
}  // namespace hub::testing
