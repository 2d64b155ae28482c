#include "sluice/loadgen/cookie_jar.hpp"

#include <gtest/gtest.h>

namespace sluice::loadgen {
namespace {

using Clock = CookieJar::Clock;

http::Url url(const std::string& text) {
  return *http::parse_url(text);
}

TEST(CookieJar, SendsBackWhatTheServerSetForTheSameHostAndPath) {
  CookieJar jar;
  auto now = Clock::now();
  EXPECT_TRUE(jar.store(url("http://app.test/api/login"), "session=abc; Path=/; HttpOnly", now));
  EXPECT_TRUE(jar.store(url("http://app.test/api/login"), "pref=1", now));  // default path /api
  EXPECT_EQ(jar.header_for(url("http://app.test/api/chat?x=1"), now), "pref=1; session=abc");
  EXPECT_EQ(jar.header_for(url("http://app.test/other"), now), "session=abc");
  EXPECT_EQ(jar.header_for(url("http://other.test/api/chat"), now), "");
  EXPECT_EQ(jar.header_for(url("http://sub.app.test/"), now), "") << "host-only without Domain";
}

TEST(CookieJar, DomainCookiesReachSubdomainsButNotOtherSites) {
  CookieJar jar;
  auto now = Clock::now();
  EXPECT_TRUE(jar.store(url("https://www.example.com/"), "a=1; Domain=.example.com", now));
  EXPECT_FALSE(jar.store(url("https://www.example.com/"), "b=2; Domain=evil.com", now));
  EXPECT_FALSE(jar.store(url("https://www.example.com/"), "c=3; Domain=ample.com", now));
  EXPECT_EQ(jar.header_for(url("https://api.example.com/x"), now), "a=1");
  EXPECT_EQ(jar.header_for(url("https://example.com/x"), now), "a=1");
  EXPECT_EQ(jar.header_for(url("https://notexample.com/x"), now), "");
  EXPECT_EQ(jar.size(), 1u);
}

TEST(CookieJar, SecureCookiesOnlyOverHttps) {
  CookieJar jar;
  auto now = Clock::now();
  EXPECT_TRUE(jar.store(url("https://h.test/"), "s=1; Secure", now));
  EXPECT_FALSE(jar.store(url("http://h.test/"), "t=1; Secure", now));
  EXPECT_EQ(jar.header_for(url("https://h.test/"), now), "s=1");
  EXPECT_EQ(jar.header_for(url("http://h.test/"), now), "");
}

TEST(CookieJar, ReplacedByNameAndDeletedWhenExpired) {
  CookieJar jar;
  auto now = Clock::now();
  jar.store(url("http://h.test/"), "a=1", now);
  jar.store(url("http://h.test/"), "a=2", now);
  EXPECT_EQ(jar.header_for(url("http://h.test/"), now), "a=2");
  jar.store(url("http://h.test/"), "b=1; Max-Age=10", now);
  EXPECT_EQ(jar.header_for(url("http://h.test/"), now + std::chrono::seconds(11)), "a=2");
  jar.store(url("http://h.test/"), "a=gone; Max-Age=0", now);
  jar.store(url("http://h.test/"), "b=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT", now);
  EXPECT_EQ(jar.header_for(url("http://h.test/"), now), "");
  EXPECT_EQ(jar.size(), 0u);
  jar.store(url("http://h.test/"), "c=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT", now);
  EXPECT_EQ(jar.header_for(url("http://h.test/"), now), "c=1");
}

TEST(CookieJar, MalformedHeadersAreIgnored) {
  CookieJar jar;
  auto now = Clock::now();
  for (const char* bad : {"", "novalue", "=nameless", ";;;", "a=1; Max-Age=soon"}) {
    jar.store(url("http://h.test/"), bad, now);
  }
  EXPECT_EQ(jar.header_for(url("http://h.test/"), now), "a=1") << "an invalid Max-Age is ignored";
}

TEST(CookieJar, PathMatchingFollowsRfc6265) {
  EXPECT_TRUE(path_matches("/api/chat", "/api"));
  EXPECT_TRUE(path_matches("/api/", "/api/"));
  EXPECT_TRUE(path_matches("/api", "/api"));
  EXPECT_FALSE(path_matches("/apix", "/api"));
  EXPECT_TRUE(path_matches("/anything?q=1", "/"));
  EXPECT_FALSE(domain_matches("127.0.0.1", "0.0.1"));
}

}  // namespace
}  // namespace sluice::loadgen
