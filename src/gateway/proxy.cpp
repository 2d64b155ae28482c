#include "gateway/proxy.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "gateway/internal_exchange.hpp"
#include "gateway/request_body.hpp"
#include "gateway/usage_estimation.hpp"
#include "gateway/usage_extraction.hpp"
#include "http/event_stream.hpp"
#include "http/first_field.hpp"
#include "sluice/core/duration.hpp"
#include "sluice/http/sse_parser.hpp"
#include "sluice/usage/append_batch.hpp"

namespace sluice::gateway {

namespace {

using namespace std::chrono_literals;
using http::Field;
using http::Status;
using SteadyClock = std::chrono::steady_clock;

// The api-version Azure backends get for OpenAI-v1-style requests when neither side names one.
constexpr std::string_view kDefaultApiVersion = "2024-10-21";
// Error bodies of non-200 streaming responses are read whole, up to this size.
constexpr std::size_t kMaxErrorBody = 1 << 20;
// A plain (non-SSE) 200 answer to a streaming request is read whole, up to the size the client
// pool allows a plain response (http::ClientSettings::max_response_body).
constexpr std::size_t kMaxRelayedBody = 64 << 20;

// By the parser's field code: every hop-by-hop name is one Beast knows, so a switch decides it
// with no string compare (this runs for every header of every request and response).
bool is_hop_by_hop(Field name) {
  switch (name) {
    case Field::connection:
    case Field::keep_alive:
    case Field::proxy_authenticate:
    case Field::proxy_authorization:
    case Field::te:
    case Field::trailer:
    case Field::transfer_encoding:
    case Field::upgrade:
    case Field::content_length:
    case Field::proxy_connection:
      return true;
    default:
      return false;
  }
}

template <class Fields>
void copy_end_to_end_headers(const Fields& from, http::ResponseHeader& to) {
  for (const auto& field : from) {
    if (!is_hop_by_hop(field.name())) to.insert(field.name(), field.name_string(), field.value());
  }
}

// The upstream response becomes the client's in place: its end-to-end fields stay where they are
// (copying them cost an allocation each), the hop-by-hop ones go.
void remove_hop_by_hop_headers(http::ResponseHeader& header) {
  for (auto it = header.begin(); it != header.end();) {
    it = is_hop_by_hop(it->name()) ? header.erase(it) : std::next(it);
  }
}

// The two fields the gateway writes on every upstream request itself. Dropping the client's while
// copying lets the gateway's go in with insert(): set() would look the name up among Beast's
// known fields and search the message for an earlier copy, for every request.
bool is_gateway_written_field(std::string_view name) {
  return boost::beast::iequals(name, "x-forwarded-for") ||
         boost::beast::iequals(name, "x-ms-client-request-id");
}

// The fields policies add to a response to the client (RequestContext::response_headers). A name
// the response already has (an Azure backend sends its own x-ratelimit-remaining-tokens) is
// replaced in place, as set() would; the others go in `extra`, written after the response's fields
// without Beast's insert (~300 instructions each: a token limit adds three to every response).
// All the names are looked for in one pass over the response's fields. Of a name two policies
// added, the later one goes out, as with set(). Room is left in `extra` for the two request ids
// (stamp_request_id); fields past that room are set() as before.
template <class Headers>
void add_policy_fields(http::Fields& fields, const Headers& headers, http::ExtraFields& extra) {
  constexpr std::size_t kMost = 8;
  constexpr std::size_t kRoom = http::ExtraFields::kCapacity - 2;
  if (headers.empty()) return;
  if (headers.size() > kMost) {
    for (const auto& [name, value] : headers) fields.set(name, value);
    return;
  }
  std::array<bool, kMost> present{};
  for (const auto& field : fields) {
    const auto name = field.name_string();
    for (std::size_t i = 0; i < headers.size(); ++i) {
      const std::string_view wanted = headers[i].first;
      if (name.size() == wanted.size() && boost::beast::iequals(name, wanted)) present[i] = true;
    }
  }
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const auto& [name, value] = headers[i];
    bool added_again = false;
    for (std::size_t j = i + 1; j < headers.size() && !added_again; ++j) {
      added_again = boost::beast::iequals(name, headers[j].first);
    }
    if (added_again) continue;
    if (present[i] || extra.size() >= kRoom) {
      fields.set(name, value);
    } else {
      extra.add(name, value);
    }
  }
}

// The request's ids on a response to the client: x-request-id when the backend sent none, and
// always x-sluice-request-id, the gateway's own id that usage records and logs carry. Both names
// are found in one pass over the fields (find() and set() would each hash the name and search the
// field tree); set() is left for a response that already has the gateway's field (a sluice
// upstream of this one), where it replaces it. A new field goes in `extra` (written after the
// response's fields, without Beast's insert), or into the fields when `extra` is null (a streamed
// response's head, which Beast's serializer writes).
void stamp_request_id(http::Fields& fields, const std::string& id, http::ExtraFields* extra) {
  constexpr std::string_view kRequestId = "x-request-id";
  constexpr std::string_view kSluiceRequestId = "x-sluice-request-id";
  bool has_request_id = false;
  bool has_sluice_request_id = false;
  for (const auto& field : fields) {
    const auto name = field.name_string();
    if (name.size() == kRequestId.size() && boost::beast::iequals(name, kRequestId)) {
      has_request_id = true;
    } else if (name.size() == kSluiceRequestId.size() &&
               boost::beast::iequals(name, kSluiceRequestId)) {
      has_sluice_request_id = true;
    }
  }
  auto add = [&](std::string_view name) {
    if (extra) {
      extra->add(name, id);
    } else {
      fields.insert(Field::unknown, name, id);
    }
  };
  if (!has_request_id) add(kRequestId);
  if (has_sluice_request_id) {
    fields.set(kSluiceRequestId, id);
  } else {
    add(kSluiceRequestId);
  }
}

bool contains(const std::vector<unsigned>& codes, unsigned status) {
  return std::find(codes.begin(), codes.end(), status) != codes.end();
}

// Retry-After as a duration: `retry-after-ms` (Azure) wins over `retry-after` (seconds).
template <class Fields>
std::chrono::milliseconds retry_after_of(const Fields& fields) {
  auto parse = [](std::string_view text, double scale) -> std::chrono::milliseconds {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || value < 0) return 0ms;
    return std::chrono::milliseconds(static_cast<std::int64_t>(value * scale));
  };
  if (auto value = http::first_field(fields, "retry-after-ms")) return parse(*value, 1);
  if (auto value = http::first_field(fields, Field::retry_after)) return parse(*value, 1000);
  return 0ms;
}

