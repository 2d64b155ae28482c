#include "sluice/sim/simulator.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <unordered_map>
#include <variant>

#include <boost/json.hpp>

#include "sim/api_version.hpp"
#include "sim/embeddings.hpp"
#include "sim/entra.hpp"
#include "sim/fault_book.hpp"
#include "sim/random.hpp"
#include "sim/rate_limiter.hpp"
#include "sim/request.hpp"
#include "sim/text_generator.hpp"
#include "sim/token_count.hpp"
#include "sim/usage_ledger.hpp"
#include "sim/wire.hpp"
#include "sluice/core/histogram.hpp"
#include "sluice/core/last_result.hpp"
#include "sluice/http/extra_fields.hpp"

namespace sluice::sim {

namespace asio = http::asio;
using http::Exchange;
using http::Field;
using http::Request;
using http::Response;
using http::ResponseHeader;
using http::Status;
using http::Task;

namespace {

constexpr std::string_view kBadKeyMessage =
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your "
    "resource.";
constexpr std::string_view kDeploymentNotFound =
    "The API deployment for this resource does not exist. If you created the deployment within "
    "the last 5 minutes, please wait a moment and try again.";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Deployment {
  DeploymentSettings settings;
  std::shared_ptr<const TokenCount> tokens;
  std::shared_ptr<const TextGenerator> text;
  std::unique_ptr<TokenRateLimiter> tpm;            // standard deployments with a TPM limit
  std::unique_ptr<UtilizationLimiter> utilization;  // provisioned deployments
  std::string versioned_model;
};

// Per-request facts every response carries.
struct Context {
  std::string request_id;
  std::string region;
  std::string client_request_id;
  std::string api_version_label;
  const Deployment* deployment = nullptr;
  std::string client;  // accounting identity
  LimitDecision limits;
  bool limits_known = false;
};

// An admitted data-plane request, ready to be served.
struct Prepared {
  Context ctx;
  Operation op = Operation::kChatCompletions;
  InspectedRequest request;
  std::int64_t prompt_tokens = 0;
  ApiVersion version;
  std::optional<FaultSettings> fault;
};

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string query_value(std::string_view target, std::string_view name, bool* present) {
  std::size_t q = target.find('?');
  if (present) *present = false;
  if (q == std::string_view::npos) return {};
  return form_value(target.substr(q + 1), name, present);
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  out.reserve(8);  // /openai/deployments/{name}/chat/completions: one allocation, not four
  std::size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// What a request's target says, before its method, key or body are looked at: the route and
// operation its path names, and its api-version.
struct TargetRoute {
  bool found = false;  // a known route and operation (else: 404)
  std::string deployment_name;
  bool v1_route = false;
  Operation op = Operation::kChatCompletions;
  enum class Version { kOk, kMissing, kUnsupported } version_state = Version::kOk;
  ApiVersion version;
  std::string version_label;  // as the usage ledger and logs name it
};

TargetRoute route_anew(std::string_view target) {
  TargetRoute route;
  const std::vector<std::string_view> seg = split_path(path_of(target));
  std::size_t op_at = 0;
  if (seg.size() >= 4 && seg[0] == "openai" && seg[1] == "deployments") {
    route.deployment_name = std::string(seg[2]);
    op_at = 3;
  } else if (seg.size() >= 3 && seg[0] == "openai" && seg[1] == "v1") {
    route.v1_route = true;
    op_at = 2;
  } else if (seg.size() >= 2 && seg[0] == "v1") {
    route.v1_route = true;
    op_at = 1;
  } else {
    return route;
  }
  const std::size_t rest = seg.size() - op_at;
  if (rest == 2 && seg[op_at] == "chat" && seg[op_at + 1] == "completions") {
    route.op = Operation::kChatCompletions;
  } else if (rest == 1 && seg[op_at] == "completions") {
    route.op = Operation::kCompletions;
  } else if (rest == 1 && seg[op_at] == "embeddings") {
    route.op = Operation::kEmbeddings;
  } else {
    return route;
  }
  route.found = true;

  // api-version: required on deployment routes (Azure answers its absence with a 404).
  bool has_version = false;
  std::string version_text = query_value(target, "api-version", &has_version);
  if (!route.v1_route) {
    if (!has_version) {
      route.version_state = TargetRoute::Version::kMissing;
      return route;
    }
    auto parsed = parse_api_version(version_text);
    if (!parsed) {
      route.version_state = TargetRoute::Version::kUnsupported;
      return route;
    }
    route.version = *parsed;
    route.version_label = std::move(version_text);
  } else {
    route.version.v1 = true;
    if (has_version && version_text != "v1" && version_text != "preview" &&
        version_text != "latest") {
      route.version_state = TargetRoute::Version::kUnsupported;
      return route;
    }
    route.version_label = has_version ? std::move(version_text) : std::string("v1");
  }
  return route;
}

// route_anew(), through the thread's last target: a load test's requests name one route and one
// api-version, and the path split and the version parse were ~1,600 instructions a request.
TargetRoute route_of(std::string_view target) {
  thread_local core::LastResult<TargetRoute> last;
  return last.get(target, route_anew);
}

bool hit(double rate) {
  if (rate <= 0.0) return false;
  if (rate >= 1.0) return true;
  thread_local Rng rng(fnv1a(random_uuid()));
  return rng.unit() < rate;
}

std::uint64_t pick(std::uint64_t n) {
  thread_local Rng rng(fnv1a(random_uuid()) ^ 0x5bd1e995);
  return rng.below(n);
}

double jittered(double value, double jitter) {
  if (jitter <= 0.0 || value <= 0.0) return value;
  thread_local Rng rng(fnv1a(random_uuid()) ^ 0x1234567);
  return std::max(0.0, value * (1.0 + jitter * (2.0 * rng.unit() - 1.0)));
}

// The simulated Entra's signing key: the configured PEM file, read now (a bad file fails the
// start), or a key generated when a token is first signed or checked.
std::function<RsaKey()> signing_key(const AuthSettings& auth) {
  if (auth.signing_key_file.empty()) return [] { return RsaKey::generate(); };
  return [key = RsaKey::from_pem_file(auth.signing_key_file)] { return key; };
}

std::string format_percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v);
  return buf;
}

}  // namespace

