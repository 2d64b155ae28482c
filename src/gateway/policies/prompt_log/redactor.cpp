#include "gateway/policies/prompt_log/redactor.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <boost/json.hpp>
#include <span>
#include <stdexcept>

namespace sluice::gateway {

namespace {

// Patterns match UTF-8 text, and bodies with invalid UTF-8 are still searched rather than
// rejected (a client's broken byte must not switch redaction off).
constexpr std::uint32_t kCompileOptions = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;

std::string error_text(int code) {
  PCRE2_UCHAR buffer[256];
  int n = pcre2_get_error_message(code, buffer, sizeof buffer);
  return n < 0 ? "error " + std::to_string(code) : std::string(reinterpret_cast<char*>(buffer), n);
}

pcre2_code* compile(std::string_view pattern, std::string& error) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  auto* compiled = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 kCompileOptions, &code, &offset, nullptr);
  if (!compiled) error = error_text(code) + " at offset " + std::to_string(offset);
  return compiled;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    segments.emplace_back(path.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return segments;
}

bool is_index(std::string_view segment, std::size_t& index) {
  if (segment.empty() || segment.size() > 9) return false;
  index = 0;
  for (char c : segment) {
    if (c < '0' || c > '9') return false;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  return true;
}

void redact_at(boost::json::value& value, std::span<const std::string> path,
               const boost::json::string& replacement, std::size_t& count) {
  if (path.empty()) {
    value = replacement;
    ++count;
    return;
  }
  const auto& segment = path.front();
  auto rest = path.subspan(1);
  if (auto* object = value.if_object()) {
    if (segment == "*") {
      for (auto& entry : *object) redact_at(entry.value(), rest, replacement, count);
    } else if (auto it = object->find(segment); it != object->end()) {
      redact_at(it->value(), rest, replacement, count);
    }
  } else if (auto* array = value.if_array()) {
    std::size_t index = 0;
    if (segment == "*") {
      for (auto& element : *array) redact_at(element, rest, replacement, count);
    } else if (is_index(segment, index) && index < array->size()) {
      redact_at((*array)[index], rest, replacement, count);
    }
  }
}

}  // namespace

struct Redactor::Pattern {
  pcre2_code* code = nullptr;
  ~Pattern() { pcre2_code_free(code); }
};

std::optional<std::string> pattern_error(std::string_view pattern) {
  std::string error;
  auto* code = compile(pattern, error);
  if (!code) return error;
  pcre2_code_free(code);
  return std::nullopt;
}

std::optional<std::string> json_field_error(std::string_view path) {
  for (const auto& segment : split_path(path)) {
    if (segment.empty()) return "empty segment in '" + std::string(path) + "'";
  }
  return std::nullopt;
}

Redactor::Redactor(const RedactionSettings& settings) : replacement_(settings.replacement) {
  for (const auto& source : settings.patterns) {
    std::string error;
    auto pattern = std::make_unique<Pattern>();
    pattern->code = compile(source, error);
    if (!pattern->code) throw std::invalid_argument("pattern '" + source + "': " + error);
    // Without JIT support (some architectures) the interpreter still matches correctly.
    (void)pcre2_jit_compile(pattern->code, PCRE2_JIT_COMPLETE);
    patterns_.push_back(std::move(pattern));
  }
  for (const auto& field : settings.json_fields) {
    if (auto error = json_field_error(field)) throw std::invalid_argument(*error);
    json_fields_.push_back(split_path(field));
  }
}

Redactor::~Redactor() = default;

std::size_t Redactor::redact_prompt(std::string& body) const {
  return redact_json_fields(body) + redact_text(body);
}

std::size_t Redactor::redact_json_fields(std::string& body) const {
  if (json_fields_.empty()) return 0;
  boost::system::error_code ec;
  auto document = boost::json::parse(body, ec);
  if (ec) return 0;
  boost::json::string replacement(replacement_);
  std::size_t count = 0;
  for (const auto& path : json_fields_) redact_at(document, path, replacement, count);
  if (count > 0) body = boost::json::serialize(document);
  return count;
}

std::size_t Redactor::redact_text(std::string& text) const {
  std::size_t total = 0;
  std::string output;
  for (const auto& pattern : patterns_) {
    auto* match_data = pcre2_match_data_create_from_pattern(pattern->code, nullptr);
    if (!match_data) {
      text = replacement_;  // out of memory: fail closed
      return total + 1;
    }
    output.resize(text.size() + replacement_.size() + 64);
    int rc = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
      PCRE2_SIZE length = output.size();
      rc = pcre2_substitute(
          pattern->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
          PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_LITERAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
          match_data, nullptr, reinterpret_cast<PCRE2_SPTR>(replacement_.data()),
          replacement_.size(), reinterpret_cast<PCRE2_UCHAR*>(output.data()), &length);
      if (rc == PCRE2_ERROR_NOMEMORY) {
        output.resize(length);  // the length it needs, reported by OVERFLOW_LENGTH
        continue;
      }
      if (rc > 0) {
        output.resize(length);
        text.swap(output);
        total += static_cast<std::size_t>(rc);
      } else if (rc < 0) {
        // A match error (match limit, depth limit) must not let the text through unredacted.
        text = replacement_;
        ++total;
      }
      break;
    }
    pcre2_match_data_free(match_data);
  }
  return total;
}

}  // namespace sluice::gateway
