#include "sluice/usage/usage_record.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace sluice::usage {
namespace {

UsageRecord sample() {
  UsageRecord r;
  r.request_id = "0b7c-\"quoted\"-id";
  r.started_at_us = 1'700'000'000'123'456;
  r.completed_at_us = r.started_at_us + 5000;
  r.app_id = "app}{\"x\"";
  r.key_id = "key-1";
  r.client_ip = "127.0.0.1";
  r.route = "chat";
  r.deployment = "gpt-4o";
  r.model = "gpt-4o-2024-08-06";
  r.backend = "ptu";
  r.operation = "chat.completions";
  r.streamed = true;
  r.status = 200;
  r.prompt_tokens = 12;
  r.completion_tokens = 30;
  r.total_tokens = 42;
  r.cached_tokens = 4;
  r.reasoning_tokens = 2;
  r.usage_source = "reported";
  r.ttft_us = 1200;
  r.duration_us = 5000;
  r.attempts = 2;
  r.client_disconnected = false;
  r.cache = "semantic";
  r.tokens_saved = 42;
  r.similarity_ppm = 931'200;
  r.purpose = "cache_lookup";
  return r;
}

TEST(UsageRecord, RoundTripsThroughOneLine) {
  std::string line;
  append_record_line(line, sample());
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one record is one line";
  auto parsed = parse_record_line(line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, sample());
}

// The line is written into space sized beforehand from the strings' lengths plus a fixed 1,024
// bytes for keys and numbers: the largest numbers and strings that need the most escaping must fit.
TEST(UsageRecord, ExtremeValuesRoundTripAndFitTheSpaceSizedForThem) {
  UsageRecord r;
  r.started_at_us = r.completed_at_us = r.prompt_tokens = r.completion_tokens = r.total_tokens =
      r.cached_tokens = r.reasoning_tokens = r.ttft_us = r.duration_us = r.tokens_saved =
          r.similarity_ppm = std::numeric_limits<std::int64_t>::min();
  r.status = r.attempts = std::numeric_limits<int>::min();
  r.streamed = r.client_disconnected = false;
  std::string line;
  append_record_line(line, r);
  EXPECT_LT(line.size(), 1024u) << "keys and numbers alone: " << line;
  r.request_id = "id";  // a record needs one to parse
  line.clear();
  append_record_line(line, r);
  auto parsed = parse_record_line(line);
  ASSERT_TRUE(parsed) << line;
  EXPECT_EQ(*parsed, r);

  std::string controls;
  for (int c = 1; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  for (auto* value :
       {&r.request_id, &r.app_id, &r.key_id, &r.client_ip, &r.route, &r.deployment, &r.model,
        &r.backend, &r.operation, &r.error_code, &r.usage_source, &r.cache, &r.purpose}) {
    *value = controls + "\"\\\x7f\xc3\xa9" + std::string(300, '\x01');
  }
  line = "kept";
  append_record_line(line, r);
  ASSERT_EQ(line.substr(0, 4), "kept") << "the line is appended after what was there";
  parsed = parse_record_line(std::string_view(line).substr(4));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, r);
}

TEST(UsageRecord, NoStrictPrefixParses) {
  std::string line;
  append_record_line(line, sample());
  line.pop_back();  // the newline
  for (std::size_t n = 0; n < line.size(); ++n) {
    EXPECT_FALSE(parse_record_line(std::string_view(line).substr(0, n))) << "prefix of " << n;
  }
}

TEST(UsageRecord, ForeignLinesAreRefused) {
  EXPECT_FALSE(parse_record_line(""));
  EXPECT_FALSE(parse_record_line("[1,2]"));
  EXPECT_FALSE(parse_record_line("{\"started_at_us\":1}"));   // no request id
  EXPECT_FALSE(parse_record_line("{\"request_id\":\"a\"}"));  // no start time
  EXPECT_FALSE(parse_record_line("{\"request_id\":\"a\",\"started_at_us\":\"soon\"}"));
  auto r = parse_record_line("{\"request_id\":\"a\",\"started_at_us\":5,\"future_field\":[1]}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->started_at_us, 5);
}

}  // namespace
}  // namespace sluice::usage
