// hubctl end to end against a real hubd, including its error exits: the
// supervisor's desk (report, watch with its ends, bulk actions,
// newest-first paging, time flags, audit, reference read-back) with cases
// the test raises by scanning, so each line hubctl prints is one the daemon
// really answered. No stand-in server: even an overflowing stream is
// provoked for real (a watch stopped with SIGSTOP while cases pour in).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;

using CliRun = testutil::CommandResult;

// hubctl started in the background, its stdout and stderr in one file, for
// the commands that run until they are stopped (exceptions watch).
// hubctl in the background.
class BackgroundHubctl : public testutil::BackgroundCommand {
 public:
  BackgroundHubctl(const std::vector<std::string>& args, std::string out)
      : BackgroundCommand(WithBinary(args), std::move(out)) {}

 private:
  static std::vector<std::string> WithBinary(const std::vector<std::string>& args) {
    std::vector<std::string> all = {HUBCTL_PATH};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }
};

class HubctlTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    const std::string config = (dir_ / "hubd.toml").string();
    std::ofstream(config) << "[[api.tokens]]\nname = \"sup-li\"\ntoken = \"supervisor-secret\"\n"
                             "role = \"supervisor\"\n[[api.tokens]]\nname = \"ops\"\n"
                             "token = \"admin-secret-1\"\nrole = \"admin\"\n";
    // A zone east of UTC, so a table's ISO time with its offset is the hub's
    // and not the machine's.
    hubd_ = std::make_unique<DaemonProcess>(
        db_, std::vector<std::string>{"--config", config, "--time-zone", "Asia/Shanghai"});
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

  // `scanner` reports parcels P1..Pn damaged, 250 ms apart from
  // 2026-01-01T08:00:00.250+08:00: cases 1..n when nothing came before.
  void ReportDamaged(const std::string& scanner, int n) {
    testutil::Scanner s(scanner);
    std::vector<v1::ScanEvent> events;
    for (int i = 1; i <= n; ++i) events.push_back(s.ParcelDamaged("P" + std::to_string(i), 100));
    Scan(scanner, events);
  }

  // --server and --token, for a hubctl run in the background.
  std::vector<std::string> Args(const std::string& token = "admin-secret-1") const {
    return {"--server", "127.0.0.1:" + std::to_string(hubd_->http_port()), "--token", token};
  }

  std::unique_ptr<DaemonProcess> hubd_;
};

// The lines of `out` that hold `needle`, in order, each with its runs of
// spaces made one: "2 DAMAGED OPEN 2026-01-01T08:00:00.500+08:00 P-A weighed 100 g\n".
std::string LinesWith(const std::string& out, const std::string& needle) {
  std::istringstream in(out);
  std::string line, found;
  while (std::getline(in, line)) {
    if (line.find(needle) == std::string::npos) continue;
    std::istringstream words(line);
    std::string word, squeezed;
    while (words >> word) squeezed += (squeezed.empty() ? "" : " ") + word;
    found += squeezed + "\n";
  }
  return found;
}

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
  ReportDamaged("DESK-1", 5);
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

