// hubctl end to end against a real hubd, including its error exits.

#include <gtest/gtest.h>

#include <fstream>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;

using CliRun = testutil::CommandResult;

class HubctlTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    const std::string config = (dir_ / "hubd.toml").string();
    std::ofstream(config) << "[[api.tokens]]\nname = \"sup-li\"\ntoken = \"supervisor-secret\"\n"
                             "role = \"supervisor\"\n[[api.tokens]]\nname = \"ops\"\n"
                             "token = \"admin-secret-1\"\nrole = \"admin\"\n";
    hubd_ = std::make_unique<DaemonProcess>(db_, std::vector<std::string>{"--config", config});
  }

  CliRun Hubctl(const std::string& args, const std::string& token = "admin-secret-1") {
    std::string cmd = std::string(HUBCTL_PATH) + " --server 127.0.0.1:" +
                      std::to_string(hubd_->http_port()) +
                      (token.empty() ? "" : " --token " + token) + " " + args;
    return testutil::RunCommand(cmd);
  }

  // `args` first, then --server and --token: global flags after the subcommand.
  CliRun HubctlFlagsLast(const std::string& args, const std::string& token = "admin-secret-1") {
    return testutil::RunCommand(std::string(HUBCTL_PATH) + " " + args + " --server 127.0.0.1:" +
                                std::to_string(hubd_->http_port()) + " --token " + token);
  }

  // Sends the events as one scanner and waits until all are acknowledged.
  void Scan(const std::string& scanner, const std::vector<v1::ScanEvent>& events) {
    testutil::ScanClient c(hubd_->port());
    ASSERT_EQ(c.Hello(scanner), 0);
    c.SendAll(events);
    ASSERT_EQ(c.WaitForAck(events.size()), events.size());
  }

  std::unique_ptr<DaemonProcess> hubd_;
};

TEST_F(HubctlTest, LoadsRoutesAndHoldsThenWorksTheExceptionList) {
  const std::string csv = (dir_ / "routes.csv").string();
  std::ofstream(csv) << "destination,route_code,chute,load_id\nD-SH,R-SH,C1,L-SH\nD-BJ,R-BJ,C2,L-BJ\n";
  CliRun r = Hubctl("routes load " + csv);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("applied 2 change(s)"), std::string::npos) << r.out;
  ASSERT_EQ(Hubctl("holds add P-HELD --reason security --note 'x-ray'").code, 0);

  testutil::ScanClient c(hubd_->port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  testutil::Scanner s("SORTER-1");
  c.SendAll({s.ParcelSorted("P1", "D-SH"), s.ParcelSorted("P-HELD", "D-SH"),
             s.ParcelSorted("P2", "D-NOWHERE")});
  std::vector<v1::ServerFrame> frames;
  ASSERT_EQ(c.WaitForAck(3, &frames), 3u);
  EXPECT_EQ(frames.at(0).decision().chute(), "C1");

  r = Hubctl("exceptions list --status open");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("HELD_PARCEL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NO_ROUTE"), std::string::npos) << r.out;
  r = Hubctl("--json exceptions list --type no_route");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"parcel_id\":\"P2\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("HELD_PARCEL"), std::string::npos) << r.out;

  r = Hubctl("exceptions resolve 1 --note 'released by security'", "supervisor-secret");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("RESOLVED"), std::string::npos) << r.out;
  r = Hubctl("summary");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("HELD_PARCEL"), std::string::npos) << r.out;
  EXPECT_EQ(Hubctl("holds remove P-HELD").code, 0);
  EXPECT_EQ(hubd_->Terminate(), 0);
}

TEST_F(HubctlTest, ErrorsExitNonZeroWithTheReason) {
  CliRun r = Hubctl("exceptions resolve 1 --note x", "supervisor-secret");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("404 no case 1"), std::string::npos) << r.out;
  r = Hubctl("exceptions list", "wrong-token");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("401 unknown token"), std::string::npos) << r.out;
  r = Hubctl("routes load /no/such/file.csv");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("cannot read"), std::string::npos) << r.out;
  EXPECT_EQ(Hubctl("holds add P1 --reason bored").code, 2);
  EXPECT_NE(Hubctl("exceptions frobnicate").code, 0);  // usage
  // A daemon that is not there.
  std::string cmd = std::string(HUBCTL_PATH) + " --server 127.0.0.1:1 summary >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_EQ(hubd_->Terminate(), 0);
}