struct Simulator::Impl {
  explicit Impl(SimSettings s)
      : settings(std::move(s)),
        entra(settings.auth, signing_key(settings.auth)),
        faults(settings.faults) {
    std::unordered_map<std::string, std::shared_ptr<const TextGenerator>> generators;
    for (const auto& d : settings.deployments) {
      if (by_name.count(d.name))
        throw std::runtime_error("deployment " + d.name + " is defined twice");
      auto dep = std::make_unique<Deployment>();
      dep->settings = d;
      dep->tokens = token_count_for_model(d.model);
      auto& gen = generators[dep->tokens->encoding()];
      if (!gen) gen = std::make_shared<TextGenerator>(dep->tokens);
      dep->text = gen;
      if (d.provisioned) {
        dep->utilization = std::make_unique<UtilizationLimiter>(d.provisioned_tokens_per_minute);
      } else if (d.tokens_per_minute > 0) {
        dep->tpm = std::make_unique<TokenRateLimiter>(d.tokens_per_minute);
      }
      dep->versioned_model = d.versioned_model();
      by_name[d.name] = dep.get();
      deployments.push_back(std::move(dep));
    }
    default_region = settings.deployments.empty() ? "eastus" : settings.deployments[0].region;
    for (int i = 0; i < std::max(1, settings.threads); ++i) {
      lateness.push_back(std::make_unique<Lateness>());
    }
  }

  // ---- responses -------------------------------------------------------------------------------

  // The names below are none of Beast's known fields and each is added once to a fresh head, so
  // they are inserted with their code given (field::unknown): set() looked each name up in Beast's
  // table and searched the head for an earlier copy, ~1,100 instructions a response in all.
  template <class Fields>
  static void add(Fields& f, std::string_view name, std::string_view value) {
    f.insert(Field::unknown, name, value);
  }

  template <class Fields>
  void add_headers(Fields& f, const Context& ctx) const {
    std::array<std::string, 2> numbers;
    each_header(ctx, numbers,
                [&](std::string_view name, std::string_view value) { add(f, name, value); });
  }

  // A 200 answer sent whole (a completion, embeddings), with Azure's fields as extra fields
  // (http/extra_fields.hpp): the head writer puts them after the response's own, without Beast's
  // insert each. The extra fields view `ctx` and `numbers`, so the answer is filled in where it
  // stays until its send ends (a move would leave the views of short numbers behind).
  struct WholeAnswer {
    Response response;
    http::ExtraFields extra;
    std::array<std::string, 2> numbers;
  };
  void fill_whole_answer(WholeAnswer& out, const Request& req, std::string body,
                         const Context& ctx) {
    out.response = json_response(req, Status::ok, std::move(body), nullptr);
    each_header(ctx, out.numbers,
                [&](std::string_view name, std::string_view value) { out.extra.add(name, value); });
  }

