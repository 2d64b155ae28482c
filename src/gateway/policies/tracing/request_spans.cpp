#include "gateway/policies/tracing/request_spans.hpp"

#include "sluice/gateway/settings.hpp"

namespace sluice::gateway {

namespace {

using telemetry::Span;
using telemetry::SpanKind;
using telemetry::StatusCode;

// gen_ai.operation.name values of the GenAI semantic conventions.
const char* genai_operation(Operation operation) {
  switch (operation) {
    case Operation::kChatCompletions:
      return "chat";
    case Operation::kCompletions:
      return "text_completion";
    case Operation::kEmbeddings:
      return "embeddings";
    case Operation::kOther:
      break;
  }
  return nullptr;
}

// gen_ai.provider.name (current conventions) and gen_ai.system (the older name many backends still
// index on) of a backend.
std::pair<const char*, const char*> provider_of(const BackendSettings& backend) {
  return backend.kind == BackendKind::kAzure ? std::pair{"azure.ai.openai", "az.ai.openai"}
                                             : std::pair{"openai", "openai"};
}

std::uint64_t unix_ns(std::chrono::steady_clock::time_point t, std::chrono::nanoseconds offset) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()) + offset;
  return ns.count() > 0 ? static_cast<std::uint64_t>(ns.count()) : 0;
}

void set_server_address(Span& span, const BackendSettings& backend) {
  span.set("server.address", backend.url.host);
  span.set("server.port", static_cast<std::int64_t>(backend.url.port));
  const auto [provider, system] = provider_of(backend);
  span.set("gen_ai.provider.name", provider);
  span.set("gen_ai.system", system);
}

// How an attempt ended: "ok", "failover" (failed, and the next member was tried), "error" (failed,
// and it was the last), "client_gone" (the client left while it ran).
const char* attempt_outcome(const RequestContext& context, const Attempt& attempt, bool last) {
  bool failed = attempt.status == 0 || !attempt.error.empty() || attempt.status >= 400;
  if (!failed) return "ok";
  if (!last) return "failover";
  return context.client_disconnected ? "client_gone" : "error";
}

}  // namespace

