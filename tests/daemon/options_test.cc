#include "daemon/options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

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

std::string WriteConfig(const std::string& text) {
  std::string path = ::testing::TempDir() + "hubd-options-test.toml";
  std::ofstream(path) << text;
  return path;
}

TEST(OptionsTest, DefaultsServeLoopbackWithWal) {
  daemon::DaemonOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({}, &o, &code));
  EXPECT_EQ(o.ingest.host, "127.0.0.1");
  EXPECT_EQ(o.ingest.port, 7400);
  EXPECT_EQ(o.durability, store::Durability::kWal);
  EXPECT_EQ(o.data_dir, "hubd-data");
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
  EXPECT_FALSE(Parse({"--durability", "sometimes"}, &o, &code));
  EXPECT_NE(code, 0);
  EXPECT_FALSE(Parse({"--listen", "localhost"}, &o, &code));
  EXPECT_NE(code, 0);
  EXPECT_FALSE(Parse({"--listen", "127.0.0.1:99999"}, &o, &code));
  EXPECT_FALSE(Parse({"--config", WriteConfig("no_such_key = 1\n")}, &o, &code));
  EXPECT_FALSE(Parse({"--config", WriteConfig("[ingest]\nio_threads = \"two\"\n")}, &o, &code));
  EXPECT_FALSE(Parse({"--config", WriteConfig("this is not toml")}, &o, &code));
  code = -1;
  EXPECT_FALSE(Parse({"--help"}, &o, &code));
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

TEST(OptionsTest, FileAndFlagsAreHeldToTheSameLimits) {
  // Each bad value is refused the same way whether it comes from the file or
  // from a flag.
  struct Bad {
    std::string toml, flag, value;
  };
  for (const Bad& b : std::vector<Bad>{{"[ingest]\nhello_timeout_ms = 10\n", "--hello-timeout-ms", "10"},
                                       {"[ingest]\nmax_sessions = 0\n", "--max-sessions", "0"},
                                       {"[ingest]\nmax_frame_bytes = 1\n", "--max-frame", "1"},
                                       {"[ingest]\nio_threads = 0\n", "--io-threads", "0"}}) {
    daemon::DaemonOptions from_file, from_flag;
    int code = 0;
    EXPECT_FALSE(Parse({"--config", WriteConfig(b.toml)}, &from_file, &code)) << b.toml;
    EXPECT_NE(code, 0);
    code = 0;
    EXPECT_FALSE(Parse({b.flag, b.value}, &from_flag, &code)) << b.flag;
    EXPECT_NE(code, 0);
  }
  daemon::DaemonOptions o;
  int code = 0;
  EXPECT_FALSE(Parse({"--config", WriteConfig("[[ingest.credentials]]\nscanner = \"S1\"\nsecret = \"short\"\n")},
                     &o, &code)) << "secrets of 8+ characters";
  EXPECT_FALSE(Parse({"--tls-cert", "/x.pem"}, &o, &code)) << "a certificate needs its key";
  EXPECT_FALSE(Parse({"--tls-require-client-cert", "--tls-cert", "/a", "--tls-key", "/b"}, &o, &code))
      << "requiring client certificates needs a CA";
}

}  // namespace
}  // namespace hub::testing
