#include "sluice/loadgen/template.hpp"

#include "sluice/core/json_string.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace sluice::loadgen {
namespace {

core::Error invalid(std::string message) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message)};
}

const std::string* arg_or_null(std::span<const std::string> args, std::size_t i) {
  return i < args.size() ? &args[i] : nullptr;
}

std::string uuid_v4(std::mt19937_64& rng) {
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

void add_defaults(FunctionRegistry& r) {
  r.add("__UUID", [](std::span<const std::string>, VarScope& s) -> core::Result<std::string> {
    return uuid_v4(s.rng());
  });
  r.add("__Random", [](std::span<const std::string> a, VarScope& s) -> core::Result<std::string> {
    if (a.size() < 2) return invalid("__Random needs (min,max)");
    char* end = nullptr;
    long long lo = std::strtoll(a[0].c_str(), &end, 10);
    if (*end) return invalid("__Random: min is not an integer");
    long long hi = std::strtoll(a[1].c_str(), &end, 10);
    if (*end || hi < lo) return invalid("__Random: max is not an integer >= min");
    std::uniform_int_distribution<long long> d(lo, hi);
    return std::to_string(d(s.rng()));
  });
  r.add("__time", [](std::span<const std::string> a, VarScope&) -> core::Result<std::string> {
    auto now = std::chrono::system_clock::now();
    if (a.empty() || a[0].empty()) {
      return std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
    }
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[256];
    std::size_t n = std::strftime(buf, sizeof buf, a[0].c_str(), &tm);
    return std::string(buf, n);
  });
  r.add("__threadNum", [](std::span<const std::string>, VarScope& s) -> core::Result<std::string> {
    return std::to_string(s.thread_number());
  });
  r.add("__env", [](std::span<const std::string> a, VarScope&) -> core::Result<std::string> {
    if (a.empty()) return invalid("__env needs a variable name");
    if (const char* v = std::getenv(a[0].c_str())) return std::string(v);
    if (auto* d = arg_or_null(a, 1)) return *d;
    return invalid("environment variable " + a[0] + " is not set");
  });
  auto property = [](std::span<const std::string> a, VarScope& s) -> core::Result<std::string> {
    if (a.empty()) return invalid("__P needs a property name");
    if (auto* v = s.property(a[0])) return *v;
    if (auto* d = arg_or_null(a, 1)) return *d;
    return std::string("1");  // JMeter's __P default
  };
  r.add("__P", property);
  r.add("__property", property);
  r.add("__GetSecret",
        [](std::span<const std::string> a, VarScope& s) -> core::Result<std::string> {
          if (a.empty()) return invalid("__GetSecret needs a secret name");
          if (auto* v = s.secret(a[0])) return *v;
          return invalid("secret " + a[0] + " is not defined in the test's secrets");
        });
}

}  // namespace

void append_json_escaped(std::string_view value, std::string& out) {
  core::append_json_escaped(out, value);
}

void append_url_encoded(std::string_view value, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

const FunctionRegistry& FunctionRegistry::defaults() {
  static const FunctionRegistry registry;
  return registry;
}

FunctionRegistry::FunctionRegistry() {
  add_defaults(*this);
}

void FunctionRegistry::add(std::string name, TemplateFunction fn) {
  functions_[std::move(name)] = std::move(fn);
}

const TemplateFunction* FunctionRegistry::find(std::string_view name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : &it->second;
}

std::vector<std::string> FunctionRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, fn] : functions_) out.push_back(name);
  return out;
}

Template Template::literal(std::string text) {
  Template t;
  t.source_ = text;
  if (!text.empty()) t.parts_.push_back(Part{Part::kText, std::move(text), nullptr, {}});
  return t;
}

core::Result<Template> Template::compile(std::string_view text, Escape escape,
                                         const FunctionRegistry& functions) {
  std::size_t pos = 0;
  auto parsed = parse(text, pos, false, escape, functions, 0);
  if (!parsed) return parsed;
  parsed->source_ = std::string(text);
  return parsed;
}

