#pragma once
// Where the token signing keys come from: a JWKS URL (Entra's
// https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys, or the simulator's) or a file.
//
// The current key set is published as an immutable snapshot that request threads read without a
// lock. Refreshes happen when a token names a kid the set lacks (at most once per
// refresh_min_interval, one fetch at a time, other requests join it), and in the background once
// the set is older than refresh_interval. When the URL cannot be reached, or answers with
// something that is not a usable JWKS, the previous keys stay in service and a warning is logged.
//
// A fetch runs on the executor of the request that needed it, with a connection of its own: key
// fetches are rare, so they get no pool and no thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gateway/policies/identity/jwk.hpp"
#include "sluice/core/clock.hpp"
#include "sluice/http/asio.hpp"
#include "sluice/http/proxy_endpoint.hpp"
#include "sluice/http/url.hpp"

namespace spdlog {
class logger;
}

namespace sluice::gateway::identity {

struct JwksSourceSettings {
  std::string url;   // http(s) URL, or empty when `file` is used
  std::string file;  // a JWKS document on disk (re-read on refresh, e.g. after a key rotation)
  std::chrono::milliseconds refresh_min_interval{30'000};
  std::chrono::milliseconds refresh_interval{std::chrono::hours(1)};
  std::chrono::milliseconds fetch_timeout{5'000};
  // The proxy the fetch goes through (std::nullopt: direct); the gateway's default proxies decide.
  std::optional<http::ProxyEndpoint> proxy;
};

class JwksSource : public std::enable_shared_from_this<JwksSource> {
 public:
  // Reads the file now (a file source must be valid at startup: throws std::runtime_error saying
  // why); a URL source fetches on first use. `clock` must outlive the source. Startup thread.
  static std::shared_ptr<JwksSource> create(JwksSourceSettings settings, const core::Clock& clock);
  ~JwksSource();
  JwksSource(const JwksSource&) = delete;
  JwksSource& operator=(const JwksSource&) = delete;

  // The current keys; null until a first fetch succeeded. Any thread, no lock.
  std::shared_ptr<const KeySet> keys() const;
  // Changes whenever different keys are published (0: none yet). Any thread, one atomic load.
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

  // Fresh keys, for a kid the current set lacks or when there is no set yet: fetches on
  // `executor` unless a fetch started within refresh_min_interval (1 s while there are no keys at
  // all), or joins the fetch in flight; then returns the current keys (possibly unchanged, possibly
  // null). Never throws. Any worker thread.
  http::Task<std::shared_ptr<const KeySet>> refresh(http::Executor executor);

  // Whether the keys are older than refresh_interval (two atomic loads). Any thread.
  bool due_for_refresh() const noexcept;
  // Starts a refresh on `executor` in the background, unless one ran within
  // refresh_min_interval or is running. Returns at once. Any worker thread.
  void refresh_in_background(http::Executor executor);

  const JwksSourceSettings& settings() const noexcept { return settings_; }

 private:
  JwksSource(JwksSourceSettings settings, const core::Clock& clock);
  http::Task<void> fetch(http::Executor executor);
  void load_file();
  // Publishes `set` if its keys differ from the current ones; stamps the fetch time either way.
  void publish(KeySet set);
  bool try_start_fetch();

  JwksSourceSettings settings_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::optional<http::Url> url_;
  std::atomic<std::shared_ptr<const KeySet>> keys_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> fetching_{false};
  std::atomic<std::int64_t> last_attempt_ns_{0};  // steady clock; 0 = never
  std::atomic<std::int64_t> fetched_at_ns_{0};    // steady clock of the last good fetch
};

}  // namespace sluice::gateway::identity