// A shift with known cases, from 08:00 hub time (Asia/Shanghai) on
// 2026-01-01: a damaged parcel (resolved later), a load that leaves two
// parcels routed to it behind, a vehicle unloaded without one advised bag,
// and an hour later another damaged parcel.
TEST_F(HubctlTest, ReportCountsTheShiftsCasesByTypeHourLoadAndVehicle) {
  const std::string csv = (dir_ / "routes.csv").string();
  std::ofstream(csv) << "D-SH,R-SH,C1,L-SH\n";
  ASSERT_EQ(Hubctl("routes load " + csv).code, 0);
  ASSERT_EQ(testutil::HttpCall(hubd_->http_port(), "POST", "/v1/reference",
                               R"({"changes":[{"vehicle_advice":{"vehicle_id":"V1","seal_id":"S1","bag_ids":["B1","B2"]}}]})",
                               "admin-secret-1").status, 200);
  testutil::Scanner s("HUB-1");
  std::vector<v1::ScanEvent> events = {
      s.ParcelDamaged("P8", 100),  // 08:00:00.250, case 1
      s.ParcelSorted("P1", "D-SH"), s.ParcelSorted("P2", "D-SH"), s.ParcelSorted("P3", "D-SH"),
      s.BagCreated("OB1", "R-SH"), s.ParcelBagged("P1", "OB1"), s.BagClosed("OB1", 1),
      s.LoadOpened("L-SH", "TRUCK-9", "R-SH"), s.BagLoaded("OB1", "L-SH"),
      s.LoadDeparted("L-SH", "SEAL-77"),  // 08:00:02.500, P2 and P3 left behind: cases 2, 3
      s.VehicleArrived("V1", "S1"), s.BagUnloaded("B1", "V1"),
      s.VehicleUnloaded("V1")};  // B2 missing: case 4
  s.Wait(3'600'000);
  events.push_back(s.ParcelDamaged("P9", 100));  // 09:00:03.500, case 5
  Scan("HUB-1", events);
  ASSERT_EQ(Hubctl("exceptions resolve 1 --note found", "supervisor-secret").code, 0);

  CliRun r = Hubctl("report --since 2026-01-01T08:00:00+08:00 --until 2026-01-01T09:59:59+08:00");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out,
            "cases raised from 2026-01-01T08:00:00.000+08:00 to 2026-01-01T09:59:59.000+08:00: 5\n"
            "open now (any time): 4  oldest open: case 2 LEFT_BEHIND raised 2026-01-01T08:00:02.500+08:00\n"
            "\n"
            "TYPE                     OPEN  ACKNOWLEDGED  RESOLVED\n"
            "BAGS_MISSING                1             0         0\n"
            "LEFT_BEHIND                 2             0         0\n"
            "DAMAGED                     1             0         1\n"
            "\n"
            "HOUR                            RAISED\n"
            "2026-01-01T08:00:00.000+08:00        4\n"
            "2026-01-01T09:00:00.000+08:00        1\n"
            "\n"
            "LOAD                 LEFT_BEHIND  PARCELS\n"
            "L-SH                           2  P2 P3\n"
            "\n"
            "VEHICLE              MISSING_BAGS\n"
            "V1                   B2\n");

  r = Hubctl("report --csv --since 2026-01-01T08:00 --until 2026-01-01T08:59:59");  // hub time
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out,
            "type,open,acknowledged,resolved\nBAGS_MISSING,1,0,0\nLEFT_BEHIND,2,0,0\nDAMAGED,0,0,1\n\n"
            "hour,raised\n2026-01-01T08:00:00.000+08:00,4\n\n"
            "load,left_behind\nL-SH,2\n\nvehicle,missing_bags\nV1,B2\n");
}

TEST_F(HubctlTest, WatchPrintsALinePerCaseRaisedOrChangedWhileItRunsAndExitsZeroOnInterrupt) {
  testutil::Scanner s("DESK-1");
  Scan("DESK-1", {s.ParcelDamaged("P-BEFORE", 100)});  // case 1, before the watch
  std::vector<std::string> args = Args();
  args.insert(args.end(), {"exceptions", "watch", "--type", "damaged"});
  BackgroundHubctl watch(args, (dir_ / "watch.out").string());
  ASSERT_TRUE(watch.WaitFor("watching from hub_seq")) << watch.Output();
  testutil::ScanClient c(hubd_->port());
  ASSERT_EQ(c.Hello("DESK-1"), 1);
  c.SendAll({s.ParcelDamaged("P-A", 100), s.ParcelSorted("", ""), s.ParcelDamaged("P-B", 100)});
  ASSERT_EQ(c.WaitForAck(4), 4u);  // cases 2 (DAMAGED), 3 (NO_READ), 4 (DAMAGED)
  ASSERT_TRUE(watch.WaitFor("P-B")) << watch.Output();
  ASSERT_EQ(Hubctl("exceptions ack 2 --note weighing", "supervisor-secret").code, 0);
  ASSERT_TRUE(watch.WaitFor("ACKNOWLEDGED")) << watch.Output();
  EXPECT_EQ(watch.Stop(SIGINT), 0) << watch.Output();
  const std::string out = watch.Output();
  EXPECT_EQ(LinesWith(out, "DAMAGED"),
            "2 DAMAGED OPEN 2026-01-01T08:00:00.500+08:00 P-A weighed 100 g\n"
            "4 DAMAGED OPEN 2026-01-01T08:00:01.000+08:00 P-B weighed 100 g\n"
            "2 DAMAGED ACKNOWLEDGED 2026-01-01T08:00:00.500+08:00 P-A weighed 100 g\n")
      << out;
  EXPECT_EQ(out.find("P-BEFORE"), std::string::npos) << out;
  EXPECT_EQ(out.find("NO_READ"), std::string::npos) << out;
}

