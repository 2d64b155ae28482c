#pragma once
// Whether a response head announces a stream of server-sent events. Asked of every streamed
// answer the gateway relays and every sample the load generator reads, so the head is walked
// (http/first_field.hpp), not searched by name.
#include "http/first_field.hpp"

namespace sluice::http {

inline bool is_event_stream(const Fields& head) {
  auto content_type = first_field(head, Field::content_type);
  return content_type && content_type->starts_with("text/event-stream");
}

}  // namespace sluice::http
