#include "sluice/telemetry/span.hpp"

namespace sluice::telemetry {

std::size_t approximate_size(const Span& span) noexcept {
  std::size_t size = sizeof(Span) + span.name.size() + span.status_message.size();
  for (const auto& a : span.attributes) {
    size += sizeof(Attribute);
    if (const auto* s = std::get_if<std::string>(&a.value)) size += s->size();
  }
  for (const auto& e : span.events) size += sizeof(SpanEvent) + e.name.size();
  return size;
}

}  // namespace sluice::telemetry
