// Arbitrary bytes as what a Redis server sends: the reply reader must never crash, must read the
// same replies however the bytes are split across reads, and once it calls the bytes malformed it
// must say why and stay so.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/policies/token_limit/resp_reader.hpp"

namespace {

using sluice::gateway::token_limit::RespReader;
using sluice::gateway::token_limit::RespReply;

struct Outcome {
  std::vector<RespReply> replies;
  bool malformed = false;
};

// `input` fed in pieces of `step` bytes (0: whole), taking replies after each piece.
Outcome read(std::string_view input, std::size_t step) {
  RespReader reader;
  Outcome outcome;
  RespReply reply;
  const std::size_t piece = step == 0 ? input.size() : step;
  for (std::size_t at = 0; at < input.size() && !outcome.malformed; at += piece) {
    reader.feed(input.substr(at, piece));
    for (;;) {
      const auto result = reader.next(reply);
      if (result == RespReader::Result::kIncomplete) break;
      if (result == RespReader::Result::kMalformed) {
        if (reader.error().empty()) std::abort();  // a refusal always says why
        if (reader.next(reply) != RespReader::Result::kMalformed) std::abort();
        outcome.malformed = true;
        break;
      }
      outcome.replies.push_back(reply);
    }
  }
  return outcome;
}

bool same(const RespReply& a, const RespReply& b) {
  return a.type == b.type && a.text == b.text && a.integers == b.integers &&
         a.only_integers == b.only_integers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the size of the pieces; the rest is what the server sent.
  const std::size_t step = data[0] % 8;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = read(input, 0);
  const Outcome pieces = read(input, step);
  // Whether the bytes are malformed, and every reply before that, do not depend on the pieces.
  if (whole.malformed != pieces.malformed) std::abort();
  if (whole.replies.size() != pieces.replies.size()) std::abort();
  for (std::size_t i = 0; i < whole.replies.size(); ++i) {
    if (!same(whole.replies[i], pieces.replies[i])) std::abort();
  }
  return 0;
}