// A request the gateway cannot use (malformed JSON, no model) is answered as OpenAI and Azure
// OpenAI answer it: type invalid_request_error, code null. The HTTP server's own 400s match.
constexpr std::string_view kInvalidRequestCode = "";

http::Response error_response(Status status, std::string_view code, std::string_view message) {
  return http::openai_error_response(status, code, message, 11);
}

// An error inside a stream that has begun: one SSE event whose data is the API's error body.
std::string stream_error_event(std::string_view code, std::string_view message) {
  return "data: " + error_response(Status::bad_gateway, code, message).body() + "\n\n";
}

// Azure answers an unknown deployment with this code and wording.
http::Response deployment_not_found() {
  return error_response(
      Status::not_found, "DeploymentNotFound",
      "The API deployment for this resource does not exist. If you created the "
      "deployment within the last 5 minutes, please wait a moment and try again.");
}

std::string random_request_id(std::mt19937_64& random) {
  static const char* hex = "0123456789abcdef";
  std::string id(36, '-');
  std::uint64_t bits = random();
  int left = 16;
  for (int i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    if (left == 0) {
      bits = random();
      left = 16;
    }
    id[i] = hex[bits & 15];
    bits >>= 4;
    --left;
  }
  id[14] = '4';
  return id;
}

const RouteSettings* match_route(const GatewaySettings& settings, const RequestContext& context,
                                 const http::Request& request) {
  for (const auto& route : settings.routes) {
    const auto& match = route.match;
    if (!match.deployments.empty() && std::find(match.deployments.begin(), match.deployments.end(),
                                                context.deployment) == match.deployments.end()) {
      continue;
    }
    if (!match.path_prefix.empty() && request.target().substr(0, match.path_prefix.size()) !=
                                          std::string_view(match.path_prefix)) {
      continue;
    }
    if (!match.header_name.empty()) {
      auto it = request.find(match.header_name);
      if (it == request.end()) continue;
      if (!match.header_value.empty() && it->value() != match.header_value) continue;
    }
    if (match.deployments.empty() && match.path_prefix.empty() && match.header_name.empty() &&
        context.target.style == ApiStyle::kUnknown) {
      continue;  // a catch-all route serves API paths only; other paths follow unknown_routes
    }
    return &route;
  }
  return nullptr;
}

// Whether an Azure api-version accepts stream_options (added in 2024-09-01-preview and the
// 2024-10-21 GA; every later version keeps it).
bool api_version_accepts_stream_options(std::string_view version) {
  if (version.empty()) return false;
  return version >= std::string_view("2024-09-01");
}

}  // namespace

