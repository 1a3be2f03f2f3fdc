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

}  // namespace
}  // namespace hub::testing