  // The fields Azure puts on every answer, each given to put(name, value); numbers are written
  // into `numbers` first.
  template <class Put>
  void each_header(const Context& ctx, std::array<std::string, 2>& numbers, Put&& put) const {
    put("apim-request-id", ctx.request_id);
    put("x-request-id", ctx.request_id);
    put("x-ms-region", ctx.region);
    if (!ctx.client_request_id.empty()) put("x-ms-client-request-id", ctx.client_request_id);
    if (ctx.deployment) {
      // Refused before admission (400s): the budget as it stands, uncharged.
      LimitDecision d = ctx.limits;
      if (!ctx.limits_known && ctx.deployment->tpm) d = ctx.deployment->tpm->peek(steady_now_ms());
      if (!ctx.limits_known && ctx.deployment->utilization) {
        d = ctx.deployment->utilization->peek(steady_now_ms());
      }
      if (ctx.deployment->tpm) {
        numbers[0] = std::to_string(d.remaining_tokens);
        numbers[1] = std::to_string(d.remaining_requests);
        put("x-ratelimit-remaining-tokens", numbers[0]);
        put("x-ratelimit-remaining-requests", numbers[1]);
      } else if (ctx.deployment->utilization) {
        numbers[0] = format_percent(d.utilization_percent);
        put("azure-openai-deployment-utilization", numbers[0]);
      }
    }
  }

  Response json_response(const Request& req, Status status, std::string body, const Context* ctx) {
    Response res{status, req.version()};
    res.set(Field::content_type, "application/json");
    if (ctx) add_headers(res, *ctx);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  Response not_found(const Request& req, const Context* ctx) {
    return json_response(req, Status::not_found, azure_error_body("404", "Resource not found"),
                         ctx);
  }

  Response invalid_request(const Request& req, const RequestError& e, Context& ctx) {
    ledger.record(ctx.deployment ? ctx.deployment->settings.name : "", ctx.client, Outcome::kError);
    return json_response(req, Status::bad_request,
                         openai_error_body(e.message, "invalid_request_error", e.param, e.code),
                         &ctx);
  }

  // The body Azure sends for an injected error status.
  std::string fault_body(int status, Context& ctx) {
    switch (status) {
      case 400:
        return openai_error_body("The request was invalid (injected by sluice sim).",
                                 "invalid_request_error", "", "");
      case 401:
        return azure_error_body("401", kBadKeyMessage);
      case 403:
        return azure_error_body("PermissionDenied",
                                "Principal does not have access to API/Operation.");
      case 404:
        return azure_error_body("DeploymentNotFound", kDeploymentNotFound);
      case 408:
        return azure_error_body("Timeout", "The operation was timeout.");
      case 429:
        return azure_error_body("429", "Requests to the " + std::string("ChatCompletions_Create") +
                                           " Operation under Azure OpenAI API version " +
                                           ctx.api_version_label +
                                           " have exceeded call rate limit of your current OpenAI "
                                           "S0 pricing tier. Please retry after 1 second. Please "
                                           "go here: https://aka.ms/oai/quotaincrease if you "
                                           "would like to further increase the default rate "
                                           "limit.");
      case 500:
        return openai_error_body(
            "The server had an error processing your request. Sorry about that! You can retry "
            "your request, or contact us through an Azure support request at: "
            "https://go.microsoft.com/fwlink/?linkid=2213926 if you keep seeing this error. "
            "(Please include the request ID " +
                ctx.request_id + " in your email.)",
            "server_error", "", "");
      case 502:
        return azure_error_body("BadGateway", "Bad gateway.");
      case 503:
        return azure_error_body("ServiceUnavailable",
                                "The service is temporarily unable to process your request. "
                                "Please try again later.");
      case 504:
        return azure_error_body("Timeout", "The operation was timeout.");
      default:
        return azure_error_body(std::to_string(status), "Injected error.");
    }
  }

  Response throttled(const Request& req, Context& ctx, Operation op, const LimitDecision& d) {
    const std::int64_t seconds = retry_after_seconds(d.retry_after_ms);
    std::string what = d.reason == LimitReason::kRequests ? "call rate limit" : "token rate limit";
    std::string tier = ctx.deployment && ctx.deployment->settings.provisioned
                           ? "Provisioned Managed"
                           : "OpenAI S0";
    std::string message = "Requests to the " + std::string(operation_name(op)) +
                          " Operation under Azure OpenAI API version " + ctx.api_version_label +
                          " have exceeded " + what + " of your current " + tier +
                          " pricing tier. Please retry after " + std::to_string(seconds) +
                          " second" + (seconds == 1 ? "" : "s") +
                          ". Please go here: https://aka.ms/oai/quotaincrease if you would like "
                          "to further increase the default rate limit.";
    ctx.limits = d;
    ctx.limits_known = true;
    Response res =
        json_response(req, Status::too_many_requests, azure_error_body("429", message), &ctx);
    res.set("retry-after", std::to_string(seconds));
    res.set("retry-after-ms", std::to_string(std::max<std::int64_t>(1, d.retry_after_ms)));
    res.prepare_payload();
    ledger.record(ctx.deployment ? ctx.deployment->settings.name : "", ctx.client,
                  Outcome::kThrottled);
    return res;
  }

  // Sleeps until `when` on the exchange's executor; returns early when the client goes away.
  Task<void> sleep_until(Exchange& ex, std::chrono::steady_clock::time_point when) {
    if (when <= std::chrono::steady_clock::now()) co_return;
    http::SteadyTimer timer(ex.executor());
    timer.expires_at(when);
    auto slot = ex.client_gone_slot();
    co_await timer.async_wait(asio::bind_cancellation_slot(slot, http::kUseTuple));
    // The slot keeps the timer's cancellation handler after the wait completed; clear it before
    // the timer goes away, or a later disconnect would cancel a destroyed timer.
    if (slot.is_connected()) slot.clear();
  }

  // How late a paced token left compared with the timing model (server side: timer wake-up and
  // write scheduling, not the network). One histogram per worker thread, each behind its own
  // uncontended lock so /sim/timing can read it from another thread.
  struct Lateness {
    std::mutex mu;
    core::Histogram histogram;
  };
  void record_lateness(int worker, std::chrono::steady_clock::time_point due) {
    auto late = std::chrono::steady_clock::now() - due;
    Lateness& l = *lateness[static_cast<std::size_t>(worker) % lateness.size()];
    std::lock_guard lock(l.mu);
    l.histogram.record(late);
  }
  std::string timing_json() {
    core::Histogram all;
    for (auto& l : lateness) {
      std::lock_guard lock(l->mu);
      all.merge(l->histogram);
    }
    boost::json::object o;
    o["tokens"] = all.count();
    o["p50_us"] = all.percentile(50);
    o["p99_us"] = all.percentile(99);
    o["max_us"] = all.max();
    boost::json::object root;
    root["token_lateness"] = std::move(o);
    return boost::json::serialize(root);
  }
  void reset_timing() {
    for (auto& l : lateness) {
      std::lock_guard lock(l->mu);
      l->histogram.clear();
    }
  }

  // ---- auth ------------------------------------------------------------------------------------

  // Empty optional: authenticated (ctx.client set). Otherwise the status and body to send.
  std::optional<std::pair<Status, std::string>> authenticate(const Request& req, Context& ctx) {
    const auto& auth = settings.auth;
    auto key_it = req.find("api-key");
    if (key_it != req.end()) {
      if (!auth.accept_keys) {
        return std::make_pair(Status::forbidden,
                              azure_error_body("AuthenticationTypeDisabled",
                                               "Key based authentication is disabled for this "
                                               "resource."));
      }
      for (const auto& k : auth.api_keys) {
        if (k.key == key_it->value()) {
          ctx.client = k.name;
          return std::nullopt;
        }
      }
      return std::make_pair(Status::unauthorized, azure_error_body("401", kBadKeyMessage));
    }
    auto authz = req.find(Field::authorization);
    if (authz != req.end()) {
      std::string_view v = authz->value();
      if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) {
        std::string_view token = v.substr(7);
        if (auth.accept_keys) {
          // OpenAI-style clients send the API key as a bearer token.
          for (const auto& k : auth.api_keys) {
            if (k.key == token) {
              ctx.client = k.name;
              return std::nullopt;
            }
          }
        }
        if (auth.accept_tokens) {
          JwtCheck check = entra.verify(token, unix_now());
          if (check.ok()) {
            ctx.client = check.claims.client_id();
            return std::nullopt;
          }
        }
        return std::make_pair(
            Status::unauthorized,
            azure_error_body("401",
                             "Unauthorized. Access token is missing, invalid, audience is "
                             "incorrect (" +
                                 auth.audience + "), or have expired."));
      }
    }
    return std::make_pair(Status::unauthorized, azure_error_body("401", kBadKeyMessage));
  }

