// The token_limit Redis store against a real redis-server that the test starts itself on a free
// loopback port (Debian package `redis-server`; the test fails, never skips, without it).
// Checks that the Lua scripts make exactly the local store's decisions, that two stores (two
// gateway instances) share one budget under concurrency, and the failure and recovery paths.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "core/tests/eventually.hpp"
#include "gateway/policies/token_limit/local_store.hpp"
#include "gateway/policies/token_limit/redis_store.hpp"
#include "gateway/policies/token_limit/sliding_window.hpp"

namespace sluice::gateway::token_limit {
namespace {

using namespace std::chrono_literals;
namespace asio = http::asio;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// redis-server as a child process, no persistence.
class RedisServer {
 public:
  // `password`: started with --requirepass.
  explicit RedisServer(int port, std::string password = "")
      : port_(port), password_(std::move(password)) {
    start();
  }
  ~RedisServer() { stop(); }

  void start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string port = std::to_string(port_);
      if (password_.empty()) {
        ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
                 static_cast<char*>(nullptr));
      } else {
        ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
                 "--requirepass", password_.c_str(), static_cast<char*>(nullptr));
      }
      std::perror("exec redis-server");
      ::_exit(127);
    }
    ASSERT_GT(pid_, 0);
    bool exited = false;
    bool answered = core::testing::eventually([&] {
      int status = 0;
      exited = ::waitpid(pid_, &status, WNOHANG) == pid_;
      return exited || ping();
    });
    if (exited) {
      pid_ = -1;
      FAIL() << "redis-server exited at start (is the redis-server package installed?)";
    }
    ASSERT_TRUE(answered) << "redis-server did not answer PING on port " << port_;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool ping() const {
    timeval tv{0, 200'000};
    redisContext* context = redisConnectWithTimeout("127.0.0.1", port_, tv);
    bool ok = false;
    if (context && !context->err) {
      auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
      // A server with a password answers NOAUTH: it is up.
      ok = reply && (reply->type == REDIS_REPLY_STATUS || reply->type == REDIS_REPLY_ERROR);
      if (reply) freeReplyObject(reply);
    }
    if (context) redisFree(context);
    return ok;
  }
  void command(const char* text) const {
    timeval tv{1, 0};
    redisContext* context = redisConnectWithTimeout("127.0.0.1", port_, tv);
    ASSERT_TRUE(context && !context->err);
    auto* reply = static_cast<redisReply*>(redisCommand(context, text));
    ASSERT_TRUE(reply);
    freeReplyObject(reply);
    redisFree(context);
  }
  // A bulk-string reply's text (INFO's), or "" on failure.
  std::string text(const char* command) const {
    timeval tv{1, 0};
    redisContext* context = redisConnectWithTimeout("127.0.0.1", port_, tv);
    std::string out;
    if (context && !context->err) {
      auto* reply = static_cast<redisReply*>(redisCommand(context, command));
      if (reply && reply->type == REDIS_REPLY_STRING) out.assign(reply->str, reply->len);
      if (reply) freeReplyObject(reply);
    }
    if (context) redisFree(context);
    return out;
  }
  // How many times `name` ran, from INFO commandstats.
  long long calls_of(const std::string& name) const {
    auto stats = text("INFO commandstats");
    auto at = stats.find("cmdstat_" + name + ":calls=");
    if (at == std::string::npos) return 0;
    return std::stoll(stats.substr(at + 8 + name.size() + 7));
  }
  // A server that takes connections and requests and answers nothing (SIGSTOP), and back.
  void pause() const { ::kill(pid_, SIGSTOP); }
  void resume() const { ::kill(pid_, SIGCONT); }
  // The fields of hash `key` as integers (every field of a window hash is one).
  std::map<std::string, long long> hash(const std::string& key) const {
    std::map<std::string, long long> fields;
    timeval tv{1, 0};
    redisContext* context = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (!context || context->err) {
      ADD_FAILURE() << "cannot connect to redis-server on port " << port_;
      if (context) redisFree(context);
      return fields;
    }
    auto* reply = static_cast<redisReply*>(redisCommand(context, "HGETALL %s", key.c_str()));
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
      for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
        fields[reply->element[i]->str] = std::stoll(reply->element[i + 1]->str);
      }
    }
    if (reply) freeReplyObject(reply);
    redisFree(context);
    return fields;
  }
  int port() const { return port_; }
  // Whether `key` exists in database `database`, asked with the server's password.
  bool exists(int database, const std::string& key) const {
    timeval tv{1, 0};
    redisContext* context = redisConnectWithTimeout("127.0.0.1", port_, tv);
    bool found = false;
    if (context && !context->err) {
      if (!password_.empty()) {
        freeReplyObject(redisCommand(context, "AUTH %s", password_.c_str()));
      }
      freeReplyObject(redisCommand(context, "SELECT %d", database));
      auto* reply = static_cast<redisReply*>(redisCommand(context, "EXISTS %s", key.c_str()));
      found = reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
      if (reply) freeReplyObject(reply);
    }
    if (context) redisFree(context);
    return found;
  }

 private:
  int port_;
  std::string password_;
  pid_t pid_ = -1;
};

LimitSpec spec(std::string name, std::int64_t tpm, std::int64_t quota = 0,
               QuotaPeriod period = QuotaPeriod::kDaily) {
  LimitSpec limit;
  limit.name = std::move(name);
  limit.counter_key = {CounterKeyPart{}};
  limit.tokens_per_minute = tpm;
  limit.token_quota = quota;
  limit.token_quota_period = period;
  return limit;
}

constexpr std::int64_t kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

Instant at(std::int64_t ms) {
  return Instant{ms, std::chrono::system_clock::time_point(std::chrono::milliseconds(ms))};
}

class RedisStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new RedisServer(free_port()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  RedisSettings settings(std::string prefix) const {
    RedisSettings s;
    s.host = "127.0.0.1";
    s.port = server_->port();
    s.url = "redis://127.0.0.1:" + std::to_string(s.port);
    s.key_prefix = std::move(prefix);
    // Only a hang reaches these: a busy machine must not turn into a Redis failure. (A stopped
    // server refuses connections at once, so the outage tests do not wait for them.)
    s.timeout = 10s;
    s.connect_timeout = 10s;
    s.retry_interval = 300ms;
    return s;
  }

  // The calling thread's event loop, as a gateway worker has one: the store's connection for this
  // thread lives on it from one call to the next.
  static asio::io_context& loop() {
    thread_local asio::io_context io{1};
    return io;
  }
  // Runs the calling thread's loop until `done()`. An answer may come from another thread's loop
  // (a coalesced settlement is answered on the loop that sent it), which does not wake this one:
  // so each wait is bounded, and `done()` is checked again after it. (Blocking in run_one() here
  // hung a thread whose last answer came from elsewhere while its own loop sat on an idle
  // connection's read.)
  template <class Done>
  static void run_until(Done done) {
    while (!done()) {
      loop().restart();
      if (loop().run_one_for(5ms) == 0 && loop().stopped()) {
        std::this_thread::sleep_for(1ms);  // no work at all on this loop: do not spin
      }
    }
  }

  static RedisStore::Answer reserve(RedisStore& store, std::vector<Charge> charges,
                                    const Instant& now) {
    std::optional<RedisStore::Answer> answer;
    asio::co_spawn(
        loop(), [&]() -> http::Task<void> { answer = co_await store.reserve(charges, now); },
        asio::detached);
    run_until([&] { return answer.has_value(); });
    return std::move(*answer);
  }
  // Reservations asked for in one turn of the loop, in order: they go out as one batched call.
  static std::vector<RedisStore::Answer> reserve_together(
      RedisStore& store, const std::vector<std::pair<std::vector<Charge>, Instant>>& asks) {
    std::vector<std::optional<RedisStore::Answer>> answers(asks.size());
    std::size_t answered = 0;
    for (std::size_t i = 0; i < asks.size(); ++i) {
      asio::co_spawn(
          loop(),
          [&, i]() -> http::Task<void> {
            answers[i] = co_await store.reserve(asks[i].first, asks[i].second);
            ++answered;
          },
          asio::detached);
    }
    run_until([&] { return answered == asks.size(); });
    std::vector<RedisStore::Answer> out;
    for (auto& answer : answers) out.push_back(std::move(*answer));
    return out;
  }
  // A zero-token probe of both stores: every window and quota count the same.
  static void expect_same_counts(LocalStore& local, RedisStore& redis,
                                 const std::vector<Charge>& probe, const Instant& now) {
    auto expected = local.reserve(probe, now);
    auto got = reserve(redis, probe, now);
    ASSERT_EQ(got.status, RedisReply::Status::kOk) << got.error;
    for (std::size_t j = 0; j < probe.size(); ++j) {
      EXPECT_EQ(got.result.standing[j].window_used, expected.standing[j].window_used) << j;
      EXPECT_EQ(got.result.standing[j].quota_used, expected.standing[j].quota_used) << j;
    }
  }
  static bool settle(RedisStore& store, std::vector<Settlement> settlements, const Instant& now) {
    std::optional<bool> outcome;
    store.settle(loop().get_executor(), settlements, now,
                 [&](bool ok, const std::string&) { outcome = ok; });
    run_until([&] { return outcome.has_value(); });
    return *outcome;
  }

  static RedisServer* server_;
};

RedisServer* RedisStoreTest::server_ = nullptr;

