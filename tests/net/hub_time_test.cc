// Hub time as the daemon keeps it: the time rules' settings are logged when
// the configuration changes them, and a scanner whose clock runs ahead
// cannot move hub time.

#include <gtest/gtest.h>

#include <chrono>

#include "net/api_fixture.h"
#include "testutil/http_client.h"
#include "testutil/events.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::ScanClient;
using testutil::Scanner;

using HubTimeTest = DaemonTest;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The log's reference records that change the settings.
std::vector<v1::HubSettings> LoggedSettings(store::RocksDbStore* db) {
  std::vector<v1::LogRecord> log;
  EXPECT_TRUE(db->ReadLog(1, 1'000'000, &log).ok());
  std::vector<v1::HubSettings> out;
  for (const auto& rec : log)
    if (rec.has_reference() && rec.reference().has_settings()) out.push_back(rec.reference().settings());
  return out;
}

TEST_F(HubTimeTest, SettingsAreLoggedOnlyWhenTheConfigurationChangesThem) {
  {
    DaemonProcess hubd(db_);  // the defaults are the core's: nothing to log
    EXPECT_EQ(hubd.Terminate(), 0);
  }
  EXPECT_TRUE(LoggedSettings(OpenStore().get()).empty());
  {
    DaemonProcess hubd(db_, {"--dwell-hours", "6", "--forget-after-days", "0"});
    EXPECT_NE(hubd.Log().find("event=settings_changed dwell_hours=6 forget_after_days=0 "
                              "was_dwell_hours=48 was_forget_after_days=30"),
              std::string::npos)
        << hubd.Log();
    EXPECT_EQ(hubd.Terminate(), 0);
  }
  {
    DaemonProcess hubd(db_, {"--dwell-hours", "6", "--forget-after-days", "0"});  // same again
    EXPECT_EQ(hubd.Log().find("settings_changed"), std::string::npos);
    hubd.Kill();  // and the state after a crash holds them too
  }
  {
    DaemonProcess hubd(db_, {"--dwell-hours", "6", "--forget-after-days", "0"});
    EXPECT_EQ(hubd.Log().find("settings_changed"), std::string::npos);
    EXPECT_EQ(hubd.Terminate(), 0);
  }
  auto db = OpenStore();
  const auto logged = LoggedSettings(db.get());
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].dwell_hours(), 6u);
  EXPECT_EQ(logged[0].forget_after_days(), 0u);
  core::HubState state;
  ASSERT_TRUE(db->Recover(&state).ok());
  EXPECT_EQ(state.settings().dwell_hours(), 6u);
}

TEST_F(HubTimeTest, AnEventFromAClockRunningAheadIsRejectedAndUsesItsSeq) {
  DaemonProcess hubd(db_, {"--max-clock-skew-s", "60"});
  ScanClient c(hubd.port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  Scanner s("SORTER-1");
  v1::ScanEvent ahead = s.ParcelSorted("P1", "D-SH");
  ahead.set_event_time_ms(NowMs() + 3'600'000);  // an hour ahead
  v1::ScanEvent fine = s.ParcelSorted("P2", "D-SH");
  fine.set_event_time_ms(NowMs() + 30'000);  // within the skew
  c.SendAll({ahead, fine});
  std::vector<v1::ServerFrame> frames;
  EXPECT_EQ(c.WaitForAck(2, &frames), 2u);
  bool rejected = false;
  for (const auto& f : frames) {
    if (!f.has_reject()) continue;
    EXPECT_EQ(f.reject().seq(), 1u);
    EXPECT_EQ(f.reject().code(), v1::REJECT_BAD_TIME);
    EXPECT_NE(f.reject().reason().find("set the scanner's clock"), std::string::npos) << f.reject().reason();
    rejected = true;
  }
  EXPECT_TRUE(rejected);
  EXPECT_EQ(hubd.Terminate(), 0);
  const auto logged = LoggedEvents();
  ASSERT_EQ(logged.at("SORTER-1").size(), 1u);
  EXPECT_EQ(logged.at("SORTER-1").begin()->first, 2u);
  // The rejected seq stays used across a restart.
  DaemonProcess again(db_);
  ScanClient c2(again.port());
  EXPECT_EQ(c2.Hello("SORTER-1"), 2);
  EXPECT_EQ(again.Terminate(), 0);
}

using OverdueDaemonTest = ApiTest;

// A vehicle advised through the API with an expected arrival, that never
// comes: once hub time (other scanners' events) passes the expected time
// plus the grace, VEHICLE_OVERDUE is in the worklist; the advice read back
// shows the expectation.
TEST_F(OverdueDaemonTest, AnAdvisedVehicleThatNeverArrivesIsOverdue) {
  auto hubd = Start();
  ASSERT_NE(hubd->port(), 0);
  const int64_t now = NowMs();
  const std::string advice = "{\"changes\":[{\"vehicle_advice\":{\"vehicle_id\":\"V-LATE\","
                             "\"seal_id\":\"S1\",\"bag_ids\":[\"B1\"],\"expected_arrival_ms\":\"" +
                             std::to_string(now - 3'600'000) + "\"}}]}";
  auto r = testutil::HttpCall(hubd->http_port(), "POST", "/v1/reference", advice, kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  r = testutil::HttpCall(hubd->http_port(), "GET", "/v1/advices/vehicles/V-LATE", "", kViewer);
  EXPECT_NE(r.body.find("\"expected_arrival_ms\":\"" + std::to_string(now - 3'600'000) + "\""),
            std::string::npos)
      << r.body;
  ScanClient c(hubd->port());
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  Scanner s("SORTER-1");
  v1::ScanEvent e = s.ParcelSorted("P1", "D-SH");
  e.set_event_time_ms(now);  // an hour past the expectation, 30 min past the grace
  c.Send(e);
  ASSERT_EQ(c.WaitForAck(1), 1u);
  r = testutil::HttpCall(hubd->http_port(), "GET", "/v1/exceptions?type=VEHICLE_OVERDUE", "", kViewer);
  EXPECT_NE(r.body.find("\"vehicle_id\":\"V-LATE\""), std::string::npos) << r.body;
  EXPECT_EQ(hubd->Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