  // ---- data plane ------------------------------------------------------------------------------

  // Everything decided before the response starts: a request that is refused gets its answer
  // here; an admitted one leaves `p` filled in. Synchronous on purpose: GCC 12 mishandles
  // temporaries passed into coroutines, so the coroutines below take only named objects.
  std::optional<Response> prepare(const Request& req, std::string_view target, Prepared& p) {
    Context& ctx = p.ctx;
    ctx.request_id = random_uuid();
    ctx.region = default_region;
    if (auto it = req.find("x-ms-client-request-id"); it != req.end()) {
      ctx.client_request_id = std::string(it->value().substr(0, 256));
    }

    // Route, operation and api-version, from the target.
    TargetRoute route = route_of(target);
    if (!route.found || req.method() != http::bhttp::verb::post) {
      return not_found(req, &ctx);
    }
    if (route.version_state == TargetRoute::Version::kMissing) return not_found(req, &ctx);
    if (route.version_state == TargetRoute::Version::kUnsupported) {
      return json_response(req, Status::bad_request,
                           azure_error_body("BadRequest", "API version not supported"), &ctx);
    }
    std::string& deployment_name = route.deployment_name;
    const bool v1_route = route.v1_route;
    const Operation op = route.op;
    const ApiVersion& version = route.version;
    ctx.api_version_label = std::move(route.version_label);

    if (auto failure = authenticate(req, ctx)) {
      ledger.record("", "", Outcome::kError);
      return json_response(req, failure->first, std::move(failure->second), &ctx);
    }

    // The body names the deployment on the v1 routes, so it is inspected before the lookup.
    const std::string& body = req.body();
    auto inspected = inspect_request(op, body);
    if (v1_route) {
      if (auto* r = std::get_if<InspectedRequest>(&inspected)) {
        deployment_name = r->model;
        if (deployment_name.empty()) {
          return invalid_request(
              req, RequestError{"you must provide a model parameter", "model", ""}, ctx);
        }
      }
    }
    auto found = by_name.find(deployment_name);
    if (found == by_name.end() && !(v1_route && std::holds_alternative<RequestError>(inspected))) {
      ledger.record("", ctx.client, Outcome::kError);
      return json_response(req, Status::not_found,
                           azure_error_body("DeploymentNotFound", kDeploymentNotFound), &ctx);
    }
    const Deployment* dep = found == by_name.end() ? nullptr : found->second;
    ctx.deployment = dep;
    if (dep) ctx.region = dep->settings.region;
    if (auto* err = std::get_if<RequestError>(&inspected)) {
      return invalid_request(req, *err, ctx);
    }
    InspectedRequest& r = std::get<InspectedRequest>(inspected);

    // Operation against the model's kind.
    const ModelKind kind = dep->settings.kind;
    // Each model kind serves one operation: gpt-4o has no /completions, instruct models no
    // /chat/completions, embedding models only /embeddings.
    const bool supported = (op == Operation::kEmbeddings && kind == ModelKind::kEmbedding) ||
                           (op == Operation::kCompletions && kind == ModelKind::kCompletion) ||
                           (op == Operation::kChatCompletions && kind == ModelKind::kChat);
    if (!supported) {
      const char* op_word = op == Operation::kChatCompletions ? "chatCompletion"
                            : op == Operation::kCompletions   ? "completion"
                                                              : "embeddings";
      ledger.record(dep->settings.name, ctx.client, Outcome::kError);
      return json_response(
          req, Status::bad_request,
          azure_error_body("OperationNotSupported",
                           std::string("The ") + op_word +
                               " operation does not work with the specified model, " +
                               dep->settings.model +
                               ". Please choose different model and try again. You can "
                               "learn more about which models can be used with each "
                               "operation here: "
                               "https://go.microsoft.com/fwlink/?linkid=2197993."),
          &ctx);
    }
    if (r.has_stream_options && !version.accepts_stream_options()) {
      return invalid_request(
          req, RequestError{"Unrecognized request argument supplied: stream_options", "", ""}, ctx);
    }
    if (op == Operation::kEmbeddings && r.dimensions) {
      if (dep->settings.model == "text-embedding-ada-002") {
        return invalid_request(
            req, RequestError{"This model does not support specifying dimensions.", "", ""}, ctx);
      }
      if (*r.dimensions > dep->settings.embedding_dimensions) {
        return invalid_request(
            req,
            RequestError{"This model's maximum dimensions is " +
                             std::to_string(dep->settings.embedding_dimensions) + ".",
                         "dimensions", ""},
            ctx);
      }
    }

    // Prompt tokens, exactly as the tokenizer counts them.
    std::int64_t prompt_tokens = 0;
    if (op == Operation::kChatCompletions) {
      auto counted = dep->tokens->chat_prompt(r.document);
      if (!counted) {
        return invalid_request(
            req, RequestError{"The messages could not be read for token counting.", "messages", ""},
            ctx);
      }
      prompt_tokens = static_cast<std::int64_t>(*counted);
    } else {
      for (const auto& t : r.texts)
        prompt_tokens += static_cast<std::int64_t>(dep->tokens->count(t));
      for (std::size_t n : r.token_inputs) prompt_tokens += static_cast<std::int64_t>(n);
    }

    // Faults that answer before the limiter.
    std::optional<FaultSettings> fault = faults.find(dep->settings.name);
    const MillisTime now = steady_now_ms();
    if (fault && fault->throttle) {
      LimitDecision d;
      if (dep->tpm) d = dep->tpm->peek(now);
      if (dep->utilization) d = dep->utilization->peek(now);
      d.allowed = false;
      d.reason = LimitReason::kTokens;
      d.retry_after_ms = 1000;
      return throttled(req, ctx, op, d);
    }
    if (fault && hit(fault->error_rate)) {
      const int status = fault->status_codes[pick(fault->status_codes.size())];
      if (status == 429) {
        LimitDecision d;
        d.allowed = false;
        d.retry_after_ms = 1000;
        return throttled(req, ctx, op, d);
      }
      ledger.record(dep->settings.name, ctx.client, Outcome::kError);
      return json_response(req, static_cast<Status>(status), fault_body(status, ctx), &ctx);
    }

    // Admission: prompt estimate + max_tokens, charged at arrival.
    std::int64_t cost = prompt_tokens;
    if (op != Operation::kEmbeddings) {
      cost += r.n * (r.max_tokens ? *r.max_tokens : dep->settings.unset_max_tokens_charge);
    }
    if (dep->tpm || dep->utilization) {
      LimitDecision d = dep->tpm ? dep->tpm->admit(cost, now) : dep->utilization->admit(cost, now);
      if (!d.allowed) {
        return throttled(req, ctx, op, d);
      }
      ctx.limits = d;
      ctx.limits_known = true;
    }

    p.op = op;
    p.request = std::move(r);
    p.prompt_tokens = prompt_tokens;
    p.version = version;
    p.fault = std::move(fault);
    return std::nullopt;
  }

