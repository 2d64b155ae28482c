#include "sluice/loadgen/extractor.hpp"

#include <gtest/gtest.h>

namespace sluice::loadgen {
namespace {

Extractor json_path(std::string expr, int match = 1) {
  return Extractor{Extractor::kJsonPath, "v", std::move(expr), match, 1, std::nullopt};
}

TEST(Extractor, JsonPathSubset) {
  std::string body =
      R"({"access_token":"abc","expires_in":"3599","n":5,"list":[{"id":"x"},{"id":"y"}]})";
  EXPECT_EQ(extract(json_path("$.access_token"), body), "abc");
  EXPECT_EQ(extract(json_path("$.expires_in"), body), "3599");
  EXPECT_EQ(extract(json_path("$.n"), body), "5");
  EXPECT_EQ(extract(json_path("$.list[1].id"), body), "y");
  EXPECT_EQ(extract(json_path("$['list'][0]['id']"), body), "x");
  EXPECT_EQ(extract(json_path("$.list[*].id", 2), body), "y");
  EXPECT_FALSE(extract(json_path("$.missing"), body));
  EXPECT_FALSE(extract(json_path("$.access_token"), "not json"));
}

TEST(Extractor, RegexWithGroup) {
  Extractor e{Extractor::kRegex, "v", "id=(\\d+)", 2, 1, std::nullopt};
  EXPECT_EQ(extract(e, "id=12 id=34"), "34");
  EXPECT_TRUE(validate_extractor(e));
  Extractor bad{Extractor::kRegex, "v", "(", 1, 1, std::nullopt};
  EXPECT_FALSE(validate_extractor(bad));
  EXPECT_FALSE(validate_extractor(json_path("a.b")));
  EXPECT_FALSE(validate_extractor(json_path("$..a")));
}

}  // namespace
}  // namespace sluice::loadgen
