#include "gateway/usage_scan.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include <emmintrin.h>

namespace sluice::gateway {

namespace {

// Which object a value belongs to, for the keys read out of it.
enum class Role { kOther, kTop, kUsage, kPromptDetails, kCompletionDetails };

// The usage object's keys, in TokenUsage's order; the two details objects are entries 3 and 4.
constexpr std::array<std::string_view, 5> kUsageKeys = {"prompt_tokens", "completion_tokens",
                                                        "total_tokens", "prompt_tokens_details",
                                                        "completion_tokens_details"};
constexpr int kMaxDepth = 64;

// What a value turned out to be, for the caller that reads it.
struct Scalar {
  enum class Kind { kInteger, kString, kOther } kind = Kind::kOther;
  std::int64_t integer = 0;
  std::string_view text;  // a string's raw bytes, between the quotes
  bool escaped = false;   // the string holds a backslash
  bool object = false;    // the value was an object
};

// The first occurrence of each key read, as simdjson's object[key] (and extract_usage's
// one-pass look-up) finds it.
struct Found {
  bool model_seen = false;
  bool model_is_string = false;
  std::string_view model;
  bool usage_seen = false;
  bool usage_is_object = false;
  std::array<bool, 5> seen{};
  std::array<std::int64_t, 3> counts{};  // prompt, completion, total; 0 when not an integer
  std::array<bool, 2> details_is_object{};
  std::array<bool, 2> detail_seen{};
  std::array<std::int64_t, 2> details{};  // cached_tokens, reasoning_tokens
};

// Sixteen bytes at a time: bit i set when byte i is a quote, a backslash, a control character or
// 0x80 and up, the bytes a string's scan stops at.
inline unsigned special_bytes(const char* at) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
  const __m128i quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'));
  // Signed: 0x80 and up are negative, so "less than 0x20" catches them too.
  const __m128i low_or_high = _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20));
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low_or_high)));
}

class Scanner {
 public:
  explicit Scanner(std::string_view body) : at_(body.data()), end_(body.data() + body.size()) {}

  enum class Verdict { kValid, kInvalid, kUndecided };

  Verdict run() {
    skip_space();
    if (at_ == end_ || *at_ != '{') return Verdict::kUndecided;
    Scalar top;
    if (value(Role::kTop, top)) {
      skip_space();
      if (at_ != end_) invalid();
    }
    return verdict_;
  }

  const Found& found() const { return found_; }

 private:
  void invalid() {
    if (verdict_ == Verdict::kValid) verdict_ = Verdict::kInvalid;
  }
  void undecided() { verdict_ = Verdict::kUndecided; }
  bool ok() const { return verdict_ == Verdict::kValid; }

