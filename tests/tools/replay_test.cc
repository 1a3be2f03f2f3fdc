// hubgen and hubreplay end to end: generated days replayed against a real
// hubd over loopback and verified against the exceptions hubgen expects,
// with re-sent frames, with the daemon killed mid-replay, and through
// `hubd --export`.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "codec/frame_codec.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/session.pb.h"
#include "testutil/events.h"
#include "net/daemon_fixture.h"
#include "testutil/pki.h"
#include "testutil/scan_client.h"
#include "tools/api_client.h"
#include "tools/day_generator.h"

namespace hub::testing {
namespace {

namespace fs = std::filesystem;
using testutil::DaemonProcess;

using CmdResult = testutil::CommandResult;
using testutil::FreePort;
using testutil::RunCommand;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}


// Every anomaly type of SPEC §4 at least once in about 6,000 parcels.
const char* kEveryAnomaly =
    " --parcels 6000 --bags-per-vehicle 5 --anomaly-percent 2 --rate SEAL_BROKEN=10"
    " --rate SEAL_MISMATCH=10 --rate BAGS_MISSING=10 --rate BAGS_EXTRA=10 --rate BAG_SHORT=5"
    " --rate BAG_OVER=5 --rate MISBAGGED=5 --rate BAG_LABEL_MISMATCH=5 --rate MISLOAD=5"
    " --rate UNCLOSED_BAG_LOADED=5";

class ReplayTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    config_ = (dir_ / "hubd.toml").string();
    std::ofstream(config_) << "[[api.tokens]]\nname = \"replay\"\ntoken = \"admin-secret\"\nrole = \"admin\"\n";
  }

  std::unique_ptr<DaemonProcess> Start(const std::string& db, std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--config", config_});
    return std::make_unique<DaemonProcess>(db, extra);
  }

  fs::path Generate(const std::string& name, const std::string& args) {
    const fs::path day = dir_ / name;
    CmdResult r = RunCommand(std::string(HUBGEN_PATH) + args + " --out " + day.string());
    EXPECT_EQ(r.code, 0) << r.out;
    return day;
  }

  CmdResult Replay(uint16_t port, uint16_t http, const fs::path& day, const std::string& more = "") {
    return RunCommand(ReplayCommand(port, http, day) + more);
  }
  std::string ReplayCommand(uint16_t port, uint16_t http, const fs::path& day) {
    return std::string(HUBREPLAY_PATH) + " --target 127.0.0.1:" + std::to_string(port) +
           " --http 127.0.0.1:" + std::to_string(http) + " --in " + day.string() +
           " --token admin-secret --verify";
  }
  // The replay's stdout into `out`; stderr in the result.
  CmdResult ReplayStdoutTo(uint16_t port, uint16_t http, const fs::path& day, const std::string& more,
                           const fs::path& out) {
    return RunCommand("(" + ReplayCommand(port, http, day) + more + " >" + out.string() + ")");
  }

  std::string config_;
};

TEST_F(ReplayTest, GeneratedDayRaisesExactlyTheExpectedExceptionsAlsoWhenExportedAndReplayed) {
  const fs::path day = Generate("day", std::string(" --seed 5") + kEveryAnomaly);
  // Every type is in the expectation.
  v1::ExceptionPage expected;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Slurp(day / "expected.json"), &expected).ok());
  std::set<int> types;
  for (const auto& c : expected.exceptions()) types.insert(c.type());
  EXPECT_EQ(types.size(), 17u);

  auto hubd = Start(db_);
  CmdResult r = Replay(hubd->port(), hubd->http_port(), day, " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"verify_differences\":0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"rejects\":0"), std::string::npos) << r.out;
  EXPECT_EQ(hubd->Terminate(), 0);

  // The daemon's log, exported, replays into a fresh hub with the same cases.
  const fs::path exported = dir_ / "exported";
  r = RunCommand(std::string(HUBD_PATH) + " --data-dir " + db_ + " --export " + exported.string());
  ASSERT_EQ(r.code, 0) << r.out;
  fs::copy_file(day / "expected.json", exported / "expected.json");
  auto fresh = Start((dir_ / "db2").string());
  r = Replay(fresh->port(), fresh->http_port(), exported);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << r.out;
  EXPECT_EQ(fresh->Terminate(), 0);
}