void RuntimeSource::publish(std::shared_ptr<Runtime> runtime) {
  std::lock_guard lock(mutex_);
  runtime_ = std::move(runtime);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<Runtime> RuntimeSource::current() const {
  std::lock_guard lock(mutex_);
  return runtime_;
}

// Everything a worker thread keeps between requests; touched only by that thread.
struct Proxy::Worker {
  explicit Worker(std::uint64_t seed) : balancer(seed), random(seed) {}
  std::shared_ptr<Runtime> runtime;
  std::uint64_t generation = 0;
  std::unique_ptr<http::ClientPool> pool;
  JsonScratch json;
  Balancer balancer;
  std::mt19937_64 random;  // request ids: 122 random bits, no collisions across workers
};

// One request's trip through the pipeline. Lives on the handler's coroutine frame.
class Transaction {
 public:
  Transaction(http::Exchange& exchange, Proxy::Worker& worker, Runtime& runtime, std::string id,
              InternalRequests& internal, std::string_view purpose)
      : exchange_(exchange),
        request_(exchange.request()),
        worker_(worker),
        runtime_(runtime),
        context_(exchange, std::move(id)) {
    context_.internal_requests = &internal;
    context_.purpose = purpose;
    context_.response_end_may_batch = true;  // response_end_write_pending() waits for it
  }

  // The pipeline; the caller runs the log phase after it, exactly once (Proxy::run: the
  // pipeline's task is awaited there directly, one coroutine frame fewer a request).
  http::Task<void> pipeline();
  void run_log_phase();

 private:
  struct AttemptOutcome {
    bool done = false;                       // a response was sent (or the client is gone): stop
    bool retryable = false;                  // failed in a way the next member may fix
    std::optional<http::Response> response;  // a failed attempt's response, kept for relaying
    std::chrono::milliseconds retry_after{0};
  };

  http::Task<void> forward(PoolRuntime& pool);
  http::Task<AttemptOutcome> attempt(PoolMemberRuntime& member, const PoolSettings& pool);
  http::Task<AttemptOutcome> relay_stream(PoolMemberRuntime& member, const PoolSettings& pool,
                                          std::unique_ptr<http::StreamingResponse> stream,
                                          Attempt& record, SteadyClock::time_point started);
  // `renamed_to`: the deployment's name at the backend when its `deployments` map renames it.
  // The gateway's own fields go in `extra` (they refer to the context's text).
  std::optional<http::Request> build_upstream_request(const BackendSettings& backend,
                                                      std::string* error,
                                                      std::string_view* renamed_to,
                                                      http::ExtraFields& extra);
  http::Task<void> respond(http::Response response);
  void record_attempt(PoolMemberRuntime& member, const PoolSettings& pool, Attempt record,
                      bool failure, std::chrono::milliseconds retry_after);
  // An attempt that got no HTTP response: the client left (stop), or the backend failed (retry).
  AttemptOutcome failed_attempt(PoolMemberRuntime& member, const PoolSettings& pool, Attempt record,
                                const http::ClientError& error);
  void run_response_end_phase(std::string_view body);
  bool response_end_write_pending();

  http::Exchange& exchange_;
  http::Request& request_;
  Proxy::Worker& worker_;
  Runtime& runtime_;
  RequestContext context_;
  bool injected_include_usage_ = false;
};

void Transaction::run_log_phase() {
  context_.completed_at = SteadyClock::now();
  // Requests that matched no route are still observed (usage records, metrics) by the global
  // policies.
  const auto& policies =
      context_.route ? context_.route->policies : runtime_.settings().global_policies;
  for (const auto& policy : policies) {
    try {
      policy->on_complete(context_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gateway: policy %s failed in the log phase: %s\n",
                   std::string(policy->name()).c_str(), e.what());
    }
  }
}

// Runs once, before the client can hold a complete response, so what policies do here (the usage
// journal record) is done before the client can see the end of its response.
void Transaction::run_response_end_phase(std::string_view body) {
  if (context_.response_end_observed) return;
  context_.response_end_observed = true;
  const auto& policies =
      context_.route ? context_.route->policies : runtime_.settings().global_policies;
  for (const auto& policy : policies) {
    try {
      policy->on_response_end(context_, body);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gateway: policy %s failed at the response end: %s\n",
                   std::string(policy->name()).c_str(), e.what());
    }
  }
}

// A write a policy batched at the response end (the usage record, usage_policy.hpp) must be done
// before the response leaves: the response yields to the event loop until it is. Called in a
// loop, `while (response_end_write_pending()) co_await yield`, in the coroutine that sends the
// response (a coroutine of its own would cost a frame per response).
bool Transaction::response_end_write_pending() {
  auto& batch = context_.response_end_write;
  if (!batch) return false;
  if (!batch->written(context_.response_end_ticket)) return true;
  batch.reset();
  return false;
}

http::Task<void> Transaction::respond(http::Response response) {
  http::ExtraFields extra;
  add_policy_fields(response, context_.response_headers, extra);
  stamp_request_id(response, context_.request_id, &extra);
  context_.status = response.result_int();
  run_response_end_phase(response.body());
  while (response_end_write_pending()) co_await http::asio::post(http::kUseAwaitable);
  if (!co_await exchange_.send(std::move(response), extra)) context_.client_disconnected = true;
}