TEST_F(RedisStoreTest, AdmitsRefusesAndSettlesLikeTheLocalStore) {
  RedisStore store(settings("t1:"));
  auto limit = spec("tpm", 1000, 3000);
  auto first = reserve(store, {{&limit, "a", 600}}, at(kT0));
  ASSERT_EQ(first.status, RedisReply::Status::kOk) << first.error;
  EXPECT_TRUE(first.result.admitted);
  EXPECT_EQ(first.result.standing[0].window_used, 600);
  EXPECT_EQ(first.result.standing[0].quota_used, 600);
  auto second = reserve(store, {{&limit, "a", 400}}, at(kT0 + 10'000));
  EXPECT_TRUE(second.result.admitted);
  auto refused = reserve(store, {{&limit, "a", 1}}, at(kT0 + 10'000));
  ASSERT_EQ(refused.status, RedisReply::Status::kOk);
  EXPECT_FALSE(refused.result.admitted);
  EXPECT_EQ(refused.result.refusal, Refusal::kRate);
  EXPECT_EQ(refused.result.retry_after_ms, 51'000);
  EXPECT_EQ(refused.result.standing[0].window_used, 1000);

  // The first request used only 100 tokens: 500 come back, in its own bucket.
  ASSERT_TRUE(settle(
      store, {{&limit, "a", first.result.bucket, first.result.standing[0].period.start, -500}},
      at(kT0 + 11'000)));
  auto after = reserve(store, {{&limit, "a", 500}}, at(kT0 + 11'000));
  EXPECT_TRUE(after.result.admitted);
  EXPECT_EQ(after.result.standing[0].window_used, 1000);
  EXPECT_EQ(after.result.standing[0].quota_used, 1000);  // 600 + 400 - 500 + 500
  // When the first bucket leaves the window, its 100 tokens are free again.
  auto later = reserve(store, {{&limit, "a", 100}}, at(kT0 + 61'000));
  EXPECT_TRUE(later.result.admitted);
}

TEST_F(RedisStoreTest, SeveralLimitsAreChargedTogetherOrNotAtAll) {
  RedisStore store(settings("t2:"));
  auto per_app = spec("per-app", 1000);
  auto per_deployment = spec("per-deployment", 1500);
  auto quota = spec("quota", 0, 2000, QuotaPeriod::kMonthly);
  EXPECT_TRUE(reserve(store, {{&per_app, "app1", 800}, {&per_deployment, "d", 800}}, at(kT0))
                  .result.admitted);
  auto refused = reserve(store, {{&per_app, "app2", 800}, {&per_deployment, "d", 800}}, at(kT0));
  EXPECT_FALSE(refused.result.admitted);
  EXPECT_EQ(refused.result.refused, 1u);
  EXPECT_EQ(reserve(store, {{&per_app, "app2", 1000}}, at(kT0)).result.standing[0].window_used,
            1000);
  // A quota refusal wins over a rate refusal, and names the quota.
  EXPECT_TRUE(reserve(store, {{&quota, "app3", 1900}}, at(kT0)).result.admitted);
  auto quota_refused = reserve(store, {{&per_app, "app1", 300}, {&quota, "app3", 300}}, at(kT0));
  EXPECT_EQ(quota_refused.result.refusal, Refusal::kQuota);
  EXPECT_EQ(quota_refused.result.refused, 1u);
  EXPECT_EQ(quota_refused.result.standing[1].quota_used, 1900);
  // The next month starts from zero.
  auto february = at(kT0 + 31LL * 86'400'000);
  auto next = reserve(store, {{&quota, "app3", 1500}}, february);
  EXPECT_TRUE(next.result.admitted);
  EXPECT_EQ(next.result.standing[0].quota_used, 1500);
}

// The same random sequence of reservations and settlements against both stores: every decision,
// wait and count must agree, which ties the Lua scripts to the C++ window arithmetic.
TEST_F(RedisStoreTest, MakesExactlyTheLocalStoresDecisions) {
  RedisStore redis(settings("t3:"));
  LocalStore local;
  auto a = spec("a", 3000, 20'000, QuotaPeriod::kHourly);
  auto b = spec("b", 5000);
  std::mt19937 random(11);
  std::uniform_int_distribution<std::int64_t> tokens(0, 900);
  std::uniform_int_distribution<int> step_ms(0, 2500);
  std::uniform_int_distribution<int> counter(0, 2);
  std::int64_t now = kT0 + 3'590'000;  // crosses an hour boundary on the way
  int admitted = 0;
  int refused = 0;
  for (int i = 0; i < 400; ++i) {
    now += step_ms(random);
    std::string key = "c" + std::to_string(counter(random));
    std::vector<Charge> charges{{&a, key, tokens(random)}, {&b, "shared", tokens(random)}};
    auto expected = local.reserve(charges, at(now));
    auto got = reserve(redis, charges, at(now));
    ASSERT_EQ(got.status, RedisReply::Status::kOk) << got.error;
    ASSERT_EQ(got.result.admitted, expected.admitted) << i;
    ASSERT_EQ(got.result.bucket, expected.bucket) << i;
    for (std::size_t j = 0; j < charges.size(); ++j) {
      ASSERT_EQ(got.result.standing[j].window_used, expected.standing[j].window_used) << i;
      ASSERT_EQ(got.result.standing[j].quota_used, expected.standing[j].quota_used) << i;
    }
    if (!expected.admitted) {
      ++refused;
      ASSERT_EQ(got.result.refusal, expected.refusal) << i;
      ASSERT_EQ(got.result.refused, expected.refused) << i;
      ASSERT_EQ(got.result.retry_after_ms, expected.retry_after_ms) << i;
      continue;
    }
    ++admitted;
    // Settle some of them a little later with a random real usage.
    if (i % 3 != 0) {
      std::vector<Settlement> settlements;
      for (const auto& charge : charges) {
        std::int64_t real = tokens(random);
        settlements.push_back({charge.limit, charge.counter, expected.bucket,
                               expected.standing[0].period.start, real - charge.tokens});
      }
      now += step_ms(random);
      local.settle(settlements, at(now));
      ASSERT_TRUE(settle(redis, settlements, at(now)));
    }
  }
  EXPECT_GT(admitted, 50);
  EXPECT_GT(refused, 50);
}

// The same, with the reservations asked for in groups of one to twelve in one turn of the loop
// (as a worker's requests do under load), so each group runs as one script call that reads and
// writes each key once: every decision, wait and count is still the local store's, taking the
// group's reservations one after another in the order asked. Times within a group go back as well
// as forward (a lagging host), and groups cross second, minute and hour boundaries.
TEST_F(RedisStoreTest, ReservationsBatchedInOneCallMakeTheLocalStoresDecisions) {
  RedisServer own(free_port());
  auto s = settings("t16:");
  s.port = own.port();
  RedisStore redis(s);
  LocalStore local;
  auto a = spec("a", 3000, 20'000, QuotaPeriod::kHourly);
  auto b = spec("b", 5000);
  auto c = spec("c", 0, 9'000, QuotaPeriod::kDaily);
  std::mt19937 random(17);
  std::uniform_int_distribution<std::int64_t> tokens(0, 900);
  std::uniform_int_distribution<int> step_ms(-400, 2500);
  std::uniform_int_distribution<int> counter(0, 2);
  std::uniform_int_distribution<int> gap_ms(0, 9000);
  std::uniform_int_distribution<int> group_size(1, 12);
  std::uniform_int_distribution<int> shape(0, 3);
  std::int64_t now = kT0 + 3'590'000;  // crosses an hour boundary on the way
  int admitted = 0;
  int refused = 0;
  int reservations = 0;
  int groups = 0;
  const auto evalshas = own.calls_of("evalsha");
  while (reservations < 600) {
    std::vector<std::pair<std::vector<Charge>, Instant>> asks;
    now += gap_ms(random);
    const int size = group_size(random);
    for (int k = 0; k < size; ++k) {
      now += step_ms(random) / 4;
      std::string key = "c" + std::to_string(counter(random));
      std::vector<Charge> charges{{&a, key, tokens(random)}};
      switch (shape(random)) {
        case 0:
          charges.push_back({&b, "shared", tokens(random)});
          break;
        case 1:
          charges.push_back({&c, key, tokens(random)});
          break;
        case 2:  // two limits of one request on the same window and quota
          charges.push_back({&a, key, tokens(random)});
          break;
        default:
          break;
      }
      asks.emplace_back(std::move(charges), at(now));
    }
    auto got = reserve_together(redis, asks);
    ++groups;
    std::vector<Settlement> settlements;
    for (std::size_t k = 0; k < asks.size(); ++k, ++reservations) {
      const auto& charges = asks[k].first;
      auto expected = local.reserve(charges, asks[k].second);
      ASSERT_EQ(got[k].status, RedisReply::Status::kOk) << got[k].error;
      ASSERT_EQ(got[k].result.admitted, expected.admitted) << reservations;
      ASSERT_EQ(got[k].result.bucket, expected.bucket) << reservations;
      for (std::size_t j = 0; j < charges.size(); ++j) {
        ASSERT_EQ(got[k].result.standing[j].window_used, expected.standing[j].window_used)
            << reservations << " limit " << j;
        ASSERT_EQ(got[k].result.standing[j].quota_used, expected.standing[j].quota_used)
            << reservations << " limit " << j;
        ASSERT_EQ(got[k].result.standing[j].wait_ms, expected.standing[j].wait_ms)
            << reservations << " limit " << j;
      }
      if (!expected.admitted) {
        ++refused;
        ASSERT_EQ(got[k].result.refusal, expected.refusal) << reservations;
        ASSERT_EQ(got[k].result.refused, expected.refused) << reservations;
        ASSERT_EQ(got[k].result.retry_after_ms, expected.retry_after_ms) << reservations;
        continue;
      }
      ++admitted;
      if (k % 2 == 0) {
        for (const auto& charge : charges) {
          settlements.push_back({charge.limit, charge.counter, expected.bucket,
                                 expected.standing[0].period.start,
                                 tokens(random) - charge.tokens});
        }
      }
    }
    if (!settlements.empty()) {
      now += std::abs(step_ms(random));
      local.settle(settlements, at(now));
      ASSERT_TRUE(settle(redis, settlements, at(now)));
    }
  }
  EXPECT_GT(admitted, 100);
  EXPECT_GT(refused, 100);
  // One script call a group: the batching really happened.
  EXPECT_EQ(own.calls_of("evalsha"),
            evalshas + groups + static_cast<long long>(redis.settle_scripts()));
}

// One settle call carrying many settlements on the same window and quota: charges and refunds to
// the same buckets, a refund larger than its bucket holds, a charge and a refund to a bucket that
// has left the window, and a refund to a quota counter that was never created. The script reads
// each key once and writes it once; the counters must end where the local store's do, with the
// running total equal to the buckets.
TEST_F(RedisStoreTest, ManySettlementsOnOneKeyInOneCallAddUpExactly) {
  RedisStore redis(settings("t19:"));
  LocalStore local;
  auto limit = spec("many", 100'000, 1'000'000);
  auto quota_only = spec("quota-only", 0, 1'000'000);
  std::vector<std::int64_t> buckets;
  std::int64_t period = 0;
  for (int second = 0; second < 4; ++second) {
    std::vector<Charge> charges{{&limit, "k", 500}};
    auto expected = local.reserve(charges, at(kT0 + 10'000 + second * 1'000));
    auto got = reserve(redis, charges, at(kT0 + 10'000 + second * 1'000));
    ASSERT_EQ(got.status, RedisReply::Status::kOk) << got.error;
    ASSERT_EQ(got.result.bucket, expected.bucket);
    buckets.push_back(got.result.bucket);
    period = got.result.standing[0].period.start;
  }
  const auto now = at(kT0 + 15'000);
  std::vector<Settlement> settlements{
      {&limit, "k", buckets[0], period, 50},           {&limit, "k", buckets[0], period, -80},
      {&limit, "k", buckets[1], period, -1'000},       {&limit, "k", buckets[2], period, 30},
      {&limit, "k", buckets[2], period, -10},          {&limit, "k", buckets[0] - 100, period, 20},
      {&limit, "k", buckets[0] - 100, period, -20},    {&limit, "k", buckets[3], period, -500},
      {&quota_only, "never", buckets[0], period, -40},
  };
  local.settle(settlements, now);
  ASSERT_TRUE(settle(redis, settlements, now));
  std::vector<Charge> probe{{&limit, "k", 0}, {&quota_only, "never", 0}};
  expect_same_counts(local, redis, probe, now);
  auto fields = server_->hash(window_key("t19:", limit, "k"));
  long long sum = 0;
  for (const auto& [name, value] : fields) {
    if (name != "now" && name != "total" && name != "from") sum += value;
  }
  EXPECT_EQ(fields["total"], sum);
  EXPECT_FALSE(fields.contains(std::to_string(buckets[1])));  // refunded to zero: deleted
  EXPECT_FALSE(server_->exists(0, quota_key("t19:", quota_only, period, "never")));
}

// One settle call for more counters than a thread keeps keys for (RedisStore keeps 32 a thread):
// its settlements go to the coalescer in groups and the kept keys are replaced while they are
// made. Each must still land on its own counter's window and quota, as in the local store.
TEST_F(RedisStoreTest, SettlementsOfMoreCountersThanAThreadKeepsLandOnTheirOwnKeys) {
  RedisStore redis(settings("t20:"));
  LocalStore local;
  auto limit = spec("wide", 100'000, 1'000'000);
  constexpr int kCounters = 40;
  std::vector<std::string> counters;
  for (int i = 0; i < kCounters; ++i) counters.push_back("team-" + std::to_string(i));
  const auto reserved_at = at(kT0 + 10'000);
  std::vector<Settlement> settlements;
  for (int i = 0; i < kCounters; ++i) {
    std::vector<Charge> charges{{&limit, counters[i], 1'000}};
    auto expected = local.reserve(charges, reserved_at);
    auto got = reserve(redis, charges, reserved_at);
    ASSERT_EQ(got.status, RedisReply::Status::kOk) << got.error;
    ASSERT_EQ(got.result.bucket, expected.bucket);
    // Each counter settles a different amount: a key mixed up with another's shows.
    settlements.push_back({&limit, counters[i], got.result.bucket,
                           got.result.standing[0].period.start, i % 2 ? -(i + 1) : 3 * i});
  }
  const auto now = at(kT0 + 12'000);
  local.settle(settlements, now);
  ASSERT_TRUE(settle(redis, settlements, now));
  for (int i = 0; i < kCounters; ++i) {
    SCOPED_TRACE(counters[i]);
    expect_same_counts(local, redis, {{&limit, counters[i], 0}}, now);
  }
}

// A settle call whose first settlement's keys the thread already keeps and whose next two it must
// make: making them must not replace the first's while the call still holds them. The thread's 32
// kept keys are filled in order first, so that without that care the second new pair would be
// made in the first settlement's slot.
TEST_F(RedisStoreTest, KeysMadeInASettleCallDoNotReplaceOnesItHolds) {
  RedisStore redis(settings("t22:"));
  LocalStore local;
  auto limit = spec("kept", 100'000, 1'000'000);
  const auto reserved_at = at(kT0 + 10'000);
  std::vector<std::string> counters;
  std::vector<std::int64_t> buckets;
  std::int64_t period = 0;
  for (int i = 0; i < 34; ++i) {
    counters.push_back("c" + std::to_string(i));
    std::vector<Charge> charges{{&limit, counters.back(), 1'000}};
    auto expected = local.reserve(charges, reserved_at);
    // Only the first 32 go through Redis: they fill the kept keys; the last two are made anew by
    // the settle call below.
    if (i < 32) {
      auto got = reserve(redis, charges, reserved_at);
      ASSERT_EQ(got.status, RedisReply::Status::kOk) << got.error;
      ASSERT_EQ(got.result.bucket, expected.bucket);
    }
    buckets.push_back(expected.bucket);
    period = expected.standing[0].period.start;
  }
  // c32 and c33 were reserved in the local store only: charge Redis the same through a settlement
  // of their whole amount, and refund part of c1's.
  const auto now = at(kT0 + 11'000);
  std::vector<Settlement> settlements{{&limit, counters[1], buckets[1], period, -250},
                                      {&limit, counters[32], buckets[32], period, 1'000},
                                      {&limit, counters[33], buckets[33], period, 1'000}};
  std::vector<Settlement> local_settlements{settlements[0]};
  local.settle(local_settlements, now);
  ASSERT_TRUE(settle(redis, settlements, now));
  for (int i : {1, 32, 33}) {
    SCOPED_TRACE(counters[i]);
    expect_same_counts(local, redis, {{&limit, counters[i], 0}}, now);
  }
}

// A reservation that fails inside a batch (its window key holds a string: WRONGTYPE) fails alone,
// with Redis's own error; the others in the same call are answered as if it were not there.
TEST_F(RedisStoreTest, AReservationThatFailsInABatchFailsAlone) {
  RedisStore store(settings("t17:"));
  LocalStore local;
  auto limit = spec("x", 1000);
  server_->command(("SET " + window_key("t17:", limit, "broken") + " text").c_str());
  std::vector<std::pair<std::vector<Charge>, Instant>> asks{
      {{{&limit, "a", 300}}, at(kT0)},
      {{{&limit, "broken", 10}}, at(kT0)},
      {{{&limit, "a", 600}}, at(kT0)},
      {{{&limit, "a", 200}}, at(kT0)},
  };
  auto got = reserve_together(store, asks);
  ASSERT_EQ(got[1].status, RedisReply::Status::kError);
  EXPECT_NE(got[1].error.find("WRONGTYPE"), std::string::npos) << got[1].error;
  for (std::size_t k : {0u, 2u, 3u}) {
    auto expected = local.reserve(asks[k].first, asks[k].second);
    ASSERT_EQ(got[k].status, RedisReply::Status::kOk) << k << ": " << got[k].error;
    EXPECT_EQ(got[k].result.admitted, expected.admitted) << k;
    EXPECT_EQ(got[k].result.standing[0].window_used, expected.standing[0].window_used) << k;
  }
  EXPECT_FALSE(got[3].result.admitted);
  EXPECT_EQ(reserve(store, {{&limit, "a", 0}}, at(kT0)).result.standing[0].window_used, 900);
  EXPECT_TRUE(store.client().up());  // an error reply is not an outage
}

// Two stores (two gateway instances, each with its own connections) and eight threads share
// one limit: in every 61 consecutive buckets the sum admitted across both stays within the limit.
TEST_F(RedisStoreTest, TwoInstancesShareOneBudgetUnderConcurrency) {
  RedisStore first(settings("t4:"));
  RedisStore second(settings("t4:"));
  auto limit = spec("shared", 4000);
  std::mutex mutex;
  std::map<std::int64_t, std::int64_t> by_bucket;
  std::atomic<std::int64_t> clock_ms{kT0};
  std::atomic<int> refusals{0};
  std::atomic<int> answers{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      RedisStore& store = t % 2 ? first : second;
      std::mt19937 random(static_cast<unsigned>(t));
      std::uniform_int_distribution<std::int64_t> tokens(20, 300);
      while (!stop.load()) {
        std::vector<Charge> charges{{&limit, "everyone", tokens(random)}};
        auto answer = reserve(store, charges, at(clock_ms.load()));
        answers.fetch_add(1);
        if (answer.status != RedisReply::Status::kOk) continue;
        if (!answer.result.admitted) {
          refusals.fetch_add(1);
          continue;
        }
        std::lock_guard lock(mutex);
        by_bucket[answer.result.bucket] += charges[0].tokens;
      }
    });
  }
  // 150 simulated seconds in 250 ms steps. Time moves on only after the threads got at least one
  // answer each (on average) since the last step: every simulated minute sees about 1900 attempts
  // against room for about 25, however fast Redis or the machine is.
  for (int i = 0; i < 600; ++i) {
    const int target = answers.load() + static_cast<int>(threads.size());
    while (answers.load() < target) std::this_thread::sleep_for(100us);
    clock_ms.fetch_add(250);
  }
  stop.store(true);
  for (auto& thread : threads) thread.join();
  ASSERT_GT(refusals.load(), 0);
  std::int64_t busiest = 0;
  for (auto [start, ignored] : by_bucket) {
    std::int64_t sum = 0;
    for (auto it = by_bucket.lower_bound(start); it != by_bucket.end() && it->first <= start + 60;
         ++it) {
      sum += it->second;
    }
    ASSERT_LE(sum, 4000) << "from bucket " << start;
    busiest = std::max(busiest, sum);
  }
  EXPECT_GT(busiest, 3000);
}

// Many threads settle against the same counters while earlier settlements are still queued, so
// they are coalesced: the counters end exactly where the local store, settled one by one, ends.
TEST_F(RedisStoreTest, CoalescedSettlementsAddUpExactly) {
  RedisStore redis(settings("t8:"));
  LocalStore local;
  auto limit = spec("c", 1'000'000, 10'000'000);
  auto now = at(kT0 + 5'000);
  std::vector<Charge> charges{{&limit, "a", 50'000}, {&limit, "b", 50'000}};
  auto reserved = reserve(redis, charges, now);
  ASSERT_EQ(reserved.status, RedisReply::Status::kOk) << reserved.error;
  ASSERT_TRUE(local.reserve(charges, now).admitted);
  const auto bucket = reserved.result.bucket;
  const auto period = reserved.result.standing[0].period.start;
  constexpr int kThreads = 4;
  constexpr int kEach = 300;
  std::atomic<int> failed{0};
  std::mutex local_mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // A flush carries other threads' settlements too, and answers them on its own loop.
      std::atomic<int> answered{0};
      for (int i = 0; i < kEach; ++i) {
        // Refunds and charges, to both counters; some charges to a bucket that has left the window
        // (they move to the current bucket), some refunds to one (they are dropped).
        std::int64_t delta = (i % 3 == 0) ? 7 : -(t + 1);
        std::int64_t target = (i % 10 == 0) ? bucket - 100 : bucket;
        std::vector<Settlement> settlements{{&limit, i % 2 ? "a" : "b", target, period, delta}};
        {
          std::lock_guard lock(local_mutex);
          local.settle(settlements, now);
        }
        redis.settle(loop().get_executor(), settlements, now, [&](bool ok, const std::string&) {
          answered.fetch_add(1);
          if (!ok) failed.fetch_add(1);
        });
      }
      run_until([&] { return answered.load() == kEach; });
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_LE(redis.settle_scripts(), static_cast<std::uint64_t>(kThreads * kEach));
  std::vector<Charge> probe{{&limit, "a", 0}, {&limit, "b", 0}};
  expect_same_counts(local, redis, probe, now);
}

// The window hash keeps the running total of its buckets: after every step (charges, refunds,
// quiet stretches, a jump of more than a window, a key re-created by a late settlement) "total" is
// the sum of the bucket fields, no bucket older than "from" is kept, and the decisions match the
// local store's.
TEST_F(RedisStoreTest, TheRunningTotalMatchesTheBucketsAfterTheWindowSlides) {
  RedisStore redis(settings("t9:"));
  LocalStore local;
  auto limit = spec("slide", 5000);
  const std::string key = window_key("t9:", limit, "k");
  auto check = [&](int step) {
    auto fields = server_->hash(key);
    if (fields.empty()) return;  // expired or never written
    long long sum = 0;
    for (const auto& [name, value] : fields) {
      if (name == "now" || name == "total" || name == "from") continue;
      sum += value;
      if (fields.contains("from")) EXPECT_GE(std::stoll(name), fields["from"]) << step;
    }
    EXPECT_EQ(fields["total"], sum) << "step " << step;
  };
  std::mt19937 random(5);
  std::uniform_int_distribution<std::int64_t> tokens(0, 400);
  std::uniform_int_distribution<int> step_ms(0, 4000);
  std::int64_t now = kT0;
  for (int i = 0; i < 300; ++i) {
    now += step_ms(random);
    if (i == 150) now += 200'000;  // far more than a window: counted again from the buckets
    std::vector<Charge> charges{{&limit, "k", tokens(random)}};
    auto expected = local.reserve(charges, at(now));
    auto got = reserve(redis, charges, at(now));
    ASSERT_EQ(got.status, RedisReply::Status::kOk) << got.error;
    ASSERT_EQ(got.result.admitted, expected.admitted) << i;
    ASSERT_EQ(got.result.standing[0].window_used, expected.standing[0].window_used) << i;
    if (!expected.admitted) ASSERT_EQ(got.result.retry_after_ms, expected.retry_after_ms) << i;
    check(i);
    if (expected.admitted && i % 2 == 0) {
      std::vector<Settlement> settlements{
          {&limit, "k", expected.bucket, 0, tokens(random) - charges[0].tokens}};
      now += step_ms(random);
      local.settle(settlements, at(now));
      ASSERT_TRUE(settle(redis, settlements, at(now)));
      check(i);
    }
  }
  // A charge settled after the key expired re-creates it with that one bucket (no "from" yet):
  // the next reservation counts it from the buckets.
  server_->command(("DEL " + key).c_str());
  LocalStore fresh;
  now += 1000;
  std::vector<Settlement> late{{&limit, "k", bucket_of(now), 0, 300}};
  fresh.settle(late, at(now));
  ASSERT_TRUE(settle(redis, late, at(now)));
  check(1000);
  std::vector<Charge> charges{{&limit, "k", 100}};
  auto expected = fresh.reserve(charges, at(now));
  auto got = reserve(redis, charges, at(now));
  EXPECT_EQ(got.result.standing[0].window_used, expected.standing[0].window_used);
  EXPECT_EQ(got.result.standing[0].window_used, 400);
  check(1001);
}

TEST_F(RedisStoreTest, ReloadsItsScriptsAfterTheCacheIsFlushed) {
  RedisStore store(settings("t5:"));
  auto limit = spec("x", 100);
  ASSERT_EQ(reserve(store, {{&limit, "a", 10}}, at(kT0)).status, RedisReply::Status::kOk);
  server_->command("SCRIPT FLUSH");
  auto after = reserve(store, {{&limit, "a", 10}}, at(kT0));
  ASSERT_EQ(after.status, RedisReply::Status::kOk) << after.error;
  EXPECT_EQ(after.result.standing[0].window_used, 20);
}

// While Redis is marked down, answers come at once: no connection is tried, whatever the clock
// says. The retry interval is longer than the test, so "marked down" cannot lapse on a slow
// machine.
TEST_F(RedisStoreTest, AnOutageIsReportedAndThenAnsweredWithoutARoundTrip) {
  RedisServer own(free_port());
  auto s = settings("t6:");
  s.port = own.port();
  s.retry_interval = std::chrono::hours(1);
  RedisStore store(s);
  auto limit = spec("x", 1000);
  ASSERT_EQ(reserve(store, {{&limit, "a", 10}}, at(kT0)).status, RedisReply::Status::kOk);
  own.stop();
  auto down = reserve(store, {{&limit, "a", 10}}, at(kT0));
  EXPECT_EQ(down.status, RedisReply::Status::kUnavailable);
  EXPECT_FALSE(store.client().up());
  const auto connects = store.client().connects();
  const auto failures = store.client().failures();
  auto again = reserve(store, {{&limit, "a", 10}}, at(kT0));
  EXPECT_EQ(again.status, RedisReply::Status::kUnavailable);
  EXPECT_NE(again.error.find("marked down"), std::string::npos) << again.error;
  EXPECT_EQ(store.client().connects(), connects);
  EXPECT_EQ(store.client().failures(), failures);
}

TEST_F(RedisStoreTest, ARestartedServerIsPickedUpAfterTheRetryInterval) {
  RedisServer own(free_port());
  auto s = settings("t7:");
  s.port = own.port();
  RedisStore store(s);
  auto limit = spec("x", 1000);
  auto first = reserve(store, {{&limit, "a", 10}}, at(kT0));
  ASSERT_EQ(first.status, RedisReply::Status::kOk) << first.error;
  own.stop();
  EXPECT_EQ(reserve(store, {{&limit, "a", 10}}, at(kT0)).status, RedisReply::Status::kUnavailable);
  // Settlements fail meanwhile (their flush is answered at once, and must not stay marked queued).
  std::vector<Settlement> refund{{&limit, "a", first.result.bucket, 0, -5}};
  EXPECT_FALSE(settle(store, refund, at(kT0)));
  EXPECT_FALSE(settle(store, refund, at(kT0)));
  own.start();
  // Marked down for retry_interval (answers at once meanwhile), then a reservation tries again.
  RedisStore::Answer back;
  EXPECT_TRUE(core::testing::eventually([&] {
    back = reserve(store, {{&limit, "a", 10}}, at(kT0));
    return back.status == RedisReply::Status::kOk;
  }));
  ASSERT_EQ(back.status, RedisReply::Status::kOk) << back.error;
  EXPECT_TRUE(back.result.admitted);
  EXPECT_EQ(back.result.standing[0].window_used, 10);  // a fresh server has no memory
  // Settlements are sent again.
  EXPECT_TRUE(settle(store, {{&limit, "a", back.result.bucket, 0, -4}}, at(kT0)));
  EXPECT_EQ(reserve(store, {{&limit, "a", 0}}, at(kT0)).result.standing[0].window_used, 6);
}

// Two limits of one request on the same window and quota (two sections sharing a limit's name):
// both charges land, as in the local store.
TEST_F(RedisStoreTest, TwoChargesOnOneWindowBothLand) {
  RedisStore redis(settings("t14:"));
  LocalStore local;
  auto limit = spec("dup", 10'000, 100'000);
  std::vector<Charge> charges{{&limit, "a", 100}, {&limit, "a", 50}};
  auto expected = local.reserve(charges, at(kT0));
  auto got = reserve(redis, charges, at(kT0));
  ASSERT_EQ(got.status, RedisReply::Status::kOk) << got.error;
  ASSERT_TRUE(got.result.admitted);
  std::vector<Charge> probe{{&limit, "a", 0}};
  auto expected_after = local.reserve(probe, at(kT0 + 1'000));
  auto after = reserve(redis, probe, at(kT0 + 1'000));
  EXPECT_EQ(after.result.standing[0].window_used, expected_after.standing[0].window_used);
  EXPECT_EQ(after.result.standing[0].window_used, 150);
  EXPECT_EQ(after.result.standing[0].quota_used, 150);
  auto fields = server_->hash(window_key("t14:", limit, "a"));
  EXPECT_EQ(fields["total"], 150);
}

// A request carrying an older time than the window's latest (a host whose clock lags) is charged
// at the window's latest time: into that bucket, with what it already held.
TEST_F(RedisStoreTest, ALaggingClockChargesTheWindowsLatestBucket) {
  RedisStore redis(settings("t15:"));
  auto limit = spec("lag", 10'000);
  ASSERT_TRUE(reserve(redis, {{&limit, "a", 100}}, at(kT0 + 5'000)).result.admitted);
  auto lagging = reserve(redis, {{&limit, "a", 50}}, at(kT0));
  ASSERT_EQ(lagging.status, RedisReply::Status::kOk) << lagging.error;
  EXPECT_EQ(lagging.result.bucket, bucket_of(kT0 + 5'000));
  auto fields = server_->hash(window_key("t15:", limit, "a"));
  EXPECT_EQ(fields[std::to_string(bucket_of(kT0 + 5'000))], 150);
  EXPECT_EQ(fields["total"], 150);
  EXPECT_FALSE(fields.contains(std::to_string(bucket_of(kT0))));
}

// A worker's requests share its one connection: fifty reservations at once from one event loop
// make one connection, go out as one script call, and run as EVALSHA under the SHA-1 the gateway
// computed (a wrong one would show as NOSCRIPT and an EVAL).
TEST_F(RedisStoreTest, OneEventLoopsReservationsShareOneConnection) {
  RedisServer own(free_port());
  auto s = settings("t10:");
  s.port = own.port();
  RedisStore store(s);
  auto limit = spec("x", 1'000'000);
  ASSERT_EQ(reserve(store, {{&limit, "a", 1}}, at(kT0)).status, RedisReply::Status::kOk);
  const auto evals = own.calls_of("eval");
  const auto evalshas = own.calls_of("evalsha");
  constexpr int kCalls = 50;
  std::vector<std::pair<std::vector<Charge>, Instant>> asks(
      kCalls, {std::vector<Charge>{{&limit, "a", 10}}, at(kT0)});
  int ok = 0;
  for (const auto& answer : reserve_together(store, asks)) {
    if (answer.status == RedisReply::Status::kOk && answer.result.admitted) ++ok;
  }
  EXPECT_EQ(ok, kCalls);
  EXPECT_EQ(store.client().connects(), 1u);
  EXPECT_EQ(own.calls_of("evalsha"), evalshas + 1);
  EXPECT_EQ(own.calls_of("eval"), evals);
  EXPECT_EQ(reserve(store, {{&limit, "a", 0}}, at(kT0)).result.standing[0].window_used,
            1 + 10 * kCalls);
}

// A server with a password and a database other than 0: the connection authenticates (user and
// password) and selects the database before its scripts, and the keys land there. A wrong password
// fails the call with the server's answer, named as the AUTH step.
TEST_F(RedisStoreTest, AuthenticatesAndSelectsItsDatabase) {
  RedisServer own(free_port(), "s3cret-pass");
  auto s = settings("t18:");
  s.port = own.port();
  s.username = "default";
  s.password = "s3cret-pass";
  s.database = 3;
  RedisStore store(s);
  auto limit = spec("x", 1000);
  auto reserved = reserve(store, {{&limit, "a", 10}}, at(kT0));
  ASSERT_EQ(reserved.status, RedisReply::Status::kOk) << reserved.error;
  EXPECT_TRUE(reserved.result.admitted);
  EXPECT_TRUE(own.exists(3, window_key("t18:", limit, "a")));
  EXPECT_FALSE(own.exists(0, window_key("t18:", limit, "a")));

  auto wrong = s;
  wrong.password = "not-it";
  RedisStore refused(wrong);
  auto failed = reserve(refused, {{&limit, "a", 10}}, at(kT0));
  EXPECT_EQ(failed.status, RedisReply::Status::kUnavailable);
  EXPECT_NE(failed.error.find("Redis AUTH failed"), std::string::npos) << failed.error;
}

// A connection the server dropped while it sat idle (a restart, or a timeout of idle clients) is
// replaced by the next call: no failure, no outage.
TEST_F(RedisStoreTest, AnIdleConnectionTheServerClosedIsReplaced) {
  RedisStore store(settings("t11:"));
  auto limit = spec("x", 1000);
  ASSERT_EQ(reserve(store, {{&limit, "a", 10}}, at(kT0)).status, RedisReply::Status::kOk);
  const auto connects = store.client().connects();
  server_->command("CLIENT KILL TYPE normal");
  auto after = reserve(store, {{&limit, "a", 10}}, at(kT0));
  ASSERT_EQ(after.status, RedisReply::Status::kOk) << after.error;
  EXPECT_EQ(after.result.standing[0].window_used, 20);
  EXPECT_EQ(store.client().connects(), connects + 1);
  EXPECT_EQ(store.client().failures(), 0u);
  EXPECT_TRUE(store.client().up());
}

// A server that takes the script and never answers: the reservation fails when its timeout is up,
// and Redis is marked down.
TEST_F(RedisStoreTest, AnUnansweredReservationFailsAtItsTimeout) {
  RedisServer own(free_port());
  auto s = settings("t12:");
  s.port = own.port();
  s.timeout = 300ms;
  s.retry_interval = std::chrono::hours(1);
  RedisStore store(s);
  auto limit = spec("x", 1000);
  ASSERT_EQ(reserve(store, {{&limit, "a", 10}}, at(kT0)).status, RedisReply::Status::kOk);
  own.pause();
  auto late = reserve(store, {{&limit, "a", 10}}, at(kT0));
  own.resume();
  EXPECT_EQ(late.status, RedisReply::Status::kUnavailable);
  EXPECT_NE(late.error.find("did not answer within 300 ms"), std::string::npos) << late.error;
  EXPECT_FALSE(store.client().up());
  EXPECT_EQ(store.client().failures(), 1u);
}

// A server that answers a script with bytes that are not RESP: the reservation fails with what
// was wrong in the reply, the connection is closed and Redis is marked down (the failure mode
// applies), and nothing crashes. Not a redis-server: a socket that answers every read with
// `reply`.
TEST_F(RedisStoreTest, AReplyThatBreaksTheProtocolFailsTheCallAndSaysWhy) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string reply = "*5\r\n:1\r\n:1700000000\r\n?what\r\n";
  std::thread server([listener, reply] {
    const int client = ::accept(listener, nullptr, nullptr);
    if (client < 0) return;
    char buffer[4096];
    // One read of the command (the test's script call is small), one answer, then the connection
    // stays open until the client closes it.
    if (::read(client, buffer, sizeof buffer) > 0) {
      [[maybe_unused]] auto written = ::write(client, reply.data(), reply.size());
    }
    while (::read(client, buffer, sizeof buffer) > 0) {
    }
    ::close(client);
  });
  auto s = settings("t21:");
  s.port = ntohs(address.sin_port);
  s.retry_interval = std::chrono::hours(1);
  {
    RedisStore store(s);
    auto limit = spec("x", 1000);
    auto answer = reserve(store, {{&limit, "a", 10}}, at(kT0));
    EXPECT_EQ(answer.status, RedisReply::Status::kUnavailable);
    EXPECT_NE(answer.error.find("Redis sent a malformed reply: byte 0x3f where a reply's type"),
              std::string::npos)
        << answer.error;
    EXPECT_FALSE(store.client().up());
    EXPECT_EQ(store.client().failures(), 1u);
  }
  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  server.join();
}

// A store replaced by a reload while its settlement is still on the way: the connection outlives
// the store, delivers the settlement, and closes once it has nothing left to answer.
TEST_F(RedisStoreTest, ASettlementOutlivesItsStore) {
  auto limit = spec("x", 1000);
  std::optional<bool> outcome;
  std::int64_t bucket = 0;
  {
    RedisStore store(settings("t13:"));
    auto reserved = reserve(store, {{&limit, "a", 100}}, at(kT0));
    ASSERT_EQ(reserved.status, RedisReply::Status::kOk) << reserved.error;
    bucket = reserved.result.bucket;
    std::vector<Settlement> refund{{&limit, "a", bucket, 0, -40}};
    store.settle(loop().get_executor(), refund, at(kT0),
                 [&](bool ok, const std::string&) { outcome = ok; });
  }
  run_until([&] { return outcome.has_value(); });
  EXPECT_TRUE(*outcome);
  RedisStore next(settings("t13:"));
  EXPECT_EQ(reserve(next, {{&limit, "a", 0}}, at(kT0)).result.standing[0].window_used, 60);
}

}  // namespace
}  // namespace sluice::gateway::token_limit
