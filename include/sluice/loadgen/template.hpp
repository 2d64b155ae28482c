#pragma once
// Text templates with JMeter-style placeholders, compiled once and rendered per request.
//
//   ${name}                 a variable (data set column, extracted value, test variable, secret)
//   ${__fn(arg1,arg2)}      a function from a FunctionRegistry; arguments are templates themselves,
//                           split on top-level commas ("\," is a literal comma)
//   $${                     a literal "${"
//
// Compiling checks the syntax and binds every function to the registry, so an unknown function or
// an unbalanced "${" is an error before the run starts. Rendering never throws.
//
// Escaping: a template compiled with Escape::kJson escapes the *substituted* values for the inside
// of a JSON string literal (the literal text of the template is already JSON); kUrl percent-encodes
// them. Function results are escaped the same way.
//
// Threads: a compiled Template and a FunctionRegistry are immutable after construction and may be
// shared by all worker threads; render() uses only the scope it is given.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/result.hpp"

namespace sluice::loadgen {

enum class Escape { kNone, kJson, kUrl };

// Where variables and function state come from while rendering. One per virtual user.
class VarScope {
 public:
  virtual ~VarScope() = default;
  // The value of `name`, or nullptr when it is not defined anywhere.
  virtual const std::string* find(std::string_view name) const = 0;
  // JMeter's ${__threadNum}: 1-based number of the virtual user inside its group.
  virtual int thread_number() const { return 1; }
  // Random source owned by the virtual user (no shared state between threads).
  virtual std::mt19937_64& rng() = 0;
  // Names of test-level properties (JMeter -J / __P); default: none.
  virtual const std::string* property(std::string_view name) const { return nullptr; }
  // Secrets (Azure Load Testing __GetSecret); default: none.
  virtual const std::string* secret(std::string_view name) const { return nullptr; }
};

// A template function: gets its rendered (unescaped) arguments, returns the text to insert.
using TemplateFunction =
    std::function<core::Result<std::string>(std::span<const std::string> args, VarScope& scope)>;

// Named functions available to templates. The default registry has:
//   __UUID()                 random version-4 UUID
//   __Random(min,max[,var])  integer in [min,max]
//   __time([fmt])            epoch milliseconds (fmt empty) or strftime-formatted UTC time
//   __threadNum()            scope.thread_number()
//   __env(NAME[,default])    process environment
//   __P(name[,default]) and __property(name[,default])  test properties
//   __GetSecret(name)        scope.secret(name)
// Other modules (the JMX reader) add theirs with add() before compiling templates.
class FunctionRegistry {
 public:
  static const FunctionRegistry& defaults();
  FunctionRegistry();  // starts with the defaults
  void add(std::string name, TemplateFunction fn);
  const TemplateFunction* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, TemplateFunction, std::less<>> functions_;
};

class Template {
 public:
  Template() = default;  // renders as ""
  // Parses `text`. Errors are kInvalidArgument naming the problem and its byte offset.
  static core::Result<Template> compile(
      std::string_view text, Escape escape = Escape::kNone,
      const FunctionRegistry& functions = FunctionRegistry::defaults());
  // A template that renders `text` unchanged (no placeholders parsed).
  static Template literal(std::string text);

  // Appends the rendering to `out`. An undefined variable is an error naming it (the caller decides
  // whether that fails the sample); function errors pass through.
  core::Result<void> render(VarScope& scope, std::string& out) const;
  core::Result<std::string> render(VarScope& scope) const;

  bool is_literal() const noexcept {
    return parts_.empty() || (parts_.size() == 1 && parts_[0].kind == Part::kText);
  }
  const std::string& source() const noexcept { return source_; }
  // Variable names referenced directly or inside function arguments, for validation before a run.
  std::vector<std::string> variables() const;

 private:
  struct Part {
    enum Kind { kText, kVariable, kFunction } kind = kText;
    std::string text;  // literal text, variable name or function name
    const TemplateFunction* function = nullptr;
    std::vector<Template> args;
  };
  static core::Result<Template> parse(std::string_view text, std::size_t& pos, bool in_args,
                                      Escape escape, const FunctionRegistry& functions,
                                      std::size_t base);
  std::vector<Part> parts_;
  std::string source_;
  Escape escape_ = Escape::kNone;
};

// Appends `value` escaped for the inside of a JSON string literal.
void append_json_escaped(std::string_view value, std::string& out);
// Appends `value` percent-encoded (RFC 3986 unreserved characters kept).
void append_url_encoded(std::string_view value, std::string& out);

}  // namespace sluice::loadgen