TEST_F(HubctlTest, WatchExitsThreeWhenHubdStops) {
  std::vector<std::string> args = Args();
  args.insert(args.end(), {"exceptions", "watch"});
  BackgroundHubctl watch(args, (dir_ / "watch.out").string());
  ASSERT_TRUE(watch.WaitFor("watching from hub_seq 0")) << watch.Output();
  EXPECT_EQ(hubd_->Terminate(), 0);
  EXPECT_EQ(watch.Wait(), 3) << watch.Output();
  EXPECT_NE(watch.Output().find("hubd ended the stream"), std::string::npos) << watch.Output();
}

// GET /v1/exceptions/stream`query` on a raw socket that reads no further
// than the answer's status line (and, for a 200, hubd's hello: subscribed).
struct RawStream {
  std::unique_ptr<boost::asio::ip::tcp::socket> socket;
  int status = 0;  // 0: no answer within 5 s
};
RawStream OpenRawStream(boost::asio::io_context& io, uint16_t port, const std::string& query = "") {
  RawStream out{std::make_unique<boost::asio::ip::tcp::socket>(io)};
  auto& s = *out.socket;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  const timeval five_s{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &five_s, sizeof(five_s));
  boost::asio::write(s, boost::asio::buffer("GET /v1/exceptions/stream" + query +
                                            " HTTP/1.1\r\nHost: hub\r\n"
                                            "Authorization: Bearer admin-secret-1\r\n\r\n"));
  boost::asio::streambuf answer;
  boost::system::error_code ec;
  boost::asio::read_until(s, answer, "\r\n", ec);
  if (ec) return out;
  std::istream line(&answer);
  std::string version;
  line >> version >> out.status;
  if (out.status == 200 && boost::asio::read_until(s, answer, "event: hello", ec) == 0) out.status = 0;
  return out;
}

// A watch that stops reading (SIGSTOP) while cases pour in falls more than
// 4 MiB behind: hubd sends `event: overflow` and drops it, and hubctl, once
// it reads on, says so and exits 1. How much the loopback sockets hold
// besides varies (seen over 12 MB), so cases are sent until hubd has dropped
// the watch: 63 streams that hear nothing (a type never raised) fill hubd's
// 64 with it, and a stream hubd lets in again says a place came free.
TEST_F(HubctlTest, WatchThatFallsTooFarBehindIsDroppedAndExitsOne) {
  std::vector<std::string> args = Args();
  args.insert(args.end(), {"exceptions", "watch", "--json"});
  BackgroundHubctl watch(args, (dir_ / "watch.out").string());
  ASSERT_TRUE(watch.WaitFor("watching from hub_seq")) << watch.Output();
  watch.Signal(SIGSTOP);
  boost::asio::io_context io;
  std::vector<RawStream> quiet;
  for (int i = 0; i < 63; ++i) {
    quiet.push_back(OpenRawStream(io, hubd_->http_port(), "?type=SEAL_BROKEN"));
    ASSERT_EQ(quiet.back().status, 200) << "stream " << i;
  }
  testutil::ScanClient c(hubd_->port());
  ASSERT_EQ(c.Hello("DESK-1"), 0);
  testutil::Scanner s("DESK-1");
  bool dropped = false;
  for (int chunk = 0; chunk < 60 && !dropped; ++chunk) {  // at most 300,000 cases, about 80 MB
    std::vector<v1::ScanEvent> events;
    for (int i = 0; i < 5000; ++i) events.push_back(s.ParcelDamaged("P" + std::to_string(s.seq()), 100));
    c.SendAll(events);
    ASSERT_EQ(c.WaitForAck(s.seq()), s.seq());
    dropped = OpenRawStream(io, hubd_->http_port(), "?type=SEAL_BROKEN").status == 200;
  }
  EXPECT_TRUE(dropped) << "hubd still streams to a watch " << s.seq() << " cases behind";
  watch.Signal(SIGCONT);
  EXPECT_EQ(watch.Wait(), 1) << watch.Output().substr(0, 2000);
  const std::string out = watch.Output();
  EXPECT_NE(out.find("hubctl: the stream overflowed"), std::string::npos) << out.substr(out.size() - 2000);
  EXPECT_NE(out.find(R"({"id":"1","type":"DAMAGED")"), std::string::npos) << out.substr(0, 2000);
}