// Parses until the end of `text` or, inside function arguments, an unescaped top-level ',' or ')'.
core::Result<Template> Template::parse(std::string_view text, std::size_t& pos, bool in_args,
                                       Escape escape, const FunctionRegistry& functions,
                                       std::size_t base) {
  Template t;
  t.escape_ = escape;
  std::string literal;
  int paren_depth = 0;  // parentheses inside an argument that are not ours ("getenv(\"X\")")
  auto flush = [&] {
    if (!literal.empty()) t.parts_.push_back(Part{Part::kText, std::move(literal), nullptr, {}});
    literal.clear();
  };
  while (pos < text.size()) {
    char c = text[pos];
    if (in_args) {
      if (c == '\\' && pos + 1 < text.size() && (text[pos + 1] == ',' || text[pos + 1] == '\\')) {
        literal += text[pos + 1];
        pos += 2;
        continue;
      }
      if (c == '(') ++paren_depth;
      if (c == ')' && paren_depth > 0) {
        --paren_depth;
        literal += c;
        ++pos;
        continue;
      }
      if ((c == ',' || c == ')') && paren_depth == 0) break;
    }
    if (c == '$' && text.substr(pos, 3) == "$${") {
      literal += "${";
      pos += 3;
      continue;
    }
    if (c != '$' || text.substr(pos, 2) != "${") {
      literal += c;
      ++pos;
      continue;
    }
    std::size_t start = pos;
    pos += 2;
    std::size_t name_start = pos;
    while (pos < text.size() && text[pos] != '}' && text[pos] != '(' && text[pos] != '$') ++pos;
    if (pos >= text.size() || text[pos] == '$') {
      return invalid("unterminated \"${\" at offset " + std::to_string(base + start));
    }
    std::string name(text.substr(name_start, pos - name_start));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name.empty()) return invalid("empty \"${}\" at offset " + std::to_string(base + start));
    flush();
    if (text[pos] == '}') {
      ++pos;
      // JMeter accepts "${__threadNum}" without parentheses for argument-less functions.
      const TemplateFunction* bare = name.starts_with("__") ? functions.find(name) : nullptr;
      if (bare) {
        t.parts_.push_back(Part{Part::kFunction, std::move(name), bare, {}});
      } else {
        t.parts_.push_back(Part{Part::kVariable, std::move(name), nullptr, {}});
      }
      continue;
    }
    // A function call: ${__name(args)}
    const TemplateFunction* fn = functions.find(name);
    if (!fn) {
      return invalid("unsupported function " + name + "() at offset " +
                     std::to_string(base + start) + " (supported: " +
                     [&] {
                       std::string list;
                       for (const auto& n : functions.names())
                         list += (list.empty() ? "" : ", ") + n;
                       return list;
                     }() +
                     ")");
    }
    ++pos;  // '('
    Part part{Part::kFunction, name, fn, {}};
    bool closed = false;
    while (pos <= text.size()) {
      auto arg = parse(text, pos, true, Escape::kNone, functions, base);
      if (!arg) return arg;
      if (pos >= text.size()) break;
      part.args.push_back(std::move(*arg));
      if (text[pos] == ')') {
        ++pos;
        closed = true;
        break;
      }
      ++pos;  // ','
    }
    if (!closed || pos >= text.size() || text[pos] != '}') {
      return invalid("unterminated function call ${" + name + "(...) at offset " +
                     std::to_string(base + start));
    }
    ++pos;
    // "${__UUID()}" has one empty argument; drop it so functions see no arguments.
    if (part.args.size() == 1 && part.args[0].parts_.empty()) part.args.clear();
    t.parts_.push_back(std::move(part));
  }
  flush();
  return t;
}

core::Result<void> Template::render(VarScope& scope, std::string& out) const {
  for (const auto& part : parts_) {
    switch (part.kind) {
      case Part::kText:
        out += part.text;
        break;
      case Part::kVariable: {
        const std::string* value = scope.find(part.text);
        if (!value) return invalid("variable ${" + part.text + "} is not defined");
        if (escape_ == Escape::kJson) {
          append_json_escaped(*value, out);
        } else if (escape_ == Escape::kUrl) {
          append_url_encoded(*value, out);
        } else {
          out += *value;
        }
        break;
      }
      case Part::kFunction: {
        std::vector<std::string> args;
        args.reserve(part.args.size());
        for (const auto& arg : part.args) {
          auto rendered = arg.render(scope);
          if (!rendered) return rendered.error();
          args.push_back(std::move(*rendered));
        }
        auto result = (*part.function)(args, scope);
        if (!result) return result.error();
        if (escape_ == Escape::kJson) {
          append_json_escaped(*result, out);
        } else if (escape_ == Escape::kUrl) {
          append_url_encoded(*result, out);
        } else {
          out += *result;
        }
        break;
      }
    }
  }
  return {};
}

core::Result<std::string> Template::render(VarScope& scope) const {
  std::string out;
  auto ok = render(scope, out);
  if (!ok) return ok.error();
  return out;
}

std::vector<std::string> Template::variables() const {
  std::vector<std::string> out;
  for (const auto& part : parts_) {
    if (part.kind == Part::kVariable) out.push_back(part.text);
    for (const auto& arg : part.args) {
      auto inner = arg.variables();
      out.insert(out.end(), inner.begin(), inner.end());
    }
  }
  return out;
}

}  // namespace sluice::loadgen