http::Task<void> Transaction::pipeline() {
  context_.received_at = exchange_.received_at();
  context_.client_ip = exchange_.client_address();
  context_.target = parse_request_target(request_.target());
  const auto& settings = runtime_.settings();

  std::optional<std::string> body_error;
  if (context_.target.style != ApiStyle::kUnknown &&
      context_.target.operation != Operation::kOther &&
      request_.method() == http::bhttp::verb::post) {
    body_error = inspect_request_body(request_.body(), worker_.json, context_.body,
                                      settings.parse_request_document &&
                                          context_.target.operation == Operation::kChatCompletions);
  }
  context_.deployment =
      context_.target.style == ApiStyle::kAzure ? context_.target.deployment : context_.body.model;
  context_.route = match_route(settings, context_, request_);
  // Requests that match no route are identified by the top-level policies.
  const auto& policies = context_.route ? context_.route->policies : settings.global_policies;

  // Who is calling is settled first, as Azure does: a caller without valid credentials learns
  // nothing about deployments or request validation (401 before 404 or 400).
  std::size_t next_policy = 0;
  for (; next_policy < policies.size() && static_cast<int>(policies[next_policy]->phase_order()) <
                                              static_cast<int>(PhaseOrder::kLimit);
       ++next_policy) {
    if (!policies[next_policy]->has_request_phase()) continue;
    auto answer = co_await policies[next_policy]->on_request(context_);
    if (answer) {
      co_await respond(std::move(*answer));
      co_return;
    }
  }

  if (body_error) {
    context_.error_code = "invalid_request";
    co_await respond(error_response(Status::bad_request, kInvalidRequestCode, *body_error));
    co_return;
  }
  if (context_.target.style == ApiStyle::kOpenAiV1 &&
      context_.target.operation != Operation::kOther && context_.deployment.empty()) {
    context_.error_code = "invalid_request";
    co_await respond(error_response(Status::bad_request, kInvalidRequestCode,
                                    "The request body must name a `model`."));
    co_return;
  }
  std::string pool_name;
  if (context_.route) {
    pool_name = context_.route->pool;
  } else if (settings.unknown_routes == UnknownRoutes::kPass) {
    pool_name = settings.default_pool;
  } else {
    context_.error_code = "route_not_found";
    if (context_.target.style == ApiStyle::kAzure) {
      co_await respond(deployment_not_found());
    } else if (context_.target.style == ApiStyle::kOpenAiV1) {
      co_await respond(error_response(Status::not_found, "model_not_found",
                                      "The model `" + context_.deployment + "` does not exist."));
    } else {
      co_await respond(error_response(Status::not_found, "not_found",
                                      "No route for " + std::string(request_.target()) + "."));
    }
    co_return;
  }

  // The rest of the access phase (token limits) needs a valid body and a destination.
  for (; next_policy < policies.size(); ++next_policy) {
    if (!policies[next_policy]->has_request_phase()) continue;
    auto answer = co_await policies[next_policy]->on_request(context_);
    if (answer) {
      co_await respond(std::move(*answer));
      co_return;
    }
  }
  PoolRuntime* pool = runtime_.pool(pool_name);
  co_await forward(*pool);
}

std::optional<http::Request> Transaction::build_upstream_request(const BackendSettings& backend,
                                                                 std::string* error,
                                                                 std::string_view* renamed_to,
                                                                 http::ExtraFields& extra) {
  const auto& target = context_.target;
  std::string_view upstream_name = context_.deployment;
  if (auto it = backend.deployments.find(context_.deployment); it != backend.deployments.end()) {
    upstream_name = it->second;
    *renamed_to = it->second;
  }
  // The path is built in one string of the right size: this runs for every attempt.
  std::string path;
  BodyRewrite rewrite;
  if (target.style == ApiStyle::kUnknown || target.operation == Operation::kOther) {
    path.reserve(backend.url.path.size() + request_.target().size());
    path += backend.url.path;
    path += std::string_view(request_.target());
  } else if (backend.kind == BackendKind::kAzure) {
    std::string_view api_version = !backend.api_version.empty()  ? backend.api_version
                                   : !target.api_version.empty() ? target.api_version
                                                                 : kDefaultApiVersion;
    constexpr std::string_view kDeployments = "/openai/deployments/";
    constexpr std::string_view kApiVersion = "?api-version=";
    path.reserve(backend.url.path.size() + kDeployments.size() + upstream_name.size() + 1 +
                 target.operation_path.size() + kApiVersion.size() + api_version.size());
    path += backend.url.path;
    path += kDeployments;
    path += upstream_name;
    path += '/';
    path += target.operation_path;
    path += kApiVersion;
    path += api_version;
    if (target.style == ApiStyle::kOpenAiV1 && upstream_name != context_.body.model) {
      rewrite.model = upstream_name;
    }
  } else {
    path.reserve(backend.url.path.size() + 1 + target.operation_path.size());
    path += backend.url.path;
    path += '/';
    path += target.operation_path;
    if (upstream_name != context_.body.model) rewrite.model = upstream_name;
  }

  // Ask for the usage chunk when the client did not, where the backend accepts it.
  injected_include_usage_ = false;
  if (context_.body.stream && !context_.body.include_usage &&
      (target.operation == Operation::kChatCompletions ||
       target.operation == Operation::kCompletions)) {
    bool accepts = false;
    switch (backend.stream_usage) {
      case StreamUsageMode::kAlways:
        accepts = true;
        break;
      case StreamUsageMode::kNever:
        accepts = false;
        break;
      case StreamUsageMode::kAuto:
        accepts = backend.kind == BackendKind::kOpenAi ||
                  api_version_accepts_stream_options(
                      !backend.api_version.empty()  ? backend.api_version
                      : !target.api_version.empty() ? target.api_version
                                                    : std::string(kDefaultApiVersion));
        break;
    }
    if (accepts) {
      rewrite.add_include_usage = true;
      injected_include_usage_ = true;
    }
  }

  http::Request upstream{request_.method(), path, 11};
  for (const auto& field : request_) {
    const auto name = field.name();
    if (is_hop_by_hop(name) || name == Field::host || name == Field::accept_encoding ||
        is_client_credential_field(name, field.name_string()) ||
        (name == Field::unknown && is_gateway_written_field(field.name_string()))) {
      continue;
    }
    upstream.insert(name, field.name_string(), field.value());
  }
  if (!rewrite.model.empty() || rewrite.add_include_usage) {
    auto body = rewrite_request_body(request_.body(), rewrite);
    if (!body) {
      *error = "the request body could not be rewritten";
      return std::nullopt;
    }
    upstream.body() = std::move(*body);
  } else {
    upstream.body() = request_.body();
  }
  // Beast copies the value: the Host text is built in a string this thread keeps.
  thread_local std::string host;
  host.clear();
  backend.url.append_host_header(host);
  // None of the three was copied from the client's request, so each goes in without a search.
  // Host is a field of the request (the client reads its framing fields); the other two are
  // only written, after the request's fields.
  upstream.insert(Field::host, host);
  extra.add("x-forwarded-for", context_.client_ip);
  extra.add("x-ms-client-request-id", context_.request_id);
  return upstream;
}