TEST_F(HubctlTest, TracesAParcelAndShowsItsBagVehicleAndLoad) {
  const std::string csv = (dir_ / "routes.csv").string();
  std::ofstream(csv) << "D-SH,R-SH,C1,L-SH\n";
  ASSERT_EQ(Hubctl("routes load " + csv).code, 0);
  testutil::ScanClient c(hubd_->port());
  ASSERT_EQ(c.Hello("HUB-1"), 0);
  testutil::Scanner s("HUB-1");
  c.SendAll({s.VehicleArrived("V1", "S1"), s.BagUnloaded("B1", "V1", 2),
             s.ParcelUnbagged("P1", "B1"), s.ParcelSorted("P1", "D-SH"), s.BagCreated("OB1", "R-SH"),
             s.ParcelBagged("P1", "OB1"), s.BagClosed("OB1", 1),
             s.LoadOpened("L-SH", "TRUCK-9", "R-SH"), s.BagLoaded("OB1", "L-SH")});
  ASSERT_EQ(c.WaitForAck(9), 9u);

  CliRun r = Hubctl("trace parcel P1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("parcel P1  destination D-SH  load L-SH  from bag B1  into bag OB1"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-> route R-SH chute C1 load L-SH"), std::string::npos) << r.out;
  r = Hubctl("bag B1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("label 2  scanned 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("members: P1"), std::string::npos) << r.out;
  r = Hubctl("vehicle V1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("B1                    2        1"), std::string::npos) << r.out;
  r = Hubctl("--json load L-SH");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"parcel_ids\":[\"P1\"]"), std::string::npos) << r.out;
  r = Hubctl("load L-SH");
  EXPECT_NE(r.out.find("OB1              R-SH         yes          1        1  P1"),
            std::string::npos) << r.out;

  r = Hubctl("trace parcel NOBODY");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("404 no record of parcel NOBODY"), std::string::npos) << r.out;
  EXPECT_EQ(Hubctl("trace parcel").code, 2);
}

// Regression (issue 14): a Body() helper read the string `remove_hold` of a
// ReferenceChange as a message and protobuf aborted (exit 134).
TEST_F(HubctlTest, TraceOfAParcelWhoseHoldWasRemovedShowsTheRemoval) {
  ASSERT_EQ(Hubctl("holds add P1 --reason security --note x-ray").code, 0);
  ASSERT_EQ(Hubctl("holds remove P1").code, 0);
  testutil::Scanner s("SORTER-1");
  Scan("SORTER-1", {s.ParcelSorted("P1", "D-SH")});
  CliRun r = Hubctl("trace parcel P1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("reference remove_hold \"P1\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reference add_hold { parcel_id: \"P1\""), std::string::npos) << r.out;
}

TEST_F(HubctlTest, GlobalFlagsAreAcceptedAfterTheSubcommand) {
  testutil::Scanner s("DESK-1");
  Scan("DESK-1", {s.ParcelDamaged("P0", 100)});
  CliRun r = HubctlFlagsLast("exceptions list --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("{\"exceptions\":[{\"id\":\"1\"", 0), 0u) << r.out;
  r = HubctlFlagsLast("summary --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"type\":\"DAMAGED\""), std::string::npos) << r.out;
  r = HubctlFlagsLast("exceptions get 1 --data-dir /nonexistent --json");
  ASSERT_EQ(r.code, 0) << r.out;
  // A flag in the middle, and a global flag that only the top level knows.
  r = testutil::RunCommand(std::string(HUBCTL_PATH) + " exceptions --json list --token admin-secret-1"
                           " --server 127.0.0.1:" + std::to_string(hubd_->http_port()));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"parcel_id\":\"P0\""), std::string::npos) << r.out;
}

