// A hub run for several days through one daemon: generated days of
// consecutive dates (each id prefixed with its day), kill -9 between days
// and during one, with a two-day retention, a 20 h dwell limit and a
// one-day forget. Each day verifies against what hubgen expects; parcels
// that stayed are flagged DWELL_EXCEEDED exactly once the next day; records
// are there until they age out and gone after; memory, the entity index
// and the restart time stay flat from day to day (printed; bench/RESULTS.md
// records a longer run).

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include "hub/v1/exception.pb.h"
#include "hub/v1/views.pb.h"
#include "net/daemon_fixture.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

namespace fs = std::filesystem;
using testutil::DaemonProcess;
using testutil::HttpCall;
using testutil::RunCommand;

constexpr const char* kToken = "soak-admin-secret";
constexpr int kDays = 6;
constexpr int kParcels = 2000;

std::string Prefix(int day) { return "d" + std::to_string(day) + "-"; }
std::string ParcelId(int day, int n) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "P%08d", n);
  return Prefix(day) + buf;
}

// A number from a Prometheus line "name value".
double Metric(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\n" + name + " ([0-9.e+]+)"))) return -1;
  return std::stod(m[1]);
}

long RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

class SoakTest : public DaemonTest {
 protected:
  std::unique_ptr<DaemonProcess> Start() {
    const std::string config = (dir_ / "hubd.toml").string();
    std::ofstream(config) << "[[api.tokens]]\nname = \"soak\"\ntoken = \"" << kToken
                          << "\"\nrole = \"admin\"\n";
    return std::make_unique<DaemonProcess>(
        db_, std::vector<std::string>{"--config", config, "--listen", "127.0.0.1:" + std::to_string(port_),
                                      "--http", "127.0.0.1:" + std::to_string(http_),
                                      "--durability", "wal", "--retention-days", "2",
                                      "--allow-short-retention", "--dwell-hours", "20",
                                      "--forget-after-days", "1", "--checkpoint-records", "5000"});
  }
  testutil::CommandResult Replay(const fs::path& day, int d, const std::string& more = "") {
    return RunCommand(std::string(HUBREPLAY_PATH) + " --target 127.0.0.1:" + std::to_string(port_) +
                      " --http 127.0.0.1:" + std::to_string(http_) + " --in " + day.string() +
                      " --token " + kToken + " --verify --verify-prefix " + Prefix(d) + more);
  }
  int Status(const std::string& path) { return HttpCall(http_, "GET", path, "", kToken).status; }
  // Parcel ids of day `d` with a DWELL_EXCEEDED case.
  std::set<std::string> DwellFlagged(int d) {
    std::set<std::string> out;
    std::string after = "0";
    for (int page_no = 0; page_no < 100 && !after.empty(); ++page_no) {
      auto r = HttpCall(http_, "GET", "/v1/exceptions?type=DWELL_EXCEEDED&limit=1000&after=" + after,
                        "", kToken);
      EXPECT_EQ(r.status, 200) << r.body;
      v1::ExceptionPage page;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &page, testutil::kLenientJson).ok()) << r.body;
      for (const auto& c : page.exceptions()) {
        EXPECT_TRUE(out.insert(c.parcel_id()).second || c.parcel_id().rfind(Prefix(d), 0) != 0)
            << "flagged twice: " << c.parcel_id();
      }
      after = page.next_after() == 0 ? "" : std::to_string(page.next_after());
    }
    std::erase_if(out, [&](const std::string& id) { return id.rfind(Prefix(d), 0) != 0; });
    return out;
  }

  uint16_t port_ = testutil::FreePort(), http_ = testutil::FreePort();
};

