#include "sluice/loadgen/template.hpp"

#include <map>

#include <gtest/gtest.h>

namespace sluice::loadgen {
namespace {

class MapScope : public VarScope {
 public:
  std::map<std::string, std::string, std::less<>> vars;
  const std::string* find(std::string_view name) const override {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : &it->second;
  }
  std::mt19937_64& rng() override { return rng_; }
  int thread_number() const override { return 7; }

 private:
  std::mt19937_64 rng_{3};
};

TEST(Template, SubstitutesVariablesAndJsonEscapesValues) {
  MapScope scope;
  scope.vars["prompt"] = "say \"hi\"\n\\ok";
  auto t = Template::compile(R"({"content":"${prompt}"})", Escape::kJson);
  ASSERT_TRUE(t) << t.error().message;
  auto out = t->render(scope);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, R"({"content":"say \"hi\"\n\\ok"})");
}

TEST(Template, UndefinedVariableIsAnErrorNamingIt) {
  MapScope scope;
  auto t = Template::compile("Bearer ${access_token}");
  ASSERT_TRUE(t);
  auto out = t->render(scope);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("access_token"), std::string::npos);
  EXPECT_EQ(t->variables(), std::vector<std::string>{"access_token"});
}

TEST(Template, FunctionsWithArgumentsAndNesting) {
  MapScope scope;
  scope.vars["hi"] = "9";
  auto t = Template::compile("${__Random(5,${hi})}-${__threadNum}-${__threadNum()}");
  ASSERT_TRUE(t) << t.error().message;
  auto out = t->render(scope);
  ASSERT_TRUE(out) << out.error().message;
  int n = std::stoi(*out);
  EXPECT_GE(n, 5);
  EXPECT_LE(n, 9);
  EXPECT_TRUE(out->ends_with("-7-7"));
  auto uuid = Template::compile("${__UUID()}")->render(scope);
  ASSERT_TRUE(uuid);
  EXPECT_EQ(uuid->size(), 36u);
  EXPECT_EQ((*uuid)[14], '4');
}

TEST(Template, SyntaxErrorsAndUnknownFunctionsAreRefused) {
  EXPECT_FALSE(Template::compile("abc ${unterminated"));
  EXPECT_FALSE(Template::compile("${}"));
  auto unknown = Template::compile("${__nope(1)}");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("__nope"), std::string::npos);
  EXPECT_FALSE(Template::compile("${__Random(1,2}"));
}

TEST(Template, EscapedDollarBraceIsLiteral) {
  MapScope scope;
  auto t = Template::compile("cost $${x}");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->render(scope), "cost ${x}");
}

TEST(Template, RegistryCanBeExtended) {
  FunctionRegistry registry;
  registry.add("__double",
               [](std::span<const std::string> args, VarScope&) -> core::Result<std::string> {
                 return args.empty() ? std::string() : args[0] + args[0];
               });
  MapScope scope;
  auto t = Template::compile("${__double(ab)}", Escape::kNone, registry);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->render(scope), "abab");
}

TEST(Template, UrlEscaping) {
  MapScope scope;
  scope.vars["s"] = "a b&c=d/é";
  auto t = Template::compile("x=${s}", Escape::kUrl);
  EXPECT_EQ(*t->render(scope), "x=a%20b%26c%3Dd%2F%C3%A9");
}

}  // namespace
}  // namespace sluice::loadgen
