#include "daemon/ops_endpoints.h"

#include <gtest/gtest.h>

#include <string>

namespace hub::daemon {
namespace {

net::HttpResponse Ask(const std::string& method, const std::string& target) {
  net::HttpRequest req;
  req.method = method;
  req.target = target;
  return HandleOps(req, OpsSources{});  // the page needs none of the sources
}

TEST(OpsEndpointsTest, RootIsThePage) {
  const net::HttpResponse r = Ask("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("/ui/js/main.js"), std::string::npos);
  EXPECT_EQ(Ask("GET", "/?from=bookmark").status, 200);
}

TEST(OpsEndpointsTest, AssetsAreUnderUi) {
  const net::HttpResponse js = Ask("GET", "/ui/js/main.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Ask("HEAD", "/ui/app.css").status, 200);
  EXPECT_EQ(Ask("GET", "/ui/index.html").status, 200);
}

TEST(OpsEndpointsTest, UnknownAssetsAndOtherMethodsAreRefused) {
  EXPECT_EQ(Ask("GET", "/ui/nope.js").status, 404);
  EXPECT_EQ(Ask("GET", "/ui/").status, 404);
  EXPECT_EQ(Ask("GET", "/ui/../CMakeLists.txt").status, 404);
  EXPECT_EQ(Ask("GET", "/index.html").status, 404);
  EXPECT_EQ(Ask("POST", "/").status, 405);
  EXPECT_EQ(Ask("DELETE", "/ui/app.css").status, 405);
}

}  // namespace
}  // namespace hub::daemon
