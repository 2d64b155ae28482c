// LastResult works a result out again whenever the text differs from the kept one in any byte,
// and only then; a text past its bound is never kept.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "sluice/core/last_result.hpp"

namespace sluice::core {
namespace {

TEST(LastResult, TheSameTextIsWorkedOutOnceAndAnotherTextAgain) {
  LastResult<std::string> last;
  int calls = 0;
  auto upper = [&](std::string_view text) {
    ++calls;
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  };
  EXPECT_EQ(last.get("api-version=2024-10-21", upper), "API-VERSION=2024-10-21");
  EXPECT_EQ(last.get("api-version=2024-10-21", upper), "API-VERSION=2024-10-21");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(last.get("api-version=2024-10-22", upper), "API-VERSION=2024-10-22");  // same length
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(last.get("api-version=2024-10-21", upper), "API-VERSION=2024-10-21");
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(last.get("", upper), "");
  EXPECT_EQ(last.get("", upper), "");
  EXPECT_EQ(calls, 4);
}

TEST(LastResult, ATextPastTheBoundIsWorkedOutEveryTime) {
  LastResult<std::size_t, 8> last;
  int calls = 0;
  auto size = [&](std::string_view text) {
    ++calls;
    return text.size();
  };
  EXPECT_EQ(last.get("123456789", size), 9u);
  EXPECT_EQ(last.get("123456789", size), 9u);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(last.get("12345678", size), 8u);
  EXPECT_EQ(last.get("12345678", size), 8u);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace sluice::core