TEST_F(SoakTest, SeveralDaysWithRestartsStayFlatAgeOutAndFlagOverstayers) {
  auto hubd = Start();
  std::vector<std::set<std::string>> stayed(kDays);  // per day: parcels still in the hub at its end
  std::printf("day  rss_kb  entity_index  parcels_in_hub  restart_ms  replayed\n");
  std::vector<double> index_size(kDays), parcels(kDays);
  for (int d = 0; d < kDays; ++d) {
    const fs::path day = dir_ / ("day" + std::to_string(d));
    char date[16];
    std::snprintf(date, sizeof(date), "2026-11-%02d", 10 + d);
    auto gen = RunCommand(std::string(HUBGEN_PATH) + " --seed " + std::to_string(d + 1) + " --parcels " +
                          std::to_string(kParcels) + " --date " + date + " --id-prefix " + Prefix(d) +
                          " --anomaly-percent 2 --out " + day.string());
    ASSERT_EQ(gen.code, 0) << gen.out;
    if (d == 3) {  // killed during the day: the replay reconnects and re-sends
      auto replay = std::async(std::launch::async,
                               [&] { return Replay(day, d, " --rate 8000 --reconnect-timeout 30"); });
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
      hubd->Kill();
      hubd = Start();
      auto r = replay.get();
      ASSERT_EQ(r.code, 0) << r.out;
      EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << r.out;
    } else {
      auto r = Replay(day, d);
      ASSERT_EQ(r.code, 0) << r.out;
      EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << r.out;
    }
    // Which of today's parcels are still here (no departure, not forgotten);
    // anomalies add a few foreign parcels numbered after the day's own.
    for (int n = 1; n <= kParcels + kParcels / 10; ++n) {
      auto r = HttpCall(http_, "GET", "/v1/parcels/" + ParcelId(d, n), "", kToken);
      if (r.status != 200) continue;
      v1::ParcelTrace t;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &t, testutil::kLenientJson).ok());
      if (t.departed_hub_seq() == 0 && t.forgotten_hub_seq() == 0) stayed[d].insert(t.parcel_id());
    }
    EXPECT_FALSE(stayed[d].empty()) << "a day with anomalies leaves parcels behind";
    // Yesterday's overstayers, and only they, were flagged once today's
    // scans moved hub time 24 h on (20 h limit).
    if (d >= 1) {
      const auto flagged = DwellFlagged(d - 1);
      std::string extra, missing;
      for (const auto& id : flagged)
        if (!stayed[d - 1].count(id)) extra += " " + id;
      for (const auto& id : stayed[d - 1])
        if (!flagged.count(id)) missing += " " + id;
      EXPECT_EQ(extra + missing, "") << "day " << d - 1 << " flagged, not stayed:" << extra
                                     << "; stayed, not flagged:" << missing;
    }
    // Kept for two days, then gone with a reason.
    if (d >= 2) {
      EXPECT_EQ(Status("/v1/parcels/" + ParcelId(d - 2, 1)), 200) << "day " << d - 2;
      // A parcel that stayed two days ago, idle over a day since, is
      // forgotten: out of memory, its trace still whole and saying so.
      const std::string id = *stayed[d - 2].begin();
      auto r = HttpCall(http_, "GET", "/v1/parcels/" + id, "", kToken);
      ASSERT_EQ(r.status, 200) << id << ": " << r.body;
      v1::ParcelTrace t;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &t, testutil::kLenientJson).ok());
      EXPECT_NE(t.forgotten_hub_seq(), 0u) << r.body;
      EXPECT_EQ(t.departed_hub_seq(), 0u) << r.body;
      EXPECT_GT(t.entries_size(), 0) << r.body;
    }
    if (d >= 3) {
      auto r = HttpCall(http_, "GET", "/v1/parcels/" + ParcelId(d - 3, 1), "", kToken);
      EXPECT_EQ(r.status, 404) << "day " << d - 3 << ": " << r.body;
      EXPECT_NE(r.body.find("aged out"), std::string::npos) << r.body;
    }
    // Between days: kill -9 and measure the restart.
    const std::string metrics = HttpCall(http_, "GET", "/metrics").body;
    index_size[d] = Metric(metrics, "hubd_entity_index_entries");
    parcels[d] = Metric(metrics, "hubd_parcels_in_hub");
    const long rss = RssKb(hubd->pid());
    hubd->Kill();
    hubd = Start();
    std::smatch m;
    const std::string log = hubd->Log();
    ASSERT_TRUE(std::regex_search(log, m, std::regex("replayed=([0-9]+) recovery_ms=([0-9]+)"))) << log;
    std::printf("%3d  %6ld  %12.0f  %14.0f  %10s  %8s\n", d, rss, index_size[d], parcels[d],
                m[2].str().c_str(), m[1].str().c_str());
    // The restart replays the log since the last checkpoint, not since the start.
    EXPECT_LT(std::stoul(m[1]), 30'000u);
  }
  // Flat: what the hub holds after the last day is about what it held
  // after the third (forgetting and retention keep pace), not twice it.
  EXPECT_LT(index_size[kDays - 1], 1.5 * index_size[2]);
  EXPECT_LT(parcels[kDays - 1], 1.5 * parcels[2]);
  EXPECT_EQ(hubd->Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