void Transaction::record_attempt(PoolMemberRuntime& member, const PoolSettings& pool,
                                 Attempt record, bool failure,
                                 std::chrono::milliseconds retry_after) {
  auto& backend = *member.backend;
  if (record.status == 429) backend.throttled.fetch_add(1, std::memory_order_relaxed);
  bool breaker_failure =
      failure && (record.status == 0 ? pool.breaker.on_connection_error
                                     : contains(pool.breaker.status_codes, record.status));
  if (breaker_failure) {
    member.breaker.record_failure(SteadyClock::now(), retry_after);
  } else if (record.status != 0 && record.status < 500 && record.status != 429) {
    member.breaker.record_success();
  } else {
    member.breaker.release_probe();
  }
  if (failure) {
    backend.failures.fetch_add(1, std::memory_order_relaxed);
    backend.set_last_error(record.error.empty() ? "HTTP " + std::to_string(record.status)
                                                : record.error);
  }
  context_.attempts.push_back(std::move(record));
}

Transaction::AttemptOutcome Transaction::failed_attempt(PoolMemberRuntime& member,
                                                        const PoolSettings& pool, Attempt record,
                                                        const http::ClientError& error) {
  AttemptOutcome outcome;
  record.error = error.message;
  if (record.duration.count() == 0) {
    record.duration = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() -
                                                                            record.started_at);
  }
  if (error.kind == http::ClientErrorKind::kCancelled || exchange_.client_gone()) {
    context_.client_disconnected = true;
    member.breaker.release_probe();
    context_.attempts.push_back(std::move(record));
    outcome.done = true;
    return outcome;
  }
  record_attempt(member, pool, std::move(record), true, 0ms);
  outcome.retryable = true;
  return outcome;
}

http::Task<void> Transaction::forward(PoolRuntime& pool) {
  const auto& settings = *pool.settings;
  auto deadline = SteadyClock::now() + settings.retry.max_time;
  std::vector<bool> tried(pool.members.size(), false);
  std::optional<http::Response> last_response;
  std::chrono::milliseconds smallest_retry_after = std::chrono::milliseconds::max();
  bool all_throttled = true;
  int attempts = 0;
  while (attempts < settings.retry.max_attempts && SteadyClock::now() < deadline) {
    int index = worker_.balancer.pick(pool, tried, SteadyClock::now());
    if (index < 0) break;
    ++attempts;
    auto outcome = co_await attempt(*pool.members[index], settings);
    if (outcome.done) co_return;
    if (outcome.response) {
      unsigned status = outcome.response->result_int();
      if (status == 429) {
        auto wait = outcome.retry_after.count() > 0 ? outcome.retry_after : 1000ms;
        smallest_retry_after = std::min(smallest_retry_after, wait);
      } else {
        all_throttled = false;
      }
      last_response = std::move(outcome.response);
    } else {
      all_throttled = false;
    }
    if (!outcome.retryable) break;
  }

  if (attempts == 0) {
    // Every member's breaker is open: say when the first one will let a probe through.
    auto now = SteadyClock::now();
    auto soonest = SteadyClock::time_point::max();
    for (const auto& member : pool.members)
      soonest = std::min(soonest, member->breaker.open_until());
    auto wait = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::ceil(
               std::chrono::duration<double>(soonest > now ? soonest - now : 0s).count())));
    context_.error_code = "no_backend_available";
    auto response = error_response(Status::service_unavailable, "no_backend_available",
                                   "No backend of pool '" + settings.name +
                                       "' is available; all are temporarily out of rotation.");
    response.set(Field::retry_after, std::to_string(wait));
    co_await respond(std::move(response));
    co_return;
  }
  if (last_response && all_throttled) {
    // Every member throttled: the client may retry after the shortest wait any of them named.
    auto seconds = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::ceil(smallest_retry_after.count() / 1000.0)));
    http::Response response = std::move(*last_response);
    response.set(Field::retry_after, std::to_string(seconds));
    response.set("retry-after-ms", std::to_string(smallest_retry_after.count()));
    response.erase(Field::transfer_encoding);
    response.prepare_payload();
    context_.error_code = "throttled";
    co_await respond(std::move(response));
    co_return;
  }
  if (last_response) {
    // The last backend's own error (e.g. 500) is the most useful answer.
    http::Response response = std::move(*last_response);
    response.erase(Field::transfer_encoding);
    response.erase(Field::connection);
    response.prepare_payload();
    co_await respond(std::move(response));
    co_return;
  }
  context_.error_code = "bad_gateway";
  std::string detail = context_.attempts.empty() ? std::string("no attempt was made")
                                                 : context_.attempts.back().error;
  co_await respond(
      error_response(Status::bad_gateway, "bad_gateway",
                     "No backend of pool '" + settings.name + "' could be reached: " + detail));
}

