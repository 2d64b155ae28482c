#pragma once
// A minimal expected-style result for code that must not throw (the request path).
//
// g++ 12 has no std::expected, and Boost.Outcome brings more machinery than the request path needs,
// so this is a deliberately small stand-in: a value or an Error, nothing else. When the toolchain
// moves to C++23, Result<T> can become an alias of std::expected<T, Error>; the member names below
// (has_value, value, error, value_or, operator*, operator->) were chosen to match it.
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sluice::core {

// Broad categories, close to gRPC status codes, so callers can map them to HTTP statuses without
// parsing messages.
enum class ErrorCode {
  kInvalidArgument,     // the input is malformed (HTTP 400)
  kUnauthenticated,     // no or bad credentials (401)
  kPermissionDenied,    // credentials are fine but not allowed (403)
  kNotFound,            // (404)
  kAlreadyExists,       // (409)
  kFailedPrecondition,  // the system is not in a state where this works (409/412)
  kResourceExhausted,   // quota, rate limit or size limit (429/413)
  kOutOfRange,          // a value outside what can be represented
  kCancelled,           // the caller gave up (client disconnect)
  kDeadlineExceeded,    // a timeout (504)
  kUnavailable,         // try again, maybe elsewhere (502/503)
  kUnimplemented,       // (501)
  kDataLoss,            // stored data is corrupt
  kInternal,            // a bug (500)
};

// Stable lower-case name of a code ("invalid_argument"), for logs and JSON error bodies.
std::string_view to_string(ErrorCode code) noexcept;

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  friend bool operator==(const Error&, const Error&) = default;
};

namespace detail {
// Accessing the value of a failed Result is a bug in the caller, not an input error, so it aborts
// (after saying why) instead of throwing: request-path code is compiled on the promise of no
// throws.
[[noreturn]] void bad_result_access(const Error& error) noexcept;
}  // namespace detail

// Holds either a T or an Error. Construct from a T (or anything T is constructible from) for
// success, from an Error for failure. Thread-compatible like any value type.
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use a pointer");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  template <class U = T>
  requires std::is_constructible_v<T, U&&> &&(!std::is_same_v<std::remove_cvref_t<U>, Error>)&&(
      !std::is_same_v<std::remove_cvref_t<U>, Result>)Result(U&& value)
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}            // NOLINT
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const noexcept { return state_.index() == 0; }
  bool ok() const noexcept { return has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  // Needs: has_value(). Aborts otherwise.
  T& value() & {
    check();
    return *std::get_if<0>(&state_);
  }
  const T& value() const& {
    check();
    return *std::get_if<0>(&state_);
  }
  T&& value() && {
    check();
    return std::move(*std::get_if<0>(&state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Needs: !has_value(). Aborts otherwise.
  const Error& error() const& {
    if (has_value()) detail::bad_result_access(Error{ErrorCode::kInternal, "Result holds a value"});
    return *std::get_if<1>(&state_);
  }
  Error&& error() && {
    if (has_value()) detail::bad_result_access(Error{ErrorCode::kInternal, "Result holds a value"});
    return std::move(*std::get_if<1>(&state_));
  }

  template <class U = T>
  T value_or(U&& fallback) const& {
    return has_value() ? *std::get_if<0>(&state_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const noexcept {
    if (!has_value()) detail::bad_result_access(*std::get_if<1>(&state_));
  }

  std::variant<T, Error> state_;
};

// Success or an Error, with nothing to return. `return {};` is success.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool has_value() const noexcept { return !failed_; }
  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }

  // Needs: has_value(). Aborts otherwise. Exists so generic code can call value() uniformly.
  void value() const {
    if (failed_) detail::bad_result_access(error_);
  }
  const Error& error() const& {
    if (!failed_) detail::bad_result_access(Error{ErrorCode::kInternal, "Result holds a value"});
    return error_;
  }
  Error&& error() && {
    if (!failed_) detail::bad_result_access(Error{ErrorCode::kInternal, "Result holds a value"});
    return std::move(error_);
  }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace sluice::core
