#include "ui/web/web_assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace memopt::web {
namespace {

std::string read_source(const std::string& name) {
  std::ifstream in(std::string(MEMOPT_SOURCE_DIR) + "/src/ui/web/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(WebAssets, ServesTheEmbeddedFilesByteForByte) {
  for (const char* name : {"index.html", "app.js", "style.css"}) {
    const WebAsset* a = find_web_asset(std::string("/ui/") + name);
    ASSERT_NE(a, nullptr) << name;
    const std::string disk = read_source(name);
    ASSERT_FALSE(disk.empty()) << name;
    EXPECT_EQ(a->body, disk) << name;
  }
  const WebAsset* root = find_web_asset("/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->content_type, "text/html; charset=utf-8");
  EXPECT_NE(root->body.find("<title>ruvector-memopt</title>"), std::string_view::npos);
  EXPECT_EQ(find_web_asset("/ui/app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_web_asset("/ui/style.css")->content_type, "text/css; charset=utf-8");
}

TEST(WebAssets, UnknownAndTraversalPathsAreNotFound) {
  for (const char* p : {"", "/index.html", "/ui/", "/ui/../ui/app.js", "/ui//app.js", "/ui/app.js?x=1",
                        "/UI/app.js", "/etc/passwd", "/ui/embed.cmake", "/ui/web_assets.h"}) {
    EXPECT_EQ(find_web_asset(p), nullptr) << p;
  }
}

// The page must work offline under the daemon's Content-Security-Policy: no
// inline script or handlers, nothing loaded from another origin.
TEST(WebAssets, PageFitsTheContentSecurityPolicy) {
  const std::string html = read_source("index.html");
  const std::regex inline_script(R"(<script(?![^>]*\bsrc=)[^>]*>)");
  EXPECT_FALSE(std::regex_search(html, inline_script));
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(\son[a-z]+\s*=)")));
  for (const char* name : {"index.html", "app.js", "style.css"}) {
    const std::string text = read_source(name);
    EXPECT_EQ(text.find("http://"), std::string::npos) << name;
    EXPECT_EQ(text.find("https://"), std::string::npos) << name;
    EXPECT_EQ(text.find("innerHTML"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace memopt::web