TEST_F(HubctlTest, WatchBeyondTheStreamLimitExitsOneWithTheReason) {
  boost::asio::io_context io;
  std::vector<RawStream> streams;
  for (int i = 0; i < 64; ++i) {  // docs/api.md: at most 64 streams at once
    streams.push_back(OpenRawStream(io, hubd_->http_port()));
    ASSERT_EQ(streams.back().status, 200) << "stream " << i;
  }
  // A watch let in would run until stopped: `timeout` ends it (124).
  const CliRun r = testutil::RunCommand("timeout 10 " + std::string(HUBCTL_PATH) + " --server 127.0.0.1:" +
                                        std::to_string(hubd_->http_port()) + " --token admin-secret-1 exceptions watch");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("hubctl: 503 too many streams open (at most 64)"), std::string::npos) << r.out;
}

TEST_F(HubctlTest, ResolvingManyCasesPrintsEachOutcomeAndFailsIfOneWasRefused) {
  ReportDamaged("DESK-1", 3);
  ASSERT_EQ(Hubctl("exceptions resolve 2 --note 'done earlier'", "supervisor-secret").code, 0);

  CliRun r = Hubctl("exceptions resolve 1 2 3 --note recounted", "supervisor-secret");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out,
            "1        200  RESOLVED\n"
            "2        409  case 2 is already RESOLVED\n"
            "3        200  RESOLVED\n"
            "resolved 2 of 3 case(s)\n");
  r = Hubctl("exceptions get 3");
  EXPECT_NE(r.out.find("resolved     by sup-li at 20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("note \"recounted\""), std::string::npos) << r.out;
  r = Hubctl("exceptions get 2");
  EXPECT_NE(r.out.find("note \"done earlier\""), std::string::npos) << r.out;

  ReportDamaged("DESK-2", 2);  // cases 4, 5
  r = Hubctl("exceptions ack 4 5", "supervisor-secret");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "4        200  ACKNOWLEDGED\n5        200  ACKNOWLEDGED\nacknowledged 2 of 2 case(s)\n");
  r = Hubctl("exceptions ack 4 99", "supervisor-secret");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("99       404  no case 99"), std::string::npos) << r.out;
  EXPECT_EQ(Hubctl("exceptions ack 4 x5", "supervisor-secret").code, 2);
  r = Hubctl("exceptions resolve 4 5 --note x");  // an admin may act too
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST_F(HubctlTest, NewestFirstListPagesWithBeforeAndSaysHow) {
  ReportDamaged("DESK-1", 5);
  CliRun r = Hubctl("exceptions list --newest --limit 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LinesWith(r.out, "DAMAGED"),
            "5 DAMAGED OPEN 2026-01-01T08:00:01.250+08:00 P5 weighed 100 g\n"
            "4 DAMAGED OPEN 2026-01-01T08:00:01.000+08:00 P4 weighed 100 g\n")
      << r.out;
  EXPECT_NE(r.out.find("older cases follow: add --before 4 for the next page, or --all"),
            std::string::npos) << r.out;
  r = Hubctl("exceptions list --newest --limit 2 --before 4");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LinesWith(r.out, "DAMAGED"),
            "3 DAMAGED OPEN 2026-01-01T08:00:00.750+08:00 P3 weighed 100 g\n"
            "2 DAMAGED OPEN 2026-01-01T08:00:00.500+08:00 P2 weighed 100 g\n")
      << r.out;
  r = Hubctl("exceptions list --newest --limit 2 --before 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("P1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("older cases follow"), std::string::npos) << r.out;
  r = Hubctl("exceptions list --newest --limit 2 --all");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LinesWith(r.out, "DAMAGED"),
            "5 DAMAGED OPEN 2026-01-01T08:00:01.250+08:00 P5 weighed 100 g\n"
            "4 DAMAGED OPEN 2026-01-01T08:00:01.000+08:00 P4 weighed 100 g\n"
            "3 DAMAGED OPEN 2026-01-01T08:00:00.750+08:00 P3 weighed 100 g\n"
            "2 DAMAGED OPEN 2026-01-01T08:00:00.500+08:00 P2 weighed 100 g\n"
            "1 DAMAGED OPEN 2026-01-01T08:00:00.250+08:00 P1 weighed 100 g\n")
      << r.out;
  EXPECT_EQ(Hubctl("exceptions list --before 4").code, 2);
  EXPECT_EQ(Hubctl("exceptions list --newest --after 4").code, 2);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Four damaged parcels: 08:00 and 09:00 hub time on 2026-01-01, then three
