#pragma once
// OTLP/HTTP's protobuf body (Content-Type application/x-protobuf): one ExportTraceServiceRequest
// (opentelemetry/proto/collector/trace/v1/trace_service.proto) holding one ResourceSpans with the
// process's resource and one ScopeSpans for sluice's instrumentation scope.
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sluice/telemetry/span.hpp"
#include "sluice/telemetry/span_encoder.hpp"

namespace sluice::telemetry {

struct ResourceInfo {
  std::vector<std::pair<std::string, std::string>> attributes;  // service.name and friends
  std::string scope_name = "sluice";
  std::string scope_version;
};

// The serialized request around spans already encoded (span_encoder.hpp), which are copied in
// once, in order. Pure function; any thread.
std::string encode_export_request(const ResourceInfo& resource,
                                  std::span<const EncodedSpans> batches);

// The same for Span objects.
std::string encode_export_request(const ResourceInfo& resource, std::span<const Span> spans);

}  // namespace sluice::telemetry
