#include "daemon/options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

namespace hub::testing {
namespace {

struct Args {
  explicit Args(std::vector<std::string> a) : strings(std::move(a)) {
    strings.insert(strings.begin(), "hubd");
    for (auto& s : strings) argv.push_back(s.data());
  }
  int argc() { return static_cast<int>(argv.size()); }
  std::vector<std::string> strings;
  std::vector<char*> argv;
};

bool Parse(std::vector<std::string> a, daemon::DaemonOptions* o, int* code) {
  Args args(std::move(a));
  return daemon::ParseOptions(args.argc(), args.argv.data(), o, code);
}

// One file per process (ctest runs these tests side by side), removed at exit.
struct ConfigFile {
  ~ConfigFile() { std::remove(path.c_str()); }
  const std::string path = ::testing::TempDir() + "hubd-options-test-" + std::to_string(::getpid()) + ".toml";
};

std::string WriteConfig(const std::string& text) {
  static ConfigFile file;
  std::ofstream(file.path) << text;
  return file.path;
}

TEST(OptionsTest, DefaultsServeLoopbackWithFsync) {
  daemon::DaemonOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({}, &o, &code));
  EXPECT_EQ(o.ingest.host, "127.0.0.1");
  EXPECT_EQ(o.ingest.port, 7400);
  EXPECT_EQ(o.durability, store::Durability::kFsync) << "an acked event survives a power cut by default";
  EXPECT_EQ(o.data_dir, "hubd-data");
  EXPECT_EQ(o.log_format, util::LogFormat::kLogfmt);
}

TEST(OptionsTest, ExampleConfigInDeployParses) {
  daemon::DaemonOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({"--config", HUBD_SOURCE_DIR "/deploy/hubd.toml"}, &o, &code));
  EXPECT_EQ(o.sequencer.max_batch, 4096u);
  EXPECT_EQ(o.ingest.max_in_flight, 262144);
}

TEST(OptionsTest, FlagsOverrideTheConfigFile) {
  const std::string path = WriteConfig(
      "data_dir = \"/var/lib/hubd\"\ndurability = \"fsync\"\n"
      "[ingest]\nlisten = \"0.0.0.0:9000\"\nio_threads = 4\nbatch_max = 100\n");
  daemon::DaemonOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({"--config", path, "--io-threads", "3", "--durability", "wal"}, &o, &code));
  EXPECT_EQ(o.data_dir, "/var/lib/hubd");
  EXPECT_EQ(o.ingest.host, "0.0.0.0");
  EXPECT_EQ(o.ingest.port, 9000);
  EXPECT_EQ(o.ingest.io_threads, 3);
  EXPECT_EQ(o.durability, store::Durability::kWal);
  EXPECT_EQ(o.sequencer.max_batch, 100u);
}

TEST(OptionsTest, BadInputIsAClearErrorNotARun) {
  daemon::DaemonOptions o;
  int code = 0;
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"--durability", "sometimes"},
           {"--listen", "localhost"},
           {"--listen", "127.0.0.1:99999"},
           {"--no-such-flag"},
           {"--io-threads", "two"},
           {"--config", "/no/such/file.toml"},
           {"--config", WriteConfig("no_such_key = 1\n")},
           {"--config", WriteConfig("[ingest]\nio_threads = \"two\"\n")},
           {"--config", WriteConfig("this is not toml")}}) {
    code = 0;
    EXPECT_FALSE(Parse(bad, &o, &code)) << bad[0];
    EXPECT_EQ(code, 2) << "bad usage exits 2: " << bad[0] << " " << (bad.size() > 1 ? bad[1] : "");
  }
  code = -1;
  EXPECT_FALSE(Parse({"--help"}, &o, &code));
  EXPECT_EQ(code, 0);
  code = -1;
  EXPECT_FALSE(Parse({"--version"}, &o, &code));
  EXPECT_EQ(code, 0);
}

