// Retention through a real hubd: records and cases older than
// retention_days of hub time leave the log, the worklist and the views
// together, queries say why, and a restart after kill -9 agrees.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::HttpCall;

constexpr const char* kAdmin = "admin-secret-1";
constexpr int64_t kDay = 24 * 3'600'000;

class RetentionTest : public DaemonTest {
 protected:
  std::unique_ptr<DaemonProcess> Start() {
    const std::string config = (dir_ / "hubd.toml").string();
    std::ofstream(config) << "[[api.tokens]]\nname = \"ops\"\ntoken = \"" << kAdmin
                          << "\"\nrole = \"admin\"\n";
    return std::make_unique<DaemonProcess>(
        db_, std::vector<std::string>{"--config", config, "--retention-days", "2",
                                      "--allow-short-retention", "--checkpoint-records", "1",
                                      "--dwell-hours", "0"});
  }
};

TEST_F(RetentionTest, OldRecordsAndCasesAgeOutTogetherAndQueriesSayWhy) {
  auto hubd = Start();
  const uint16_t http = hubd->http_port();
  testutil::ScanClient c(hubd->port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  testutil::Scanner s("SORTER-1");
  c.SendAll({s.ParcelSorted("OLD-1", "D-NOWHERE"), s.ParcelSorted("OLD-2", "D-NOWHERE")});
  ASSERT_EQ(c.WaitForAck(2), 2u);  // two NO_ROUTE cases, ids 1 and 2
  ASSERT_EQ(HttpCall(http, "POST", "/v1/exceptions/1:acknowledge", "{}", kAdmin).status, 200);
  ASSERT_EQ(HttpCall(http, "GET", "/v1/parcels/OLD-1", "", kAdmin).status, 200);
  auto audit = HttpCall(http, "GET", "/v1/audit", "", kAdmin);
  ASSERT_NE(audit.body.find("\"action\":\"acknowledge\""), std::string::npos) << audit.body;

  // Three days later in hub time: day 0 is past the two days kept. The
  // retention waits for a checkpoint that covers it, so scans go on until
  // it has happened.
  s.Wait(3 * kDay);
  int sent = 2, new_parcels = 0;
  testutil::HttpResult gone;
  for (int i = 0; i < 100; ++i) {
    c.Send(s.ParcelSorted("NEW-" + std::to_string(++new_parcels), "D-NOWHERE"));
    ++sent;
    ASSERT_EQ(c.WaitForAck(sent), static_cast<uint64_t>(sent));
    gone = HttpCall(http, "GET", "/v1/parcels/OLD-1", "", kAdmin);
    // The acknowledge came after both scans: a retention stopped at the
    // last checkpoint may have taken them and not it yet; a later one does.
    const bool ack_audited =
        HttpCall(http, "GET", "/v1/audit", "", kAdmin).body.find("acknowledge") != std::string::npos;
    if (gone.status == 404 && !ack_audited) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto expect_aged_out = [&](uint16_t port) {
    auto r = HttpCall(port, "GET", "/v1/parcels/OLD-1", "", kAdmin);
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("aged out"), std::string::npos) << r.body;
    r = HttpCall(port, "GET", "/v1/exceptions/1", "", kAdmin);
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("has aged out"), std::string::npos) << r.body;
    // The worklist has the new cases only; the acknowledged and the open
    // old case went with their records.
    r = HttpCall(port, "GET", "/v1/exceptions?type=NO_ROUTE&limit=1000", "", kAdmin);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("OLD-"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("NEW-1\""), std::string::npos) << r.body;
    r = HttpCall(port, "POST", "/v1/exceptions/2:resolve", "{}", kAdmin);
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(HttpCall(port, "GET", "/v1/parcels/NEW-1", "", kAdmin).status, 200);
    // The acknowledge's audit entry went with its log record.
    r = HttpCall(port, "GET", "/v1/audit", "", kAdmin);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find("acknowledge"), std::string::npos) << r.body;
  };
  expect_aged_out(http);
  EXPECT_NE(hubd->Log().find("event=retention "), std::string::npos) << hubd->Log();

  hubd->Kill();
  hubd = Start();
  expect_aged_out(hubd->http_port());
  EXPECT_EQ(hubd->Terminate(), 0);

  // The log itself no longer holds them.
  auto db = OpenStore();
  std::vector<v1::LogRecord> log;
  ASSERT_TRUE(db->ReadLog(1, 1'000'000, &log).ok());
  ASSERT_FALSE(log.empty());
  for (const auto& rec : log) {
    if (rec.has_event()) {
      EXPECT_NE(rec.event().parcel_sorted().parcel_id().substr(0, 4), "OLD-");
    }
  }
  EXPECT_GT(log.front().hub_seq(), 2u);
  std::vector<v1::ExceptionCase> cases;
  ASSERT_TRUE(db->AllCases(&cases).ok());
  ASSERT_FALSE(cases.empty());
  EXPECT_GT(cases.front().id(), 2u);
}

}  // namespace
}  // namespace hub::testing
