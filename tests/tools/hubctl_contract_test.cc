// hubctl against a FakeHub, for what a real hubd cannot answer in a test:
// the endpoints not on main yet (audit trail, reference read-back) and what
// a daemon does rarely (an overflowing stream).
// Everything else hubctl does is tested against a real hubd in
// tests/net/hubctl_test.cc.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testutil/scan_client.h"
#include "tools/fake_hub.h"

namespace hub::testing {
namespace {

using testutil::CommandResult;
using testutil::RunCommand;

class HubctlContractTest : public ::testing::Test {
 protected:
  CommandResult Hubctl(const std::string& args) {
    return RunCommand(std::string(HUBCTL_PATH) + " --server " + hub_.server() + " --token t " +
                      args);
  }
  // hubctl `args` exits 0 and prints `want`.
  ::testing::AssertionResult Prints(const std::string& args, const std::string& want) {
    const CommandResult r = Hubctl(args);
    if (r.code == 0 && r.out.find(want) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "hubctl " << args << " exited " << r.code << " printing\n"
           << r.out << "\nand not\n"
           << want;
  }
  // The target of the only request made to `path` (the part before '?').
  std::string TargetOf(const std::string& path) {
    std::string out;
    for (const auto& r : hub_.requests())
      if (r.target.substr(0, r.target.find('?')) == path)
        out += (out.empty() ? "" : " | ") + r.target;
    return out;
  }

  FakeHub hub_;
};

const char kHello[] = "event: hello\ndata: {\"hub_seq\":\"108448\"}\n\n";
const char kCase[] =
    "event: case\nid: 108461\ndata: {\"id\":\"412\",\"type\":\"BAG_SHORT\",\"status\":\"OPEN\","
    "\"hub_seq\":\"108461\",\"event_time_ms\":\"1795723200000\",\"event_time\":\"2026-11-27T00:00:"
    "00.000+08:00\","
    "\"bag_id\":\"B2\"}\n\n";

TEST_F(HubctlContractTest, WatchSaysSoAndExitsNonZeroOnOverflow) {
  hub_.On("GET /v1/exceptions/stream",
          FakeHub::Events({kHello, kCase, "event: overflow\ndata: {}\n\n"}));
  const CommandResult r = Hubctl("exceptions watch --json");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("{\"id\":\"412\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the stream overflowed"), std::string::npos) << r.out;
}

TEST_F(HubctlContractTest, AuditFollowsTheCursorWithAll) {
  hub_.On(
      "GET /v1/audit",
      FakeHub::Json(
          200,
          R"({"entries":[{"hub_seq":"108470","at_ms":"1795723260000","at":"2026-11-27T00:01:00.000+08:00",
             "who":"sup-li","action":"acknowledge","subject":"3","note":"on the scale"}],"next_after":"108470"})"));
  EXPECT_TRUE(
      Prints("audit --who sup-li --since 8h",
             "108470     2026-11-27T00:01:00.000+08:00 sup-li           acknowledge     3"));
  EXPECT_EQ(TargetOf("/v1/audit"), "/v1/audit?limit=100&from=8h&who=sup-li");
  EXPECT_TRUE(
      Prints("audit", "more entries follow: add --after 108470 for the next page, or --all"));
  hub_.On(
      "GET /v1/audit?limit=100&after=108470",
      FakeHub::Json(200, R"({"entries":[{"hub_seq":"108502","at_ms":"1795723300000","who":"sup-li",
             "action":"add_hold","subject":"P-HELD","note":"customer asked"}]})"));
  const CommandResult r = Hubctl("audit --all");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("108470     2026-11-27T00:01:00.000+08:00 sup-li"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(
                "108502     2026-11-26T20:01:40.000Z      sup-li           add_hold        P-HELD"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("more entries follow"), std::string::npos) << r.out;
}

TEST_F(HubctlContractTest, RoutesHoldsAndAdvicesReadBack) {
  hub_.On(
      "GET /v1/routes",
      FakeHub::Json(200, R"({"entries":[{"destination":"200030","route_code":"SH-HUB","chute":"C12",
      "load_id":"L-SH-0930"}]})"));
  hub_.On("GET /v1/holds",
          FakeHub::Json(
              200, R"({"holds":[{"parcel_id":"P-HELD","reason":"HOLD_REASON_CUSTOMER_INTERCEPT",
      "note":"customer asked","placed_by":"sup-li","placed_at_ms":"1795723300000",
      "placed_at":"2026-11-27T00:01:40.000+08:00"}]})"));
  hub_.On("GET /v1/advices/vehicles/V%201",
          FakeHub::Json(200, R"({"vehicle_id":"V 1","route_code":"R-IN","seal_id":"S1",
      "bag_ids":["B1","B2"]})"));
  hub_.On("GET /v1/advices/bags/B1",
          FakeHub::Json(200, R"({"bag_id":"B1","parcel_ids":["P1","P2"]})"));
  EXPECT_TRUE(
      Prints("routes list", "200030               SH-HUB           C12          L-SH-0930"));
  EXPECT_TRUE(Prints("holds list",
                     "P-HELD               CUSTOMER_INTERCEPT   sup-li           "
                     "2026-11-27T00:01:40.000+08:00 customer asked"));
  EXPECT_TRUE(Prints("advice vehicle 'V 1'", "vehicle V 1  route R-IN  seal S1\nbags (2): B1 B2"));
  EXPECT_TRUE(Prints("advice bag B1", "bag B1\nparcels (2): P1 P2"));
  CommandResult r = Hubctl("advice bag NOPE");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("404 no such endpoint"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hub::testing
