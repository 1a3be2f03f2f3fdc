// The command lines of the four tools as a script sees them: --version
// prints the project version (CMake's project(VERSION)) and exits 0; bad
// usage exits 2, the code hubctl, hubgen and hubreplay document.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::RunCommand;

const std::vector<std::pair<std::string, std::string>> kTools = {
    {"hubd", HUBD_PATH}, {"hubctl", HUBCTL_PATH}, {"hubgen", HUBGEN_PATH}, {"hubreplay", HUBREPLAY_PATH}};

TEST(CliTest, EveryToolPrintsTheProjectVersionAndExitsZero) {
  for (const auto& [name, path] : kTools) {
    const auto r = RunCommand(path + " --version");
    EXPECT_EQ(r.code, 0) << name << ": " << r.out;
    EXPECT_EQ(r.out, name + " " + HUBD_PROJECT_VERSION + "\n") << name;
  }
}

TEST(CliTest, BadUsageExitsTwo) {
  const std::string dir = ::testing::TempDir() + "hubd-cli-test-" + std::to_string(::getpid());
  const std::string hubd = HUBD_PATH;
  for (const std::string& cmd : std::vector<std::string>{
           hubd + " --no-such-flag",
           hubd + " --io-threads 0 --data-dir " + dir,
           hubd + " --hello-timeout-ms -5 --data-dir " + dir,
           hubd + " --durability sometimes --data-dir " + dir,
           hubd + " --log-format xml --data-dir " + dir,
           hubd + " --config /no/such/hubd.toml --data-dir " + dir,
           hubd + " unexpected-positional --data-dir " + dir,
           std::string(HUBCTL_PATH) + " --no-such-flag summary",
           std::string(HUBCTL_PATH),  // a subcommand is required
           std::string(HUBGEN_PATH) + " --parcels 10",  // --out is required
           std::string(HUBREPLAY_PATH) + " --in /tmp",  // --target is required
       }) {
    const auto r = RunCommand(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
    EXPECT_FALSE(r.out.empty()) << cmd << ": no reason given";
  }
  EXPECT_FALSE(std::filesystem::exists(dir)) << "hubd created its data directory before refusing its options";
}

TEST(CliTest, HelpExitsZero) {
  for (const auto& [name, path] : kTools) {
    const auto r = RunCommand(path + " --help");
    EXPECT_EQ(r.code, 0) << name;
    EXPECT_NE(r.out.find("--version"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace hub::testing
