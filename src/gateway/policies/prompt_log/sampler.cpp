#include "gateway/policies/prompt_log/sampler.hpp"

#include <cmath>

namespace sluice::gateway {

namespace {

// FNV-1a, then the splitmix64 finalizer so ids that differ only in a few bits still spread evenly.
std::uint64_t hash_id(std::string_view id) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace

Sampler::Sampler(double rate) {
  if (!(rate > 0)) return;  // also NaN
  if (rate >= 1) {
    all_ = true;
    return;
  }
  threshold_ = static_cast<std::uint64_t>(std::ldexp(rate, 64));
}

bool Sampler::operator()(std::string_view request_id) const noexcept {
  return all_ || hash_id(request_id) < threshold_;
}

}  // namespace sluice::gateway
