#include "sluice/telemetry/otlp_encoding.hpp"

#include "telemetry/otlp_fields.hpp"
#include "telemetry/protobuf_writer.hpp"

namespace sluice::telemetry {

namespace {

std::string encode_resource(const ResourceInfo& resource) {
  std::string out;
  ProtobufWriter w(out);
  auto r = w.begin(field::kResource);
  for (const auto& [key, value] : resource.attributes) {
    auto kv = w.begin(field::kResourceAttributes);
    w.bytes_field(field::kKey, key);
    auto any = w.begin(field::kValue);
    w.bytes_field(field::kStringValue, value);
    w.end(any);
    w.end(kv);
  }
  w.end(r);
  return out;
}

std::string encode_scope(const ResourceInfo& resource) {
  std::string out;
  ProtobufWriter w(out);
  auto scope = w.begin(field::kScope);
  w.bytes_field(field::kScopeName, resource.scope_name);
  if (!resource.scope_version.empty()) w.bytes_field(field::kScopeVersion, resource.scope_version);
  w.end(scope);
  return out;
}

}  // namespace

std::string encode_export_request(const ResourceInfo& resource,
                                  std::span<const EncodedSpans> batches) {
  // The lengths of ResourceSpans and ScopeSpans are known before their contents, so every byte is
  // written once, where it belongs.
  const auto resource_bytes = encode_resource(resource);
  const auto scope_bytes = encode_scope(resource);
  std::size_t spans_size = 0;
  for (const auto& batch : batches) spans_size += batch.bytes.size();
  const std::size_t scope_spans_size = scope_bytes.size() + spans_size;
  const std::size_t resource_spans_size =
      resource_bytes.size() + 1 + ProtobufWriter::varint_size(scope_spans_size) + scope_spans_size;

  std::string out;
  out.reserve(1 + ProtobufWriter::varint_size(resource_spans_size) + resource_spans_size);
  ProtobufWriter w(out);
  w.message_head(field::kResourceSpans, resource_spans_size);
  out += resource_bytes;
  w.message_head(field::kScopeSpans, scope_spans_size);
  out += scope_bytes;
  for (const auto& batch : batches) out += batch.bytes;
  return out;
}

std::string encode_export_request(const ResourceInfo& resource, std::span<const Span> spans) {
  SpanEncoder encoder(spans.size() * 512);
  for (const auto& span : spans) write_span(encoder, span);
  auto encoded = encoder.take();
  return encode_export_request(resource, std::span<const EncodedSpans>(&encoded, 1));
}

}  // namespace sluice::telemetry
