#include "gateway/console/prompt_log_tail.hpp"

#include <fstream>

#include <boost/json.hpp>

namespace sluice::gateway::console {

namespace {

// The last `bytes` of `file` from the start of a line; empty when it cannot be read.
std::string tail_of(const std::filesystem::path& file, std::size_t bytes) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::size_t>(in.tellg());
  auto start = size > bytes ? size - bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string text(size - start, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (start > 0) {
    auto newline = text.find('\n');
    text.erase(0, newline == std::string::npos ? text.size() : newline + 1);
  }
  return text;
}

std::string string_field(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t int_field(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
}

bool matches(const boost::json::object& entry, const PromptLogQuery& query) {
  if (!query.app.empty() && string_field(entry, "app_id") != query.app) return false;
  auto started = int_field(entry, "started_at_us");
  if (started < query.since_us) return false;
  if (query.until_us > 0 && started >= query.until_us) return false;
  if (!query.text.empty() && string_field(entry, "prompt").find(query.text) == std::string::npos &&
      string_field(entry, "response").find(query.text) == std::string::npos) {
    return false;
  }
  return true;
}

// Adds the matching entries of `text`, newest (last line) first, until `out` holds the limit.
void collect(const std::string& text, const PromptLogQuery& query, boost::json::array& out) {
  std::size_t end = text.size();
  while (end > 0 && out.size() < query.limit) {
    auto start = text.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string_view line(text.data() + start, end - start);
    end = start == 0 ? 0 : start - 1;
    if (line.empty() || line.back() != '}') continue;
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) continue;
    if (matches(value.as_object(), query)) out.push_back(std::move(value));
  }
}

}  // namespace

boost::json::array read_prompt_log_tail(const std::filesystem::path& file,
                                        const PromptLogQuery& query) {
  boost::json::array out;
  if (file.empty() || query.limit == 0) return out;
  collect(tail_of(file, kTailBytes), query, out);
  if (out.size() < query.limit) {
    auto rotated = file;
    rotated += ".1";
    collect(tail_of(rotated, kTailBytes), query, out);
  }
  return out;
}

}  // namespace sluice::gateway::console