std::vector<Span> request_spans(const RequestContext& context, const RequestTrace& trace,
                                std::chrono::nanoseconds offset) {
  std::vector<Span> spans;
  spans.reserve(1 + context.attempts.size());
  const char* operation = genai_operation(context.target.operation);
  const auto& request = context.exchange.request();

  Span server;
  server.attributes.reserve(32);
  server.trace_id = trace.trace_id;
  server.span_id = trace.span_id;
  if (trace.caller) {
    server.parent_span_id = trace.caller->span_id;
    server.parent_is_remote = true;
  }
  server.kind = SpanKind::kServer;
  // GenAI span names are "{operation} {model}"; other paths are named by method, as HTTP spans.
  server.name = operation ? std::string(operation) + (context.deployment.empty() ? "" : " ") +
                                context.deployment
                          : std::string(request.method_string());
  auto received = context.received_at != std::chrono::steady_clock::time_point{}
                      ? context.received_at
                      : context.completed_at;
  server.start_unix_ns = unix_ns(received, offset);
  server.end_unix_ns = unix_ns(context.completed_at, offset);

  if (operation) server.set("gen_ai.operation.name", operation);
  if (!context.deployment.empty()) server.set("gen_ai.request.model", context.deployment);
  if (!context.response_model.empty()) server.set("gen_ai.response.model", context.response_model);
  if (context.body.max_tokens) server.set("gen_ai.request.max_tokens", *context.body.max_tokens);
  if (context.usage.source != UsageSource::kNone) {
    server.set("gen_ai.usage.input_tokens", context.usage.prompt_tokens);
    server.set("gen_ai.usage.output_tokens", context.usage.completion_tokens);
    server.set("sluice.usage.source", to_string(context.usage.source));
  }
  server.set("http.request.method", std::string(request.method_string()));
  server.set("url.path", std::string(request.target().substr(0, request.target().find('?'))));
  server.set("http.response.status_code", context.status);
  if (!context.client_ip.empty()) server.set("client.address", context.client_ip);
  server.set("sluice.request_id", context.request_id);
  if (!context.identity.app_id.empty()) server.set("sluice.app_id", context.identity.app_id);
  if (context.route) server.set("sluice.route", context.route->name);
  if (!context.backend.empty()) {
    server.set("sluice.backend", context.backend);
    for (auto it = context.attempts.rbegin(); it != context.attempts.rend(); ++it) {
      if (it->backend == context.backend && it->settings) {
        set_server_address(server, *it->settings);
        break;
      }
    }
  }
  server.set("sluice.streamed", context.streamed);
  server.set("sluice.attempts", static_cast<std::int64_t>(context.attempts.size()));
  if (!context.cache_decision.empty()) {
    server.set("sluice.cache", std::string(context.cache_decision));
    if (!context.cache.kind.empty()) {
      server.set("sluice.cache.kind", context.cache.kind);
      server.set("sluice.cache.tokens_saved", context.cache.tokens_saved);
    }
  }
  if (!context.limit_decision.empty()) {
    server.set("sluice.limit", std::string(context.limit_decision));
  }
  if (!context.error_code.empty()) server.set("sluice.error_code", context.error_code);
  if (context.client_disconnected) server.set("sluice.client_disconnected", true);
  if (context.upstream_truncated) server.set("sluice.upstream_truncated", true);
  // A server span is an error for 5xx only (4xx are the caller's, per the HTTP conventions).
  if (context.status >= 500 || context.status == 0 || context.upstream_truncated) {
    server.status = StatusCode::kError;
    server.set("error.type",
               !context.error_code.empty() ? context.error_code : std::to_string(context.status));
    server.status_message = context.error_code;
  }
  if (context.first_token_at != std::chrono::steady_clock::time_point{}) {
    telemetry::SpanEvent first;
    first.name = "gen_ai.first_token";
    first.time_unix_ns = unix_ns(context.first_token_at, offset);
    first.attributes.push_back(
        {"gen_ai.server.time_to_first_token",
         std::chrono::duration<double>(context.first_token_at - received).count()});
    server.events.push_back(std::move(first));
  }

  std::vector<Span> attempts;
  for (std::size_t i = 0; i < context.attempts.size(); ++i) {
    const auto& attempt = context.attempts[i];
    bool last = i + 1 == context.attempts.size();
    Span span;
    span.attributes.reserve(16);
    span.trace_id = trace.trace_id;
    span.span_id =
        i < trace.attempt_span_ids.size() && telemetry::is_valid(trace.attempt_span_ids[i])
            ? trace.attempt_span_ids[i]
            : telemetry::random_span_id();
    span.parent_span_id = trace.span_id;
    span.kind = SpanKind::kClient;
    span.name = server.name;
    auto started = attempt.started_at != std::chrono::steady_clock::time_point{}
                       ? attempt.started_at
                       : received;
    span.start_unix_ns = unix_ns(started, offset);
    span.end_unix_ns = unix_ns(started + attempt.duration, offset);
    if (operation) span.set("gen_ai.operation.name", operation);
    if (!context.deployment.empty()) span.set("gen_ai.request.model", context.deployment);
    if (attempt.settings) {
      set_server_address(span, *attempt.settings);
      if (auto it = attempt.settings->deployments.find(context.deployment);
          it != attempt.settings->deployments.end()) {
        span.set("sluice.upstream_deployment", it->second);
      }
    }
    span.set("sluice.backend", attempt.backend);
    span.set("sluice.attempt", static_cast<std::int64_t>(i + 1));
    if (attempt.status != 0) span.set("http.response.status_code", attempt.status);
    const char* outcome = attempt_outcome(context, attempt, last);
    span.set("sluice.attempt.outcome", outcome);
    if (std::string_view(outcome) != "ok") {
      std::string reason =
          !attempt.error.empty() ? attempt.error : "HTTP " + std::to_string(attempt.status);
      if (std::string_view(outcome) == "failover") span.set("sluice.failover_reason", reason);
      span.set("error.type",
               attempt.status != 0 ? std::to_string(attempt.status) : std::string("connection"));
      span.status = StatusCode::kError;
      span.status_message = std::move(reason);
    }
    if (last && context.backend == attempt.backend && context.usage.source != UsageSource::kNone) {
      if (!context.response_model.empty())
        span.set("gen_ai.response.model", context.response_model);
      span.set("gen_ai.usage.input_tokens", context.usage.prompt_tokens);
      span.set("gen_ai.usage.output_tokens", context.usage.completion_tokens);
    }
    attempts.push_back(std::move(span));
  }
  spans.push_back(std::move(server));
  for (auto& span : attempts) spans.push_back(std::move(span));
  return spans;
}

}  // namespace sluice::gateway