TEST_F(HubctlTest, ExceptionsTableSaysHowToGetTheNextPageAndAllFollowsTheCursor) {
  testutil::Scanner s("DESK-1");
  Scan("DESK-1", {s.ParcelDamaged("P1", 100), s.ParcelDamaged("P2", 100), s.ParcelDamaged("P3", 100),
                  s.ParcelDamaged("P4", 100), s.ParcelDamaged("P5", 100)});
  CliRun r = Hubctl("exceptions list --limit 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("P2"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("P3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("more cases follow: add --after 2 for the next page, or --all"),
            std::string::npos) << r.out;
  r = Hubctl("exceptions list --limit 2 --after 4");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("P5"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("P4"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("more cases follow"), std::string::npos) << r.out;
  r = Hubctl("exceptions list --limit 2 --all");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* p : {"P1", "P2", "P3", "P4", "P5"}) EXPECT_NE(r.out.find(p), std::string::npos) << p;
  EXPECT_EQ(r.out.find("more cases follow"), std::string::npos) << r.out;
}

TEST_F(HubctlTest, ExceptionGetShowsStationIdsCountsAndWhoDidWhatWhen) {
  ASSERT_EQ(testutil::HttpCall(hubd_->http_port(), "POST", "/v1/reference",
                               R"({"changes":[{"bag_advice":{"bag_id":"B1","parcel_ids":["P1","P2","P3"]}}]})",
                               "admin-secret-1").status, 200);
  testutil::Scanner s("TABLE-1", "UNBAG-3");
  Scan("TABLE-1", {s.BagUnloaded("B1", "V1", 3), s.BagOpened("B1"), s.ParcelUnbagged("P1", "B1"),
                   s.ParcelUnbagged("P9", "B1"), s.BagEmptied("B1")});
  CliRun r = Hubctl("--json exceptions list --type bag_short");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto at = r.out.find("\"id\":\"");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string id = r.out.substr(at + 6, r.out.find('"', at + 6) - at - 6);
  ASSERT_EQ(Hubctl("exceptions ack " + id + " --note 'counting again'", "supervisor-secret").code, 0);
  ASSERT_EQ(Hubctl("exceptions resolve " + id + " --note 'P2 and P3 on the floor'", "supervisor-secret").code, 0);
  r = Hubctl("exceptions get " + id);
  ASSERT_EQ(r.code, 0) << r.out;
  for (const std::string want :
       {"type         BAG_SHORT", "status       RESOLVED", "station      UNBAG-3", "scanner      TABLE-1",
        "bag          B1", "expected     3", "actual       2", "missing      P2 P3",
        "unexpected   P9", "acknowledged by sup-li at 20", "note \"counting again\"",
        "resolved     by sup-li at 20", "note \"P2 and P3 on the floor\""})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
}

// Regression (issue 14): an Excel "CSV UTF-8" file's byte-order mark became
// part of a route, spaces were kept and quoted fields refused.
TEST_F(HubctlTest, RoutesLoadReadsAnExcelCsvFile) {
  const std::string csv = (dir_ / "routes.csv").string();
  std::ofstream(csv) << "\xEF\xBB\xBF" "destination,route_code,chute,load_id\r\n"
                        " D-SH , R-SH ,\"C1, left\",L-SH\r\n";
  CliRun r = Hubctl("routes load " + csv);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("applied 1 change(s)"), std::string::npos) << r.out;
  testutil::ScanClient c(hubd_->port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  testutil::Scanner s("SORTER-1");
  c.SendAll({s.ParcelSorted("P1", "D-SH")});
  std::vector<v1::ServerFrame> frames;
  ASSERT_EQ(c.WaitForAck(1, &frames), 1u);
  EXPECT_EQ(frames.at(0).decision().route_code(), "R-SH");
  EXPECT_EQ(frames.at(0).decision().chute(), "C1, left");

  std::ofstream(csv, std::ios::trunc) << "D-SH,R-SH\nD-BJ,\"R-BJ\" x\n";
  r = Hubctl("routes load " + csv);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find(csv + ": line 2: text after the closing quote of field 2"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hub::testing
