#include "gateway/policies/tracing/request_spans.hpp"

#include <array>
#include <cstring>
#include <optional>

#include "gateway/policies/tracing/encoded_attribute_cache.hpp"
#include "sluice/gateway/settings.hpp"

namespace sluice::gateway {

namespace {

using telemetry::SpanKind;
using telemetry::SpanStart;
using telemetry::SpanWriter;
using telemetry::StatusCode;

// gen_ai.operation.name values of the GenAI semantic conventions. Views of literals, here and
// below: an attribute value's length is then known without a strlen per attribute.
std::string_view genai_operation(Operation operation) {
  using namespace std::string_view_literals;
  switch (operation) {
    case Operation::kChatCompletions:
      return "chat"sv;
    case Operation::kCompletions:
      return "text_completion"sv;
    case Operation::kEmbeddings:
      return "embeddings"sv;
    case Operation::kOther:
      break;
  }
  return {};
}

// gen_ai.provider.name (current conventions) and gen_ai.system (the older name many backends still
// index on) of a backend.
std::pair<std::string_view, std::string_view> provider_of(const BackendSettings& backend) {
  using namespace std::string_view_literals;
  return backend.kind == BackendKind::kAzure ? std::pair{"azure.ai.openai"sv, "az.ai.openai"sv}
                                             : std::pair{"openai"sv, "openai"sv};
}

std::uint64_t unix_ns(std::chrono::steady_clock::time_point t, std::chrono::nanoseconds offset) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()) + offset;
  return ns.count() > 0 ? static_cast<std::uint64_t>(ns.count()) : 0;
}

// Packs small values into a cache key's number: each value `bits` wide, in order. nullopt when a
// value does not fit (then the attributes are encoded, not looked up).
class KeyNumber {
 public:
  KeyNumber& put(std::uint64_t value, int bits) {
    if (used_ + bits > 64 || (bits < 64 && value >> bits != 0)) {
      fits_ = false;
      return *this;
    }
    number_ |= value << used_;
    used_ += bits;
    return *this;
  }
  std::optional<std::uint64_t> get() const {
    return fits_ ? std::optional<std::uint64_t>(number_) : std::nullopt;
  }

 private:
  std::uint64_t number_ = 0;
  int used_ = 0;
  bool fits_ = true;
};

// The attributes that say which backend served: sluice.backend, then, when its settings are
// known, server.address/port and the provider.
template <class Writer>
void write_backend(Writer& span, std::string_view name, const BackendSettings* backend) {
  span.attribute("sluice.backend", name);
  if (!backend) return;
  span.attribute("server.address", backend->url.host);
  span.attribute("server.port", backend->url.port);
  const auto [provider, system] = provider_of(*backend);
  span.attribute("gen_ai.provider.name", provider);
  span.attribute("gen_ai.system", system);
}

// The same attributes, encoded once per backend and thread (encoded_attribute_cache.hpp).
void write_backend(telemetry::SpanEncoder& span, std::string_view name,
                   const BackendSettings* backend) {
  if (!backend) {
    span.attribute("sluice.backend", name);
    return;
  }
  thread_local EncodedAttributeCache<2> encoded;
  encoded.put(
      span,
      KeyNumber().put(static_cast<unsigned>(backend->kind), 2).put(backend->url.port, 16).get(),
      {name, backend->url.host}, [&](telemetry::SpanEncoder& encoder) {
        write_backend<telemetry::SpanEncoder>(encoder, name, backend);  // the generic one
      });
}

// The SERVER span's attributes that are the same from one request to the next of a deployment,
// method, path and route whose answers look alike (model, status, usage source, attempts). Not the
// app: a gateway serves many, and each would multiply the keys.
struct RequestSummary {
  Operation operation;
  std::string_view deployment;
  std::string_view method;
  std::string_view path;
  const RouteSettings* route;
  std::string_view response_model;
  UsageSource usage_source;
  unsigned status;
  bool streamed;
  std::size_t attempts;
};