TEST_F(ReplayTest, ResentFramesChangeNothing) {
  const fs::path day = Generate("day", std::string(" --seed 8 --resend-percent 30") + kEveryAnomaly);
  auto hubd = Start(db_);
  CmdResult r = Replay(hubd->port(), hubd->http_port(), day);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << r.out;
  ASSERT_NE(r.out.find(" re-sent "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" re-sent 0 "), std::string::npos) << r.out;  // some were re-sent
  EXPECT_EQ(hubd->Terminate(), 0);
}

TEST_F(ReplayTest, DaemonKilledAndRestartedMidReplayStillVerifies) {
  const fs::path day = Generate("day", std::string(" --seed 9 --resend-percent 5") + kEveryAnomaly);
  const uint16_t port = FreePort(), http = FreePort();
  const std::vector<std::string> ports = {"--listen", "127.0.0.1:" + std::to_string(port), "--http",
                                          "127.0.0.1:" + std::to_string(http)};
  auto hubd = Start(db_, ports);
  ASSERT_EQ(hubd->port(), port);
  // About 3 s of replay at 6,000 events/s; the daemon dies twice on the way.
  auto replay = std::async(std::launch::async, [&] {
    return Replay(port, http, day, " --rate 6000 --reconnect-timeout 30");
  });
  for (int kill = 0; kill < 2; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(900));
    hubd->Kill();
    hubd = Start(db_, ports);
    ASSERT_EQ(hubd->port(), port) << hubd->Log();
  }
  CmdResult r = replay.get();
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << r.out;
  ASSERT_NE(r.out.find(" reconnects "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" reconnects 0\n"), std::string::npos) << r.out;
  EXPECT_EQ(hubd->Terminate(), 0);
}

TEST_F(ReplayTest, WrongExpectationFailsVerifyNamingEachDifference) {
  const fs::path day = Generate("day", " --seed 3 --parcels 2000");
  v1::ExceptionPage expected;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Slurp(day / "expected.json"), &expected).ok());
  ASSERT_GT(expected.exceptions_size(), 0);
  const std::string dropped = tools::CaseKey(expected.exceptions(0));
  expected.mutable_exceptions()->erase(expected.mutable_exceptions()->begin());
  auto* fake = expected.add_exceptions();
  fake->set_type(v1::DAMAGED);
  fake->set_parcel_id("P-NOT-THERE");
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(expected, &json).ok());
  std::ofstream(day / "expected.json", std::ios::trunc) << json;

  auto hubd = Start(db_);
  CmdResult r = Replay(hubd->port(), hubd->http_port(), day);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("missing    (expected, not raised): DAMAGED parcel=P-NOT-THERE"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("unexpected (raised, not expected): " + dropped), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", 2 difference(s)"), std::string::npos) << r.out;
  EXPECT_EQ(hubd->Terminate(), 0);
}

