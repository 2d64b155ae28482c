// Fuzzes the data-plane request inspection: any bytes, every operation. Must never crash, hang or
// leak; an error result is fine.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "sim/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (auto op : {sluice::sim::Operation::kChatCompletions, sluice::sim::Operation::kCompletions,
                  sluice::sim::Operation::kEmbeddings}) {
    auto r = sluice::sim::inspect_request(op, body);
    if (auto* e = std::get_if<sluice::sim::RequestError>(&r)) {
      if (e->message.empty()) __builtin_trap();  // every refusal must say why
    }
  }
  return 0;
}
