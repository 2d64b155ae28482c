// Model names resolve exactly as tiktoken's model.py: exact names, then prefixes in order.
#include <gtest/gtest.h>

#include "sluice/tokenizer/model_map.hpp"

namespace sluice::tokenizer {
namespace {

std::string_view name_for(std::string_view model) {
  return encoding_name_for_model(model).value_or("<none>");
}

TEST(ModelMap, ExactNames) {
  for (const char* m : {"gpt-4o", "gpt-4.1", "o1", "o3", "o4-mini", "gpt-5"}) {
    EXPECT_EQ(name_for(m), "o200k_base") << m;
  }
  for (const char* m :
       {"gpt-4", "gpt-3.5-turbo", "gpt-3.5", "gpt-35-turbo", "davinci-002",
        "text-embedding-ada-002", "text-embedding-3-small", "text-embedding-3-large"}) {
    EXPECT_EQ(name_for(m), "cl100k_base") << m;
  }
  EXPECT_EQ(name_for("text-davinci-003"), "p50k_base");
  EXPECT_EQ(name_for("code-davinci-edit-001"), "p50k_edit");
  EXPECT_EQ(name_for("davinci"), "r50k_base");
  EXPECT_EQ(name_for("gpt2"), "gpt2");
}

TEST(ModelMap, Prefixes) {
  EXPECT_EQ(name_for("gpt-4o-mini"), "o200k_base");
  EXPECT_EQ(name_for("gpt-4o-2024-08-06"), "o200k_base");
  EXPECT_EQ(name_for("gpt-4.1-nano"), "o200k_base");
  EXPECT_EQ(name_for("gpt-4.5-preview"), "o200k_base");
  EXPECT_EQ(name_for("gpt-5-mini"), "o200k_base");
  EXPECT_EQ(name_for("gpt-5.1"), "o200k_base");  // "gpt-5" is a prefix without a dash
  EXPECT_EQ(name_for("o1-mini"), "o200k_base");
  EXPECT_EQ(name_for("o3-mini-2025-01-31"), "o200k_base");
  EXPECT_EQ(name_for("o4-mini-2025-04-16"), "o200k_base");
  EXPECT_EQ(name_for("chatgpt-4o-latest"), "o200k_base");
  EXPECT_EQ(name_for("gpt-4-32k"), "cl100k_base");
  EXPECT_EQ(name_for("gpt-4-0314"), "cl100k_base");
  EXPECT_EQ(name_for("gpt-4-turbo"), "cl100k_base");
  EXPECT_EQ(name_for("gpt-3.5-turbo-0301"), "cl100k_base");
  EXPECT_EQ(name_for("gpt-35-turbo-16k"), "cl100k_base");
  EXPECT_EQ(name_for("gpt-oss-120b"), "o200k_harmony");
  EXPECT_EQ(name_for("ft:gpt-4o-mini-2024-07-18:org::abc"), "o200k_base");
  EXPECT_EQ(name_for("ft:gpt-4-0613:org::abc"), "cl100k_base");
  EXPECT_EQ(name_for("ft:gpt-3.5-turbo-0125:org::x"), "cl100k_base");
  EXPECT_EQ(name_for("ft:davinci-002:org::x"), "cl100k_base");
}

TEST(ModelMap, UnknownModelsAreErrorsOrTheDefault) {
  for (const char* m : {"", "GPT-4O", "claude-3", "gpt4", "o2", "text-embedding-3"}) {
    EXPECT_EQ(encoding_name_for_model(m), std::nullopt) << m;
  }
  auto e = encoding_for_model("my-deployment");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(e.error().message.find("'my-deployment'"), std::string::npos);
  EXPECT_NE(e.error().message.find("gpt-4o"), std::string::npos);
  EXPECT_EQ(&encoding_for_model_or("my-deployment", cl100k_base()), &cl100k_base());
  EXPECT_EQ(&encoding_for_model_or("gpt-4o", cl100k_base()), &o200k_base());
}

TEST(ModelMap, LegacyEncodingsAreUnimplemented) {
  auto e = encoding_for_model("text-davinci-003");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, core::ErrorCode::kUnimplemented);
  EXPECT_EQ(*encoding_for_model("gpt-35-turbo"), &cl100k_base());
  EXPECT_EQ(*encoding_for_model("gpt-oss-20b"), &o200k_harmony());
}

}  // namespace
}  // namespace sluice::tokenizer