TEST_F(ReplayTest, HubgenWritesByteIdenticalFilesForTheSameSeed) {
  const std::string args = std::string(" --seed 42 --resend-percent 10") + kEveryAnomaly;
  const fs::path a = Generate("a", args), b = Generate("b", args), c = Generate("c", " --seed 43 --parcels 6000");
  for (const char* f : {"events.bin", "reference.bin", "plan.json", "expected.json"}) {
    EXPECT_FALSE(Slurp(a / f).empty()) << f;
    EXPECT_EQ(Slurp(a / f), Slurp(b / f)) << f;
  }
  EXPECT_NE(Slurp(a / "events.bin"), Slurp(c / "events.bin"));
  CmdResult r = RunCommand(std::string(HUBGEN_PATH) + " --parcels 10 --rate NOPE=1 --out " + (dir_ / "x").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown exception type 'NOPE'"), std::string::npos) << r.out;
  r = RunCommand(std::string(HUBREPLAY_PATH) + " --target 127.0.0.1:1 --in " + (dir_ / "nowhere").string());
  EXPECT_EQ(r.code, 2) << r.out;
}

TEST_F(ReplayTest, StreamTheDaemonRefusesStopsTheReplayWithTheReason) {
  // A scanner whose stream starts at seq 5: a fresh hub expects 1.
  const fs::path day = dir_ / "gap";
  fs::create_directories(day);
  testutil::Scanner s("S1");
  s.Rewind(4);
  std::string bytes;
  v1::ClientFrame f;
  for (int i = 0; i < 3; ++i) {
    *f.mutable_event() = s.ParcelDamaged("P" + std::to_string(i), 10);
    codec::AppendFrame(f, &bytes);
  }
  std::ofstream(day / "events.bin", std::ios::binary) << bytes;
  auto hubd = Start(db_);
  CmdResult r = RunCommand(std::string(HUBREPLAY_PATH) + " --target 127.0.0.1:" +
                      std::to_string(hubd->port()) + " --in " + day.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("the daemon refused the stream: S1: REJECT_BAD_SEQ"), std::string::npos) << r.out;
  EXPECT_EQ(hubd->Terminate(), 0);
}

TEST_F(ReplayTest, DayReplaysOverTlsWithCredentialsAndVerifiesOverHttps) {
  testutil::TestPki pki(dir_.string());
  std::ofstream(config_, std::ios::app)
      << "[[ingest.credentials]]\nstation = \"REPLAY\"\nsecret = \"replay-station-secret\"\n";
  const fs::path day = Generate("day", " --seed 3 --parcels 1500");
  auto hubd = Start(db_, {"--tls-cert", pki.server_cert(), "--tls-key", pki.server_key(),
                          "--http-tls-cert", pki.server_cert(), "--http-tls-key", pki.server_key()});
  const std::string common = std::string(HUBREPLAY_PATH) + " --target 127.0.0.1:" +
                             std::to_string(hubd->port()) + " --http https://127.0.0.1:" +
                             std::to_string(hubd->http_port()) + " --ca-file " + pki.ca() +
                             " --tls-ca " + pki.ca() + " --in " + day.string() +
                             " --token admin-secret";
  CmdResult r = RunCommand(common + " --credential wrong-secret-here");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("REJECT_UNAUTHENTICATED"), std::string::npos) << r.out;
  r = RunCommand(common + " --credential replay-station-secret --verify");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << r.out;
  EXPECT_EQ(hubd->Terminate(), 0);
}

// Regression (issue 14): `--verify --json` printed the verify line before
// its JSON; a script reading stdout must get exactly one JSON document.
TEST_F(ReplayTest, VerifyJsonPrintsExactlyOneJsonDocumentOnStdout) {
  const fs::path day = Generate("day", " --seed 3 --parcels 300");
  auto hubd = Start(db_);
  const fs::path out = dir_ / "report.json";
  CmdResult r = ReplayStdoutTo(hubd->port(), hubd->http_port(), day, " --json", out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << "the verify line goes to stderr\n" << r.out;
  const std::string json = Slurp(out);
  google::protobuf::Struct doc;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &doc).ok()) << json;
  EXPECT_EQ(json.find('{'), 0u) << json;
  EXPECT_EQ(json.find('\n'), json.size() - 1) << json;
  EXPECT_NE(json.find("\"verify_differences\":0"), std::string::npos) << json;
  EXPECT_EQ(hubd->Terminate(), 0);
}

