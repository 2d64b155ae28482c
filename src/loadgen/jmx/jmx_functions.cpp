#include "loadgen/jmx/jmx_functions.hpp"

#include <cctype>
#include <ctime>
#include <optional>

namespace sluice::loadgen::jmx {
namespace {

core::Error invalid(std::string message) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message)};
}

const std::string* arg_at(std::span<const std::string> args, std::size_t i) {
  return i < args.size() ? &args[i] : nullptr;
}

// The test's `env` entries are the plan's properties; the real environment comes second so a
// local run can still pass a value the YAML does not declare.
std::optional<std::string> env_value(const std::string& name, VarScope& scope) {
  if (const auto* v = scope.property(name)) return *v;
  if (const char* v = std::getenv(name.c_str())) return std::string(v);
  return std::nullopt;
}

struct ScriptIdiom {
  bool property = false;  // props.get("X") rather than System.getenv("X")
  std::string name;
};

// The only scripts sluice understands: System.getenv("NAME") and props.get("NAME"). Parsed by
// hand: std::regex recurses per character and a long script would exhaust the stack.
std::optional<ScriptIdiom> parse_script(std::string_view script) {
  auto skip_space = [&] {
    while (!script.empty() && std::isspace(static_cast<unsigned char>(script.front())))
      script.remove_prefix(1);
  };
  auto eat = [&](std::string_view word) {
    if (!script.starts_with(word)) return false;
    script.remove_prefix(word.size());
    return true;
  };
  while (!script.empty() &&
         (std::isspace(static_cast<unsigned char>(script.back())) || script.back() == ';')) {
    script.remove_suffix(1);
  }
  skip_space();
  if (eat("return") && !script.empty() && !std::isspace(static_cast<unsigned char>(script[0])))
    return std::nullopt;
  skip_space();
  ScriptIdiom idiom;
  if (eat("System.getenv")) {
    idiom.property = false;
  } else if (eat("props.getProperty") || eat("props.get")) {
    idiom.property = true;
  } else {
    return std::nullopt;
  }
  skip_space();
  if (!eat("(")) return std::nullopt;
  skip_space();
  if (script.empty() || (script[0] != '"' && script[0] != '\'')) return std::nullopt;
  char quote = script[0];
  script.remove_prefix(1);
  auto close = script.find(quote);
  if (close == std::string_view::npos || close == 0) return std::nullopt;
  idiom.name = std::string(script.substr(0, close));
  script.remove_prefix(close + 1);
  skip_space();
  if (!eat(")")) return std::nullopt;
  skip_space();
  if (!script.empty()) return std::nullopt;
  return idiom;
}

core::Result<std::string> run_script(std::span<const std::string> a, VarScope& s,
                                     const char* function) {
  if (a.empty()) return invalid(std::string(function) + " needs a script");
  auto idiom = parse_script(a[0]);
  if (!idiom) return invalid(std::string(function) + " script \"" + a[0] + "\" is not supported");
  if (idiom->property) {
    if (const auto* v = s.property(idiom->name)) return *v;
    return invalid("property " + idiom->name + " is not set");
  }
  if (auto v = env_value(idiom->name, s)) return *v;
  return invalid("environment variable " + idiom->name +
                 " is not set (add it to the test's env: or pass --env " + idiom->name + "=...)");
}

