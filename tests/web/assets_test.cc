#include "web/assets.h"

#include <gtest/gtest.h>

#include <string>

namespace hub::web {
namespace {

TEST(AssetsTest, PageAndModulesAreBuiltIn) {
  auto page = FindAsset("index.html");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page->content.substr(0, 15), "<!doctype html>");
  EXPECT_NE(page->content.find("/ui/js/main.js"), std::string_view::npos);

  auto js = FindAsset("js/main.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  auto css = FindAsset("app.css");
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
}

TEST(AssetsTest, OnlyExactPathsUnderWebAreFound) {
  EXPECT_FALSE(FindAsset("").has_value());
  EXPECT_FALSE(FindAsset("/index.html").has_value());
  EXPECT_FALSE(FindAsset("js").has_value());
  EXPECT_FALSE(FindAsset("js/../index.html").has_value());
  EXPECT_FALSE(FindAsset("../CMakeLists.txt").has_value());
  EXPECT_FALSE(FindAsset("index.htm").has_value());
  EXPECT_FALSE(FindAsset("zzz").has_value());
}

// Every module the page imports is built in (a file added to web/js/ but
// missing from the binary would break the page only in a browser).
TEST(AssetsTest, EveryImportedModuleIsBuiltIn) {
  auto main = FindAsset("js/main.js");
  ASSERT_TRUE(main.has_value());
  for (std::string_view name :
       {"api.js", "stream.js", "sse.js", "dom.js", "time.js", "worklist.js", "case.js",
        "entities.js", "dashboard.js", "cases.js", "actions.js"}) {
    EXPECT_TRUE(FindAsset("js/" + std::string(name)).has_value()) << name;
  }
}

}  // namespace
}  // namespace hub::web