// Regression (issue 14): a replay into a hub that already held the day
// said "events sent 0 acked N ... 1039219 acked events/s".
TEST_F(ReplayTest, ReplayIntoAHubThatHeldTheDaySaysNothingNewWasSent) {
  const fs::path day = Generate("day", " --seed 3 --parcels 300");
  auto hubd = Start(db_);
  CmdResult r = Replay(hubd->port(), hubd->http_port(), day);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(" acked events/s"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("already held"), std::string::npos) << r.out;
  r = Replay(hubd->port(), hubd->http_port(), day);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("the hub already held every event of the day: nothing new sent"),
            std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("events/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << r.out;
  const fs::path out = dir_ / "report.json";
  r = ReplayStdoutTo(hubd->port(), hubd->http_port(), day, " --json", out);
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string json = Slurp(out);
  EXPECT_NE(json.find("\"events_sent\":0,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"already_held\":"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"acked_per_s\""), std::string::npos) << json;
  EXPECT_EQ(hubd->Terminate(), 0);
}

// --- Issue 13: DWS readings, read codes, devices speaking telegrams ---------

// Readings within and outside the tolerance, scale errors, routing labels
// and ambiguous reads, about 5,000 parcels; starting 2 h before now, so the
// reads a telegram listener stamps with hubd's clock come after every event
// of the day and no dwell time runs out.
const char* kReadings =
    " --parcels 5000 --start 2h --dws-percent 30 --multi-read-percent 10 --rate WEIGHT_MISMATCH=1"
    " --rate AMBIGUOUS_READ=1";

// The shipped device profiles.
const std::string kDeviceDir = std::string(HUBD_SOURCE_DIR) + "/deploy/devices";

std::set<int> ExpectedTypes(const fs::path& day) {
  v1::ExceptionPage expected;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(Slurp(day / "expected.json"), &expected).ok());
  std::set<int> types;
  for (const auto& c : expected.exceptions()) types.insert(c.type());
  return types;
}

TEST_F(ReplayTest, ReadingsAndReadCodesOverScanSessionsRaiseExactlyTheExpectedCases) {
  const fs::path day = Generate("day", std::string(" --seed 21") + kReadings);
  const auto types = ExpectedTypes(day);
  EXPECT_TRUE(types.count(v1::WEIGHT_MISMATCH));
  EXPECT_TRUE(types.count(v1::AMBIGUOUS_READ));
  auto hubd = Start(db_);
  CmdResult r = Replay(hubd->port(), hubd->http_port(), day, " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"verify_differences\":0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"rejects\":0"), std::string::npos) << r.out;
  EXPECT_EQ(hubd->Terminate(), 0);
}

