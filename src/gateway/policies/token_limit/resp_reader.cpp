#include "gateway/policies/token_limit/resp_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace sluice::gateway::token_limit {

namespace {

// A status, error or length line longer than this is malformed (Redis's own are under a few hundred
// bytes); without a bound, a peer that never sends "\r\n" would grow the buffer without end.
constexpr std::size_t kMaxLineBytes = 64 * 1024;

// What a value is to the reply being read: the reply itself, an element of its top-level array
// (integers kept), or something inside a nested array (read past, nothing kept).
enum class Role { kTop, kElement, kSkip };

}  // namespace

RespReader::Step RespReader::malformed(std::string what) {
  error_ = "Redis sent a malformed reply: " + std::move(what);
  return Step::kMalformed;
}

RespReader::Step RespReader::line(std::size_t& at, std::string_view& text) {
  const char* begin = buffer_.data() + at;
  const std::size_t left = buffer_.size() - at;
  const auto* cr = static_cast<const char*>(std::memchr(begin, '\r', left));
  if (!cr) {
    return left > kMaxLineBytes ? malformed("a line of more than 64 KiB without \\r\\n")
                                : Step::kIncomplete;
  }
  const std::size_t length = static_cast<std::size_t>(cr - begin);
  if (length + 1 == left) return Step::kIncomplete;  // the \n has not come yet
  if (cr[1] != '\n') return malformed("a \\r not followed by \\n");
  text = std::string_view(begin, length);
  at += length + 2;
  return Step::kDone;
}

RespReader::Step RespReader::number(std::size_t& at, long long& value) {
  std::string_view text;
  if (const Step step = line(at, text); step != Step::kDone) return step;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) {
    return malformed("\"" + std::string(text.substr(0, 32)) + "\" where a number was expected");
  }
  return Step::kDone;
}

RespReader::Step RespReader::integer(std::size_t& at, long long& value) {
  const char* p = buffer_.data() + at;
  const char* end = buffer_.data() + buffer_.size();
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  const char* digits = p;
  // Eighteen digits at most here: they cannot overflow.
  const char* stop = end - p > 18 ? p + 18 : end;
  std::uint64_t magnitude = 0;
  while (p < stop && *p >= '0' && *p <= '9') {
    magnitude = magnitude * 10 + static_cast<std::uint64_t>(*p - '0');
    ++p;
  }
  if (p == digits || end - p < 2 || p[0] != '\r' || p[1] != '\n') {
    return number(at, value);  // unfinished, longer, or not a number: the general way says which
  }
  value = negative ? -static_cast<long long>(magnitude) : static_cast<long long>(magnitude);
  at = static_cast<std::size_t>(p + 2 - buffer_.data());
  return Step::kDone;
}

RespReader::Step RespReader::value(std::size_t& at, int depth, RespReply& out) {
  // Depth 0 is the reply itself; otherwise `out` is the top-level array this value is an element
  // of (depth 1, integers kept) or something inside one of its elements (depth 2 and more).
  const Role role = depth == 0 ? Role::kTop : depth == 1 ? Role::kElement : Role::kSkip;
  if (at >= buffer_.size()) return Step::kIncomplete;
  const char type = buffer_[at++];
  switch (type) {
    case '+':
    case '-': {
      std::string_view text;
      if (const Step step = line(at, text); step != Step::kDone) return step;
      if (role == Role::kTop) {
        out.type = type == '+' ? RespReply::Type::kStatus : RespReply::Type::kError;
        out.text.assign(text);
      } else {
        out.only_integers = false;
      }
      return Step::kDone;
    }
    case ':': {
      long long read = 0;
      if (const Step step = integer(at, read); step != Step::kDone) return step;
      if (role == Role::kTop) {
        out.type = RespReply::Type::kInteger;
        out.integers.assign(1, read);
      } else if (role == Role::kElement) {
        out.integers.push_back(read);
      }
      return Step::kDone;
    }
    case '$': {
      long long length = 0;
      if (const Step step = integer(at, length); step != Step::kDone) return step;
      if (length < -1 || length > kMaxBulkBytes) {
        return malformed("a bulk string of length " + std::to_string(length));
      }
      if (length >= 0) {
        const auto size = static_cast<std::size_t>(length);
        if (buffer_.size() - at < size + 2) return Step::kIncomplete;
        if (buffer_[at + size] != '\r' || buffer_[at + size + 1] != '\n') {
          return malformed("a bulk string not followed by \\r\\n");
        }
        if (role == Role::kTop) out.text.assign(buffer_, at, size);
        at += size + 2;
      }
      if (role == Role::kTop) {
        out.type = length < 0 ? RespReply::Type::kNil : RespReply::Type::kBulk;
      } else {
        out.only_integers = false;
      }
      return Step::kDone;
    }
    case '*': {
      long long count = 0;
      if (const Step step = integer(at, count); step != Step::kDone) return step;
      if (count < -1) return malformed("an array of length " + std::to_string(count));
      if (role == Role::kTop) {
        out.type = count < 0 ? RespReply::Type::kNil : RespReply::Type::kArray;
        // Each element takes at least four bytes (":0\r\n"): no more room than the bytes can fill.
        out.integers.reserve(
            std::min(static_cast<std::size_t>(std::max(count, 0LL)), (buffer_.size() - at) / 4));
      } else {
        out.only_integers = false;
      }
      if (count > 0 && depth + 1 > kMaxDepth) {
        return malformed("arrays nested more than " + std::to_string(kMaxDepth) + " deep");
      }
      for (long long i = 0; i < count; ++i) {
        // A script's reply is an array of integers: those are read here, without the switch.
        if (role == Role::kTop && at < buffer_.size() && buffer_[at] == ':') {
          long long read = 0;
          ++at;
          if (const Step step = integer(at, read); step != Step::kDone) return step;
          out.integers.push_back(read);
          continue;
        }
        if (const Step step = value(at, depth + 1, out); step != Step::kDone) return step;
      }
      return Step::kDone;
    }
    default: {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(type));
      return malformed(std::string("byte ") + hex +
                       " where a reply's type (+ - : $ *) was expected");
    }
  }
}

RespReader::Result RespReader::next(RespReply& out) {
  if (!error_.empty()) return Result::kMalformed;
  out.type = RespReply::Type::kNil;
  out.text.clear();
  out.integers.clear();
  out.only_integers = true;
  std::size_t at = consumed_;
  switch (value(at, 0, out)) {
    case Step::kMalformed:
      return Result::kMalformed;
    case Step::kIncomplete:
      // Keep only the reply that has begun, at the front, so the buffer does not grow with the
      // replies already read.
      buffer_.erase(0, consumed_);
      consumed_ = 0;
      return Result::kIncomplete;
    case Step::kDone:
      break;
  }
  consumed_ = at;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  return Result::kReply;
}

void RespReader::reset() {
  buffer_.clear();
  consumed_ = 0;
  error_.clear();
}

}  // namespace sluice::gateway::token_limit
