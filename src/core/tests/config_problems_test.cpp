#include "sluice/core/config_problems.hpp"

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

TEST(ConfigProblems, NothingToThrowWhenEmpty) {
  ConfigProblems problems;
  EXPECT_TRUE(problems.empty());
  EXPECT_NO_THROW(problems.throw_if_any());
}

TEST(ConfigProblems, OneProblemIsThrownAsItIs) {
  ConfigProblems problems;
  problems.add(ConfigError({"plan.jmx", 3, 5}, "Plan/TG", "bad"));
  try {
    problems.throw_if_any();
    FAIL() << "expected a ConfigError";
  } catch (const ConfigErrorList&) {
    FAIL() << "one problem is not a list";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "plan.jmx:3:5: Plan/TG: bad");
  }
}

TEST(ConfigProblems, SeveralAreListedEachOnItsOwnLineWithACount) {
  ConfigProblems problems;
  EXPECT_FALSE(problems.attempt([] { throw ConfigError({"a.yaml", 1, 1}, "secrets[0]", "x"); }));
  EXPECT_TRUE(problems.attempt([] {}));
  problems.add(ConfigError({"a.yaml", 2, 1}, "secrets[1]", "y"));
  problems.add(ConfigError({"a.yaml", 2, 1}, "secrets[1]", "y"));  // reported once
  try {
    problems.throw_if_any();
    FAIL() << "expected a ConfigErrorList";
  } catch (const ConfigErrorList& e) {
    ASSERT_EQ(e.problems().size(), 2u);
    EXPECT_EQ(e.where().line, 1);
    EXPECT_STREQ(e.what(),
                 "a.yaml:1:1: secrets[0]: x\na.yaml:2:1: secrets[1]: y\n"
                 "2 problems; fix them all, then run again");
  }
}

TEST(ConfigProblems, AListAddedToAnotherIsFlattened) {
  ConfigProblems inner;
  inner.add(ConfigError({"p.jmx", 1, 1}, "", "one"));
  inner.add(ConfigError({"p.jmx", 2, 1}, "", "two"));
  ConfigProblems outer;
  outer.add(ConfigError({"t.yaml", 4, 3}, "", "zero"));
  outer.attempt([&] { inner.throw_if_any(); });
  EXPECT_EQ(outer.size(), 3u);
}

}  // namespace
}  // namespace sluice::core
