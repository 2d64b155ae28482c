#include "gateway/policies/cache/redis_answer_store.hpp"

#include <charconv>

namespace sluice::gateway::cache {

namespace {

enum Script : std::size_t { kGet = 0, kSet = 1 };

std::vector<std::string> scripts() {
  return {"return redis.call('GET', KEYS[1])",
          "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1"};
}

constexpr std::string_view kVersion = "sluice-cache-1";

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Takes the text up to the next '\n' off `rest`.
bool next_line(std::string_view& rest, std::string_view& line) {
  auto end = rest.find('\n');
  if (end == std::string_view::npos) return false;
  line = rest.substr(0, end);
  rest.remove_prefix(end + 1);
  return true;
}

bool to_int(std::string_view text, std::int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string encode_answer(const CachedAnswer& answer, std::int64_t stored_at_unix_ms) {
  std::string value(kVersion);
  value +=
      '\n' + std::to_string(answer.total_tokens) + '\n' + std::to_string(stored_at_unix_ms) + '\n';
  // A model name never holds a newline; one that did would only make the value unreadable.
  value += answer.model + '\n';
  value += answer.body;
  return value;
}

bool decode_answer(std::string_view value, CachedAnswer& answer, std::int64_t& stored_at_unix_ms) {
  std::string_view version, tokens, stored, model;
  if (!next_line(value, version) || version != kVersion || !next_line(value, tokens) ||
      !next_line(value, stored) || !next_line(value, model)) {
    return false;
  }
  if (!to_int(tokens, answer.total_tokens) || !to_int(stored, stored_at_unix_ms)) return false;
  answer.model = std::string(model);
  answer.body = std::string(value);
  return true;
}

RedisAnswerStore::RedisAnswerStore(token_limit::RedisSettings settings)
    : settings_(std::move(settings)), client_(settings_, scripts()) {}

http::Task<RedisAnswerStore::Found> RedisAnswerStore::find(
    const std::string& key, std::chrono::steady_clock::time_point now) {
  // Built before the co_await: GCC 12 cannot keep braced temporaries across a suspension.
  std::vector<std::string> keys{settings_.key_prefix + "cache:" + key};
  auto reply = co_await token_limit::eval_on(client_, kGet, std::move(keys), {},
                                             std::chrono::steady_clock::now() + settings_.timeout);
  Found found;
  if (reply.status != token_limit::RedisReply::Status::kOk) {
    found.error = std::move(reply.error);
    co_return found;
  }
  found.reachable = true;
  if (!reply.text) co_return found;
  auto answer = std::make_shared<CachedAnswer>();
  std::int64_t stored_at_ms = 0;
  if (!decode_answer(*reply.text, *answer, stored_at_ms)) co_return found;
  answer->stored_at =
      now - std::chrono::milliseconds(std::max<std::int64_t>(0, unix_ms_now() - stored_at_ms));
  found.answer = std::move(answer);
  co_return found;
}

void RedisAnswerStore::insert(const token_limit::RedisClient::Executor& executor,
                              const std::string& key, const CachedAnswer& answer,
                              std::chrono::milliseconds ttl, std::function<void(bool ok)> done) {
  client_.eval(executor, kSet, {settings_.key_prefix + "cache:" + key},
               {encode_answer(answer, unix_ms_now()), std::to_string(ttl.count())},
               std::chrono::steady_clock::now() + settings_.timeout,
               [done = std::move(done)](token_limit::RedisReply reply) {
                 done(reply.status == token_limit::RedisReply::Status::kOk);
               });
}

}  // namespace sluice::gateway::cache
