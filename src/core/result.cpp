#include "sluice/core/result.hpp"

#include <cstdio>
#include <cstdlib>

namespace sluice::core {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kFailedPrecondition:
      return "failed_precondition";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kOutOfRange:
      return "out_of_range";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kUnimplemented:
      return "unimplemented";
    case ErrorCode::kDataLoss:
      return "data_loss";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

namespace detail {
void bad_result_access(const Error& error) noexcept {
  std::fprintf(stderr, "sluice: bad Result access: %.*s: %s\n",
               static_cast<int>(to_string(error.code).size()), to_string(error.code).data(),
               error.message.c_str());
  std::abort();
}
}  // namespace detail

}  // namespace sluice::core