  Task<void> data_plane(Exchange& ex, std::string_view target) {
    Prepared p;
    std::optional<Response> refused = prepare(ex.request(), target, p);
    if (refused) {
      Response res = std::move(*refused);
      co_await ex.send(std::move(res));
      co_return;
    }
    const std::optional<FaultSettings>& fault = p.fault;
    auto start = ex.received_at();
    if (fault && fault->latency_spike.count() > 0 && hit(fault->spike_rate)) {
      start += fault->latency_spike;
      co_await sleep_until(ex, start);
    }

    switch (p.op) {
      case Operation::kEmbeddings:
        co_await serve_embeddings(ex, p.ctx, p.request, p.prompt_tokens, start);
        break;
      case Operation::kChatCompletions:
      case Operation::kCompletions:
        co_await serve_completion(ex, p.ctx, p.request, p.op, p.prompt_tokens, p.version, fault,
                                  start);
        break;
    }
  }

  Task<void> serve_embeddings(Exchange& ex, Context& ctx, const InspectedRequest& r,
                              std::int64_t prompt_tokens,
                              std::chrono::steady_clock::time_point start) {
    const Deployment& dep = *ctx.deployment;
    const int dims = r.dimensions ? *r.dimensions : dep.settings.embedding_dimensions;
    std::vector<std::vector<float>> vectors;
    vectors.reserve(r.texts.size() + r.token_inputs.size());
    for (const auto& t : r.texts) vectors.push_back(embed_text(t, dims, settings.seed));
    for (std::size_t n : r.token_inputs) {
      vectors.push_back(embed_text("tokens " + std::to_string(n), dims, settings.seed));
    }
    std::string body = embeddings_body(dep.versioned_model, vectors, r.base64, prompt_tokens);
    auto ttft = std::chrono::duration<double, std::milli>(jittered(
        static_cast<double>(dep.settings.time_to_first_token.count()), dep.settings.jitter));
    co_await sleep_until(
        ex, start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(ttft));
    if (ex.client_gone()) {
      ledger.record(dep.settings.name, ctx.client, Outcome::kError);
      co_return;
    }
    ledger.record(dep.settings.name, ctx.client, Outcome::kServed,
                  static_cast<std::uint64_t>(prompt_tokens), 0);
    WholeAnswer answer;
    fill_whole_answer(answer, ex.request(), std::move(body), ctx);
    co_await ex.send(std::move(answer.response), answer.extra);
  }

