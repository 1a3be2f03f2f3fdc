// hubctl end to end against a real hubd, including its error exits.

#include <gtest/gtest.h>

#include <fstream>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
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

}  // namespace
}  // namespace hub::testing
