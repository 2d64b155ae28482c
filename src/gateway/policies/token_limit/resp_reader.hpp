#pragma once
// Redis's replies (RESP2) read from the bytes as they arrive, a whole reply at a time.
//
// sluice's scripts answer with an integer or a flat array of integers (a batch of reservations is
// one array of a few dozen), the cache with a bulk string or nil, AUTH and SELECT with a status.
// hiredis's reader built a heap object per array element and the connection then copied the
// integers out and freed them: ~2,000 instructions of a request's ~60,000 with the Redis limit
// (callgrind.sh redis, 2026-12-07). This reader puts an array's integers straight into the
// reply's vector.
//
// Every RESP2 type is read, nested arrays too: an array element that is not an integer is kept
// only as `only_integers = false` (nothing sluice sends gets one back). A reply that breaks the
// protocol is `kMalformed` with what was wrong; the connection then closes, as it did when hiredis
// refused one.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::gateway::token_limit {

struct RespReply {
  enum class Type { kStatus, kError, kInteger, kBulk, kNil, kArray };
  Type type = Type::kNil;
  std::string text;                 // kStatus, kError, kBulk
  std::vector<long long> integers;  // kInteger: its value; kArray: its integer elements
  bool only_integers = true;        // kArray: every element was an integer
};

class RespReader {
 public:
  enum class Result { kReply, kIncomplete, kMalformed };

  // Nesting deeper than this is malformed (hiredis's own limit is 7).
  static constexpr int kMaxDepth = 8;
  // Longer bulk strings are malformed: Redis's proto-max-bulk-len default.
  static constexpr long long kMaxBulkBytes = 512LL * 1024 * 1024;

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole reply into `out`, consuming its bytes; kIncomplete leaves what came so far for
  // the next feed(). After kMalformed, error() says what was wrong and the reader is of no more use
  // until reset().
  Result next(RespReply& out);
  const std::string& error() const { return error_; }
  void reset();
  // Bytes fed and not yet consumed as replies.
  std::size_t pending() const { return buffer_.size() - consumed_; }

 private:
  enum class Step { kDone, kIncomplete, kMalformed };
  Step value(std::size_t& at, int depth, RespReply& out);
  Step line(std::size_t& at, std::string_view& text);
  // An integer's line. integer() reads the usual one (a few digits) in place; number() is the
  // general way, with memchr and from_chars, and says what is wrong with a bad one.
  Step integer(std::size_t& at, long long& value);
  Step number(std::size_t& at, long long& value);
  Step malformed(std::string what);

  std::string buffer_;
  std::size_t consumed_ = 0;
  std::string error_;
};

}  // namespace sluice::gateway::token_limit