template <class Writer>
void write_summary(Writer& span, const RequestSummary& summary) {
  if (auto operation = genai_operation(summary.operation); !operation.empty()) {
    span.attribute("gen_ai.operation.name", operation);
  }
  if (!summary.deployment.empty()) span.attribute("gen_ai.request.model", summary.deployment);
  span.attribute("http.request.method", summary.method);
  span.attribute("url.path", summary.path);
  if (summary.route) span.attribute("sluice.route", summary.route->name);
  if (!summary.response_model.empty()) {
    span.attribute("gen_ai.response.model", summary.response_model);
  }
  if (summary.usage_source != UsageSource::kNone) {
    span.attribute("sluice.usage.source", std::string_view(to_string(summary.usage_source)));
  }
  span.attribute("http.response.status_code", summary.status);
  span.attribute("sluice.streamed", summary.streamed);
  span.attribute("sluice.attempts", summary.attempts);
}

void write_summary(telemetry::SpanEncoder& span, const RequestSummary& summary) {
  const auto number = KeyNumber()
                          .put(static_cast<unsigned>(summary.operation), 4)
                          .put(summary.route != nullptr, 1)
                          .put(static_cast<unsigned>(summary.usage_source), 2)
                          .put(summary.streamed, 1)
                          .put(summary.status, 16)
                          .put(summary.attempts, 32)
                          .get();
  thread_local EncodedAttributeCache<5> encoded;
  const std::string_view route = summary.route ? std::string_view(summary.route->name) : "";
  encoded.put(span, number,
              {summary.deployment, summary.method, summary.path, route, summary.response_model},
              [&](telemetry::SpanEncoder& encoder) {
                write_summary<telemetry::SpanEncoder>(encoder, summary);
              });
}

// How an attempt ended: "ok", "failover" (failed, and the next member was tried), "error" (failed,
// and it was the last), "client_gone" (the client left while it ran).
enum class AttemptOutcome { kOk, kFailover, kError, kClientGone };

std::string_view to_string(AttemptOutcome outcome) {
  using namespace std::string_view_literals;
  static constexpr std::array kNames{"ok"sv, "failover"sv, "error"sv, "client_gone"sv};
  return kNames[static_cast<std::size_t>(outcome)];
}

AttemptOutcome attempt_outcome(const RequestContext& context, const Attempt& attempt, bool last) {
  bool failed = attempt.status == 0 || !attempt.error.empty() || attempt.status >= 400;
  if (!failed) return AttemptOutcome::kOk;
  if (!last) return AttemptOutcome::kFailover;
  return context.client_disconnected ? AttemptOutcome::kClientGone : AttemptOutcome::kError;
}

// A CLIENT span's attributes that are the same on every attempt of a deployment at a backend
// that ends the same way.
struct AttemptSummary {
  Operation operation;
  std::string_view deployment;
  std::string_view backend;
  const BackendSettings* settings;
  std::string_view upstream_deployment;
  std::size_t number;  // 1 for the first attempt
  unsigned status;     // 0: no HTTP response
  AttemptOutcome outcome;
};

template <class Writer>
void write_attempt_summary(Writer& span, const AttemptSummary& attempt) {
  if (auto operation = genai_operation(attempt.operation); !operation.empty()) {
    span.attribute("gen_ai.operation.name", operation);
  }
  if (!attempt.deployment.empty()) span.attribute("gen_ai.request.model", attempt.deployment);
  write_backend(span, attempt.backend, attempt.settings);
  if (!attempt.upstream_deployment.empty()) {
    span.attribute("sluice.upstream_deployment", attempt.upstream_deployment);
  }
  span.attribute("sluice.attempt", attempt.number);
  if (attempt.status != 0) span.attribute("http.response.status_code", attempt.status);
  // No gen_ai.usage.* or gen_ai.response.model here: the request's SERVER span carries them.
  // Trace backends that total tokens over a trace's GenAI spans (Langfuse, Azure Monitor's
  // GenAI views) would count a request's tokens twice if the answering attempt repeated them.
  span.attribute("sluice.attempt.outcome", to_string(attempt.outcome));
}

