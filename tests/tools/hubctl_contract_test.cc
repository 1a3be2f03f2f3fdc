// hubctl against the answers docs/api.md shows, served by a FakeHub: the
// requests it makes (parameters, percent-encoding, bodies) and what it
// prints for them, including what a daemon does rarely (an overflowing
// stream, a bulk action with refusals).

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

const char kCases[] =
    R"({"exceptions":[
  {"id":"1","type":"DAMAGED","status":"OPEN","hub_seq":"1","event_time_ms":"1795723200000",
   "event_time":"2026-11-27T00:00:00.000+08:00","scanner_id":"DESK-1","station":"ST-DESK-1","parcel_id":"P0",
   "detail":"weighed 100 g","a_member_from_the_future":{"x":[1,2]}},
  {"id":"2","type":"DAMAGED","status":"OPEN","hub_seq":"2","event_time_ms":"1767225600250",
   "scanner_id":"DESK-1","station":"ST-DESK-1","parcel_id":"P1","detail":"weighed 100 g"}],
 "next_before":"1"})";

TEST_F(HubctlContractTest, TablesShowTheAnswersIsoTimesElseUtcAndIgnoreUnknownMembers) {
  hub_.On("GET /v1/exceptions", FakeHub::Json(200, kCases));
  EXPECT_TRUE(
      Prints("exceptions list",
             "1        DAMAGED              OPEN          2026-11-27T00:00:00.000+08:00 P0"));
  EXPECT_TRUE(
      Prints("exceptions list",
             "2        DAMAGED              OPEN          2026-01-01T00:00:00.250Z      P1"));
  EXPECT_EQ(Hubctl("exceptions list").out.find("1795723200000"), std::string::npos);
  // --json passes the answer on as hubd sent it, ISO siblings included.
  EXPECT_TRUE(Prints("exceptions list --json", "\"event_time\":\"2026-11-27T00:00:00.000+08:00\""));
}

TEST_F(HubctlContractTest, NewestFirstPagesWithBeforeAndSaysHow) {
  hub_.On("GET /v1/exceptions", FakeHub::Json(200, kCases));
  CommandResult r = Hubctl("exceptions list --newest --limit 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(TargetOf("/v1/exceptions"), "/v1/exceptions?limit=2&order=newest");
  EXPECT_NE(r.out.find("older cases follow: add --before 1 for the next page, or --all"),
            std::string::npos)
      << r.out;
  r = Hubctl("exceptions list --newest --before 5 --status open");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(
      TargetOf("/v1/exceptions").find("/v1/exceptions?limit=100&status=open&order=newest&before=5"),
      std::string::npos)
      << TargetOf("/v1/exceptions");
  EXPECT_EQ(Hubctl("exceptions list --before 5").code, 2);
}

TEST_F(HubctlContractTest, TimeFlagsPassIsoAndRelativeTimesPercentEncoded) {
  hub_.On("GET /v1/exceptions", FakeHub::Json(200, R"({"exceptions":[]})"));
  CommandResult r =
      Hubctl("exceptions list --since 2026-11-27T06:00:00+08:00 --until 30m --id 'V 1'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(TargetOf("/v1/exceptions"),
            "/v1/exceptions?limit=100&id=V%201&from=2026-11-27T06%3A00%3A00%2B08%3A00&to=30m");
}

TEST_F(HubctlContractTest, BadTimesAreRefusedBeforeAnyRequest) {
  for (const char* args :
       {"exceptions list --since yesterday", "exceptions list --until 2026-13-01",
        "report --since 8x", "audit --since '2026-11-27 06:00'"}) {
    CommandResult r = Hubctl(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("is not a time: give ISO 8601"), std::string::npos) << args << "\n"
                                                                             << r.out;
  }
  EXPECT_TRUE(hub_.requests().empty());
}

const char kReport[] = R"({"from_ms":"1795730400000","from":"2026-11-27T06:00:00.000+08:00",
 "to_ms":"1795759200000","to":"2026-11-27T14:00:00.000+08:00",
 "by_type":[{"type":"BAG_SHORT","open":"3","resolved":"1"},{"type":"LEFT_BEHIND","open":"12"}],
 "raised":"16",
 "per_hour":[{"hour_ms":"1795730400000","hour":"2026-11-27T06:00:00.000+08:00","raised":"2"},
             {"hour_ms":"1795734000000","hour":"2026-11-27T07:00:00.000+08:00","raised":"0"}],
 "oldest_open":{"id":"9","type":"BAG_SHORT","status":"OPEN","event_time_ms":"1795730500000",
                "event_time":"2026-11-27T06:01:40.000+08:00"},"open_now":"15",
 "left_behind":[{"load_id":"L-SH-0930","parcels":"12","parcel_ids":["P1","P7"]}],
 "missing_bags":[{"vehicle_id":"V7","bag_ids":["B70","B71"]}]})";

