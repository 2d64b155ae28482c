#include "sluice/loadgen/data_set.hpp"

#include <gtest/gtest.h>

namespace sluice::loadgen {
namespace {

DataSetSpec spec_with(std::vector<std::string> vars, bool header = false) {
  DataSetSpec s;
  s.name = "t.csv";
  s.variables = std::move(vars);
  s.header = header;
  return s;
}

TEST(Csv, QuotesDelimitersNewlinesAndBom) {
  auto d = parse_csv(
      "\xEF\xBB\xBFid,prompt\r\n1,\"hello, \"\"world\"\"\"\r\n2,\"two\nlines\"\n\n3,plain\n",
      "t.csv", spec_with({}, true));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->columns, (std::vector<std::string>{"id", "prompt"}));
  ASSERT_EQ(d->rows.size(), 3u);
  EXPECT_EQ(d->rows[0][1], "hello, \"world\"");
  EXPECT_EQ(d->rows[1][1], "two\nlines");
  EXPECT_EQ(d->rows[2][0], "3");
}

TEST(Csv, NoHeaderUsesVariableNamesAndOtherDelimiter) {
  auto s = spec_with({"a", "b"});
  s.delimiter = ';';
  auto d = parse_csv("x;y\nz;w", "t.csv", s);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->rows.size(), 2u);
  EXPECT_EQ(d->rows[1][0], "z");
  EXPECT_EQ(d->rows[1][1], "w");
}

TEST(Csv, MalformedRowNamesFileAndLine) {
  auto d = parse_csv("a,b\nc\n", "prompts.csv", spec_with({"x", "y"}));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("prompts.csv:2:"), std::string::npos) << d.error().message;
  auto q = parse_csv("a,\"b\n", "p.csv", spec_with({"x", "y"}));
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().message.find("p.csv:1: unterminated"), std::string::npos)
      << q.error().message;
}

TEST(Csv, SplitAcrossEnginesKeepsEveryNthRow) {
  auto s = spec_with({"n"});
  s.split_across_engines = true;
  auto e0 = parse_csv("0\n1\n2\n3\n4\n", "t.csv", s, 0, 2);
  auto e1 = parse_csv("0\n1\n2\n3\n4\n", "t.csv", s, 1, 2);
  ASSERT_TRUE(e0 && e1);
  ASSERT_EQ(e0->rows.size(), 3u);
  ASSERT_EQ(e1->rows.size(), 2u);
  EXPECT_EQ(e0->rows[1][0], "2");
  EXPECT_EQ(e1->rows[1][0], "3");
}

TEST(Csv, MissingFileIsAnErrorNamingIt) {
  auto s = spec_with({"a"});
  s.path = "/nonexistent/prompts.csv";
  s.declared_at = "test.yaml:9:11";
  auto d = load_data_set(s);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("test.yaml:9:11"), std::string::npos);
  EXPECT_NE(d.error().message.find("/nonexistent/prompts.csv"), std::string::npos);
}

TEST(DataCursor, RecyclesOrStops) {
  auto s = spec_with({"a"});
  auto d = parse_csv("1\n2\n", "t.csv", s);
  ASSERT_TRUE(d);
  auto shared = std::make_shared<DataSet>(*d);
  DataCursor recycle(shared);
  EXPECT_EQ((*recycle.next())[0], "1");
  EXPECT_EQ((*recycle.next())[0], "2");
  EXPECT_EQ((*recycle.next())[0], "1");
  shared->recycle = false;
  DataCursor stop(shared);
  EXPECT_NE(stop.next(), nullptr);
  EXPECT_NE(stop.next(), nullptr);
  EXPECT_EQ(stop.next(), nullptr);
}

}  // namespace
}  // namespace sluice::loadgen