http::Task<Transaction::AttemptOutcome> Transaction::attempt(PoolMemberRuntime& member,
                                                             const PoolSettings& pool) {
  auto& backend = *member.backend;
  const auto& backend_settings = backend.settings;
  Attempt record;
  record.backend = backend_settings.name;
  record.settings = &backend_settings;
  auto started = SteadyClock::now();
  record.started_at = started;
  AttemptOutcome outcome;

  if (!worker_.pool) {
    http::ClientSettings client_settings;
    client_settings.idle_timers_keep_waiting = true;  // the server stops its workers' loops itself
    worker_.pool = std::make_unique<http::ClientPool>(exchange_.executor(), client_settings);
  }
  std::string error;
  http::ExtraFields extra;
  auto upstream =
      build_upstream_request(backend_settings, &error, &record.upstream_deployment, extra);
  if (!upstream) {
    member.breaker.release_probe();
    context_.error_code = "invalid_request";
    co_await respond(error_response(Status::bad_request, kInvalidRequestCode,
                                    "The request body is not valid JSON."));
    outcome.done = true;
    co_return outcome;
  }
  // A credential that needs no token goes on at once; only a token waits in a coroutine.
  if (!backend.auth.apply_at_once(*upstream, request_)) {
    if (auto auth_error = co_await backend.auth.apply(*upstream, request_, *worker_.pool)) {
      record.error = *auth_error;
      record_attempt(member, pool, std::move(record), true, 0ms);
      outcome.retryable = true;
      co_return outcome;
    }
  }
  const auto& policies =
      context_.route ? context_.route->policies : runtime_.settings().global_policies;
  for (const auto& policy : policies) {
    policy->on_upstream(context_, *upstream, extra);
  }
  if (context_.upstream_sent_at == SteadyClock::time_point{}) context_.upstream_sent_at = started;

  backend.requests.fetch_add(1, std::memory_order_relaxed);
  backend.in_flight.fetch_add(1, std::memory_order_relaxed);
  struct InFlight {
    std::atomic<std::int64_t>& count;
    ~InFlight() { count.fetch_sub(1, std::memory_order_relaxed); }
  } in_flight{backend.in_flight};

  auto cancel = exchange_.client_gone_slot();
  const http::ProxyEndpoint* via = backend_settings.proxy ? &*backend_settings.proxy : nullptr;
  if (context_.body.stream) {
    auto opened =
        co_await worker_.pool->open(backend_settings.url, std::move(*upstream),
                                    backend_settings.response_timeout, cancel, via, extra);
    if (!opened) co_return failed_attempt(member, pool, std::move(record), opened.error());
    co_return co_await relay_stream(member, pool, std::move(*opened), record, started);
  }

  auto result = co_await worker_.pool->fetch(backend_settings.url, std::move(*upstream),
                                             backend_settings.response_timeout, cancel, via, extra);
  record.duration =
      std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started);
  if (!result) co_return failed_attempt(member, pool, std::move(record), result.error());
  record.status = result->result_int();
  backend.utilization.note(*result);
  auto retry_after = retry_after_of(*result);
  if (contains(pool.retry.status_codes, record.status)) {
    record.error = "HTTP " + std::to_string(record.status);
    record_attempt(member, pool, std::move(record), true, retry_after);
    outcome.retryable = true;
    outcome.retry_after = retry_after;
    outcome.response = std::move(*result);
    co_return outcome;
  }
  bool failure = contains(pool.breaker.status_codes, record.status);
  record_attempt(member, pool, std::move(record), failure, retry_after);
  context_.backend = backend_settings.name;
  if (result->result_int() == 200) {
    extract_usage(result->body(), worker_.json, context_.usage, context_.response_model);
  }
  http::Response& response = *result;  // moved once, into respond()
  remove_hop_by_hop_headers(response.base());
  response.version(11);
  response.reason({});  // the standard reason phrase, as for every response the gateway makes
  response.prepare_payload();
  co_await respond(std::move(response));
  outcome.done = true;
  co_return outcome;
}

