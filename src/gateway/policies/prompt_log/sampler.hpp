#pragma once
// Which requests a prompt log keeps: a hash of the request id against the sample rate, so the
// decision is the same wherever it is made (both hooks of one request, every gateway replica, a
// replay) and needs no random state on the request path.
#include <cstdint>
#include <string_view>

namespace sluice::gateway {

class Sampler {
 public:
  // `rate` in [0, 1]: 0 keeps nothing, 1 keeps everything.
  explicit Sampler(double rate);
  // Whether the request `request_id` is in the sample. Any thread.
  bool operator()(std::string_view request_id) const noexcept;

 private:
  bool all_ = false;
  std::uint64_t threshold_ = 0;  // hashes below it are kept
};

}  // namespace sluice::gateway