  // Compact JSON has none: one compare and out.
  void skip_space() {
    if (at_<end_&& static_cast<unsigned char>(*at_)> ' ') [[likely]]
      return;
    while (at_ < end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
  }

  // At the opening quote; leaves `at_` past the closing one.
  bool string(Scalar& out) {
    const char* start = ++at_;
    while (true) {
      // Straight to the next byte that is not plain text, sixteen bytes at a time.
      while (end_ - at_ >= 16) {
        if (const auto special = special_bytes(at_)) {
          at_ += std::countr_zero(special);
          break;
        }
        at_ += 16;
      }
      if (at_ == end_) return invalid(), false;
      const auto c = static_cast<unsigned char>(*at_);
      if (c == '"') break;
      if (c >= 0x80) return undecided(), false;
      if (c < 0x20) return invalid(), false;
      if (c == '\\') {
        out.escaped = true;
        if (++at_ == end_) return invalid(), false;
        switch (*at_) {
          case '"':
          case '\\':
          case '/':
          case 'b':
          case 'f':
          case 'n':
          case 'r':
          case 't':
            break;
          case 'u':
            return undecided(), false;
          default:
            return invalid(), false;
        }
      }
      ++at_;
    }
    out.kind = Scalar::Kind::kString;
    out.text = std::string_view(start, static_cast<std::size_t>(at_ - start));
    ++at_;
    return true;
  }

  bool number(Scalar& out) {
    const bool negative = *at_ == '-';
    if (negative) ++at_;
    if (at_ == end_ || *at_ < '0' || *at_ > '9') return invalid(), false;
    if (negative && *at_ == '0') return undecided(), false;  // -0 is a double to simdjson
    std::uint64_t magnitude = 0;
    int digits = 0;
    if (*at_ == '0') {
      ++at_;
      digits = 1;
    } else {
      for (; at_ < end_ && *at_ >= '0' && *at_ <= '9'; ++at_, ++digits) {
        magnitude = magnitude * 10 + static_cast<std::uint64_t>(*at_ - '0');
      }
    }
    if (digits > 18) return undecided(), false;
    if (at_ < end_ && (*at_ == '.' || *at_ == 'e' || *at_ == 'E')) return undecided(), false;
    out.kind = Scalar::Kind::kInteger;
    out.integer =
        negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - at_) < word.size() ||
        std::memcmp(at_, word.data(), word.size()) != 0) {
      return invalid(), false;
    }
    at_ += word.size();
    return true;
  }

  // One value of any kind, `role` saying which keys of it to read if it is an object.
  bool value(Role role, Scalar& out) {
    if (at_ == end_) return invalid(), false;
    switch (*at_) {
      case '{':
        out.object = true;
        return object(role);
      case '[':
        return array();
      case '"':
        return string(out);
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        if (*at_ == '-' || (*at_ >= '0' && *at_ <= '9')) return number(out);
        if (static_cast<unsigned char>(*at_) >= 0x80) return undecided(), false;
        return invalid(), false;
    }
  }

  // A container's elements, one `element()` call each, from its opening to its `close` byte.
  enum class Next { kElement, kClosed, kError };
  Next open(char close) {
    if (++depth_ > kMaxDepth) return undecided(), Next::kError;
    ++at_;
    skip_space();
    return close_here(close) ? Next::kClosed : Next::kElement;
  }
  // After an element: past the comma before the next, or past the closing byte.
  Next after_element(char close) {
    skip_space();
    if (at_ == end_) return invalid(), Next::kError;
    if (close_here(close)) return Next::kClosed;
    if (*at_ != ',') return invalid(), Next::kError;
    ++at_;
    skip_space();
    return Next::kElement;
  }
  bool close_here(char close) {
    if (at_ == end_ || *at_ != close) return false;
    ++at_;
    --depth_;
    return true;
  }
  template <class Element>
  bool container(char close, Element&& element) {
    for (Next next = open(close); next != Next::kClosed; next = after_element(close)) {
      if (next == Next::kError || !element()) return false;
    }
    return true;
  }

  bool array() {
    return container(']', [&] {
      Scalar element;
      return value(Role::kOther, element);
    });
  }

  bool object(Role role) {
    return container('}', [&] {
      if (at_ == end_ || *at_ != '"') return invalid(), false;
      Scalar key;
      if (!string(key)) return false;
      skip_space();
      if (at_ == end_ || *at_ != ':') return invalid(), false;
      ++at_;
      skip_space();
      // A key with an escape cannot equal one of ours: none of them has a character an escape
      // other than \u (undecided) stands for.
      const int slot = key.escaped ? -1 : slot_of(role, key.text);
      Scalar item;
      if (!value(child_role(role, slot), item)) return false;
      if (slot >= 0) keep(role, slot, item);
      return true;
    });
  }

  // Which of the object's keys we read `key` is, on its first occurrence; -1 for the others.
  int slot_of(Role role, std::string_view key) {
    switch (role) {
      case Role::kTop:
        if (key == "model" && !found_.model_seen) return 0;
        if (key == "usage" && !found_.usage_seen) return 1;
        return -1;
      case Role::kUsage:
        for (std::size_t i = 0; i < kUsageKeys.size(); ++i) {
          if (key == kUsageKeys[i]) return found_.seen[i] ? -1 : static_cast<int>(i);
        }
        return -1;
      case Role::kPromptDetails:
        return key == "cached_tokens" && !found_.detail_seen[0] ? 0 : -1;
      case Role::kCompletionDetails:
        return key == "reasoning_tokens" && !found_.detail_seen[1] ? 0 : -1;
      case Role::kOther:
        return -1;
    }
    return -1;
  }

  static Role child_role(Role role, int slot) {
    if (role == Role::kTop && slot == 1) return Role::kUsage;
    if (role == Role::kUsage && slot == 3) return Role::kPromptDetails;
    if (role == Role::kUsage && slot == 4) return Role::kCompletionDetails;
    return Role::kOther;
  }

  void keep(Role role, int slot, const Scalar& item) {
    const auto integer = item.kind == Scalar::Kind::kInteger ? item.integer : 0;
    switch (role) {
      case Role::kTop:
        if (slot == 0) {
          found_.model_seen = true;
          found_.model_is_string = item.kind == Scalar::Kind::kString;
          found_.model = item.text;
          if (found_.model_is_string && item.escaped) undecided();
        } else {
          found_.usage_seen = true;
          found_.usage_is_object = item.object;
        }
        break;
      case Role::kUsage:
        found_.seen[slot] = true;
        if (slot < 3) {
          found_.counts[slot] = integer;
        } else {
          found_.details_is_object[slot - 3] = item.object;
        }
        break;
      case Role::kPromptDetails:
      case Role::kCompletionDetails: {
        const int which = role == Role::kPromptDetails ? 0 : 1;
        found_.detail_seen[which] = true;
        found_.details[which] = integer;
        break;
      }
      case Role::kOther:
        break;
    }
  }

  const char* at_;
  const char* end_;
  int depth_ = 0;
  Verdict verdict_ = Verdict::kValid;
  Found found_;
};

}  // namespace

std::optional<bool> scan_usage(std::string_view body, TokenUsage& usage, std::string& model) {
  Scanner scanner(body);
  switch (scanner.run()) {
    case Scanner::Verdict::kUndecided:
      return std::nullopt;
    case Scanner::Verdict::kInvalid:
      return false;
    case Scanner::Verdict::kValid:
      break;
  }
  const Found& found = scanner.found();
  if (found.model_is_string) model.assign(found.model);
  if (!found.usage_seen || !found.usage_is_object) return false;
  usage.prompt_tokens = found.counts[0];
  usage.completion_tokens = found.counts[1];
  usage.total_tokens = found.counts[2];
  // A details object sets its count (0 when it lacks the key); an absent one leaves it alone.
  if (found.details_is_object[0]) usage.cached_tokens = found.details[0];
  if (found.details_is_object[1]) usage.reasoning_tokens = found.details[1];
  if (usage.total_tokens == 0) usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  usage.source = UsageSource::kReported;
  return true;
}

}  // namespace sluice::gateway
