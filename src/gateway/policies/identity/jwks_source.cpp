#include "gateway/policies/identity/jwks_source.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "gateway/policies/identity/refusal.hpp"
#include "sluice/core/logging.hpp"
#include "sluice/http/client.hpp"

namespace sluice::gateway::identity {

namespace {

namespace asio = http::asio;

// While there are no keys at all every token fails, so retry sooner than refresh_min_interval
// (e.g. the gateway started before the identity provider).
constexpr std::chrono::milliseconds kNoKeysRetryInterval{1'000};
// A JWKS is a few kilobytes; anything near this is not one.
constexpr std::size_t kMaxJwksBytes = 1 << 20;

std::int64_t to_ns(core::Clock::SteadyTime time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// Distinct across all sources of the process, so a cache entry verified with one source's keys
// never matches another's.
std::atomic<std::uint64_t> next_generation{1};

std::string describe_skipped(const std::vector<std::string>& skipped) {
  std::string out;
  for (const auto& s : skipped) out += (out.empty() ? "" : "; ") + s;
  return out;
}

}  // namespace

JwksSource::JwksSource(JwksSourceSettings settings, const core::Clock& clock)
    : settings_(std::move(settings)), clock_(clock), log_(core::get_logger("identity")) {}

JwksSource::~JwksSource() = default;

std::shared_ptr<JwksSource> JwksSource::create(JwksSourceSettings settings,
                                               const core::Clock& clock) {
  std::shared_ptr<JwksSource> source(new JwksSource(std::move(settings), clock));
  if (!source->settings_.url.empty()) {
    std::string error;
    source->url_ = http::parse_url(source->settings_.url, &error);
    if (!source->url_) throw std::runtime_error(error);
  } else {
    source->load_file();
    if (!source->keys()) throw std::runtime_error("no usable key");
  }
  return source;
}

std::shared_ptr<const KeySet> JwksSource::keys() const {
  return keys_.load(std::memory_order_acquire);
}

void JwksSource::load_file() {
  std::ifstream in(settings_.file, std::ios::binary);
  if (!in) {
    if (keys()) {
      log_->warn("cannot read JWKS file {}; keeping the keys read before", settings_.file);
      return;
    }
    throw std::runtime_error("cannot read " + settings_.file);
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string document = text.str();
  std::vector<std::string> skipped;
  auto set = document.size() > kMaxJwksBytes
                 ? core::Result<KeySet>(core::Error{core::ErrorCode::kInvalidArgument,
                                                    "the file is larger than 1 MiB"})
                 : parse_jwks(document, &skipped);
  if (!set) {
    if (keys()) {
      log_->warn("JWKS file {} is not usable ({}); keeping the keys read before", settings_.file,
                 set.error().message);
      return;
    }
    throw std::runtime_error(set.error().message + " in " + settings_.file);
  }
  if (!skipped.empty()) {
    log_->warn("JWKS file {}: skipped keys: {}", settings_.file, describe_skipped(skipped));
  }
  publish(std::move(*set));
}

void JwksSource::publish(KeySet set) {
  fetched_at_ns_.store(to_ns(clock_.steady_now()), std::memory_order_release);
  auto current = keys();
  if (current && current->fingerprint == set.fingerprint) return;  // same keys: caches stay valid
  set.generation = next_generation.fetch_add(1, std::memory_order_relaxed);
  std::size_t count = set.keys.size();
  std::uint64_t generation = set.generation;
  keys_.store(std::make_shared<const KeySet>(std::move(set)), std::memory_order_release);
  generation_.store(generation, std::memory_order_release);
  log_->info("token signing keys from {}: {} key{}", url_ ? settings_.url : settings_.file, count,
             count == 1 ? "" : "s");
}

bool JwksSource::try_start_fetch() {
  const std::int64_t now = to_ns(clock_.steady_now());
  const auto interval = keys() ? settings_.refresh_min_interval : kNoKeysRetryInterval;
  const std::int64_t last = last_attempt_ns_.load(std::memory_order_acquire);
  if (last != 0 &&
      now - last < std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count()) {
    return false;
  }
  bool expected = false;
  if (!fetching_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return false;
  // Re-check under the flag: a fetch may have finished between the first check and here.
  if (last_attempt_ns_.load(std::memory_order_acquire) != last) {
    fetching_.store(false, std::memory_order_release);
    return false;
  }
  last_attempt_ns_.store(now == 0 ? 1 : now, std::memory_order_release);
  return true;
}

http::Task<std::shared_ptr<const KeySet>> JwksSource::refresh(http::Executor executor) {
  if (try_start_fetch()) {
    if (url_) {
      co_await fetch(executor);
    } else {
      try {
        load_file();
      } catch (const std::exception& e) {
        log_->warn("JWKS file {}: {}", settings_.file, e.what());
      }
    }
    fetching_.store(false, std::memory_order_release);
    co_return keys();
  }
  // Join a fetch in flight (another request, maybe on another thread, started it), bounded.
  if (fetching_.load(std::memory_order_acquire)) {
    http::SteadyTimer timer(executor);
    auto deadline =
        std::chrono::steady_clock::now() + settings_.fetch_timeout + std::chrono::seconds(1);
    while (fetching_.load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(5));
      co_await timer.async_wait(http::kUseTuple);
    }
  }
  co_return keys();
}

bool JwksSource::due_for_refresh() const noexcept {
  const std::int64_t fetched = fetched_at_ns_.load(std::memory_order_acquire);
  if (fetched == 0 || fetching_.load(std::memory_order_relaxed)) return false;
  return to_ns(clock_.steady_now()) - fetched >=
         std::chrono::duration_cast<std::chrono::nanoseconds>(settings_.refresh_interval).count();
}

void JwksSource::refresh_in_background(http::Executor executor) {
  if (!try_start_fetch()) return;
  // The coroutine keeps the source alive until it is done.
  asio::co_spawn(
      executor,
      [self = shared_from_this(), executor]() -> http::Task<void> {
        if (self->url_) {
          co_await self->fetch(executor);
        } else {
          try {
            self->load_file();
          } catch (const std::exception& e) {
            self->log_->warn("JWKS file {}: {}", self->settings_.file, e.what());
          }
        }
        self->fetching_.store(false, std::memory_order_release);
      },
      asio::detached);
}

http::Task<void> JwksSource::fetch(http::Executor executor) {
  auto& stats = identity_stats();
  stats.jwks_fetches.fetch_add(1, std::memory_order_relaxed);
  std::string failure;
  try {
    http::ClientSettings client_settings;
    client_settings.connect_timeout = settings_.fetch_timeout;
    client_settings.max_response_body = kMaxJwksBytes;
    http::ClientPool pool(executor, client_settings);
    http::Request request{http::bhttp::verb::get, url_->path.empty() ? "/" : url_->path, 11};
    request.set(http::Field::accept, "application/json");
    request.set(http::Field::user_agent, "sluice-gateway");
    const http::ProxyEndpoint* via = settings_.proxy ? &*settings_.proxy : nullptr;
    auto result = co_await pool.fetch(*url_, std::move(request), settings_.fetch_timeout, {}, via);
    if (!result) {
      failure = std::string(http::to_string(result.error().kind)) + ": " + result.error().message;
    } else if (result->result_int() != 200) {
      failure = "HTTP " + std::to_string(result->result_int());
    } else {
      std::vector<std::string> skipped;
      auto set = parse_jwks(result->body(), &skipped);
      if (!set) {
        failure = set.error().message;
      } else {
        if (!skipped.empty()) {
          log_->warn("JWKS {}: skipped keys: {}", settings_.url, describe_skipped(skipped));
        }
        publish(std::move(*set));
        co_return;
      }
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  stats.jwks_fetch_failures.fetch_add(1, std::memory_order_relaxed);
  if (auto current = keys()) {
    log_->warn("JWKS fetch from {} failed ({}); serving the {} stale key{} fetched before",
               settings_.url, failure, current->keys.size(), current->keys.size() == 1 ? "" : "s");
  } else {
    log_->error("JWKS fetch from {} failed ({}); no signing keys yet, tokens are refused",
                settings_.url, failure);
  }
}

}  // namespace sluice::gateway::identity