TEST(OptionsTest, BoundaryLimitsTlsAndCredentialsFromTheConfigFile) {
  const std::string path = WriteConfig(
      "[ingest]\nhello_timeout_ms = 2000\nframe_timeout_ms = 3000\nidle_timeout_ms = 4000\n"
      "max_sessions = 100\nmax_sessions_per_address = 10\n"
      "[ingest.tls]\ncert = \"/etc/hubd/tls/cert.pem\"\nkey = \"/etc/hubd/tls/key.pem\"\n"
      "client_ca = \"/etc/hubd/tls/scanners-ca.pem\"\nrequire_client_cert = true\n"
      "[[ingest.credentials]]\nscanner = \"SORTER-1\"\nsecret = \"sorter-secret\"\n"
      "[[ingest.credentials]]\nstation = \"DOCK\"\nsecret = \"dock-secret\"\n"
      "[http.tls]\ncert = \"/etc/hubd/tls/cert.pem\"\nkey = \"/etc/hubd/tls/key.pem\"\n");
  daemon::DaemonOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({"--config", path, "--idle-timeout-ms", "5000"}, &o, &code));
  EXPECT_EQ(o.ingest.hello_timeout.count(), 2000);
  EXPECT_EQ(o.ingest.frame_timeout.count(), 3000);
  EXPECT_EQ(o.ingest.idle_timeout.count(), 5000);
  EXPECT_EQ(o.ingest.max_sessions, 100u);
  EXPECT_EQ(o.ingest.max_sessions_per_address, 10u);
  EXPECT_EQ(o.ingest.tls.client_ca, "/etc/hubd/tls/scanners-ca.pem");
  EXPECT_TRUE(o.ingest.tls.require_client_cert);
  ASSERT_EQ(o.ingest.secrets.size(), 2u);
  EXPECT_EQ(o.ingest.secrets[1].station, "DOCK");
  EXPECT_EQ(o.http_tls.key, "/etc/hubd/tls/key.pem");
}

// A configuration file hubd refuses, with exit code 2.
void ExpectRefusedFromTheFile(const std::string& toml) {
  daemon::DaemonOptions o;
  int code = 0;
  EXPECT_FALSE(Parse({"--config", WriteConfig(toml)}, &o, &code)) << "accepted:\n" << toml;
  EXPECT_EQ(code, 2) << toml;
}

// Refused with exit code 2 from the file and from the flags alike: the
// same rule, whichever side the value comes from.
void ExpectRefusedBothWays(const std::string& toml, const std::vector<std::string>& flags) {
  ExpectRefusedFromTheFile(toml);
  daemon::DaemonOptions from_flags;
  int code = 0;
  std::string joined;
  for (const auto& f : flags) joined += f + " ";
  EXPECT_FALSE(Parse(flags, &from_flags, &code)) << "flags accepted: " << joined;
  EXPECT_EQ(code, 2) << joined;
}

// Accepted from both, with the same result.
void ExpectAcceptedBothWays(const std::string& toml, const std::vector<std::string>& flags,
                            const std::function<std::string(const daemon::DaemonOptions&)>& show) {
  daemon::DaemonOptions from_file, from_flags;
  int code = -1;
  ASSERT_TRUE(Parse({"--config", WriteConfig(toml)}, &from_file, &code)) << toml;
  ASSERT_TRUE(Parse(flags, &from_flags, &code)) << flags[0];
  EXPECT_EQ(show(from_file), show(from_flags)) << toml;
}