  Task<void> serve_completion(Exchange& ex, Context& ctx, const InspectedRequest& r, Operation op,
                              std::int64_t prompt_tokens, const ApiVersion& version,
                              const std::optional<FaultSettings>& fault,
                              std::chrono::steady_clock::time_point start) {
    const Deployment& dep = *ctx.deployment;
    const std::int64_t natural = dep.settings.natural_length;
    const bool cut = r.max_tokens && *r.max_tokens < natural;
    const std::size_t length = static_cast<std::size_t>(cut ? *r.max_tokens : natural);

    std::vector<std::vector<std::string_view>> pieces(static_cast<std::size_t>(r.n));
    std::vector<ChoiceText> choices(static_cast<std::size_t>(r.n));
    std::int64_t completion_tokens = 0;
    for (int i = 0; i < r.n; ++i) {
      const std::uint64_t seed =
          mix_seed(mix_seed(settings.seed, r.content_hash), static_cast<std::uint64_t>(i));
      pieces[i] = dep.text->generate(length, seed, !cut);
      choices[i].text = TextGenerator::join(pieces[i]);
      choices[i].finish_reason = cut ? "length" : "stop";
      completion_tokens += static_cast<std::int64_t>(dep.tokens->count(choices[i].text));
    }

    CompletionMeta meta;
    meta.id = random_id(op == Operation::kChatCompletions ? "chatcmpl-" : "cmpl-", 29);
    meta.created = unix_now();
    meta.model = dep.versioned_model;
    meta.system_fingerprint = dep.settings.system_fingerprint;
    meta.usage_details = version.reports_usage_details();

    using namespace std::chrono;
    const double ttft_ms = jittered(static_cast<double>(dep.settings.time_to_first_token.count()),
                                    dep.settings.jitter);
    const double gap_ms =
        dep.settings.tokens_per_second > 0 ? 1000.0 / dep.settings.tokens_per_second : 0.0;
    auto at = [&](double ms) {
      return start + duration_cast<steady_clock::duration>(duration<double, std::milli>(ms));
    };

    if (!r.stream) {
      double total = ttft_ms;
      for (std::size_t k = 1; k < length; ++k) total += jittered(gap_ms, dep.settings.jitter);
      co_await sleep_until(ex, at(total));
      if (ex.client_gone()) {
        ledger.record(dep.settings.name, ctx.client, Outcome::kError);
        co_return;
      }
      Usage usage{prompt_tokens, completion_tokens};
      std::string body = op == Operation::kChatCompletions
                             ? chat_completion_body(meta, choices, usage)
                             : text_completion_body(meta, choices, usage);
      ledger.record(dep.settings.name, ctx.client, Outcome::kServed,
                    static_cast<std::uint64_t>(prompt_tokens),
                    static_cast<std::uint64_t>(completion_tokens));
      WholeAnswer answer;
      fill_whole_answer(answer, ex.request(), std::move(body), ctx);
      co_await ex.send(std::move(answer.response), answer.extra);
      co_return;
    }

    // Streaming.
    ResponseHeader header;
    header.result(Status::ok);
    header.version(ex.request().version());
    header.set(Field::content_type, "text/event-stream; charset=utf-8");
    header.set(Field::cache_control, "no-cache, must-revalidate");
    add_headers(header, ctx);
    const bool chat = op == Operation::kChatCompletions;
    const bool drop = fault && hit(fault->drop_stream_rate);
    const std::size_t drop_after = drop ? static_cast<std::size_t>(fault->drop_after_tokens) : 0;

    std::int64_t sent_tokens = 0;
    bool stream_cut = false;
    bool ok = co_await ex.start_stream(std::move(header));
    co_await sleep_until(ex, at(ttft_ms));
    std::string batch;
    if (chat) {
      batch = sse_prompt_filter_chunk();
      for (int i = 0; i < r.n; ++i) batch += sse_role_chunk(meta, i);
    }
    double due = ttft_ms;
    for (std::size_t k = 0; ok && k < length; ++k) {
      if (drop && k >= drop_after) {
        stream_cut = true;
        break;
      }
      if (k > 0) {
        due += jittered(gap_ms, dep.settings.jitter);
        co_await sleep_until(ex, at(due));
      }
      record_lateness(ex.worker(), at(due));
      for (int i = 0; i < r.n; ++i) {
        batch += chat ? sse_content_chunk(meta, i, pieces[i][k])
                      : sse_text_chunk(meta, i, pieces[i][k], nullptr);
      }
      ok = !ex.client_gone() && co_await ex.write(batch);
      batch.clear();
      if (ok) sent_tokens += r.n;  // each piece is exactly one token
    }
    if (ok && !stream_cut) {
      for (int i = 0; i < r.n; ++i) {
        batch += chat ? sse_finish_chunk(meta, i, choices[i].finish_reason)
                      : sse_text_chunk(meta, i, "", choices[i].finish_reason);
      }
      if (r.include_usage) {
        batch += sse_usage_chunk(meta, Usage{prompt_tokens, completion_tokens},
                                 chat ? "chat.completion.chunk" : "text_completion");
      }
      batch += kSseDone;
      ok = co_await ex.write(batch);
      if (ok) ok = co_await ex.finish_stream();
      if (ok) sent_tokens = completion_tokens;
    }
    if (!ok) stream_cut = true;
    if (stream_cut) ex.close_after_response();
    ledger.record(dep.settings.name, ctx.client, Outcome::kServed,
                  static_cast<std::uint64_t>(prompt_tokens),
                  static_cast<std::uint64_t>(sent_tokens), stream_cut);
    // A dropped stream returns without finish_stream(): the server closes the socket with the
    // chunked body unterminated, which clients see as a connection cut mid-stream.
  }

