#pragma once
// Per-request state shared by the pipeline and every policy. One per request, on the worker thread
// that accepted it; policies read what earlier phases resolved and record what they did.
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/gateway/identity.hpp"
#include "sluice/gateway/operation.hpp"
#include "sluice/gateway/usage.hpp"
#include "sluice/http/server.hpp"

namespace sluice::usage {
class AppendBatch;
}  // namespace sluice::usage

namespace sluice::gateway {

struct RouteSettings;
struct BackendSettings;

class JsonScratch;

// A chat request's prompt as the one-pass scan of its body gathered it (request_body_scan.hpp),
// when a policy counts it (the token limit) and its messages hold only what the scan can count
// exactly (tokenizer::PlainChatPrompt says what): the count then needs no JSON document.
struct ScannedChatPrompt {
  bool plain = false;  // false: nothing gathered; the count reads the document
  struct Text {
    std::string_view raw;  // the body's bytes between the quotes
    bool escaped = false;  // holds a backslash escape (never \u: the scan leaves those)
  };
  boost::container::small_vector<Text, 6> texts;  // every string field of every message
  std::uint32_t messages = 0;
  std::uint32_t names = 0;              // string fields named "name"
  std::uint32_t function_messages = 0;  // messages whose role is "function"
};

// What the gateway learned from the request body (JSON), inspected once.
struct RequestBodyInfo {
  bool parsed = false;  // false: not JSON, or not inspected (operation other)
  std::string model;    // "model" field (v1 style: the deployment to route to)
  bool stream = false;
  bool include_usage = false;  // the client itself asked for stream_options.include_usage
  std::optional<std::int64_t> max_tokens;  // max_tokens or max_completion_tokens
  // Where the parsed body may still be found: the worker's JSON scratch and the number of the
  // parse (JsonScratch::document), so that a policy reading more of it need not parse it again.
  // Null when the one-pass scan read the body (request_body_scan.hpp): no document was built.
  const JsonScratch* document_source = nullptr;
  std::uint64_t document_generation = 0;
  ScannedChatPrompt prompt;  // views of the request's body, which outlives the request's policies
};

// Set by the cache policy when it answered the request from its store (no backend involved).
struct CacheHit {
  std::string kind;               // "" (no hit), "exact" or "semantic"
  std::int64_t tokens_saved = 0;  // total tokens the stored answer cost when it was made
  double similarity = 0;          // semantic: cosine similarity of the question to the stored one
};

class RequestContext;

// Requests the gateway sends through its own pipeline on behalf of a client's request (the
// semantic cache's embedding call): same routes, policies, balancer and failover as a client's,
// with the caller's credentials, and their own usage record. Implemented by the proxy.
class InternalRequests {
 public:
  virtual ~InternalRequests() = default;
  // Sends `request` (its headers start as a copy of the parent's, minus the body's) as the
  // parent's client; its usage record says `purpose`. After `timeout` the request is abandoned as
  // if its client had left. Returns the response, or nullopt when none came in time. Runs on the
  // parent's worker thread.
  virtual http::Task<std::optional<http::Response>> send(RequestContext& parent,
                                                         http::Request request,
                                                         std::string_view purpose,
                                                         std::chrono::milliseconds timeout) = 0;
};

struct Attempt {
  std::string backend;
  const BackendSettings* settings = nullptr;  // the backend's (valid for the request's life)
  std::chrono::steady_clock::time_point started_at;
  unsigned status = 0;  // 0: no HTTP response (connection error, timeout)
  std::string error;    // why the attempt failed, when it did
  std::chrono::microseconds duration{0};
  // The deployment's name at the backend when the backend's `deployments` map renames it (a view
  // of that map's value, valid as `settings` is); empty when the name goes through unchanged.
  std::string_view upstream_deployment;
};

class RequestContext {
 public:
  RequestContext(http::Exchange& exchange, std::string request_id)
      : exchange(exchange), request_id(std::move(request_id)) {}

  http::Exchange& exchange;
  std::string request_id;
  std::string client_ip;
  std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();

  // Resolved before policies run.
  RequestTarget target;
  RequestBodyInfo body;
  const RouteSettings* route = nullptr;
  std::string deployment;  // Azure path deployment, or the v1 body's model
  // Why the gateway itself sent this request ("" for a client's, "cache_lookup" for the semantic
  // cache's embedding call); the usage record carries it.
  std::string purpose;
  // Sends requests through this gateway's pipeline (null in unit tests without a proxy).
  InternalRequests* internal_requests = nullptr;

  // Who is calling, resolved by the identity phase; anonymous until then. Shared with where it
  // came from (the worker's token cache, the API key table) instead of copied: a copy was ~20
  // allocations a request for a token's claims.
  const Identity& identity() const noexcept {
    return identity_ ? *identity_ : anonymous_identity();
  }
  void set_identity(std::shared_ptr<const Identity> identity) noexcept {
    identity_ = std::move(identity);
  }

  // Filled while proxying.
  std::vector<Attempt> attempts;
  std::string backend;         // the backend that produced the response
  std::string response_model;  // "model" of the response
  unsigned status = 0;         // status sent to the client
  bool streamed = false;
  bool client_disconnected = false;
  bool upstream_truncated = false;  // the backend's stream ended early or broke
  std::string error_code;           // gateway error code when the gateway answered itself
  TokenUsage usage;
  std::string completion_text;  // streamed text, kept for estimation and prompt/response logging
  std::int64_t estimated_prompt_tokens = -1;  // set by whoever counted it first (token limit)
  bool response_end_observed = false;         // the on_response_end phase ran (see policy.hpp)
  // Set by the pipeline when it waits, after on_response_end, for a write a policy batched there
  // (the usage record, written with the other responses of the event-loop turn): the response
  // leaves only once `response_end_write` has written ticket `response_end_ticket`.
  bool response_end_may_batch = false;
  std::shared_ptr<usage::AppendBatch> response_end_write;
  std::uint64_t response_end_ticket = 0;
  CacheHit cache;  // the answer came from the response cache
  // What the token limit and cache policies decided ("" when they did not run), for traces:
  // limit "admitted", "rate_limited", "quota_exceeded", "unavailable", "fail_open_admitted", ...;
  // cache "hit", "miss", "bypass", "unavailable".
  std::string_view limit_decision;
  std::string_view cache_decision;

  // Timings (steady clock) for metrics: overhead = first upstream send - received; TTFT.
  std::chrono::steady_clock::time_point received_at;
  std::chrono::steady_clock::time_point upstream_sent_at;
  std::chrono::steady_clock::time_point first_token_at;
  std::chrono::steady_clock::time_point completed_at;

  // Response headers policies want added (e.g. remaining tokens); applied to every response.
  // The names are views of constants or of the policy's settings, which outlive the request (it
  // holds the runtime that holds them); inline room for the three a token limit adds.
  boost::container::small_vector<std::pair<std::string_view, std::string>, 4> response_headers;

  // Per-request state of individual policies (e.g. a token reservation), keyed by policy.
  struct PolicyState {
    virtual ~PolicyState() = default;
  };
  // Room for a few in place: the token limit, cache and tracing policies each keep one per request,
  // and the vector's own allocation would be one more per request.
  boost::container::small_vector<std::pair<const void*, std::unique_ptr<PolicyState>>, 3>
      policy_state;

  template <class T>
  T* state_for(const void* policy) {
    for (auto& [owner, state] : policy_state) {
      if (owner == policy) return static_cast<T*>(state.get());
    }
    return nullptr;
  }

 private:
  std::shared_ptr<const Identity> identity_;
};

}  // namespace sluice::gateway
