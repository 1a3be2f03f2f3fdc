// hubctl against a FakeHub, for what a real hubd does rarely: an
// overflowing stream.
// Everything else hubctl does is tested against a real hubd in
// tests/net/hubctl_test.cc.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testutil/scan_client.h"
#include "tools/fake_hub.h"

namespace hub::testing {
namespace {

using testutil::CommandResult;
using testutil::RunCommand;

class HubctlContractTest : public ::testing::Test {
 protected:
  CommandResult Hubctl(const std::string& args) {
    return RunCommand(std::string(HUBCTL_PATH) + " --server " + hub_.server() + " --token t " +
                      args);
  }
  // hubctl `args` exits 0 and prints `want`.
  ::testing::AssertionResult Prints(const std::string& args, const std::string& want) {
    const CommandResult r = Hubctl(args);
    if (r.code == 0 && r.out.find(want) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "hubctl " << args << " exited " << r.code << " printing\n"
           << r.out << "\nand not\n"
           << want;
  }
  // The target of the only request made to `path` (the part before '?').
  std::string TargetOf(const std::string& path) {
    std::string out;
    for (const auto& r : hub_.requests())
      if (r.target.substr(0, r.target.find('?')) == path)
        out += (out.empty() ? "" : " | ") + r.target;
    return out;
  }

  FakeHub hub_;
};

const char kHello[] = "event: hello\ndata: {\"hub_seq\":\"108448\"}\n\n";
const char kCase[] =
    "event: case\nid: 108461\ndata: {\"id\":\"412\",\"type\":\"BAG_SHORT\",\"status\":\"OPEN\","
    "\"hub_seq\":\"108461\",\"event_time_ms\":\"1795723200000\",\"event_time\":\"2026-11-27T00:00:"
    "00.000+08:00\","
    "\"bag_id\":\"B2\"}\n\n";

TEST_F(HubctlContractTest, WatchSaysSoAndExitsNonZeroOnOverflow) {
  hub_.On("GET /v1/exceptions/stream",
          FakeHub::Events({kHello, kCase, "event: overflow\ndata: {}\n\n"}));
  const CommandResult r = Hubctl("exceptions watch --json");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("{\"id\":\"412\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the stream overflowed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hub::testing
