// A first run with no API token configured: hubd makes a local admin token
// in its data directory (0600, kept, never logged) that hubctl on the same
// machine picks up; configured tokens replace it.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "net/daemon_fixture.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::HttpCall;

using FirstRunTest = DaemonTest;

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST_F(FirstRunTest, NoTokenConfiguredMakesALocalAdminTokenThatHubctlPicksUp) {
  const std::string file = db_ + "/local-admin-token";
  std::string token;
  {
    DaemonProcess hubd(db_);
    token = ReadLine(file);
    EXPECT_EQ(token.size(), 64u);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600);
    EXPECT_NE(hubd.Log().find("event=local_admin_token path="), std::string::npos) << hubd.Log();
    // Where the page is, as Jupyter prints its URL; the page itself answers.
    const std::string page = "page=http://127.0.0.1:" + std::to_string(hubd.http_port()) + "/ ";
    EXPECT_NE(hubd.Log().find(page), std::string::npos) << hubd.Log();
    EXPECT_EQ(HttpCall(hubd.http_port(), "GET", "/").status, 200);
    EXPECT_EQ(hubd.Log().find(token), std::string::npos) << "the token is never logged";
    EXPECT_EQ(HttpCall(hubd.http_port(), "GET", "/v1/summary", "", token).status, 200);
    EXPECT_EQ(HttpCall(hubd.http_port(), "GET", "/v1/summary").status, 401);
    // hubctl on this machine, no --token: it reads the data directory's.
    auto r = testutil::RunCommand(std::string(HUBCTL_PATH) + " --server 127.0.0.1:" +
                                  std::to_string(hubd.http_port()) + " --data-dir " + db_ + " summary");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(hubd.Terminate(), 0);
  }
  {
    DaemonProcess hubd(db_);  // kept across restarts
    EXPECT_EQ(ReadLine(file), token);
    EXPECT_EQ(HttpCall(hubd.http_port(), "GET", "/v1/summary", "", token).status, 200);
    EXPECT_EQ(hubd.Terminate(), 0);
  }
  // Configured tokens replace it.
  const std::string config = (dir_ / "hubd.toml").string();
  std::ofstream(config) << "[[api.tokens]]\nname = \"ops\"\ntoken = \"configured-admin-secret\"\nrole = \"admin\"\n";
  DaemonProcess hubd(db_, {"--config", config});
  EXPECT_EQ(HttpCall(hubd.http_port(), "GET", "/v1/summary", "", token).status, 401);
  EXPECT_EQ(HttpCall(hubd.http_port(), "GET", "/v1/summary", "", "configured-admin-secret").status, 200);
  EXPECT_EQ(hubd.Log().find("local_admin_token"), std::string::npos);
  EXPECT_EQ(hubd.Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