  // ---- Entra ID --------------------------------------------------------------------------------

  std::optional<Response> entra_route(const Request& req, std::string_view target) {
    auto seg = split_path(path_of(target));
    if (seg.empty()) return std::nullopt;
    const std::string_view tenant = seg[0];
    const bool get = req.method() == http::bhttp::verb::get;
    const bool post = req.method() == http::bhttp::verb::post;
    std::string host = "127.0.0.1";
    if (auto it = req.find(Field::host); it != req.end()) host = std::string(it->value());
    const std::string base = "http://" + host;
    std::optional<EntraReply> out;
    std::string form = req.body();
    if (auto it = req.find(Field::authorization); it != req.end()) {
      form = with_basic_credentials(std::move(form), it->value());
    }
    if (post && seg.size() == 3 && seg[1] == "oauth2" && seg[2] == "token") {
      out = entra.token(tenant, false, form, unix_now());
    } else if (post && seg.size() == 4 && seg[1] == "oauth2" && seg[2] == "v2.0" &&
               seg[3] == "token") {
      out = entra.token(tenant, true, form, unix_now());
    } else if (get && seg.size() == 3 && seg[1] == ".well-known" &&
               seg[2] == "openid-configuration") {
      out = entra.openid_configuration(tenant, false, base);
    } else if (get && seg.size() == 4 && seg[1] == "v2.0" && seg[2] == ".well-known" &&
               seg[3] == "openid-configuration") {
      out = entra.openid_configuration(tenant, true, base);
    } else if (get && ((seg.size() == 4 && seg[1] == "discovery" && seg[2] == "v2.0" &&
                        seg[3] == "keys") ||
                       (seg.size() == 3 && seg[1] == "discovery" && seg[2] == "keys"))) {
      out = entra.jwks();
    }
    if (!out) return std::nullopt;
    Response res{static_cast<Status>(out->status), req.version()};
    res.set(Field::content_type, "application/json; charset=utf-8");
    res.set(Field::cache_control, "no-store, no-cache");
    res.set("x-ms-request-id", random_uuid());
    res.body() = std::move(out->body);
    res.prepare_payload();
    return res;
  }