http::Task<Transaction::AttemptOutcome> Transaction::relay_stream(
    PoolMemberRuntime& member, const PoolSettings& pool,
    std::unique_ptr<http::StreamingResponse> stream, Attempt& record,
    SteadyClock::time_point started) {
  const auto& backend_settings = member.backend->settings;
  AttemptOutcome outcome;
  record.status = stream->status();
  member.backend->utilization.note(stream->header());
  const bool event_stream = http::is_event_stream(stream->header());
  auto cancel = exchange_.client_gone_slot();

  if (record.status != 200 || !event_stream) {
    // An error (or a non-stream answer): read it whole, then treat it like a plain response,
    // bounded as a plain response is (size and response timeout). A body that breaks off is a
    // failed attempt, never relayed as if it were whole: nothing has reached the client yet.
    const auto body_deadline = started + backend_settings.response_timeout;
    const std::size_t body_limit = record.status == 200 ? kMaxRelayedBody : kMaxErrorBody;
    std::string body;
    while (!stream->done()) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(body_deadline - SteadyClock::now());
      auto piece = co_await stream->read_some(
          std::clamp(left, 1ms, backend_settings.stream_idle_timeout), cancel);
      if (!piece) co_return failed_attempt(member, pool, std::move(record), piece.error());
      body.append(*piece);
      if (body.size() > body_limit) {
        co_return failed_attempt(
            member, pool, std::move(record),
            {http::ClientErrorKind::kProtocol,
             "the response body from " + backend_settings.url.origin() +
                 " is over the gateway's limit of " + std::to_string(body_limit >> 20) + " MiB"});
      }
    }
    http::Response response{static_cast<Status>(record.status), 11};
    copy_end_to_end_headers(stream->header(), response.base());
    response.body() = std::move(body);
    response.prepare_payload();
    auto retry_after = retry_after_of(stream->header());
    record.duration =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started);
    if (contains(pool.retry.status_codes, record.status)) {
      record.error = "HTTP " + std::to_string(record.status);
      record_attempt(member, pool, std::move(record), true, retry_after);
      outcome.retryable = true;
      outcome.retry_after = retry_after;
      outcome.response = std::move(response);
      co_return outcome;
    }
    bool ok = record.status == 200;
    bool failure = contains(pool.breaker.status_codes, record.status);
    record_attempt(member, pool, std::move(record), failure, retry_after);
    context_.backend = backend_settings.name;
    if (ok) extract_usage(response.body(), worker_.json, context_.usage, context_.response_model);
    co_await respond(std::move(response));
    outcome.done = true;
    co_return outcome;
  }

  // From here on bytes reach the client: no more failover for this request.
  context_.backend = backend_settings.name;
  context_.streamed = true;
  context_.status = 200;
  http::ResponseHeader header;
  header.result(Status::ok);
  copy_end_to_end_headers(stream->header(), header);
  for (const auto& [name, value] : context_.response_headers) header.set(name, value);
  stamp_request_id(header, context_.request_id, nullptr);
  outcome.done = true;
  if (!co_await exchange_.start_stream(std::move(header))) {
    context_.client_disconnected = true;
    member.breaker.release_probe();
    context_.attempts.push_back(std::move(record));
    co_return outcome;
  }

  // Policies that watch the stream's events (the cache keeps the answer), found once per stream.
  std::vector<Policy*> observers;
  for (const auto& policy :
       context_.route ? context_.route->policies : runtime_.settings().global_policies) {
    if (policy->observes_stream_events()) observers.push_back(policy.get());
  }
  http::SseParser parser;
  std::vector<http::SseEvent> events;
  std::string out;
  std::string held;  // `[DONE]` and anything after it: sent after the response-end phase
  bool saw_done = false;
  bool upstream_failed = false;
  std::string failure;
  std::string_view failure_code = "stream_interrupted";
  const auto stream_deadline = SteadyClock::now() + backend_settings.stream_max;
  while (!stream->done()) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(stream_deadline - SteadyClock::now());
    // This wait ends at stream_max, not at the idle timeout: its timeout is the stream's.
    bool last_wait = left < backend_settings.stream_idle_timeout;
    auto piece = co_await stream->read_some(
        std::clamp(left, 1ms, backend_settings.stream_idle_timeout), cancel);
    if (!piece) {
      if (piece.error().kind == http::ClientErrorKind::kCancelled || exchange_.client_gone()) {
        context_.client_disconnected = true;
      } else if (last_wait && piece.error().kind == http::ClientErrorKind::kTimeout) {
        upstream_failed = true;
        failure_code = "stream_timeout";
        failure = "the stream was still going after " +
                  core::format_duration(backend_settings.stream_max) +
                  " (the backend's timeouts.stream_max)";
      } else {
        upstream_failed = true;
        failure = piece.error().message;
      }
      break;
    }
    if (!parser.feed(*piece, events)) {
      upstream_failed = true;
      failure = parser.error();
      break;
    }
    for (auto& event : events) {
      if (event.data == "[DONE]") {
        saw_done = true;
      } else if (event.data_lines > 0) {
        for (auto* observer : observers) observer->on_stream_event(context_, event.data);
        auto chunk = inspect_stream_chunk(event.data, worker_.json, context_.usage,
                                          context_.response_model, context_.completion_text);
        if (chunk.has_content && context_.first_token_at == SteadyClock::time_point{}) {
          context_.first_token_at = SteadyClock::now();
        }
        // The usage chunk we asked for on the client's behalf is not the client's to see.
        if (chunk.usage_only && injected_include_usage_) continue;
      }
      (saw_done ? held : out).append(event.raw);
    }
    events.clear();
    if (!out.empty()) {
      if (!co_await exchange_.write(out)) {
        context_.client_disconnected = true;
        break;
      }
      out.clear();
    }
  }
  if (!upstream_failed && !context_.client_disconnected && parser.pending() > 0) {
    upstream_failed = true;
    failure = "stream ended inside an event";
  }
  if (!upstream_failed && !context_.client_disconnected && !saw_done) {
    upstream_failed = true;
    failure = "stream ended without [DONE]";
  }
  record.duration =
      std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started);
  if (upstream_failed) {
    context_.upstream_truncated = true;
    record.error = failure;
  }
  // A backend that broke mid-stream counts against its breaker. The client's stream ends with an
  // error event in the API's own format (the `openai` SDKs raise it as an APIError), so a client
  // never takes a cut-off answer for a whole one, then ends cleanly (terminating chunk) so it
  // never hangs.
  record_attempt(member, pool, std::move(record), upstream_failed, 0ms);
  if (!context_.client_disconnected) {
    if (context_.usage.source != UsageSource::kReported) {
      estimate_missing_usage(context_, request_.body());
    }
    if (upstream_failed) {
      context_.error_code = std::string(failure_code);
      held = stream_error_event(failure_code, "The backend's stream broke off: " + failure +
                                                  ". The answer is incomplete.");
    }
    run_response_end_phase({});
    while (response_end_write_pending()) co_await http::asio::post(http::kUseAwaitable);
    if (!held.empty() && !co_await exchange_.write(held)) {
      context_.client_disconnected = true;
    } else if (!co_await exchange_.finish_stream()) {
      context_.client_disconnected = true;
    }
  }
  // Once the response end was observed its usage is final (the record was written with it).
  if (!context_.response_end_observed &&
      (context_.usage.source != UsageSource::kReported || context_.client_disconnected)) {
    if (context_.client_disconnected) context_.usage.source = UsageSource::kNone;
    estimate_missing_usage(context_, request_.body());
  }
  co_return outcome;
}

