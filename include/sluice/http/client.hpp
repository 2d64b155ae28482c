#pragma once
// HTTP/1.1 client with a keep-alive connection pool, for upstream backends, token endpoints,
// JWKS, Prometheus scraping and the load tester.
//
// A ClientPool belongs to one event loop (one worker thread) and is used only from coroutines on
// that loop's executor: no locks. Responses can be read whole (fetch) or as a stream (open), where
// each read returns the body bytes as they arrive (chunked encoding removed), for SSE relays.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sluice/http/asio.hpp"
#include "sluice/http/extra_fields.hpp"
#include "sluice/http/proxy_endpoint.hpp"
#include "sluice/http/tls.hpp"
#include "sluice/http/url.hpp"

namespace sluice::http {

struct ClientSettings {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds pooled_idle_timeout{55'000};  // drop idle pooled connections after this
  std::size_t max_idle_per_origin = 256;
  std::size_t max_response_body = 64 * 1024 * 1024;
  std::size_t max_response_header = 64 * 1024;
  TlsClientSettings tls;
  // "host:port" → address to connect to instead of resolving (curl's --resolve / --connect-to).
  std::map<std::string, std::string> resolve_overrides;
  std::string bind_address;  // optional local address for outgoing connections
  // Leave a pooled connection's read timer waiting while the connection is idle (disarmed, so it
  // ends by itself at its old expiry) instead of cancelling it on the way into the pool and
  // starting it again on the way out: that was two timer operations and one more completion
  // through the event loop per request. Only for an event loop that is stopped explicitly, as the
  // gateway's workers are: a waiting timer keeps run() from returning.
  bool idle_timers_keep_waiting = false;
};

enum class ClientErrorKind {
  kConnect,   // DNS, refused, unreachable, connect timeout, TLS handshake
  kTimeout,   // response header or body did not arrive in time
  kProtocol,  // malformed HTTP, body too large, wrong content-length
  kClosed,    // peer closed before the response completed
  kCancelled  // our caller cancelled (client went away)
};

struct ClientError {
  ClientErrorKind kind;
  std::string message;
};

const char* to_string(ClientErrorKind kind);

// Either a value or a ClientError. Kept local to the client so http does not depend on core.
template <class T>
class ClientResult {
 public:
  ClientResult() : error_{ClientErrorKind::kCancelled, "no result"}, ok_(false) {}
  // By rvalue, not by value: a Response taken by value costs a second move of its fields. (No
  // caller copies a value in; one that needs to can copy it first.)
  ClientResult(T&& value) : value_(std::move(value)), ok_(true) {}           // NOLINT(implicit)
  ClientResult(ClientError error) : error_(std::move(error)), ok_(false) {}  // NOLINT(implicit)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  T& value() { return value_; }
  // The value moved in where this result already is (a coroutine's out-parameter), rather than a
  // new result moved over it.
  void emplace(T&& value) {
    value_ = std::move(value);
    error_ = {};
    ok_ = true;
  }
  T& operator*() { return value_; }
  T* operator->() { return &value_; }
  const ClientError& error() const { return error_; }

 private:
  T value_{};
  ClientError error_{};
  bool ok_;
};

class Connection;

// A response whose body is read as it arrives. Destroying it before done() closes the connection;
// after done() a keep-alive connection returns to its pool.
class StreamingResponse {
 public:
  StreamingResponse(std::unique_ptr<Connection> connection, class ClientPool* pool);
  ~StreamingResponse();
  StreamingResponse(const StreamingResponse&) = delete;
  StreamingResponse& operator=(const StreamingResponse&) = delete;

  unsigned status() const;
  const ResponseHeader& header() const;
  // Next body bytes as they arrive; an empty view with done() true at the end of the body.
  // The view is valid until the next call. `idle_timeout` bounds the wait for the next bytes.
  // Pass a cancellation slot to abort the wait (e.g. when the downstream client went away).
  Task<ClientResult<std::string_view>> read_some(std::chrono::milliseconds idle_timeout,
                                                 asio::cancellation_slot cancel = {});
  bool done() const;

