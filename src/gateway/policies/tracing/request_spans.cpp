#include "gateway/policies/tracing/request_spans.hpp"

#include <array>
#include <cstring>

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
  const std::uint64_t number =
      static_cast<std::uint64_t>(backend->kind) | std::uint64_t{backend->url.port} << 8;
  span.put_encoded_attributes(encoded.get(number, {name, backend->url.host}, [&](auto& encoder) {
    write_backend<telemetry::SpanEncoder>(encoder, name, backend);  // the generic writer
  }));
}

// The SERVER span's attributes that are the same on every request of a deployment, method, path
// and route.
struct RequestShape {
  Operation operation;
  std::string_view deployment;
  std::string_view method;
  std::string_view path;
  const RouteSettings* route;
};

template <class Writer>
void write_shape(Writer& span, const RequestShape& shape) {
  if (auto operation = genai_operation(shape.operation); !operation.empty()) {
    span.attribute("gen_ai.operation.name", operation);
  }
  if (!shape.deployment.empty()) span.attribute("gen_ai.request.model", shape.deployment);
  span.attribute("http.request.method", shape.method);
  span.attribute("url.path", shape.path);
  if (shape.route) span.attribute("sluice.route", shape.route->name);
}

void write_shape(telemetry::SpanEncoder& span, const RequestShape& shape) {
  thread_local EncodedAttributeCache<4> encoded;
  const std::uint64_t number =
      static_cast<std::uint64_t>(shape.operation) | std::uint64_t{shape.route != nullptr} << 8;
  const std::string_view route = shape.route ? std::string_view(shape.route->name) : "";
  span.put_encoded_attributes(
      encoded.get(number, {shape.deployment, shape.method, shape.path, route},
                  [&](auto& encoder) { write_shape<telemetry::SpanEncoder>(encoder, shape); }));
}

// A CLIENT span's attributes that are the same on every attempt of a deployment at a backend.
struct AttemptTarget {
  Operation operation;
  std::string_view deployment;
  std::string_view backend;
  const BackendSettings* settings;
  std::string_view upstream_deployment;
};

template <class Writer>
void write_attempt_target(Writer& span, const AttemptTarget& target) {
  if (auto operation = genai_operation(target.operation); !operation.empty()) {
    span.attribute("gen_ai.operation.name", operation);
  }
  if (!target.deployment.empty()) span.attribute("gen_ai.request.model", target.deployment);
  write_backend(span, target.backend, target.settings);
  if (!target.upstream_deployment.empty()) {
    span.attribute("sluice.upstream_deployment", target.upstream_deployment);
  }
}

void write_attempt_target(telemetry::SpanEncoder& span, const AttemptTarget& target) {
  thread_local EncodedAttributeCache<4> encoded;
  const auto* settings = target.settings;
  const std::uint64_t number =
      static_cast<std::uint64_t>(target.operation) |
      (settings ? (std::uint64_t{1} << 8 | static_cast<std::uint64_t>(settings->kind) << 16 |
                   std::uint64_t{settings->url.port} << 24)
                : 0);
  const std::string_view host = settings ? std::string_view(settings->url.host) : "";
  span.put_encoded_attributes(encoded.get(
      number, {target.deployment, target.backend, host, target.upstream_deployment},
      [&](auto& encoder) { write_attempt_target<telemetry::SpanEncoder>(encoder, target); }));
}

// How an attempt ended: "ok", "failover" (failed, and the next member was tried), "error" (failed,
// and it was the last), "client_gone" (the client left while it ran).
std::string_view attempt_outcome(const RequestContext& context, const Attempt& attempt, bool last) {
  using namespace std::string_view_literals;
  bool failed = attempt.status == 0 || !attempt.error.empty() || attempt.status >= 400;
  if (!failed) return "ok"sv;
  if (!last) return "failover"sv;
  return context.client_disconnected ? "client_gone"sv : "error"sv;
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
    char* at = name_room.data();
    if (size > name_room.size()) {
      name_past_room.resize(size);
      at = name_past_room.data();
    }
    std::memcpy(at, operation.data(), operation.size());
    at[operation.size()] = ' ';
    std::memcpy(at + operation.size() + 1, context.deployment.data(), context.deployment.size());
    name = {size > name_room.size() ? name_past_room.data() : name_room.data(), size};
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
  write_shape(out, RequestShape{context.target.operation, context.deployment,
                                std::string_view(request.method_string()),
                                target.substr(0, target.find('?')), context.route});
  if (!context.response_model.empty()) {
    out.attribute("gen_ai.response.model", context.response_model);
  }
  if (context.body.max_tokens) out.attribute("gen_ai.request.max_tokens", *context.body.max_tokens);
  if (context.usage.source != UsageSource::kNone) {
    out.attribute("gen_ai.usage.input_tokens", context.usage.prompt_tokens);
    out.attribute("gen_ai.usage.output_tokens", context.usage.completion_tokens);
    out.attribute("sluice.usage.source", to_string(context.usage.source));
  }
  out.attribute("http.response.status_code", context.status);
  if (!context.client_ip.empty()) out.attribute("client.address", context.client_ip);
  out.attribute("sluice.request_id", context.request_id);
  if (!context.identity().app_id.empty()) out.attribute("sluice.app_id", context.identity().app_id);
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
  out.attribute("sluice.streamed", context.streamed);
  out.attribute("sluice.attempts", context.attempts.size());
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
    write_attempt_target(
        out, AttemptTarget{context.target.operation, context.deployment, attempt.backend,
                           attempt.settings, attempt.upstream_deployment});
    out.attribute("sluice.attempt", i + 1);
    if (attempt.status != 0) out.attribute("http.response.status_code", attempt.status);
    // No gen_ai.usage.* or gen_ai.response.model here: the request's SERVER span carries them.
    // Trace backends that total tokens over a trace's GenAI spans (Langfuse, Azure Monitor's
    // GenAI views) would count a request's tokens twice if the answering attempt repeated them.
    const std::string_view outcome = attempt_outcome(context, attempt, last);
    out.attribute("sluice.attempt.outcome", outcome);
    if (outcome != "ok") {
      std::string reason =
          !attempt.error.empty() ? attempt.error : "HTTP " + std::to_string(attempt.status);
      if (outcome == "failover") out.attribute("sluice.failover_reason", reason);
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