void write_attempt_summary(telemetry::SpanEncoder& span, const AttemptSummary& attempt) {
  const auto* settings = attempt.settings;
  const auto number = KeyNumber()
                          .put(static_cast<unsigned>(attempt.operation), 4)
                          .put(settings != nullptr, 1)
                          .put(settings ? static_cast<unsigned>(settings->kind) : 0, 2)
                          .put(settings ? settings->url.port : 0, 16)
                          .put(static_cast<unsigned>(attempt.outcome), 2)
                          .put(attempt.status, 16)
                          .put(attempt.number, 23)
                          .get();
  thread_local EncodedAttributeCache<4> encoded;
  const std::string_view host = settings ? std::string_view(settings->url.host) : "";
  encoded.put(span, number,
              {attempt.deployment, attempt.backend, host, attempt.upstream_deployment},
              [&](telemetry::SpanEncoder& encoder) {
                write_attempt_summary<telemetry::SpanEncoder>(encoder, attempt);
              });
}

template <class Writer>
void write_spans(Writer& out, const RequestContext& context, const RequestTrace& trace,
                 std::chrono::nanoseconds offset) {
  const std::string_view operation = genai_operation(context.target.operation);
  const auto& request = context.exchange.request();
  // GenAI span names are "{operation} {model}"; other paths are named by method, as HTTP spans.
  // Put together on the stack: "chat gpt-4o-mini" is past std::string's 15 bytes in place.
  std::array<char, 96> name_room;
  std::string name_past_room;
  std::string_view name =
      !operation.empty() ? operation : std::string_view(request.method_string());
  if (!operation.empty() && !context.deployment.empty()) {
    const std::size_t size = operation.size() + 1 + context.deployment.size();
    if (size > name_room.size()) name_past_room.resize(size);
    char* at = size > name_room.size() ? name_past_room.data() : name_room.data();
    std::memcpy(at, operation.data(), operation.size());
    at[operation.size()] = ' ';
    std::memcpy(at + operation.size() + 1, context.deployment.data(), context.deployment.size());
    name = {at, size};
  }
  auto received = context.received_at != std::chrono::steady_clock::time_point{}
                      ? context.received_at
                      : context.completed_at;

  SpanStart server;
  server.trace_id = trace.trace_id;
  server.span_id = trace.span_id;
  if (trace.caller) {
    server.parent_span_id = trace.caller->span_id;
    server.parent_is_remote = true;
  }
  server.kind = SpanKind::kServer;
  server.name = name;
  server.start_unix_ns = unix_ns(received, offset);
  server.end_unix_ns = unix_ns(context.completed_at, offset);
  const std::string_view target = request.target();
  out.begin_span(server);
  // What repeats from request to request first (one cached block on the request path), then what
  // each request has of its own.
  write_summary(out, RequestSummary{context.target.operation, context.deployment,
                                    std::string_view(request.method_string()),
                                    target.substr(0, target.find('?')), context.route,
                                    context.response_model, context.usage.source, context.status,
                                    context.streamed, context.attempts.size()});
  if (!context.backend.empty()) {
    const BackendSettings* settings = nullptr;
    for (auto it = context.attempts.rbegin(); it != context.attempts.rend(); ++it) {
      if (it->backend == context.backend && it->settings) {
        settings = it->settings;
        break;
      }
    }
    write_backend(out, context.backend, settings);
  }
  if (context.body.max_tokens) out.attribute("gen_ai.request.max_tokens", *context.body.max_tokens);
  if (context.usage.source != UsageSource::kNone) {
    out.attribute("gen_ai.usage.input_tokens", context.usage.prompt_tokens);
    out.attribute("gen_ai.usage.output_tokens", context.usage.completion_tokens);
  }
  if (!context.client_ip.empty()) out.attribute("client.address", context.client_ip);
  out.attribute("sluice.request_id", context.request_id);
  if (!context.identity().app_id.empty()) out.attribute("sluice.app_id", context.identity().app_id);
  if (!context.cache_decision.empty()) {
    out.attribute("sluice.cache", context.cache_decision);
    if (!context.cache.kind.empty()) {
      out.attribute("sluice.cache.kind", context.cache.kind);
      out.attribute("sluice.cache.tokens_saved", context.cache.tokens_saved);
    }
  }
  if (!context.limit_decision.empty()) out.attribute("sluice.limit", context.limit_decision);
  if (!context.error_code.empty()) out.attribute("sluice.error_code", context.error_code);
  if (context.client_disconnected) out.attribute("sluice.client_disconnected", true);
  if (context.upstream_truncated) out.attribute("sluice.upstream_truncated", true);
  // A server span is an error for 5xx only (4xx are the caller's, per the HTTP conventions).
  if (context.status >= 500 || context.status == 0 || context.upstream_truncated) {
    if (!context.error_code.empty()) {
      out.attribute("error.type", context.error_code);
    } else {
      out.attribute("error.type", std::to_string(context.status));
    }
    out.status(StatusCode::kError, context.error_code);
  }
  if (context.first_token_at != std::chrono::steady_clock::time_point{}) {
    out.begin_event("gen_ai.first_token", unix_ns(context.first_token_at, offset));
    out.attribute("gen_ai.server.time_to_first_token",
                  std::chrono::duration<double>(context.first_token_at - received).count());
    out.end_event();
  }
  out.end_span();

  for (std::size_t i = 0; i < context.attempts.size(); ++i) {
    const auto& attempt = context.attempts[i];
    bool last = i + 1 == context.attempts.size();
    SpanStart span;
    span.trace_id = trace.trace_id;
    span.span_id =
        i < trace.attempt_span_ids.size() && telemetry::is_valid(trace.attempt_span_ids[i])
            ? trace.attempt_span_ids[i]
            : telemetry::random_span_id();
    span.parent_span_id = trace.span_id;
    span.kind = SpanKind::kClient;
    span.name = name;
    auto started = attempt.started_at != std::chrono::steady_clock::time_point{}
                       ? attempt.started_at
                       : received;
    span.start_unix_ns = unix_ns(started, offset);
    span.end_unix_ns = unix_ns(started + attempt.duration, offset);
    out.begin_span(span);
    const AttemptOutcome outcome = attempt_outcome(context, attempt, last);
    write_attempt_summary(
        out, AttemptSummary{context.target.operation, context.deployment, attempt.backend,
                            attempt.settings, attempt.upstream_deployment, i + 1, attempt.status,
                            outcome});
    if (outcome != AttemptOutcome::kOk) {
      std::string reason =
          !attempt.error.empty() ? attempt.error : "HTTP " + std::to_string(attempt.status);
      if (outcome == AttemptOutcome::kFailover) out.attribute("sluice.failover_reason", reason);
      if (attempt.status != 0) {
        out.attribute("error.type", std::to_string(attempt.status));
      } else {
        out.attribute("error.type", "connection");
      }
      out.status(StatusCode::kError, reason);  // last: the encoder writes it where it is called
    }
    out.end_span();
  }
}

}  // namespace

void write_request_spans(SpanWriter& out, const RequestContext& context, const RequestTrace& trace,
                         std::chrono::nanoseconds offset) {
  write_spans(out, context, trace, offset);
}

void write_request_spans(telemetry::SpanEncoder& out, const RequestContext& context,
                         const RequestTrace& trace, std::chrono::nanoseconds offset) {
  write_spans(out, context, trace, offset);
}

}  // namespace sluice::gateway
