#include "sluice/usage/usage_record.hpp"

#include <charconv>
#include <cstring>
#include <initializer_list>

#include <boost/json.hpp>

#include "sluice/core/json_string.hpp"

namespace sluice::usage {

namespace {

// Writes through a pointer into space reserved beforehand, with no capacity check per call: the
// record line is ~28 short fields, and std::string's checked appends cost ~240 instructions a
// field (four calls each), ~6,400 a record. A Buffer for core::append_json_escaped.
class UncheckedWriter {
 public:
  explicit UncheckedWriter(char* at) : at_(at) {}
  char* at() const { return at_; }

  void push_back(char c) { *at_++ = c; }
  void append(const char* first, const char* last) {
    std::memcpy(at_, first, static_cast<std::size_t>(last - first));
    at_ += last - first;
  }
  // A string literal, e.g. `,"route":`; its size is known where it is called, so the copy is
  // a few moves.
  template <std::size_t N>
  void literal(const char (&text)[N]) {
    std::memcpy(at_, text, N - 1);
    at_ += N - 1;
  }
  void string(std::string_view value) {
    push_back('"');
    core::append_json_escaped(*this, value);
    push_back('"');
  }
  void integer(std::int64_t value) { at_ = std::to_chars(at_, at_ + kMaxIntegerChars, value).ptr; }
  void boolean(bool value) {
    if (value) {
      literal("true");
    } else {
      literal("false");
    }
  }

  static constexpr std::size_t kMaxIntegerChars = 20;  // "-9223372036854775808"
  // A string's worst case: every byte a control character, written as \u00XX, and its quotes.
  static constexpr std::size_t worst_case(std::string_view value) { return 6 * value.size() + 2; }

 private:
  char* at_;
};

// Every key, punctuation and number of a line together take fewer bytes than this (~460 for the
// keys, 20 for each of the 18 numbers and booleans); usage_record_test checks a line of extreme
// values against it.
constexpr std::size_t kLineFixedBytes = 1024;

bool read(const boost::json::object& o, std::string_view key, std::string& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;  // absent: keep the default
  if (!it->value().is_string()) return false;
  out = std::string(it->value().get_string());
  return true;
}

template <class Int>
bool read(const boost::json::object& o, std::string_view key, Int& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  if (it->value().is_int64()) {
    out = static_cast<Int>(it->value().get_int64());
    return true;
  }
  if (it->value().is_uint64()) {
    out = static_cast<Int>(it->value().get_uint64());
    return true;
  }
  return false;
}

bool read_bool(const boost::json::object& o, std::string_view key, bool& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  if (!it->value().is_bool()) return false;
  out = it->value().get_bool();
  return true;
}

}  // namespace

void append_record_line(std::string& out, const UsageRecord& r) {
  std::size_t bound = kLineFixedBytes;
  for (const std::string* value :
       {&r.request_id, &r.app_id, &r.key_id, &r.client_ip, &r.route, &r.deployment, &r.model,
        &r.backend, &r.operation, &r.error_code, &r.usage_source, &r.cache, &r.purpose}) {
    bound += UncheckedWriter::worst_case(*value);
  }
  const std::size_t start = out.size();
  out.resize(start + bound);
  UncheckedWriter w(out.data() + start);
  w.literal("{\"request_id\":");
  w.string(r.request_id);
  w.literal(",\"started_at_us\":");
  w.integer(r.started_at_us);
  w.literal(",\"completed_at_us\":");
  w.integer(r.completed_at_us);
  w.literal(",\"app_id\":");
  w.string(r.app_id);
  w.literal(",\"key_id\":");
  w.string(r.key_id);
  w.literal(",\"client_ip\":");
  w.string(r.client_ip);
  w.literal(",\"route\":");
  w.string(r.route);
  w.literal(",\"deployment\":");
  w.string(r.deployment);
  w.literal(",\"model\":");
  w.string(r.model);
  w.literal(",\"backend\":");
  w.string(r.backend);
  w.literal(",\"operation\":");
  w.string(r.operation);
  w.literal(",\"streamed\":");
  w.boolean(r.streamed);
  w.literal(",\"status\":");
  w.integer(r.status);
  w.literal(",\"error_code\":");
  w.string(r.error_code);
  w.literal(",\"prompt_tokens\":");
  w.integer(r.prompt_tokens);
  w.literal(",\"completion_tokens\":");
  w.integer(r.completion_tokens);
  w.literal(",\"total_tokens\":");
  w.integer(r.total_tokens);
  w.literal(",\"cached_tokens\":");
  w.integer(r.cached_tokens);
  w.literal(",\"reasoning_tokens\":");
  w.integer(r.reasoning_tokens);
  w.literal(",\"usage_source\":");
  w.string(r.usage_source);
  w.literal(",\"ttft_us\":");
  w.integer(r.ttft_us);
  w.literal(",\"duration_us\":");
  w.integer(r.duration_us);
  w.literal(",\"attempts\":");
  w.integer(r.attempts);
  w.literal(",\"client_disconnected\":");
  w.boolean(r.client_disconnected);
  w.literal(",\"cache\":");
  w.string(r.cache);
  w.literal(",\"tokens_saved\":");
  w.integer(r.tokens_saved);
  w.literal(",\"similarity_ppm\":");
  w.integer(r.similarity_ppm);
  w.literal(",\"purpose\":");
  w.string(r.purpose);
  w.literal("}\n");
  out.resize(static_cast<std::size_t>(w.at() - out.data()));
}

std::optional<UsageRecord> parse_record_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty() || line.front() != '{' || line.back() != '}') return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(line, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& o = value.get_object();
  UsageRecord r;
  bool ok = read(o, "request_id", r.request_id) && read(o, "started_at_us", r.started_at_us) &&
            read(o, "completed_at_us", r.completed_at_us) && read(o, "app_id", r.app_id) &&
            read(o, "key_id", r.key_id) && read(o, "client_ip", r.client_ip) &&
            read(o, "route", r.route) && read(o, "deployment", r.deployment) &&
            read(o, "model", r.model) && read(o, "backend", r.backend) &&
            read(o, "operation", r.operation) && read_bool(o, "streamed", r.streamed) &&
            read(o, "status", r.status) && read(o, "error_code", r.error_code) &&
            read(o, "prompt_tokens", r.prompt_tokens) &&
            read(o, "completion_tokens", r.completion_tokens) &&
            read(o, "total_tokens", r.total_tokens) && read(o, "cached_tokens", r.cached_tokens) &&
            read(o, "reasoning_tokens", r.reasoning_tokens) &&
            read(o, "usage_source", r.usage_source) && read(o, "ttft_us", r.ttft_us) &&
            read(o, "duration_us", r.duration_us) && read(o, "attempts", r.attempts) &&
            read_bool(o, "client_disconnected", r.client_disconnected) &&
            read(o, "cache", r.cache) && read(o, "tokens_saved", r.tokens_saved) &&
            read(o, "similarity_ppm", r.similarity_ppm) && read(o, "purpose", r.purpose);
  if (!ok || r.request_id.empty() || !o.contains("started_at_us")) return std::nullopt;
  return r;
}

}  // namespace sluice::usage