// Each numeric key, its flag and its range, as the README and hubd.toml
// state them.
struct NumberRule {
  std::string section, key, flag;
  int64_t lo, hi;
};
const std::vector<NumberRule> kNumberRules = {
    {"", "drain_timeout_ms", "--drain-timeout-ms", 0, 3'600'000},
    {"ingest", "io_threads", "--io-threads", 1, 256},
    {"ingest", "max_frame_bytes", "--max-frame", 64, 16 << 20},
    {"ingest", "batch_max", "--batch-max", 1, 1 << 20},
    {"ingest", "batch_delay_us", "--batch-delay-us", 0, 1'000'000},
    {"ingest", "session_max_outstanding", "--session-max-outstanding", 1, 1 << 24},
    {"ingest", "session_max_unsent_bytes", "--session-max-unsent-bytes", 4096, 1 << 30},
    {"ingest", "max_in_flight", "--max-in-flight", 1, 1 << 24},
    {"ingest", "hello_timeout_ms", "--hello-timeout-ms", 50, 86'400'000},
    {"ingest", "frame_timeout_ms", "--frame-timeout-ms", 50, 86'400'000},
    {"ingest", "idle_timeout_ms", "--idle-timeout-ms", 50, 86'400'000},
    {"ingest", "max_sessions", "--max-sessions", 1, 1'000'000},
    {"ingest", "max_sessions_per_address", "--max-sessions-per-address", 1, 1'000'000},
    {"ingest", "max_clock_skew_s", "--max-clock-skew-s", 0, 86'400 * 366},
    {"", "checkpoint_records", "--checkpoint-records", 0, int64_t{1} << 40},
    {"", "checkpoint_interval_s", "--checkpoint-interval-s", 0, 86'400},
    {"hub", "dwell_hours", "--dwell-hours", 0, 24 * 366},
    {"hub", "forget_after_days", "--forget-after-days", 0, 3660},
    {"hub", "weight_tolerance_g", "--weight-tolerance-g", 0, 1'000'000},
    {"hub", "weight_tolerance_percent", "--weight-tolerance-percent", 0, 100},
    {"hub", "overdue_grace_minutes", "--overdue-grace-minutes", 0, 7 * 24 * 60},
    {"hub", "retention_days", "--retention-days", 0, 36'600},
};

std::string NumberToml(const NumberRule& r, const std::string& value) {
  return (r.section.empty() ? "" : "[" + r.section + "]\n") + r.key + " = " + value + "\n";
}

// Every numeric setting as key=value, space-separated and space-ended.
std::string PrintNumbers(const daemon::DaemonOptions& o) {
  std::ostringstream out;
  out << " drain_timeout_ms=" << o.drain_timeout_ms << " io_threads=" << o.ingest.io_threads
      << " max_frame_bytes=" << o.ingest.max_frame << " batch_max=" << o.sequencer.max_batch
      << " batch_delay_us=" << o.sequencer.max_delay_us
      << " session_max_outstanding=" << o.ingest.session_max_outstanding
      << " session_max_unsent_bytes=" << o.ingest.session_max_unsent_bytes
      << " max_in_flight=" << o.ingest.max_in_flight << " hello_timeout_ms=" << o.ingest.hello_timeout.count()
      << " frame_timeout_ms=" << o.ingest.frame_timeout.count()
      << " idle_timeout_ms=" << o.ingest.idle_timeout.count() << " max_sessions=" << o.ingest.max_sessions
      << " max_clock_skew_s=" << o.sequencer.max_clock_skew.count()
      << " checkpoint_records=" << o.sequencer.checkpoint_records
      << " checkpoint_interval_s=" << o.sequencer.checkpoint_interval.count()
      << " dwell_hours=" << o.dwell_hours << " forget_after_days=" << o.forget_after_days
      << " weight_tolerance_g=" << o.weight_tolerance_g
      << " weight_tolerance_percent=" << o.weight_tolerance_percent
      << " overdue_grace_minutes=" << o.overdue_grace_minutes
      << " retention_days=" << o.sequencer.retention.count() / 24
      << " max_sessions_per_address=" << o.ingest.max_sessions_per_address << " ";
  return out.str();
}

TEST(OptionsTest, EveryNumberHasTheSameRangeInTheFileAndAsAFlag) {
  for (const NumberRule& r : kNumberRules) {
    SCOPED_TRACE(r.key);
    for (const int64_t bad : {r.lo - 1, r.hi + 1, int64_t{-1}, int64_t{4294967297}, int64_t{-4294967295}}) {
      if (bad >= r.lo && bad <= r.hi) continue;
      ExpectRefusedBothWays(NumberToml(r, std::to_string(bad)), {r.flag, std::to_string(bad)});
    }
    // --flag=-5 as well as --flag -5
    ExpectRefusedBothWays(NumberToml(r, std::to_string(r.lo - 1)), {r.flag + "=" + std::to_string(r.lo - 1)});
    for (const int64_t good : {r.lo, r.hi}) {
      // The value lands in the same place from either side.
      daemon::DaemonOptions from_file, from_flag;
      int code = -1;
      ASSERT_TRUE(Parse({"--config", WriteConfig(NumberToml(r, std::to_string(good)))}, &from_file, &code));
      ASSERT_TRUE(Parse({r.flag, std::to_string(good)}, &from_flag, &code));
      EXPECT_EQ(PrintNumbers(from_file), PrintNumbers(from_flag));
      EXPECT_NE(PrintNumbers(from_flag).find(" " + r.key + "=" + std::to_string(good) + " "), std::string::npos)
          << PrintNumbers(from_flag);
    }
    // A number given as text or as a fraction is not a number.
    ExpectRefusedFromTheFile(NumberToml(r, "\"100\""));
    ExpectRefusedBothWays(NumberToml(r, "100.5"), {r.flag, "100.5"});
  }
}

TEST(OptionsTest, RetentionUnderAYearNeedsTheTestFlag) {
  daemon::DaemonOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({}, &o, &code));
  EXPECT_EQ(o.sequencer.retention.count(), 400 * 24);
  EXPECT_FALSE(Parse({"--retention-days", "30"}, &o, &code));
  EXPECT_EQ(code, 2);
  EXPECT_FALSE(Parse({"--config", WriteConfig("[hub]\nretention_days = 365\n")}, &o, &code));
  ASSERT_TRUE(Parse({"--retention-days", "2", "--allow-short-retention"}, &o, &code));
  EXPECT_EQ(o.sequencer.retention.count(), 48);
  ASSERT_TRUE(Parse({"--retention-days", "366"}, &o, &code));
  ASSERT_TRUE(Parse({"--retention-days", "0"}, &o, &code));  // kept for ever
}

TEST(OptionsTest, NegativeTimeoutsAreRefusedNotIgnored) {
  // Regression: a negative flag value used to mean "not given" and left the
  // default in place silently.
  for (const char* key : {"hello_timeout_ms", "frame_timeout_ms", "idle_timeout_ms"}) {
    std::string flag = std::string("--") + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    ExpectRefusedBothWays(std::string("[ingest]\n") + key + " = -5\n", {flag, "-5"});
  }
  ExpectRefusedBothWays("drain_timeout_ms = -1\n", {"--drain-timeout-ms", "-1"});
}

TEST(OptionsTest, NamesAreCheckedTheSameFromBothSides) {
  // Regression: log_level = "verbose" in the file used to turn logging off.
  ExpectRefusedBothWays("log_level = \"verbose\"\n", {"--log-level", "verbose"});
  ExpectRefusedBothWays("log_level = \"\"\n", {"--log-level", ""});
  ExpectRefusedBothWays("log_format = \"xml\"\n", {"--log-format", "xml"});
  ExpectRefusedBothWays("durability = \"sometimes\"\n", {"--durability", "sometimes"});
  ExpectRefusedBothWays("durability = \"\"\n", {"--durability", ""});
  ExpectRefusedBothWays("data_dir = \"\"\n", {"--data-dir", ""});
  ExpectRefusedBothWays("[ingest]\nlisten = \"\"\n", {"--listen", ""});
  ExpectRefusedBothWays("[ingest]\nlisten = \"127.0.0.1\"\n", {"--listen", "127.0.0.1"});
  ExpectRefusedBothWays("[http]\nlisten = \"127.0.0.1:70000\"\n", {"--http", "127.0.0.1:70000"});
  ExpectRefusedBothWays("[ingest.tls]\ncert = \"/a.pem\"\n", {"--tls-cert", "/a.pem"});
  ExpectRefusedBothWays("[http.tls]\nkey = \"/a.key\"\n", {"--http-tls-key", "/a.key"});
  ExpectRefusedBothWays("[ingest.tls]\ncert = \"/a\"\nkey = \"/b\"\nrequire_client_cert = true\n",
                        {"--tls-require-client-cert", "--tls-cert", "/a", "--tls-key", "/b"});
  auto show = [](const daemon::DaemonOptions& o) {
    return o.log_level + " " + std::to_string(static_cast<int>(o.log_format)) + " " +
           std::to_string(static_cast<int>(o.durability)) + " " + o.data_dir;
  };
  ExpectAcceptedBothWays("log_level = \"warn\"\nlog_format = \"json\"\ndurability = \"wal\"\ndata_dir = \"d\"\n",
                         {"--log-level", "warn", "--log-format", "json", "--durability", "wal", "--data-dir", "d"},
                         show);
}

TEST(OptionsTest, UnknownKeysAreRefusedAtEveryLevel) {
  for (const char* toml : {
           "no_such_key = 1\n",
           "[ingest]\nbatch_maxx = 10\n",
           "[http]\nport = 7480\n",
           "[api]\ntoken = \"x\"\n",
           "[ingest.tls]\ncert = \"/a\"\nkey = \"/b\"\nca = \"/c\"\n",
           "[http.tls]\ncert = \"/a\"\nkey = \"/b\"\nclient_ca = \"/c\"\n",
           "[[api.tokens]]\nname = \"a\"\ntoken = \"aaaaaaaa\"\nrole = \"admin\"\nexpires = 3\n",
           "[[ingest.credentials]]\nscanner = \"S1\"\nsecret = \"ssssssss\"\nrole = \"x\"\n",
       }) {
    ExpectRefusedFromTheFile(toml);
  }
}

TEST(OptionsTest, TablesOfTheWrongShapeAreRefusedNotSkipped) {
  for (const char* toml : {
           "ingest = 5\n",
           "http = \"127.0.0.1:7480\"\n",
           "[ingest]\ntls = \"/etc/hubd/tls\"\n",
           "[ingest]\ncredentials = \"secret\"\n",
           "[ingest]\ncredentials = [\"secret\"]\n",
           "[api]\ntokens = \"x\"\n",
           "[api]\ntokens = [1, 2]\n",
           "[ingest]\nlisten = 7400\n",
           "[ingest.tls]\ncert = \"/a\"\nkey = \"/b\"\nrequire_client_cert = \"yes\"\n",
       }) {
    ExpectRefusedFromTheFile(toml);
  }
}

TEST(OptionsTest, ApiTokensAreUniqueByNameAndBySecret) {
  const std::string a = "[[api.tokens]]\nname = \"sup-li\"\ntoken = \"secret-one\"\nrole = \"supervisor\"\n";
  daemon::DaemonOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({"--config", WriteConfig(a + "[[api.tokens]]\nname = \"adm\"\ntoken = \"secret-two\"\n"
                                                 "role = \"admin\"\n")},
                    &o, &code));
  ASSERT_EQ(o.api_tokens.size(), 2u);
  for (const char* second : {
           "[[api.tokens]]\nname = \"adm\"\ntoken = \"secret-one\"\nrole = \"admin\"\n",      // same secret
           "[[api.tokens]]\nname = \"sup-li\"\ntoken = \"secret-two\"\nrole = \"viewer\"\n",  // same name
           "[[api.tokens]]\nname = \"adm\"\ntoken = \"short\"\nrole = \"admin\"\n",
           "[[api.tokens]]\nname = \"\"\ntoken = \"secret-two\"\nrole = \"admin\"\n",
           "[[api.tokens]]\nname = \"a\\nb\"\ntoken = \"secret-two\"\nrole = \"admin\"\n",
           "[[api.tokens]]\nname = \"adm\"\ntoken = \"secret\\u0007two\"\nrole = \"admin\"\n",
           "[[api.tokens]]\nname = \"adm\"\ntoken = \"secret-two\"\nrole = \"root\"\n",
           "[[api.tokens]]\nname = \"adm\"\ntoken = \"secret-two\"\n",
       }) {
    ExpectRefusedFromTheFile(a + second);
  }
}

TEST(OptionsTest, ScannerCredentialsAreCheckedWhereTheyAreRead) {
  for (const char* toml : {
           "[[ingest.credentials]]\nscanner = \"S1\"\nsecret = \"short\"\n",
           "[[ingest.credentials]]\nscanner = \"S1\"\nstation = \"ST\"\nsecret = \"long-enough\"\n",
           "[[ingest.credentials]]\nsecret = \"long-enough\"\n",
           "[[ingest.credentials]]\nscanner = \"S1\"\nsecret = \"long-enough\"\n"
           "[[ingest.credentials]]\nscanner = \"S1\"\nsecret = \"other-secret\"\n",
           "[[ingest.credentials]]\nstation = \"DOCK\"\nsecret = \"long-enough\"\n"
           "[[ingest.credentials]]\nstation = \"DOCK\"\nsecret = \"other-secret\"\n",
           "[[ingest.credentials]]\nscanner = \"S\\u0001\"\nsecret = \"long-enough\"\n",
       }) {
    ExpectRefusedFromTheFile(toml);
  }
  daemon::DaemonOptions o;
  int code = -1;
  EXPECT_TRUE(Parse({"--config", WriteConfig("[[ingest.credentials]]\nscanner = \"DOCK\"\nsecret = \"long-enough\"\n"
                                             "[[ingest.credentials]]\nstation = \"DOCK\"\nsecret = \"long-enough\"\n")},
                    &o, &code))
      << "a scanner and a station may share a name and a secret";
}

}  // namespace
}  // namespace hub::testing