  // ---- admin -----------------------------------------------------------------------------------

  std::optional<Response> admin_route(const Request& req, std::string_view target) {
    const std::string_view path = path_of(target);
    const auto method = req.method();
    using http::bhttp::verb;
    auto ok_json = [&](std::string body) {
      return json_response(req, Status::ok, std::move(body), nullptr);
    };
    if (path == "/sim/usage" && method == verb::get) {
      return ok_json(ledger.to_json());
    } else if (path == "/sim/timing" && method == verb::get) {
      return ok_json(timing_json());
    } else if (path == "/sim/usage/reset" && method == verb::post) {
      ledger.reset();
      reset_timing();
      return ok_json(ledger.to_json());
    } else if (path == "/sim/limits/reset" && method == verb::post) {
      for (auto& d : deployments) {
        if (d->tpm) d->tpm->reset();
        if (d->utilization) d->utilization->reset();
      }
      return ok_json("{\"reset\":true}");
    } else if (path == "/sim/faults" && method == verb::get) {
      return ok_json(faults.to_json());
    } else if (path == "/sim/faults" && method == verb::post) {
      FaultSettings f;
      if (auto err = parse_fault_json(req.body(), f)) {
        return json_response(req, Status::bad_request,
                             openai_error_body(*err, "invalid_request_error", "", ""), nullptr);
      }
      if (!f.deployment.empty() && !by_name.count(f.deployment)) {
        return json_response(req, Status::not_found,
                             azure_error_body("DeploymentNotFound", kDeploymentNotFound), nullptr);
      }
      faults.set(std::move(f));
      return ok_json(faults.to_json());
    } else if (path == "/sim/faults" && method == verb::delete_) {
      bool present = false;
      std::string d = query_value(target, "deployment", &present);
      faults.clear(present ? std::optional<std::string>(d) : std::nullopt);
      return ok_json(faults.to_json());
    } else if (path == "/healthz" || path == "/readyz") {
      return ok_json("{\"status\":\"ok\"}");
    }
    return std::nullopt;
  }

  SimSettings settings;
  EntraService entra;
  FaultBook faults;
  UsageLedger ledger;
  std::vector<std::unique_ptr<Deployment>> deployments;
  std::unordered_map<std::string, Deployment*> by_name;
  std::string default_region;
  std::vector<std::unique_ptr<Lateness>> lateness;
};

Simulator::Simulator(SimSettings settings) : impl_(std::make_unique<Impl>(std::move(settings))) {}
Simulator::~Simulator() = default;

const SimSettings& Simulator::settings() const {
  return impl_->settings;
}
std::string Simulator::usage_json() const {
  return impl_->ledger.to_json();
}

Task<void> Simulator::handle(Exchange& ex) {
  const std::string target(ex.request().target());
  const std::string_view path = path_of(target);
  if (path.rfind("/openai/", 0) == 0 || path.rfind("/v1/", 0) == 0) {
    co_await impl_->data_plane(ex, target);
    co_return;
  }
  std::optional<Response> res = impl_->admin_route(ex.request(), target);
  if (!res) res = impl_->entra_route(ex.request(), target);
  if (!res) res = impl_->not_found(ex.request(), nullptr);
  Response out = std::move(*res);
  co_await ex.send(std::move(out));
}

Task<void> Simulator::handle_admin(Exchange& ex) {
  const std::string target(ex.request().target());
  std::optional<Response> res = impl_->admin_route(ex.request(), target);
  if (!res) res = impl_->not_found(ex.request(), nullptr);
  Response out = std::move(*res);
  co_await ex.send(std::move(out));
}

}  // namespace sluice::sim
