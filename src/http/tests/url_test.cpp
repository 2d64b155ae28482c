#include "sluice/http/url.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::http {
namespace {

TEST(Url, ParsesSchemesPortsAndPaths) {
  auto url = parse_url("https://myaoai.openai.azure.com/openai?x=1");
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->tls());
  EXPECT_EQ(url->host, "myaoai.openai.azure.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path, "/openai?x=1");
  EXPECT_EQ(url->host_header(), "myaoai.openai.azure.com");
  EXPECT_EQ(url->origin(), "https://myaoai.openai.azure.com:443");  // the pool key keeps the port

  auto local = parse_url("http://127.0.0.1:8080");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->port, 8080);
  EXPECT_EQ(local->path, "/");
  EXPECT_EQ(local->host_header(), "127.0.0.1:8080");
  EXPECT_EQ(local->origin(), "http://127.0.0.1:8080");

  auto v6 = parse_url("http://[::1]:9000/v1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->host_header(), "[::1]:9000");
  EXPECT_EQ(v6->origin(), "http://[::1]:9000");
  auto v6_default = parse_url("https://[2001:db8::7]/");
  ASSERT_TRUE(v6_default);
  EXPECT_EQ(v6_default->host_header(), "[2001:db8::7]");
  EXPECT_EQ(v6_default->origin(), "https://[2001:db8::7]:443");
  auto highest = parse_url("http://h:65535");
  ASSERT_TRUE(highest);
  EXPECT_EQ(highest->host_header(), "h:65535");
}

// A thread keeps the last few Host and origin texts it wrote (url.cpp): more Urls than it keeps,
// in turns, and a Url whose parts change in place, each still get their own text.
TEST(Url, HostAndOriginFollowTheUrlsPartsOverMoreUrlsThanAThreadKeeps) {
  std::vector<Url> urls;
  for (int i = 0; i < 6; ++i) {
    auto url = parse_url("http://backend-" + std::to_string(i) + ":" + std::to_string(8000 + i));
    ASSERT_TRUE(url);
    urls.push_back(*url);
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 6; ++i) {
      const std::string host = "backend-" + std::to_string(i) + ":" + std::to_string(8000 + i);
      EXPECT_EQ(urls[i].host_header(), host);
      std::string appended = "key ";
      urls[i].append_origin(appended);
      EXPECT_EQ(appended, "key http://" + host);
    }
  }
  Url changing = urls[0];
  EXPECT_EQ(changing.host_header(), "backend-0:8000");
  changing.port = 80;
  EXPECT_EQ(changing.host_header(), "backend-0");
  EXPECT_EQ(changing.origin(), "http://backend-0:80");
  changing.scheme = "https";
  EXPECT_EQ(changing.host_header(), "backend-0:80");
  EXPECT_EQ(changing.origin(), "https://backend-0:80");
  changing.host = "::1";
  EXPECT_EQ(changing.host_header(), "[::1]:80");
}

TEST(Url, RejectsWhatIsNotAnAbsoluteHttpUrl) {
  std::string error;
  EXPECT_FALSE(parse_url("localhost:8080", &error));
  EXPECT_NE(error.find("not an absolute URL"), std::string::npos);
  EXPECT_FALSE(parse_url("ftp://host/", &error));
  EXPECT_NE(error.find("unsupported scheme"), std::string::npos);
  EXPECT_FALSE(parse_url("http://host:99999/", &error));
  EXPECT_NE(error.find("invalid port"), std::string::npos);
  EXPECT_FALSE(parse_url("http://:80/", &error));
  EXPECT_FALSE(parse_url("http://[::1/", &error));
}

}  // namespace
}  // namespace sluice::http
