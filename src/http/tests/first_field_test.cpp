#include "http/first_field.hpp"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

Fields sample_fields() {
  Fields fields;
  fields.insert("Content-Type", "application/json");
  fields.insert("retry-after-ms", "5");
  fields.insert("X-Other", "y");
  fields.insert("RETRY-AFTER-MS", "6");
  fields.insert("Retry-After", "7");
  fields.insert("content-type", "text/plain");
  fields.insert("Azure-OpenAI-Deployment-Utilization", "42.5%");
  return fields;
}

// What Beast's own look-up answers, for comparison.
std::optional<std::string_view> beast_find(const Fields& fields, std::string_view name) {
  auto it = fields.find(name);
  if (it == fields.end()) return std::nullopt;
  return std::string_view(it->value());
}

TEST(FirstFieldTest, AFieldBeastKnowsByItsCode) {
  const auto fields = sample_fields();
  EXPECT_EQ(first_field(fields, Field::content_type), "application/json");
  EXPECT_EQ(first_field(fields, Field::retry_after), "7");
  EXPECT_EQ(first_field(fields, Field::expect), std::nullopt);
  EXPECT_EQ(first_field(fields, Field::content_type), beast_find(fields, "content-type"));
  EXPECT_EQ(first_field(fields, Field::retry_after), beast_find(fields, "retry-after"));
}

TEST(FirstFieldTest, ANameBeastHasNoCodeForInAnyCase) {
  const auto fields = sample_fields();
  EXPECT_EQ(first_field(fields, "retry-after-ms"), "5");  // the first of the two
  EXPECT_EQ(first_field(fields, "azure-openai-deployment-utilization"), "42.5%");
  EXPECT_EQ(first_field(fields, "x-missing"), std::nullopt);
  EXPECT_EQ(first_field(fields, "retry-after-ms"), beast_find(fields, "retry-after-ms"));
  EXPECT_EQ(first_field(fields, "azure-openai-deployment-utilization"),
            beast_find(fields, "azure-openai-deployment-utilization"));
}

// A name from configuration may be one Beast has a code for or not; either way the first field of
// that name is found, whatever the case of either, as Beast's find() finds it.
TEST(FirstFieldTest, ANameKnownOnlyAtRunTimeWithOrWithoutACode) {
  const auto fields = sample_fields();
  for (std::string_view name : {"content-type", "Content-Type", "retry-after", "retry-after-ms",
                                "Retry-After-MS", "x-other", "expect", "x-missing"}) {
    EXPECT_EQ(first_field_named(fields, name), beast_find(fields, name)) << name;
  }
  EXPECT_EQ(first_field_named(fields, "CONTENT-TYPE"), "application/json");
  EXPECT_EQ(first_field_named(fields, "retry-after-ms"), "5");
  EXPECT_EQ(first_field_named(fields, "x-missing"), std::nullopt);
}

TEST(FirstFieldTest, NothingInAnEmptyHead) {
  const Fields fields;
  EXPECT_EQ(first_field(fields, Field::expect), std::nullopt);
  EXPECT_EQ(first_field(fields, "retry-after-ms"), std::nullopt);
  EXPECT_EQ(first_field_named(fields, "content-type"), std::nullopt);
}

}  // namespace
}  // namespace sluice::http
