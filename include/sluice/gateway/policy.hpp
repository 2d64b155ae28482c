#pragma once
// A policy is one concern of the pipeline (identity, token limit, usage, logging), hooked into the
// phases it needs, configured once from its own config section and shared read-only by all workers.
//
// Phases, in order, for every request:
//   on_request        access phase: may answer the client itself (401, 429, ...) and stop
//   on_upstream       just before each upstream attempt: may rewrite the upstream request
//   on_stream_event   each event of a streamed answer (only policies that observe streams)
//   on_response_end   just before the last bytes of the response go out (at most once)
//   on_complete       log phase: always runs, exactly once, even on errors and client disconnects
// Policies of one request run in ascending phase_order(); all methods are called on the request's
// worker thread and must not block it.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/gateway/request_context.hpp"
#include "sluice/http/asio.hpp"
#include "sluice/http/extra_fields.hpp"

namespace sluice::gateway {

// Where in the access phase a policy runs.
enum class PhaseOrder : int {
  kIdentify = 100,   // who is calling
  kAuthorize = 200,  // may they (roles, blocked keys)
  kLimit = 300,      // token limits and quotas
  kCache = 400,      // response cache: after limits, so a hit is charged or not by their config
  kObserve = 900,    // usage records, metrics, prompt logs (on_complete only)
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;
  virtual PhaseOrder phase_order() const = 0;

  // Whether on_request needs to run (saves a coroutine frame per request for observers).
  virtual bool has_request_phase() const { return true; }
  // Returns a response to send instead of proxying (the request stops here), or nothing.
  virtual http::Task<std::optional<http::Response>> on_request(RequestContext& context) {
    co_return std::nullopt;
  }
  // Called for every upstream attempt with the request about to be sent. A field the request
  // has none of may go in `extra` instead of the request (http/extra_fields.hpp: written after
  // the request's fields, without Beast's insert); its text must live until the attempt ends.
  virtual void on_upstream(RequestContext& context, http::Request& upstream,
                           http::ExtraFields& extra) {}
  // Whether on_stream_event needs to run (the relay loop calls only the policies that say so).
  virtual bool observes_stream_events() const { return false; }
  // Each `data:` payload of a streamed 200 answer except `[DONE]`, in order, before it is relayed;
  // includes the usage chunk the gateway asked for on the client's behalf (which the client never
  // sees). Must be cheap: it runs on the relay path.
  virtual void on_stream_event(RequestContext& context, std::string_view data) {}
  // Just before the client can hold a complete response: before a plain response is sent, before a
  // stream's `[DONE]` event (or, without one, its terminating chunk). Status, backend and usage are
  // final. `body` is the whole response body of a plain response, empty for a stream (its text is
  // context.completion_text). Not called when the client left first. For work that must be done
  // before a client can see the end of its response (the usage journal record); then
  // context.response_end_observed is true in on_complete.
  virtual void on_response_end(RequestContext& context, std::string_view body) {}
  // Log phase; also sees context.status, usage, attempts, timings.
  virtual void on_complete(RequestContext& context) {}
  // Whether on_request reads the request body's JSON document (RequestBodyInfo::document_source)
  // or, where the gateway's one-pass scan could gather it, the chat prompt (RequestBodyInfo::
  // prompt): the gateway then parses a body the scan cannot gather from with simdjson's DOM
  // parser, once for both, instead of scanning the routing fields only, which builds no document.
  virtual bool reads_request_document() const { return false; }
};

using PolicyPtr = std::shared_ptr<Policy>;

}  // namespace sluice::gateway