Proxy::Proxy(RuntimeSource& source, int workers) : source_(source) {
  std::random_device seed;
  for (int i = 0; i < std::max(1, workers); ++i) {
    workers_.push_back(
        std::make_unique<Worker>((static_cast<std::uint64_t>(seed()) << 32) ^ seed()));
  }
}

Proxy::~Proxy() = default;

void Proxy::close_upstream_connections() {
  for (auto& worker : workers_) {
    if (worker->pool) worker->pool->close();
  }
}

// Not a coroutine itself: run()'s task is the handler's, one coroutine frame fewer a request.
http::Task<void> Proxy::handle(http::Exchange& exchange) {
  return run(exchange, {});
}

http::Task<std::optional<http::Response>> Proxy::send(RequestContext& parent, http::Request request,
                                                      std::string_view purpose,
                                                      std::chrono::milliseconds timeout) {
  // The caller's credentials and forwarding headers go along, so identity, access and limits see
  // the same caller; what describes the parent's body does not.
  for (const auto& field : parent.exchange.request()) {
    auto name = field.name();
    if (name == Field::content_length || name == Field::content_type ||
        name == Field::transfer_encoding || name == Field::cache_control ||
        name == Field::accept_encoding || is_hop_by_hop(name) ||
        request.find(field.name_string()) != request.end()) {
      continue;
    }
    request.insert(field.name_string(), field.value());
  }
  request.prepare_payload();
  InternalExchange exchange(parent.exchange, std::move(request));
  exchange.leave_after(timeout);
  co_await run(exchange, purpose);
  co_return exchange.take_response();
}

http::Task<void> Proxy::run(http::Exchange& exchange, std::string_view purpose) {
  auto& worker = *workers_[static_cast<std::size_t>(exchange.worker()) % workers_.size()];
  auto generation = source_.generation();
  if (generation != worker.generation) {
    worker.runtime = source_.current();
    worker.generation = generation;
  }
  // Hold the runtime for the whole request: a reload must not free what this request uses.
  std::shared_ptr<Runtime> runtime = worker.runtime;
  Transaction transaction(exchange, worker, *runtime, random_request_id(worker.random), *this,
                          purpose);
  co_await transaction.pipeline();
  transaction.run_log_phase();
}

}  // namespace sluice::gateway