namespace hub::testing {
namespace {

TEST(OptionsTest, FeedIsOffByDefaultAndNeedsAHubIdWhenOn) {
  daemon::DaemonOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({}, &o, &code));
  EXPECT_FALSE(o.feed.enabled) << "the embedded default needs no NATS server";
  daemon::DaemonOptions on;
  ASSERT_TRUE(Parse({"--config", WriteConfig("[feed]\nenabled = true\nhub_id = \"SHA\"\n"
                                             "servers = [\"nats://10.0.0.5:4222\", \"tls://10.0.0.6:4222\"]\n"
                                             "replicas = 3\nconsume_dispatch = false\npriority = \"low\"\nmax_age_days = 0\n")},
                    &on, &code));
  EXPECT_TRUE(on.feed.enabled);
  EXPECT_EQ(on.feed.hub_id, "SHA");
  EXPECT_EQ(on.feed.nats.servers, (std::vector<std::string>{"nats://10.0.0.5:4222", "tls://10.0.0.6:4222"}));
  EXPECT_EQ(on.feed.replicas, 3);
  EXPECT_FALSE(on.feed.consume_dispatch);
  EXPECT_EQ(on.feed.priority, "low");
  EXPECT_EQ(o.feed.priority, "idle");
  EXPECT_EQ(on.feed.max_age_days, 0);
  EXPECT_EQ(o.feed.max_age_days, 30);
  daemon::DaemonOptions flags;
  ASSERT_TRUE(Parse({"--feed", "--feed-hub-id", "PEK", "--feed-nats", "nats://127.0.0.1:1,nats://127.0.0.1:2"},
                    &flags, &code));
  EXPECT_TRUE(flags.feed.enabled);
  EXPECT_EQ(flags.feed.hub_id, "PEK");
  EXPECT_EQ(flags.feed.nats.servers.size(), 2u);
}

TEST(OptionsTest, BadFeedSettingsAreRefusedAtStart) {
  for (const char* toml : {
           "[feed]\nenabled = true\n",                                      // no hub id
           "[feed]\nenabled = true\nhub_id = \"S.H.A\"\n",                 // not a subject token
           "[feed]\nenabled = true\nhub_id = \"SHA\"\nservers = [\"http://x:1\"]\n",
           "[feed]\nenabled = true\nhub_id = \"SHA\"\nservers = []\n",
           "[feed]\nenabled = true\nhub_id = \"SHA\"\nreplicas = 7\n",
           "[feed]\nenabled = true\nhub_id = \"SHA\"\npriority = \"high\"\n",  // idle, low or normal
           "[feed]\nenabled = true\nhub_id = \"SHA\"\nmax_age_days = -1\n",
           "[feed]\nenabled = true\nhub_id = \"SHA\"\ntls_cert = \"/etc/passwd\"\n",  // no key
           "[feed]\nenabled = true\nhub_id = \"SHA\"\ncreds = \"/no/such/file\"\n",
           "[feed]\nenabled = true\nhub_id = \"SHA\"\nstream = \"a.b\"\n",
           "[feed]\nhub = \"SHA\"\n",                                      // unknown key
       }) {
    daemon::DaemonOptions o;
    int code = -1;
    EXPECT_FALSE(Parse({"--config", WriteConfig(toml)}, &o, &code)) << "accepted:\n" << toml;
    EXPECT_EQ(code, 2) << toml;
  }
}

}  // namespace
}  // namespace hub::testing