 private:
  std::unique_ptr<Connection> connection_;
  ClientPool* pool_;
};

class ClientPool {
 public:
  ClientPool(Executor executor, ClientSettings settings);
  ~ClientPool();
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  // Sends `request` to `origin` (its host, port and scheme; the request's target is used as is)
  // and reads the whole response within `timeout`. Host is set from origin when absent.
  // A pooled connection that turns out closed is retried once on a fresh one.
  //
  // `origin` (and `via`) are held by reference until the task completes: keep them alive that
  // long (a backend's settings or a member do; a temporary does not). Copying them per request
  // instead would cost the hot path an allocation.
  //
  // With `via`, the request goes through that HTTP proxy (which must outlive the call): an
  // https origin through a CONNECT tunnel (set up within the connect timeout, answer head
  // bounded by max_response_header), an http origin in absolute-form. Either way the proxy's
  // credentials go in Proxy-Authorization, and a proxy's refusal of a tunnel comes back as a
  // kConnect error that names the proxy and the status. Connections are pooled per origin and
  // proxy. Choose `via` with ProxySelection::for_target.
  //
  // `extra` fields go out after the request's own (extra_fields.hpp); their text is held by
  // reference until the task completes.
  Task<ClientResult<Response>> fetch(const Url& origin, Request request,
                                     std::chrono::milliseconds timeout,
                                     asio::cancellation_slot cancel = {},
                                     const ProxyEndpoint* via = nullptr, ExtraFields extra = {});

  // Sends `request` and returns once the response header arrived (within `header_timeout`).
  Task<ClientResult<std::unique_ptr<StreamingResponse>>> open(
      const Url& origin, Request request, std::chrono::milliseconds header_timeout,
      asio::cancellation_slot cancel = {}, const ProxyEndpoint* via = nullptr,
      ExtraFields extra = {});

  // Closes the idle connections now, and every connection released from here on. Their sockets
  // and timers belong to the event loop the pool was made for, which may be destroyed before the
  // pool: a gateway's listener goes first at shutdown, while a request's frame on it may still
  // refer to the pool. Closed after the loop's threads have stopped, nothing outlives the loop.
  void close();

  std::size_t idle_connections() const;
  std::uint64_t connections_opened() const { return connections_opened_; }

 private:
  friend class StreamingResponse;
  struct Idle;
  // A pooled connection to `origin` (through `via`) that is still good, or null.
  std::unique_ptr<Connection> take_idle(const Url& origin, const ProxyEndpoint* via);
  // A new connection, set up through the proxy and TLS as configured.
  Task<ClientResult<std::unique_ptr<Connection>>> connect(const Url& origin,
                                                          const ProxyEndpoint* via,
                                                          asio::cancellation_slot cancel);
  void release(std::unique_ptr<Connection> connection);

  Executor executor_;
  ClientSettings settings_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  // Idle connections by pool key, the most recently used last (it is reused first, being the
  // warmest). A vector per key, not a multimap: putting one back and taking it out again, once a
  // request, then allocates nothing (and, with the lists remembered below and in each connection,
  // looks nothing up).
  using IdleList = std::vector<std::unique_ptr<Connection>>;
  std::unordered_map<std::string, IdleList> idle_;
  std::string key_scratch_;  // take_idle()'s pool key, kept for its capacity
  // The key take_idle() last found and its list: a gateway worker asks for the same backend again
  // and again, and the hash and bucket walk of the look-up were ~80 instructions a request. The
  // map's nodes stay where they are (entries are only ever added, until close() clears them all),
  // so the pointer holds until close().
  std::string last_key_;
  IdleList* last_list_ = nullptr;
  std::size_t idle_count_ = 0;
  std::uint64_t connections_opened_ = 0;
  bool closed_ = false;
};

}  // namespace sluice::http