// hours and thirty minutes before now.
TEST_F(HubctlTest, TimeFlagsTakeIsoWithAnOffsetInTheHubsZoneAndTimesBeforeNow) {
  testutil::Scanner s("DESK-1");
  std::vector<v1::ScanEvent> events = {s.ParcelDamaged("P-0800", 100)};  // 00:00:00.250Z
  s.Wait(3'600'000);
  events.push_back(s.ParcelDamaged("P-0900", 100));  // 01:00:00.500Z
  const int64_t now = NowMs();
  s.Wait(now - 3 * 3'600'000 - (1'767'225'600'000 + 3'600'000 + 500) - 250);
  events.push_back(s.ParcelDamaged("P-3H", 100));
  s.Wait(150 * 60'000);
  events.push_back(s.ParcelDamaged("P-30M", 100));
  Scan("DESK-1", events);
  // Parcels in the hub for months raise DWELL_EXCEEDED too: list DAMAGED only.
  auto parcels = [&](const std::string& flags) {
    const CliRun r = Hubctl("exceptions list --type damaged " + flags);
    EXPECT_EQ(r.code, 0) << flags << "\n" << r.out;
    std::string out;
    for (const char* p : {"P-0800", "P-0900", "P-3H", "P-30M"})
      if (r.out.find(std::string(p) + " ") != std::string::npos) out += (out.empty() ? "" : " ") + std::string(p);
    return out;
  };
  EXPECT_EQ(parcels("--since 2026-01-01T08:30:00+08:00 --until 2026-01-01T01:30:00Z"), "P-0900");
  EXPECT_EQ(parcels("--until 2026-01-01T08:30"), "P-0800");  // no offset: the hub's zone
  EXPECT_EQ(parcels("--since 2h"), "P-30M");
  EXPECT_EQ(parcels("--since 4h --until 1h"), "P-3H");
  EXPECT_EQ(parcels("--since 2026-01-01T09:00:00+08:00 --until 90m"), "P-0900 P-3H");

  // Tables show the answer's ISO time in the hub's zone, never milliseconds.
  const CliRun r = Hubctl("exceptions list --type damaged --until 2026-01-01T09:30");
  EXPECT_EQ(LinesWith(r.out, "DAMAGED"),
            "1 DAMAGED OPEN 2026-01-01T08:00:00.250+08:00 P-0800 weighed 100 g\n"
            "2 DAMAGED OPEN 2026-01-01T09:00:00.500+08:00 P-0900 weighed 100 g\n")
      << r.out;
  EXPECT_EQ(r.out.find("1767225600250"), std::string::npos) << r.out;
  // --json passes hubd's answer on, ISO siblings included.
  EXPECT_NE(Hubctl("--json exceptions list --type damaged --until 2026-01-01T08:30")
                .out.find(R"("event_time_ms":"1767225600250","event_time":"2026-01-01T08:00:00.250+08:00")"),
            std::string::npos);
}

// The rows of a table that hold `needle`, each as its columns from the
// `skip`th on, runs of spaces made one: the columns before carry what a test
// cannot know (hub sequence, hubd's clock), checked on their own.
std::string ColumnsFrom(const std::string& out, const std::string& needle, int skip) {
  std::istringstream rows(LinesWith(out, needle));
  std::string row, found;
  while (std::getline(rows, row)) {
    for (int i = 0; i < skip; ++i) row = row.substr(row.find(' ') + 1);
    found += row + "\n";
  }
  return found;
}

// An ISO time in the hub's zone (Asia/Shanghai), as hubd writes its clock.
const std::regex kShanghaiTime(R"(20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00)");

TEST_F(HubctlTest, AuditShowsWhoChangedWhatThroughTheApiWithFiltersAndPages) {
  ASSERT_EQ(Hubctl("holds add P-HELD --reason security --note x-ray").code, 0);
  const std::string csv = (dir_ / "routes.csv").string();
  std::ofstream(csv) << "D-SH,R-SH,C1,L-SH\n";
  ASSERT_EQ(Hubctl("routes load " + csv).code, 0);
  ReportDamaged("DESK-1", 2);
  ASSERT_EQ(Hubctl("exceptions ack 1 --note 'on the scale'", "supervisor-secret").code, 0);
  ASSERT_EQ(Hubctl("exceptions resolve 1 2 --note recounted", "supervisor-secret").code, 0);
  ASSERT_EQ(Hubctl("exceptions resolve 2 --note again", "supervisor-secret").code, 1);  // refused: no entry

  const std::string all =
      "ops add_hold P-HELD x-ray\n"
      "ops upsert_route D-SH\n"
      "sup-li acknowledge 1 on the scale\n"
      "sup-li resolve 1 recounted\n"
      "sup-li resolve 2 recounted\n";
  CliRun r = Hubctl("audit");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(ColumnsFrom(r.out, "+08:00", 2), all) << r.out;
  std::istringstream rows(LinesWith(r.out, "+08:00"));
  std::string seq, at;
  while (rows >> seq >> at) {
    EXPECT_TRUE(std::regex_match(at, kShanghaiTime)) << at;
    rows.ignore(1000, '\n');
  }
  EXPECT_EQ(ColumnsFrom(Hubctl("audit --who ops").out, "+08:00", 2),
            "ops add_hold P-HELD x-ray\nops upsert_route D-SH\n");
  EXPECT_EQ(ColumnsFrom(Hubctl("audit --since 1h --who sup-li").out, "+08:00", 2),
            "sup-li acknowledge 1 on the scale\nsup-li resolve 1 recounted\nsup-li resolve 2 recounted\n");
  EXPECT_EQ(ColumnsFrom(Hubctl("audit --until 1h").out, "+08:00", 2), "");
  EXPECT_EQ(ColumnsFrom(Hubctl("audit --since 2020-01-01T00:00:00+08:00").out, "+08:00", 2), all);

  // Pages: the hint names the hub_seq of the page's last entry; --all reads on.
  r = Hubctl("audit --limit 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(ColumnsFrom(r.out, "+08:00", 2), "ops add_hold P-HELD x-ray\nops upsert_route D-SH\n") << r.out;
  const std::string second = LinesWith(r.out, "upsert_route");
  const std::string cursor = second.substr(0, second.find(' '));
  EXPECT_NE(r.out.find("more entries follow: add --after " + cursor + " for the next page, or --all"),
            std::string::npos) << r.out;
  EXPECT_EQ(ColumnsFrom(Hubctl("audit --limit 2 --after " + cursor).out, "+08:00", 2),
            "sup-li acknowledge 1 on the scale\nsup-li resolve 1 recounted\n");
  r = Hubctl("audit --limit 2 --all");
  EXPECT_EQ(ColumnsFrom(r.out, "+08:00", 2), all) << r.out;
  EXPECT_EQ(r.out.find("more entries follow"), std::string::npos) << r.out;
}

TEST_F(HubctlTest, RoutesAndHoldsListShowWhatIsInForceAndWhoPlacedEachHold) {
  const std::string csv = (dir_ / "routes.csv").string();
  std::ofstream(csv) << "D-SH,R-SH,C1,L-SH,PEK,240\nD-BJ,R-BJ\n";
  ASSERT_EQ(Hubctl("routes load " + csv).code, 0);
  ASSERT_EQ(Hubctl("holds add P-HELD --reason security --note x-ray").code, 0);
  ASSERT_EQ(Hubctl("holds add P-GONE --reason return").code, 0);
  ASSERT_EQ(Hubctl("holds remove P-GONE").code, 0);

  CliRun r = Hubctl("routes list");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(LinesWith(r.out, "D-"), "D-BJ R-BJ - - - -\nD-SH R-SH C1 L-SH PEK 240\n") << r.out;
  r = Hubctl("holds list");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string held = LinesWith(r.out, "P-");
  EXPECT_EQ(ColumnsFrom(held, "P-HELD", 0).substr(0, 21), "P-HELD SECURITY ops 2") << r.out;
  std::istringstream row(held);
  std::string parcel, reason, who, at, note;
  row >> parcel >> reason >> who >> at >> note;
  EXPECT_TRUE(std::regex_match(at, kShanghaiTime)) << r.out;
  EXPECT_EQ(note, "x-ray") << r.out;
  EXPECT_EQ(held.find("P-GONE"), std::string::npos) << r.out;
  // The parcel's trace says who placed the hold.
  r = Hubctl("--json trace parcel P-HELD");
  EXPECT_NE(r.out.find(R"("placed_by":"ops")"), std::string::npos) << r.out;
}

TEST_F(HubctlTest, AdviceShowsTheAdviceInForceAndA404ForNone) {
  ASSERT_EQ(testutil::HttpCall(hubd_->http_port(), "POST", "/v1/reference",
                               R"({"changes":[{"vehicle_advice":{"vehicle_id":"V 1","route_code":"R-IN","seal_id":"S1","bag_ids":["B1","B2"]}},
                                              {"bag_advice":{"bag_id":"B1","parcel_ids":["P1","P2"]}}]})",
                               "admin-secret-1").status, 200);
  CliRun r = Hubctl("advice vehicle 'V 1'");  // percent-encoded in the path
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "vehicle V 1  route R-IN  seal S1\nbags (2): B1 B2\n");
  r = Hubctl("advice bag B1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "bag B1\nparcels (2): P1 P2\n");
  r = Hubctl("advice bag B2");  // named by the vehicle's advice, never advised itself
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("hubctl: 404 no advice for bag B2"), std::string::npos) << r.out;
  r = Hubctl("advice vehicle V1");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("hubctl: 404 no advice for vehicle V1"), std::string::npos) << r.out;
}

// hubctl checks time flags itself: a bad one is refused (2) before it asks
// hubd, so hubd need not be there (a request would exit 3).
TEST(HubctlTimeFlagsTest, BadTimesAreRefusedBeforeAnyRequest) {
  for (const char* args :
       {"exceptions list --since yesterday", "exceptions list --until 2026-13-01",
        "report --since 8x", "audit --since '2026-11-27 06:00'"}) {
    const CliRun r = testutil::RunCommand(std::string(HUBCTL_PATH) + " --server 127.0.0.1:1 --token t " + args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("is not a time: give an ISO 8601 time"), std::string::npos) << args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace hub::testing