TEST_F(HubctlContractTest, ReportPrintsATable) {
  hub_.On("GET /v1/report", FakeHub::Json(200, kReport));
  CommandResult r = Hubctl("report --since 8h");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(TargetOf("/v1/report"), "/v1/report?from=8h");
  for (const std::string want :
       {"cases raised from 2026-11-27T06:00:00.000+08:00 to 2026-11-27T14:00:00.000+08:00: 16",
        "open now (any time): 15  oldest open: case 9 BAG_SHORT raised "
        "2026-11-27T06:01:40.000+08:00",
        "BAG_SHORT                   3             0         1",
        "2026-11-27T07:00:00.000+08:00        0", "L-SH-0930                     12  P1 P7",
        "V7                   B70 B71"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
}

TEST_F(HubctlContractTest, ReportCsvHasTheFourSections) {
  hub_.On("GET /v1/report", FakeHub::Json(200, kReport));
  CommandResult r = Hubctl("report --csv --since 2026-11-27T06:00 --until 2026-11-27T14:00");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(TargetOf("/v1/report"), "/v1/report?from=2026-11-27T06%3A00&to=2026-11-27T14%3A00");
  EXPECT_EQ(r.out,
            "type,open,acknowledged,resolved\nBAG_SHORT,3,0,1\nLEFT_BEHIND,12,0,0\n\n"
            "hour,raised\n2026-11-27T06:00:00.000+08:00,2\n2026-11-27T07:00:00.000+08:00,0\n\n"
            "load,left_behind\nL-SH-0930,12\n\nvehicle,missing_bags\nV7,B70 B71\n");
}

const char kBulk[] = R"({"results":[{"id":"3","status":200,"case":{"id":"3","status":"RESOLVED"}},
            {"id":"9","status":409,"error":"case 9 is already RESOLVED"}],"applied":1})";

TEST_F(HubctlContractTest, ResolvingManyCasesUsesTheBulkActionAndFailsIfAnyWasRefused) {
  hub_.On("POST /v1/exceptions:resolve", FakeHub::Json(200, kBulk));
  CommandResult r = Hubctl("exceptions resolve 3 9 --note recounted");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("3        200  RESOLVED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("9        409  case 9 is already RESOLVED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("resolved 1 of 2 case(s)"), std::string::npos) << r.out;
  ASSERT_EQ(hub_.requests().size(), 1u);
  EXPECT_EQ(hub_.requests()[0].body, R"({"ids":["3","9"],"note":"recounted"})");
  EXPECT_EQ(hub_.requests()[0].authorization, "Bearer t");

  hub_.On(
      "POST /v1/exceptions:acknowledge",
      FakeHub::Json(
          200,
          R"({"results":[{"id":"3","status":200,"case":{"id":"3","status":"ACKNOWLEDGED"}},)"
          R"({"id":"4","status":200,"case":{"id":"4","status":"ACKNOWLEDGED"}}],"applied":2})"));
  r = Hubctl("exceptions ack 3 4");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("acknowledged 2 of 2 case(s)"), std::string::npos) << r.out;
  EXPECT_EQ(Hubctl("exceptions ack 3 x4").code, 2);
}

const char kHello[] = "event: hello\ndata: {\"hub_seq\":\"108448\"}\n\n";
const char kCase[] =
    "event: case\nid: 108461\ndata: {\"id\":\"412\",\"type\":\"BAG_SHORT\",\"status\":\"OPEN\","
    "\"hub_seq\":\"108461\",\"event_time_ms\":\"1795723200000\",\"event_time\":\"2026-11-27T00:00:"
    "00.000+08:00\","
    "\"bag_id\":\"B2\"}\n\n";

TEST_F(HubctlContractTest, WatchPrintsALinePerCaseAndExitsZeroOnInterrupt) {
  hub_.On("GET /v1/exceptions/stream",
          FakeHub::Events({kHello, ": keep-alive\n\n", kCase}, /*hold_open=*/true));
  const std::string out = ::testing::TempDir() + "hubctl-watch-" + std::to_string(::getpid());
  // In the background (where a shell leaves SIGINT ignored), then interrupted
  // once the case is printed.
  CommandResult r = RunCommand("( " + std::string(HUBCTL_PATH) + " --server " + hub_.server() +
                               " exceptions watch --type bag_short >" + out +
                               " 2>&1 & pid=$!; for i in $(seq 100); do grep -q B2 " + out +
                               " && break; sleep 0.1; done; kill -INT $pid;"
                               " wait $pid; echo exit=$? )");
  std::ifstream in(out);
  std::stringstream printed;
  printed << in.rdbuf();
  std::filesystem::remove(out);
  EXPECT_NE(r.out.find("exit=0"), std::string::npos) << r.out << printed.str();
  EXPECT_NE(printed.str().find("watching from hub_seq 108448"), std::string::npos) << printed.str();
  EXPECT_NE(printed.str().find(
                "412      BAG_SHORT            OPEN          2026-11-27T00:00:00.000+08:00"),
            std::string::npos)
      << printed.str();
  EXPECT_EQ(TargetOf("/v1/exceptions/stream"), "/v1/exceptions/stream?type=BAG_SHORT");
}

TEST_F(HubctlContractTest, WatchSaysSoAndExitsNonZeroOnOverflow) {
  hub_.On("GET /v1/exceptions/stream",
          FakeHub::Events({kHello, kCase, "event: overflow\ndata: {}\n\n"}));
  CommandResult r = Hubctl("exceptions watch --json");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("{\"id\":\"412\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the stream overflowed"), std::string::npos) << r.out;
  // A stream that simply ends: the daemon went away.
  hub_.On("GET /v1/exceptions/stream", FakeHub::Events({kHello}));
  r = Hubctl("exceptions watch");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("hubd ended the stream"), std::string::npos) << r.out;
  hub_.On("GET /v1/exceptions/stream", FakeHub::Json(503, R"({"error":"too many streams"})"));
  r = Hubctl("exceptions watch");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("503 too many streams"), std::string::npos) << r.out;
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