// Every sorter a device: hubgen --telegram marks them and writes their
// [[device]] blocks; the test gives each a free port and appends them to
// hubd's config; hubreplay sends the sorters' scans as telegrams of the
// profile, waits for every reply at each epoch's end, and verifies.
class TelegramReplayTest : public ReplayTest {
 protected:
  // `profile`: a shipped profile's name or a path; `readings`: hubgen's
  // options for readings and read codes.
  void RunDay(const std::string& profile, int seed, const std::string& readings) {
    const fs::path day =
        Generate("day", " --seed " + std::to_string(seed) + readings + " --telegram SORTER=" + profile);
    // Free ports for the devices (hubgen wrote port 0) and the profiles by
    // path, so neither hubd nor hubreplay depends on the working directory.
    std::string devices = Slurp(day / "devices.toml");
    int listeners = 0;
    for (size_t at; (at = devices.find("127.0.0.1:0\"")) != std::string::npos; ++listeners)
      devices.replace(at, 12, "127.0.0.1:" + std::to_string(FreePort()) + "\"");
    ASSERT_EQ(listeners, 4) << devices;  // the day's 4 sorters
    if (!profile.ends_with(".toml")) {
      const std::string by_name = "profile = \"" + profile + "\"";
      const std::string by_path = "profile = \"" + kDeviceDir + "/" + profile + ".toml\"";
      for (size_t at; (at = devices.find(by_name)) != std::string::npos;) devices.replace(at, by_name.size(), by_path);
    }
    const fs::path devices_file = dir_ / "devices.toml";
    std::ofstream(devices_file) << devices;
    std::ofstream(config_, std::ios::app) << devices;

    auto hubd = Start(db_);
    CmdResult r = Replay(hubd->port(), hubd->http_port(), day,
                         " --json --devices " + devices_file.string() + " --profile-dir " + kDeviceDir);
    ASSERT_EQ(r.code, 0) << r.out << hubd->Log();
    EXPECT_NE(r.out.find(", 0 difference(s)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"verify_differences\":0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"rejects\":0"), std::string::npos) << r.out;
    // The telegram path was used: every read answered, and hubd counted them.
    const auto reads = r.out.find("\"telegram_reads\":");
    ASSERT_NE(reads, std::string::npos) << r.out;
    const uint64_t sent = std::stoull(r.out.substr(reads + 17));
    const auto replies = r.out.find("\"telegram_replies\":");
    ASSERT_NE(replies, std::string::npos) << r.out;
    EXPECT_GT(sent, 4'000u);
    EXPECT_EQ(std::stoull(r.out.substr(replies + 19)), sent);
    tools::ApiServer api;
    api.port = std::to_string(hubd->http_port());
    const std::string metrics = tools::CallApi(api, "admin-secret", "GET", "/metrics").body;
    uint64_t counted = 0;
    for (size_t at = 0; (at = metrics.find("\nhubd_telegram_reads_total", at)) != std::string::npos; ++at)
      counted += std::stoull(metrics.substr(metrics.find(' ', at) + 1));
    EXPECT_EQ(counted, sent) << metrics;
    EXPECT_EQ(hubd->Terminate(), 0);
  }
};

// Routing labels, no-reads, unknown destinations and holds through device
// telegrams: nothing that needs the new core rules.
TEST_F(TelegramReplayTest, SortersAsDatalogicScannersVerifyWithRoutingLabels) {
  RunDay("datalogic-multi", 21, " --parcels 5000 --start 2h --multi-read-percent 10 --anomaly-percent 1");
}

TEST_F(TelegramReplayTest, SortersAsDatalogicScannersVerifyWithAmbiguousReads) {
  // A scanner without a scale: read codes only (hubreplay refuses a reading
  // the telegram cannot carry).
  RunDay("datalogic-multi", 22, " --parcels 5000 --start 2h --multi-read-percent 10 --rate AMBIGUOUS_READ=1");
}

TEST_F(TelegramReplayTest, SortersAsSickDwsUnitsVerifyWithReadingsAndReadAnomalies) {
  // The SICK profile carries every code of a read in its code field (split
  // by ','), the destination label too, and the DWS reading.
  RunDay("sick-dws", 23, kReadings);
}

TEST_F(ReplayTest, TelegramFlagsRefuseWhatCannotWork) {
  const std::string gen = std::string(HUBGEN_PATH) + " --parcels 100 --out " + (dir_ / "x").string();
  CmdResult r = RunCommand(gen + " --telegram DOCK=datalogic-multi");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("DOCK-01 is not a sorter"), std::string::npos) << r.out;
  r = RunCommand(gen + " --telegram NOPE=datalogic-multi");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("no scanner of the day"), std::string::npos) << r.out;
  // A profile without a reply gives no acknowledgement to keep epochs by.
  const fs::path day = Generate("day", " --parcels 100 --telegram SORTER-01=" + (dir_ / "mute.toml").string() +
                                           " --telegram-base-port 7410");
  EXPECT_NE(Slurp(day / "devices.toml").find("listen = \"127.0.0.1:7410\""), std::string::npos);
  std::ofstream(dir_ / "mute.toml") << Slurp(fs::path(kDeviceDir) / "datalogic-multi.toml")
                                    << "\n";
  std::string mute = Slurp(dir_ / "mute.toml");
  for (size_t at; (at = mute.find("\nreply")) != std::string::npos;) mute.replace(at, 6, "\n# reply");
  std::ofstream(dir_ / "mute.toml", std::ios::trunc) << mute;
  r = RunCommand(std::string(HUBREPLAY_PATH) + " --target 127.0.0.1:1 --http 127.0.0.1:1 --in " + day.string() +
                 " --devices " + (day / "devices.toml").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("takes no reply"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hub::testing