void add_jmx_functions(FunctionRegistry& r) {
  r.add("__P", [](std::span<const std::string> a, VarScope& s) -> core::Result<std::string> {
    if (a.empty()) return invalid("__P needs a property name");
    if (const auto* v = s.property(a[0])) return *v;
    if (const auto* d = arg_at(a, 1)) return *d;
    return std::string("1");
  });
  r.add("__property", [](std::span<const std::string> a, VarScope& s) -> core::Result<std::string> {
    if (a.empty()) return invalid("__property needs a property name");
    if (const auto* v = s.property(a[0])) return *v;
    if (const auto* d = arg_at(a, 2)) return *d;
    return a[0];
  });
  r.add("__env", [](std::span<const std::string> a, VarScope& s) -> core::Result<std::string> {
    if (a.empty()) return invalid("__env needs a variable name");
    if (auto v = env_value(a[0], s)) return *v;
    if (const auto* d = arg_at(a, 2)) return *d;
    return invalid("environment variable " + a[0] + " is not set (add it to the test's env: or " +
                   "pass --env " + a[0] + "=...)");
  });
  r.add("__BeanShell", [](std::span<const std::string> a, VarScope& s) {
    return run_script(a, s, "__BeanShell");
  });
  r.add("__groovy",
        [](std::span<const std::string> a, VarScope& s) { return run_script(a, s, "__groovy"); });
  r.add("__time", [](std::span<const std::string> a, VarScope&) -> core::Result<std::string> {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::string format = a.empty() ? std::string() : a[0];
    if (format.empty()) return std::to_string(ms);
    if (format.starts_with('/')) {
      char* end = nullptr;
      long long divisor = std::strtoll(format.c_str() + 1, &end, 10);
      if (*end || divisor <= 0) return invalid("__time: \"" + format + "\" is not /N");
      return std::to_string(ms / divisor);
    }
    if (format == "YMD") format = "yyyyMMdd";
    if (format == "HMS") format = "HHmmss";
    if (format == "YMDHMS") format = "yyyyMMdd-HHmmss";
    return format_simple_date(format, now);
  });
  r.add("__urlencode", [](std::span<const std::string> a, VarScope&) -> core::Result<std::string> {
    std::string out;
    if (!a.empty()) append_url_encoded(a[0], out);
    return out;
  });
}

}  // namespace

const FunctionRegistry& jmx_functions() {
  static const FunctionRegistry registry = [] {
    FunctionRegistry r;
    add_jmx_functions(r);
    return r;
  }();
  return registry;
}

core::Result<void> check_scripts(std::string_view text) {
  for (std::string_view call : {"${__BeanShell(", "${__groovy("}) {
    for (auto pos = text.find(call); pos != std::string_view::npos;
         pos = text.find(call, pos + 1)) {
      std::size_t start = pos + call.size();
      std::size_t i = start;
      int depth = 0;
      for (; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\\' && i + 1 < text.size()) {
          ++i;
          continue;
        }
        if (c == '(') ++depth;
        if (c == ')' && depth-- == 0) break;
        if (c == ',' && depth == 0) break;
      }
      std::string_view script = text.substr(start, i - start);
      if (!parse_script(script)) {
        std::string fn(call.substr(2, call.size() - 3));
        return invalid(fn + " script \"" + std::string(script) +
                       "\" is not supported: sluice runs no BeanShell or Groovy; it understands "
                       "only System.getenv(\"NAME\") and props.get(\"NAME\"). Use ${__env(NAME)} "
                       "or ${__P(NAME)} for values, or a supported function");
      }
    }
  }
  return {};
}

core::Result<std::string> format_simple_date(std::string_view pattern,
                                             std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  int millis = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() %
      1000);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  std::string out;
  auto number = [&](int value, std::size_t width) {
    std::string digits = std::to_string(value);
    if (digits.size() < width) out.append(width - digits.size(), '0');
    out += digits;
  };
  for (std::size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '\'') {
      std::size_t close = pattern.find('\'', i + 1);
      if (close == std::string_view::npos) return invalid("__time: unterminated quote in pattern");
      if (close == i + 1) {
        out += '\'';
      } else {
        out.append(pattern.substr(i + 1, close - i - 1));
      }
      i = close + 1;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      out += c;
      ++i;
      continue;
    }
    std::size_t n = 1;
    while (i + n < pattern.size() && pattern[i + n] == c) ++n;
    switch (c) {
      case 'y':
        if (n == 2) {
          number((tm.tm_year + 1900) % 100, 2);
        } else {
          number(tm.tm_year + 1900, n);
        }
        break;
      case 'M':
        number(tm.tm_mon + 1, n);
        break;
      case 'd':
        number(tm.tm_mday, n);
        break;
      case 'H':
        number(tm.tm_hour, n);
        break;
      case 'h':
        number(tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12, n);
        break;
      case 'm':
        number(tm.tm_min, n);
        break;
      case 's':
        number(tm.tm_sec, n);
        break;
      case 'S':
        number(millis, n);
        break;
      case 'a':
        out += tm.tm_hour < 12 ? "AM" : "PM";
        break;
      case 'E':
        out += kDays[tm.tm_wday];
        break;
      default:
        return invalid("__time: pattern letter '" + std::string(1, c) +
                       "' is not supported (use y M d H h m s S a E)");
    }
    i += n;
  }
  return out;
}

}  // namespace sluice::loadgen::jmx
