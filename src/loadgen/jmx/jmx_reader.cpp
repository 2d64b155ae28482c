#include "loadgen/jmx/jmx_reader.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <pugixml.hpp>

#include "loadgen/jmx/jmx_functions.hpp"
#include "sluice/core/config_error.hpp"
#include "sluice/core/config_problems.hpp"
#include "sluice/core/logging.hpp"
#include "sluice/loadgen/data_set.hpp"
#include "sluice/loadgen/extractor.hpp"

namespace sluice::loadgen::jmx {
namespace fs = std::filesystem;
using core::ConfigError;
using core::SourceLocation;

namespace {

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  while (true) {
    auto pos = text.find(sep, start);
    out.push_back(trim(text.substr(start, pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// Test-level values while the plan is compiled: user-defined variables, the test's env entries
// (as properties, the way Azure Load Testing hands them to JMeter) and secrets.
class CompileScope final : public VarScope {
 public:
  std::map<std::string, std::string, std::less<>> variables, properties, secrets;
  const std::string* find(std::string_view name) const override {
    if (auto it = variables.find(name); it != variables.end()) return &it->second;
    if (auto it = secrets.find(name); it != secrets.end()) return &it->second;
    return nullptr;
  }
  std::mt19937_64& rng() override { return rng_; }
  const std::string* property(std::string_view name) const override {
    auto it = properties.find(name);
    return it == properties.end() ? nullptr : &it->second;
  }
  const std::string* secret(std::string_view name) const override {
    auto it = secrets.find(name);
    return it == secrets.end() ? nullptr : &it->second;
  }

 private:
  std::mt19937_64 rng_{1};
};

// A JMeter property of an element: the direct child whose name= attribute is `name`
// (stringProp, boolProp, intProp, longProp, elementProp, collectionProp, or the old <property>).
pugi::xml_node prop_node(pugi::xml_node el, std::string_view name) {
  for (auto c : el.children()) {
    if (c.type() == pugi::node_element && name == c.attribute("name").value()) return c;
  }
  return {};
}

std::string prop(pugi::xml_node el, std::string_view name, std::string fallback = {}) {
  auto n = prop_node(el, name);
  if (!n) return fallback;
  return n.text().as_string();
}

bool bool_prop(pugi::xml_node el, std::string_view name, bool fallback) {
  auto n = prop_node(el, name);
  if (!n) return fallback;
  std::string v = lower(trim(n.text().as_string()));
  if (v.empty()) return fallback;
  return v == "true";
}

bool enabled(pugi::xml_node el) {
  auto a = el.attribute("enabled");
  return !a || lower(a.value()) != "false";
}

std::string element_name(pugi::xml_node el) {
  std::string name = el.attribute("testname").value();
  return name.empty() ? std::string(el.name()) : name;
}

// An element and the hashTree that holds its children (empty node when it has none).
std::vector<std::pair<pugi::xml_node, pugi::xml_node>> pairs(pugi::xml_node tree) {
  std::vector<std::pair<pugi::xml_node, pugi::xml_node>> out;
  for (auto c = tree.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element || std::string_view(c.name()) == "hashTree") continue;
    auto next = c.next_sibling();
    while (next && next.type() != pugi::node_element) next = next.next_sibling();
    if (next && std::string_view(next.name()) == "hashTree") {
      out.emplace_back(c, next);
    } else {
      out.emplace_back(c, pugi::xml_node());
    }
  }
  return out;
}

bool is_listener(std::string_view tag) {
  return tag == "ResultCollector" || tag == "Summariser" || tag == "BackendListener";
}

const char* kUnsupportedHint =
    "sluice reads TestPlan, ThreadGroup, LoopController, OnceOnlyController, GenericController, "
    "HTTPSamplerProxy, HTTP Request Defaults (ConfigTestElement), CookieManager, HeaderManager, "
    "Arguments, CSVDataSet, JSONPostProcessor, RegexExtractor, ResponseAssertion, ConstantTimer, "
    "UniformRandomTimer, ConstantThroughputTimer, RunTime (Runtime Controller) and Flow Control "
    "Action pauses (TestAction); remove the element or set it "
    "disabled (enabled=\"false\") to run this plan";

// HTTP Request Defaults are a ConfigTestElement with the HTTP defaults panel; other config
// elements share the tag.
bool is_http_defaults(pugi::xml_node el) {
  std::string_view gui = el.attribute("guiclass").value();
  if (gui == "HttpDefaultsGui") return true;
  if (!gui.empty()) return false;
  for (auto c : el.children()) {
    if (std::string_view(c.attribute("name").value()).starts_with("HTTPSampler.")) return true;
  }
  return false;
}

// Sampler options sluice does not run (embedded resources, multipart); on a sampler or defaults.
const char* const kRefusedSamplerFlags[] = {"HTTPSampler.image_parser",
                                            "HTTPSampler.DO_MULTIPART_POST",
                                            "HTTPSampler.BROWSER_COMPATIBLE_MULTIPART"};

// NAME of every ${__GetSecret(NAME)} in `text` (std::regex would recurse per character).
std::vector<std::string> secret_names(std::string_view text) {
  std::vector<std::string> out;
  static constexpr std::string_view kCall = "__GetSecret(";
  for (auto pos = text.find(kCall); pos != std::string_view::npos;
       pos = text.find(kCall, pos + 1)) {
    std::size_t end = text.find(')', pos + kCall.size());
    if (end == std::string_view::npos) break;
    std::string name = trim(text.substr(pos + kCall.size(), end - pos - kCall.size()));
    if (!name.empty() && name.find_first_of(", \t\n") == std::string::npos) out.push_back(name);
  }
  return out;
}

// What applies to every sampler in a scope, outer scopes first.
struct Scoped {
  std::vector<Timer> timers;
  std::vector<Extractor> extractors;
  std::vector<Assertion> assertions;
  std::set<std::string> header_names;         // lower-case
  std::vector<pugi::xml_node> http_defaults;  // HTTP Request Defaults, outer scopes first
  bool cookies = false;                       // a cookie manager covers this scope
};

// Where samplers and header managers of one level go.
struct Container {
  std::vector<Step>* steps = nullptr;  // null at the test plan level
  std::vector<Header>* headers = nullptr;
};

struct VariableUse {
  pugi::xml_node at;
  std::string path;
  std::string what;
  std::vector<std::string> names;
};

class Reader {
 public:
  Reader(std::string source, const PlanContext& ctx) : source_(std::move(source)), ctx_(ctx) {
    plan_dir_ = ctx.plan_path.parent_path();
    if (plan_dir_.empty()) plan_dir_ = ctx.base_dir.empty() ? fs::path(".") : ctx.base_dir;
  }

  Plan read(std::string_view xml) {
    text_ = xml;
    pugi::xml_document doc;
    auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_auto);
    if (!parsed) {
      auto loc = location(static_cast<std::size_t>(std::max<std::ptrdiff_t>(parsed.offset, 0)));
      throw ConfigError(loc, "",
                        std::string("malformed XML: ") + parsed.description() +
                            " (a JMeter plan is the XML file JMeter saves, <jmeterTestPlan>)");
    }
    auto root = doc.document_element();
    if (std::string_view(root.name()) != "jmeterTestPlan") {
      throw ConfigError(location(root), "",
                        "not a JMeter plan: the root element is <" + std::string(root.name()) +
                            ">, expected <jmeterTestPlan>");
    }
    check_depth(root);
    auto top = pairs(root.child("hashTree"));
    if (top.empty() || std::string_view(top[0].first.name()) != "TestPlan") {
      throw ConfigError(location(root), "", "the plan has no <TestPlan> element");
    }
    // env entries are properties (JMeter's view) and, as in native tests, variables too.
    for (const auto& [k, v] : ctx_.env) {
      scope_.properties[k] = v;
      scope_.variables[k] = v;
      plan_.properties.emplace_back(k, v);
      plan_.variables.emplace_back(k, v);
    }
    for (const auto& [k, v] : ctx_.secrets) scope_.secrets[k] = v;

    // Plain names, not a structured binding: the lambdas below capture them, which clang before
    // 16 refuses for bindings (the fuzz build uses clang).
    pugi::xml_node test_plan = top[0].first, test_tree = top[0].second;
    std::string path = element_name(test_plan);
    plan_.name = path;
    // Every problem of the plan is collected (each element is read on its own) and reported
    // together at the end.
    prescan_secrets(root.child("hashTree"), "");
    read_arguments(prop_node(test_plan, "TestPlan.user_defined_variables"), path);
    prescan_arguments(test_tree);
    problems_.attempt([&] { check_serial_groups(test_plan, test_tree, path); });
    std::vector<Header> plan_headers;
    Scoped scoped;
    Container container{nullptr, &plan_headers};
    walk(test_tree, container, scoped, path, true);
    if (plan_.groups.empty() && problems_.empty()) {
      fail(test_plan, path, "the plan has no enabled ThreadGroup");
    }
    check_variables();
    problems_.throw_if_any();
    // validate_plan is the caller's: it runs once the command line's overrides (--duration,
    // --vus) are applied, and every check it makes that needs no override was made above.
    return std::move(plan_);
  }

 private:
  void check_serial_groups(pugi::xml_node test_plan, pugi::xml_node test_tree,
                           const std::string& path) const {
    if (bool_prop(test_plan, "TestPlan.serialize_threadgroups", false)) {
      int groups = 0;
      for (const auto& [el, tree] : pairs(test_tree)) {
        groups += enabled(el) && std::string_view(el.name()) == "ThreadGroup";
      }
      if (groups > 1) {
        fail(test_plan, path,
             "\"Run Thread Groups consecutively\" is not supported: sluice runs thread groups in "
             "parallel; clear the option, or split the groups into separate tests");
      }
    }
  }

  // The tree is walked recursively; a plan nested deeper than any real one is refused first.
  void check_depth(pugi::xml_node root) const {
    std::vector<std::pair<pugi::xml_node, int>> stack{{root, 0}};
    while (!stack.empty()) {
      auto [n, depth] = stack.back();
      stack.pop_back();
      if (depth > kMaxDepth)
        fail(n, "", "the plan nests deeper than " + std::to_string(kMaxDepth) + " levels");
      for (auto c : n.children()) {
        if (c.type() == pugi::node_element) stack.emplace_back(c, depth + 1);
      }
    }
  }
  static constexpr int kMaxDepth = 256;
  static constexpr int kMaxNesting = 32;
  static constexpr std::size_t kMaxPattern = 1000;

  SourceLocation location(std::size_t offset) const {
    offset = std::min(offset, text_.size());
    int line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return {source_, line, column};
  }
  SourceLocation location(pugi::xml_node node) const {
    auto off = node.offset_debug();
    return off < 0 ? SourceLocation{source_, 0, 0} : location(static_cast<std::size_t>(off));
  }

  [[noreturn]] void fail(pugi::xml_node node, const std::string& path,
                         const std::string& message) const {
    throw ConfigError(location(node), path, message);
  }
  void warn(pugi::xml_node node, const std::string& path, const std::string& message) const {
    core::get_logger("load")->warn("{}: {}: {}", location(node).to_string(), path, message);
  }

  // Compiles a value of the plan; a syntax error or an unsupported function or script fails.
  Template compile(pugi::xml_node node, const std::string& path, std::string_view what,
                   std::string_view text, Escape escape = Escape::kNone) {
    // Templates compile recursively; no real plan nests ${...} this deep.
    int depth = 0, max_depth = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{')
        max_depth = std::max(max_depth, ++depth);
      if (text[i] == '}' && depth > 0) --depth;
    }
    if (max_depth > kMaxNesting) {
      fail(
          node, path,
          std::string(what) + ": ${...} nested more than " + std::to_string(kMaxNesting) + " deep");
    }
    if (auto ok = check_scripts(text); !ok) {
      fail(node, path, std::string(what) + ": " + ok.error().message);
    }
    auto t = Template::compile(text, escape, jmx_functions());
    if (!t) {
      std::string message = t.error().message;
      if (message.starts_with("unsupported function")) {
        message += "; replace the call with a supported function or a variable";
      }
      fail(node, path, std::string(what) + " \"" + std::string(text) + "\": " + message);
    }
    return std::move(*t);
  }

  // A template used by a sampler: its variables are checked once the whole plan is read.
  Template compile_used(pugi::xml_node node, const std::string& path, std::string what,
                        std::string_view text, Escape escape = Escape::kNone) {
    Template t = compile(node, path, what, text, escape);
    auto names = t.variables();
    if (!names.empty()) uses_.push_back({node, path, std::move(what), std::move(names)});
    return t;
  }

  // A value needed now (counts, durations, file names). nullopt when it does not resolve.
  std::optional<std::string> resolve_now(pugi::xml_node node, const std::string& path,
                                         std::string_view what, std::string_view text,
                                         std::string* why) {
    Template t = compile(node, path, what, text);
    auto r = t.render(scope_);
    if (!r) {
      *why = r.error().message;
      return std::nullopt;
    }
    return trim(*r);
  }

  enum class Unresolved { kError, kZero };
  long long number(pugi::xml_node el, const std::string& path, std::string_view name,
                   std::string_view what, long long fallback, Unresolved on_unresolved) {
    auto node = prop_node(el, name);
    std::string text = node ? trim(node.text().as_string()) : std::string();
    if (text.empty()) return fallback;
    std::string why;
    auto value = resolve_now(node, path, what, text, &why);
    std::string problem;
    long long v = 0;
    if (!value) {
      problem = "\"" + text + "\" does not resolve: " + why;
    } else {
      char* end = nullptr;
      v = std::strtoll(value->c_str(), &end, 10);
      if (value->empty() || *end) problem = "\"" + text + "\" is \"" + *value + "\", not a number";
    }
    if (problem.empty()) return v;
    std::string hint = " (define it in the test's env:, pass --env NAME=VALUE, or give a number)";
    if (on_unresolved == Unresolved::kError)
      fail(node, path, std::string(what) + " " + problem + hint);
    warn(node, path,
         std::string(what) + " " + problem + "; JMeter reads it as 0, and so does sluice");
    return 0;
  }

  // --- values known before the run ------------------------------------------------------

  void prescan_secrets(pugi::xml_node tree, const std::string& parent) {
    for (const auto& [el, sub] : pairs(tree)) {
      if (!enabled(el)) continue;
      std::string path = parent.empty() ? element_name(el) : parent + "/" + element_name(el);
      std::vector<pugi::xml_node> stack{el};
      while (!stack.empty()) {
        auto n = stack.back();
        stack.pop_back();
        for (auto c : n.children()) {
          if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
            for (const auto& name : secret_names(c.value())) need_secret(name, el, path);
          } else if (c.type() == pugi::node_element) {
            stack.push_back(c);
          }
        }
      }
      if (sub) prescan_secrets(sub, path);
    }
  }

  void need_secret(const std::string& name, pugi::xml_node at, const std::string& path) {
    if (name.find("${") != std::string::npos || scope_.secrets.contains(name)) return;
    std::string error;
    auto value = resolve_secret(name, "", ctx_.overrides, &error);
    if (!value) {
      problems_.add(ConfigError(location(at), path,
                                "${__GetSecret(" + name + ")}: " + error +
                                    " (in a test YAML, declare it under secrets:)"));
      scope_.secrets[name] = "";  // so what uses it reads on, without a second report
      return;
    }
    scope_.secrets[name] = *value;
    plan_.secrets.emplace_back(name, *value);
  }

  // User Defined Variables are evaluated once, before the threads start, in document order.
  void read_arguments(pugi::xml_node args, const std::string& path) {
    if (!args) return;
    auto list = prop_node(args, "Arguments.arguments");
    for (auto arg : list.children()) {
      if (arg.type() != pugi::node_element) continue;
      std::string name = trim(prop(arg, "Argument.name"));
      if (name.empty()) continue;
      std::string text = prop(arg, "Argument.value");
      std::string v;
      problems_.attempt([&] {
        auto rendered = compile(arg, path, "variable " + name, text).render(scope_);
        if (!rendered) {
          fail(arg, path,
               "variable " + name + " = \"" + text + "\" does not resolve: " +
                   rendered.error().message + " (define it in the test's env:, or pass --env)");
        }
        v = std::move(*rendered);
      });
      scope_.variables[name] = v;
      auto it = std::find_if(plan_.variables.begin(), plan_.variables.end(),
                             [&](const auto& p) { return p.first == name; });
      if (it != plan_.variables.end()) {
        it->second = v;
      } else {
        plan_.variables.emplace_back(name, v);
      }
    }
  }

  void prescan_arguments(pugi::xml_node tree) {
    for (const auto& [el, sub] : pairs(tree)) {
      if (!enabled(el)) continue;
      if (std::string_view(el.name()) == "Arguments") read_arguments(el, element_name(el));
      if (sub) prescan_arguments(sub);
    }
  }

  // --- the tree -------------------------------------------------------------------------

  // First the elements that apply to a whole scope, then samplers and controllers in order. Each
  // element is read on its own: a problem in one is recorded and the walk goes on.
  void walk(pugi::xml_node tree, Container container, Scoped scoped, const std::string& parent,
            bool plan_level) {
    auto items = pairs(tree);
    for (const auto& [el, sub] : items) {
      if (!enabled(el)) continue;
      problems_.attempt(
          [&, el = el, sub = sub] { read_scope_element(el, sub, container, scoped, parent); });
    }
    for (const auto& [el, sub] : items) {
      if (!enabled(el)) continue;
      problems_.attempt(
          [&, el = el, sub = sub] { read_step(el, sub, container, scoped, parent, plan_level); });
    }
  }

  // Header managers, timers, post-processors, assertions, data sets and listeners of a level.
  void read_scope_element(pugi::xml_node el, pugi::xml_node sub, Container container,
                          Scoped& scoped, const std::string& parent) {
    std::string path = parent + "/" + element_name(el);
    std::string_view tag = el.name();
    if (tag == "HeaderManager") {
      for (auto& h : read_headers(el, path)) {
        scoped.header_names.insert(lower(h.name));
        container.headers->push_back(std::move(h));
      }
    } else if (read_scoped(el, path, scoped)) {
    } else if (tag == "CSVDataSet") {
      read_csv(el, path);
    } else if (tag == "ConfigTestElement" && is_http_defaults(el)) {
      check_sampler_flags(el, path);
      scoped.http_defaults.push_back(el);
    } else if (tag == "CookieManager") {
      read_cookie_manager(el, path, container.steps == nullptr, scoped);
    } else if (tag == "Arguments") {
      // read before the tree (prescan_arguments)
    } else if (is_listener(tag)) {
      core::get_logger("load")->info("{}: {}: listener {} ignored (sluice writes its own results)",
                                     location(el).to_string(), path, tag);
    } else {
      return;
    }
    if (sub && !pairs(sub).empty() && tag != "Arguments" && !is_listener(tag)) {
      auto child = pairs(sub)[0].first;
      fail(child, path + "/" + element_name(child),
           std::string("a ") + child.name() + " under a " + std::string(tag) +
               " has no effect in JMeter; move it to a controller or sampler");
    }
  }

  // Thread groups, controllers and samplers of a level, in order.
  void read_step(pugi::xml_node el, pugi::xml_node sub, Container container, const Scoped& scoped,
                 const std::string& parent, bool plan_level) {
    std::string path = parent + "/" + element_name(el);
    std::string_view tag = el.name();
    if (tag == "HeaderManager" || tag == "CSVDataSet" || tag == "Arguments" || is_listener(tag) ||
        tag == "ConstantTimer" || tag == "UniformRandomTimer" || tag == "JSONPostProcessor" ||
        tag == "RegexExtractor" || tag == "ResponseAssertion" || tag == "CookieManager" ||
        tag == "ConstantThroughputTimer" || (tag == "ConfigTestElement" && is_http_defaults(el))) {
      return;
    }
    if (tag == "ThreadGroup") {
      if (!plan_level) fail(el, path, "a ThreadGroup must sit directly under the TestPlan");
      read_thread_group(el, sub, *container.headers, scoped, path);
      return;
    }
    if (plan_level) {
      if (tag == "HTTPSamplerProxy" || tag == "OnceOnlyController" || tag == "LoopController" ||
          tag == "GenericController" || tag == "TestAction" || tag == "RunTime") {
        fail(el, path, std::string(tag) + " must sit inside a ThreadGroup");
      }
      fail(el, path, "unsupported element " + std::string(tag) + ": " + kUnsupportedHint);
    }
    if (tag == "HTTPSamplerProxy") {
      read_sampler(el, sub, *container.steps, scoped, path);
    } else if (tag == "TestAction") {
      read_flow_control_action(el, sub, *container.steps, scoped, path);
    } else if (tag == "OnceOnlyController") {
      OnceOnly once;
      walk(sub, Container{&once.steps, &once.headers}, scoped, path, false);
      container.steps->push_back(Step{std::move(once)});
    } else if (tag == "RunTime") {
      Loop loop;
      loop.count = -1;
      problems_.attempt([&] {
        long long seconds =
            number(el, path, "RunTime.seconds", "runtime (seconds)", 0, Unresolved::kError);
        if (seconds < 0) fail(el, path, "the runtime cannot be negative");
        loop.run_time = std::chrono::seconds(seconds);
      });
      if (loop.run_time && loop.run_time->count() == 0) return;  // JMeter runs nothing
      walk(sub, Container{&loop.steps, &loop.headers}, scoped, path, false);
      container.steps->push_back(Step{std::move(loop)});
    } else if (tag == "LoopController" || tag == "GenericController") {
      Loop loop;
      if (tag == "LoopController") {
        // A bad count is reported; the children are still read for their own problems.
        problems_.attempt([&] {
          loop.count = static_cast<int>(
              number(el, path, "LoopController.loops", "loop count", 1, Unresolved::kError));
          if (bool_prop(el, "LoopController.continue_forever", false) && loop.count < 0) {
            loop.count = -1;
          }
          if (loop.count < -1) fail(el, path, "loop count must be positive or -1 (forever)");
        });
        if (loop.count == 0) return;  // JMeter runs nothing
      }
      walk(sub, Container{&loop.steps, &loop.headers}, scoped, path, false);
      container.steps->push_back(Step{std::move(loop)});
    } else {
      fail(el, path, "unsupported element " + std::string(tag) + ": " + kUnsupportedHint);
    }
  }

  void read_thread_group(pugi::xml_node el, pugi::xml_node tree,
                         const std::vector<Header>& plan_headers, const Scoped& scoped,
                         const std::string& path) {
    ThreadGroup group;
    group.name = element_name(el);
    group.headers = plan_headers;
    std::size_t problems_before = problems_.size();
    group_cookies_ = plan_cookies_;
    group_cookies_follow_group_ = plan_cookies_follow_group_;
    // The group's settings and its children are read even when one of them is wrong.
    problems_.attempt([&] { group.load = read_closed_load(el, path); });
    problems_.attempt([&] { group.on_error = read_error_action(el, path); });
    if (tree) walk(tree, Container{&group.steps, &group.headers}, scoped, path, false);
    if (group.steps.empty() && problems_.size() == problems_before) {
      fail(el, path, "the thread group has no enabled sampler");
    }
    if (group_cookies_ && group_cookies_follow_group_ &&
        !bool_prop(el, "ThreadGroup.same_user_on_next_iteration", true)) {
      group_cookies_->clear_each_iteration = true;  // a new user each iteration
    }
    group.cookies = std::move(group_cookies_);
    group_cookies_.reset();
    const auto& load = std::get<ClosedLoad>(group.load);
    all_groups_timed_ = all_groups_timed_ && load.duration.has_value();
    Millis end = load.start_delay + load.duration.value_or(Millis(0));
    if (all_groups_timed_) plan_.max_duration = std::max(plan_.max_duration, end);
    if (!all_groups_timed_) plan_.max_duration = Millis(0);
    plan_.groups.push_back(std::move(group));
  }

  ClosedLoad read_closed_load(pugi::xml_node el, const std::string& path) {
    ClosedLoad load;
    load.vus = static_cast<int>(
        number(el, path, "ThreadGroup.num_threads", "thread count", 1, Unresolved::kError));
    if (load.vus < 1) {
      fail(prop_node(el, "ThreadGroup.num_threads"), path,
           "thread count must be at least 1, got " + std::to_string(load.vus));
    }
    load.ramp_up = std::chrono::seconds(
        number(el, path, "ThreadGroup.ramp_time", "ramp-up time", 0, Unresolved::kZero));
    if (load.ramp_up.count() < 0) {
      fail(prop_node(el, "ThreadGroup.ramp_time"), path, "the ramp-up time cannot be negative");
    }
    auto main = prop_node(el, "ThreadGroup.main_controller");
    load.loops = 1;
    if (main) {
      load.loops = static_cast<int>(
          number(main, path, "LoopController.loops", "loop count", 1, Unresolved::kError));
      if (bool_prop(main, "LoopController.continue_forever", false) && load.loops < 0) {
        load.loops = -1;
      }
    }
    if (load.loops == 0 || load.loops < -1) {
      fail(main, path,
           "loop count must be positive or -1 (forever), got " + std::to_string(load.loops));
    }
    if (bool_prop(el, "ThreadGroup.scheduler", false)) {
      long long duration =
          number(el, path, "ThreadGroup.duration", "duration", 0, Unresolved::kError);
      long long delay =
          number(el, path, "ThreadGroup.delay", "startup delay", 0, Unresolved::kZero);
      if (duration > 0) load.duration = std::chrono::seconds(duration);
      load.start_delay = std::chrono::seconds(std::max(0LL, delay));
    }
    if (load.loops == -1 && !load.duration && !ctx_.overrides.duration) {
      fail(el, path,
           "infinite loops (-1) need a duration: tick Specify Thread lifetime and give a "
           "Duration, or pass --duration");
    }
    return load;
  }

  OnError read_error_action(pugi::xml_node el, const std::string& path) const {
    std::string action = lower(prop(el, "ThreadGroup.on_sample_error", "continue"));
    static const std::map<std::string, OnError> kActions = {
        {"continue", OnError::kContinue},
        {"startnextloop", OnError::kStartNextLoop},
        {"stopthread", OnError::kStopThread},
        {"stoptest", OnError::kStopTest},
        {"stoptestnow", OnError::kStopTestNow}};
    auto it = kActions.find(action);
    if (it == kActions.end()) {
      fail(prop_node(el, "ThreadGroup.on_sample_error"), path,
           "unknown action after a sampler error \"" + action + "\"");
    }
    return it->second;
  }

  std::vector<Header> read_headers(pugi::xml_node el, const std::string& path) {
    std::vector<Header> out;
    for (auto h : prop_node(el, "HeaderManager.headers").children()) {
      if (h.type() != pugi::node_element) continue;
      std::string name = trim(prop(h, "Header.name"));
      if (name.empty()) continue;
      out.push_back({name, compile_used(h, path, "header " + name, prop(h, "Header.value"))});
    }
    return out;
  }

  // Timers, post-processors and assertions; false when `el` is none of them.
  bool read_scoped(pugi::xml_node el, const std::string& path, Scoped& scoped) {
    std::string_view tag = el.name();
    if (tag == "ConstantTimer" || tag == "UniformRandomTimer") {
      Timer t;
      t.delay =
          Millis(number(el, path, "ConstantTimer.delay", "timer delay", 0, Unresolved::kZero));
      if (tag == "UniformRandomTimer") {
        t.kind = Timer::kUniformRandom;
        std::string range = trim(prop(el, "RandomTimer.range", "0"));
        char* end = nullptr;
        double r = std::strtod(range.c_str(), &end);
        if (range.empty() || *end || r < 0) {
          fail(prop_node(el, "RandomTimer.range"), path,
               "random delay maximum \"" + range + "\" is not a number of milliseconds");
        }
        t.range = Millis(static_cast<long long>(r));
      }
      if (t.delay.count() < 0) fail(el, path, "a timer delay cannot be negative");
      scoped.timers.push_back(t);
      return true;
    }
    if (tag == "ConstantThroughputTimer") {
      scoped.timers.push_back(read_constant_throughput(el, path));
      return true;
    }
    if (tag == "JSONPostProcessor") {
      auto names = split(prop(el, "JSONPostProcessor.referenceNames"), ';');
      auto exprs = split(prop(el, "JSONPostProcessor.jsonPathExprs"), ';');
      auto matches = split(prop(el, "JSONPostProcessor.match_numbers"), ';');
      auto defaults = split(prop(el, "JSONPostProcessor.defaultValues"), ';');
      // Named even if the extractor is refused, so its uses are not reported a second time.
      defined_.insert(names.begin(), names.end());
      if (names.empty() || names.size() != exprs.size()) {
        fail(el, path,
             "give as many JSON path expressions as variable names (separated by ';'), got " +
                 std::to_string(names.size()) + " names and " + std::to_string(exprs.size()) +
                 " expressions");
      }
      for (std::size_t i = 0; i < names.size(); ++i) {
        Extractor e;
        e.kind = Extractor::kJsonPath;
        e.variable = names[i];
        e.expression = exprs[i];
        e.match_number = match_number(el, path, i < matches.size() ? matches[i] : "");
        e.default_value = i < defaults.size() ? defaults[i] : std::string();
        add_extractor(el, path, std::move(e), scoped);
      }
      return true;
    }
    if (tag == "RegexExtractor") {
      std::string where = lower(trim(prop(el, "RegexExtractor.useHeaders", "false")));
      if (where != "false" && where != "") {
        fail(el, path,
             "only the response body can be searched (Field to check: Body); \"" + where +
                 "\" is not supported");
      }
      Extractor e;
      e.kind = Extractor::kRegex;
      e.variable = trim(prop(el, "RegexExtractor.refname"));
      defined_.insert(e.variable);
      e.expression = prop(el, "RegexExtractor.regex");
      std::string tmpl = trim(prop(el, "RegexExtractor.template", "$1$"));
      bool group_ok = tmpl.size() >= 3 && tmpl.size() <= 5 && tmpl.front() == '$' &&
                      tmpl.back() == '$' &&
                      std::all_of(tmpl.begin() + 1, tmpl.end() - 1,
                                  [](char c) { return c >= '0' && c <= '9'; });
      if (!group_ok) {
        fail(el, path,
             "template \"" + tmpl + "\" is not supported: give one group as $N$ (e.g. $1$)");
      }
      e.group = std::stoi(tmpl.substr(1, tmpl.size() - 2));
      e.match_number = match_number(el, path, trim(prop(el, "RegexExtractor.match_number")));
      std::string def = prop(el, "RegexExtractor.default");
      if (!def.empty() || bool_prop(el, "RegexExtractor.default_empty_value", false)) {
        e.default_value = def;
      }
      if (e.variable.empty()) fail(el, path, "the extractor has no variable name");
      add_extractor(el, path, std::move(e), scoped);
      return true;
    }
    if (tag == "ResponseAssertion") {
      read_assertion(el, path, scoped);
      return true;
    }
    return false;
  }

  // JMeter's Constant Throughput Timer: `throughput` (samples a minute; a doubleProp, or a
  // stringProp with variables) and `calcMode`, whose five modes map onto Timer::Pacing in order.
  Timer read_constant_throughput(pugi::xml_node el, const std::string& path) {
    pugi::xml_node value = prop_node(el, "throughput");
    for (auto c : el.children("doubleProp")) {
      if (trim(c.child("name").text().as_string()) == "throughput") value = c.child("value");
    }
    std::string text = trim(value.text().as_string());
    std::string why;
    auto resolved = resolve_now(value ? value : el, path, "throughput", text, &why);
    char* end = nullptr;
    double per_minute = resolved ? std::strtod(resolved->c_str(), &end) : 0;
    if (!resolved || resolved->empty() || *end || per_minute <= 0) {
      fail(value ? value : el, path,
           "target throughput \"" + text + "\" is not a positive number of samples per minute" +
               (resolved ? std::string() : " (" + why + ")"));
    }
    long long mode = std::strtoll(trim(prop(el, "calcMode", "0")).c_str(), &end, 10);
    if (mode < 0 || mode > 4) {
      fail(prop_node(el, "calcMode"), path,
           "calculate-throughput-based-on mode " + std::to_string(mode) +
               " is not one of JMeter's five (0 this thread only ... 4 all active threads in "
               "current thread group, shared)");
    }
    Timer t;
    t.kind = Timer::kConstantThroughput;
    t.per_minute = per_minute;
    t.pacing = static_cast<Timer::Pacing>(mode);
    t.pacing_id = next_pacing_id_++;
    return t;
  }

  int match_number(pugi::xml_node el, const std::string& path, const std::string& text) {
    if (text.empty()) return 0;  // JMeter: empty reads as 0, a random match
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (*end) fail(el, path, "match number \"" + text + "\" is not a number");
    if (v < 0) {
      fail(el, path,
           "match number " + text +
               " (all matches as NAME_1..NAME_n) is not supported; give 0 (random) or N >= 1");
    }
    return static_cast<int>(v);
  }

  void add_extractor(pugi::xml_node el, const std::string& path, Extractor e, Scoped& scoped) {
    if (e.expression.size() > kMaxPattern) {
      fail(el, path,
           "the expression is longer than " + std::to_string(kMaxPattern) + " characters");
    }
    if (auto ok = validate_extractor(e); !ok) fail(el, path, ok.error().message);
    defined_.insert(e.variable);
    scoped.extractors.push_back(std::move(e));
  }

  void read_assertion(pugi::xml_node el, const std::string& path, Scoped& scoped) {
    std::string field = prop(el, "Assertion.test_field", "Assertion.response_data");
    int type =
        static_cast<int>(std::strtol(prop(el, "Assertion.test_type", "16").c_str(), nullptr, 10));
    bool negate = type & 4;
    bool any = type & 32;
    bool substring = type & 16;
    bool contains = type & 2;
    bool equals = type & 8;
    std::vector<std::string> strings;
    auto list = prop_node(el, "Asserion.test_strings");  // JMeter's own spelling
    if (!list) list = prop_node(el, "Assertion.test_strings");
    for (auto s : list.children()) {
      if (s.type() == pugi::node_element) strings.emplace_back(s.text().as_string());
    }
    if (strings.empty()) fail(el, path, "the assertion has no pattern to test");
    if (field == "Assertion.response_code") {
      if (negate) fail(el, path, "a negated response-code assertion is not supported");
      if (!any && strings.size() > 1) {
        fail(el, path, "a response code cannot equal several codes at once; tick Or");
      }
      Assertion a;
      a.kind = Assertion::kStatusIn;
      for (const auto& s : strings) {
        std::string code = trim(s);
        char* end = nullptr;
        long v = std::strtol(code.c_str(), &end, 10);
        if (code.empty() || *end || v < 100 || v > 999) {
          fail(el, path, "response code pattern \"" + code + "\" is not supported: give codes");
        }
        a.statuses.push_back(static_cast<int>(v));
      }
      scoped.assertions.push_back(std::move(a));
      return;
    }
    if (field != "Assertion.response_data") {
      fail(el, path,
           "assertions on " + field +
               " are not supported; test the response body (Text Response) "
               "or the response code");
    }
    if (any && strings.size() > 1) {
      fail(el, path, "an Or of several body patterns is not supported; use one pattern");
    }
    for (const auto& s : strings) {
      bool plain = s.find_first_of("\\^$.|?*+()[]{}") == std::string::npos;
      if (equals || ((contains || !substring) && !plain)) {
        fail(el, path,
             "pattern \"" + s +
                 "\": only Substring (or Contains with a plain text pattern) is supported for the "
                 "response body; regular expressions and Equals are not");
      }
      Assertion a;
      a.kind = negate ? Assertion::kBodyNotContains : Assertion::kBodyContains;
      a.text = s;
      scoped.assertions.push_back(std::move(a));
    }
  }

  void read_csv(pugi::xml_node el, const std::string& path) {
    DataSetSpec spec;
    // Its columns are named even when the file is missing, so their uses are not reported too.
    for (const auto& name : split(prop(el, "variableNames"), ',')) defined_.insert(name);
    std::string given = prop(el, "filename");
    if (trim(given).empty()) fail(el, path, "the CSV data set has no filename");
    std::string why;
    auto name = resolve_now(prop_node(el, "filename"), path, "filename", given, &why);
    if (!name) fail(el, path, "filename \"" + given + "\" does not resolve: " + why);
    fs::path file = find_csv(*name);
    if (file.empty()) {
      fail(el, path,
           "CSV file " + *name + " not found (looked next to the plan in " + plan_dir_.string() +
               " and among configurationFiles); add it to configurationFiles or fix the path");
    }
    spec.name = fs::path(*name).filename().string();
    spec.path = file.string();
    spec.declared_at = location(el).to_string() + " (" + path + ")";
    std::string delimiter = prop(el, "delimiter", ",");
    if (delimiter == "\\t" || lower(delimiter) == "tab") delimiter = "\t";
    if (delimiter.size() != 1) fail(el, path, "the delimiter must be one character (or \\t)");
    spec.delimiter = delimiter[0];
    std::string names = trim(prop(el, "variableNames"));
    if (!names.empty()) {
      char sep = names.find(spec.delimiter) == std::string::npos ? ',' : spec.delimiter;
      spec.variables = split(names, sep);
      defined_.insert(spec.variables.begin(), spec.variables.end());
      for (const auto& v : spec.variables) {
        if (v.empty()) fail(el, path, "empty name in variableNames \"" + names + "\"");
      }
    }
    spec.header = spec.variables.empty() || bool_prop(el, "ignoreFirstLine", false);
    spec.quoted = bool_prop(el, "quotedData", false);
    spec.recycle = bool_prop(el, "recycle", true);
    spec.stop_thread_at_end = !spec.recycle && bool_prop(el, "stopThread", false);
    std::string share = lower(trim(prop(el, "shareMode", "shareMode.all")));
    if (share == "sharemode.all" || share.empty()) {
      spec.share = ShareMode::kAllThreads;
    } else if (share == "sharemode.group") {
      spec.share = ShareMode::kGroup;
    } else if (share == "sharemode.thread") {
      spec.share = ShareMode::kThread;
    } else {
      fail(el, path,
           "sharing mode \"" + share +
               "\" is not supported (All threads, Current thread group, Current thread)");
    }
    spec.split_across_engines = ctx_.split_all_csvs;
    std::string encoding = lower(trim(prop(el, "fileEncoding")));
    bool latin1 = encoding == "iso-8859-1" || encoding == "latin1" || encoding == "windows-1252" ||
                  encoding == "cp1252";
    if (!encoding.empty() && encoding != "utf-8" && encoding != "utf8" && encoding != "us-ascii" &&
        !latin1) {
      fail(el, path,
           "file encoding " + encoding + " is not supported (UTF-8, US-ASCII or ISO-8859-1)");
    }
    DataSetSpec check = spec;
    check.declared_at.clear();
    core::Result<DataSet> loaded = core::Error{core::ErrorCode::kInternal, ""};
    if (latin1) {
      // The engine reads UTF-8; the rows are converted now and kept in memory.
      std::ifstream in(file, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string utf8;
      for (unsigned char c : ss.str()) {
        if (c < 0x80) {
          utf8 += static_cast<char>(c);
        } else {
          utf8 += static_cast<char>(0xc0 | (c >> 6));
          utf8 += static_cast<char>(0x80 | (c & 0x3f));
        }
      }
      loaded = parse_csv(utf8, spec.path, check);
      if (loaded) {
        spec.variables = loaded->columns;
        spec.inline_rows = loaded->rows;
        spec.path.clear();
        spec.header = false;
      }
    } else {
      loaded = load_data_set(check);
    }
    if (!loaded) fail(el, path, loaded.error().message);
    for (const auto& c : loaded->columns) defined_.insert(c);
    plan_.data_sets.push_back(std::move(spec));
  }

  fs::path find_csv(const std::string& given) const {
    fs::path p(given);
    std::error_code ec;
    auto exists = [&](const fs::path& f) { return fs::is_regular_file(f, ec); };
    if (p.is_absolute() && exists(p)) return p;
    if (p.is_relative() && exists(plan_dir_ / p)) return plan_dir_ / p;
    // Azure Load Testing drops configuration files next to the plan, without their folders.
    for (const auto& f : ctx_.configuration_files) {
      fs::path candidate = ctx_.base_dir / f;
      if (candidate.filename() == p.filename() && exists(candidate)) return candidate;
    }
    if (exists(plan_dir_ / p.filename())) return plan_dir_ / p.filename();
    if (!ctx_.base_dir.empty() && exists(ctx_.base_dir / p.filename()))
      return ctx_.base_dir / p.filename();
    return {};
  }

  // --- samplers -------------------------------------------------------------------------

  void read_sampler(pugi::xml_node el, pugi::xml_node tree, std::vector<Step>& steps, Scoped scoped,
                    const std::string& path) {
    HttpSampler s;
    s.label = element_name(el);
    // Children of a sampler apply to it alone.
    for (const auto& [child, sub] : pairs(tree)) {
      if (!enabled(child)) continue;
      problems_.attempt([&, child = child] {
        std::string child_path = path + "/" + element_name(child);
        std::string_view tag = child.name();
        if (tag == "HeaderManager") {
          for (auto& h : read_headers(child, child_path)) {
            scoped.header_names.insert(lower(h.name));
            s.headers.push_back(std::move(h));
          }
        } else if (read_scoped(child, child_path, scoped)) {
        } else if (tag == "CSVDataSet") {
          read_csv(child, child_path);
        } else if (tag == "Arguments" || is_listener(tag)) {
        } else {
          fail(child, child_path,
               "unsupported element " + std::string(tag) + " under a sampler: " + kUnsupportedHint);
        }
      });
    }
    check_sampler_flags(el, path);
    // A field the sampler leaves empty comes from the innermost HTTP Request Defaults that
    // gives it (JMeter merges them field by field before each sample).
    auto owner_of = [&](std::string_view name) {
      if (!trim(prop(el, name)).empty()) return el;
      for (auto it = scoped.http_defaults.rbegin(); it != scoped.http_defaults.rend(); ++it) {
        if (!trim(prop(*it, name)).empty()) return *it;
      }
      return el;
    };
    auto field = [&](std::string_view name) { return trim(prop(owner_of(name), name)); };
    auto files = prop_node(prop_node(el, "HTTPsampler.Files"), "HTTPFileArgs.files");
    if (files && files.first_child()) {
      fail(files, path, "file uploads are not supported; send the content as the request body");
    }
    s.method = trim(prop(el, "HTTPSampler.method", "GET"));
    if (s.method.empty()) s.method = "GET";
    std::string protocol = field("HTTPSampler.protocol");
    std::string domain = field("HTTPSampler.domain");
    std::string port = field("HTTPSampler.port");
    std::string url_path = field("HTTPSampler.path");
    std::string url;
    if (lower(url_path).starts_with("http://") || lower(url_path).starts_with("https://")) {
      url = url_path;
    } else {
      if (domain.empty()) {
        fail(el, path,
             "the sampler has no server name; give Server Name or IP here or in an HTTP Request "
             "Defaults element that covers the sampler");
      }
      if (protocol.empty()) protocol = port == "443" ? "https" : "http";
      url = lower(protocol) + "://" + domain + (port.empty() ? "" : ":" + port);
      if (!url_path.starts_with('/')) url += '/';
      url += url_path;
    }

    // Arguments: the raw body, form fields or the query string.
    struct Arg {
      pugi::xml_node node;
      std::string name, value;
      bool encode = false;
    };
    std::vector<Arg> args;
    auto arg_list = prop_node(prop_node(el, "HTTPsampler.Arguments"), "Arguments.arguments");
    auto add_args = [&](pugi::xml_node list) {
      for (auto a : list.children()) {
        if (a.type() != pugi::node_element) continue;
        args.push_back({a, prop(a, "Argument.name"), prop(a, "Argument.value"),
                        bool_prop(a, "HTTPArgument.always_encode", false)});
      }
    };
    add_args(arg_list);
    // Parameters of the defaults are added to the sampler's own (a raw body stands alone).
    if (!bool_prop(el, "HTTPSampler.postBodyRaw", false)) {
      for (auto it = scoped.http_defaults.rbegin(); it != scoped.http_defaults.rend(); ++it) {
        auto list = prop_node(prop_node(*it, "HTTPsampler.Arguments"), "Arguments.arguments");
        if (!arg_list && list.first_child()) arg_list = list;
        add_args(list);
      }
    }
    std::string method = lower(s.method);
    bool body_method = method == "post" || method == "put" || method == "patch";
    std::string encoding = lower(field("HTTPSampler.contentEncoding"));
    if (!encoding.empty() && encoding != "utf-8" && encoding != "utf8" && encoding != "us-ascii") {
      warn(el, path, "content encoding " + encoding + " ignored: the body is sent as UTF-8");
    }
    if (bool_prop(el, "HTTPSampler.postBodyRaw", false)) {
      std::string body;
      for (const auto& a : args) body += a.value;
      if (!args.empty()) s.body = compile_used(args[0].node, path, "body", body);
    } else if (!args.empty()) {
      // Each pair rendered then percent-encoded when "URL encode?" is ticked, as JMeter does.
      std::string encoded;
      for (const auto& a : args) {
        if (!encoded.empty()) encoded += '&';
        std::string name;
        if (a.encode) {
          append_url_encoded(a.name, name);
        } else {
          name = a.name;
        }
        encoded += name + "=" + (a.encode ? url_encode_template(a.value) : a.value);
      }
      if (body_method) {
        bool all_encoded =
            std::all_of(args.begin(), args.end(), [](const Arg& a) { return a.encode; });
        if (all_encoded) {
          for (const auto& a : args) {
            s.form.emplace_back(a.name, compile_used(a.node, path, "argument " + a.name, a.value));
          }
        } else {
          s.body = compile_used(arg_list, path, "form body", encoded);
          if (!scoped.header_names.contains("content-type")) {
            s.headers.push_back(
                {"Content-Type", Template::literal("application/x-www-form-urlencoded")});
          }
        }
      } else {
        url += (url.find('?') == std::string::npos ? "?" : "&") + encoded;
      }
    }
    s.url = compile_used(el, path, "URL", url);
    if (!bool_prop(el, "HTTPSampler.use_keepalive", true)) {
      s.headers.push_back({"Connection", Template::literal("close")});
    }
    long long response_timeout =
        number(owner_of("HTTPSampler.response_timeout"), path, "HTTPSampler.response_timeout",
               "response timeout", 0, Unresolved::kZero);
    if (response_timeout > 0) s.idle_timeout = Millis(response_timeout);
    classify_response(s, url, s.body.source());
    s.extractors = scoped.extractors;
    s.assertions = scoped.assertions;
    s.use_cookies = scoped.cookies;
    for (const auto& t : scoped.timers) steps.push_back(Step{t});
    steps.push_back(Step{std::move(s)});
  }

  void check_sampler_flags(pugi::xml_node el, const std::string& path) const {
    for (const char* flag : kRefusedSamplerFlags) {
      if (bool_prop(el, flag, false)) {
        fail(prop_node(el, flag), path,
             std::string(flag) +
                 " is not supported (embedded resources and multipart bodies); untick it");
      }
    }
  }

  // JMeter's Flow Control Action. Real plans use it as a think-time pause: its own duration,
  // after the timers in its scope (usually a random timer under it).
  void read_flow_control_action(pugi::xml_node el, pugi::xml_node tree, std::vector<Step>& steps,
                                Scoped scoped, const std::string& path) {
    long long action =
        std::strtoll(trim(prop(el, "ActionProcessor.action", "1")).c_str(), nullptr, 10);
    if (action != 1) {
      fail(prop_node(el, "ActionProcessor.action"), path,
           "only the Pause action of a Flow Control Action is supported (action " +
               std::to_string(action) +
               "); for stop or next-loop use the thread group's action after a sampler error");
    }
    for (const auto& [child, sub] : pairs(tree)) {
      if (!enabled(child)) continue;
      problems_.attempt([&, child = child] {
        std::string child_path = path + "/" + element_name(child);
        std::string_view tag = child.name();
        if (tag != "ConstantTimer" && tag != "UniformRandomTimer") {
          fail(child, child_path,
               "a " + std::string(tag) +
                   " under a Flow Control Action has no effect here; only timers are read");
        }
        read_scoped(child, child_path, scoped);
      });
    }
    for (const auto& t : scoped.timers) steps.push_back(Step{t});
    Timer pause;
    pause.delay = Millis(
        number(el, path, "ActionProcessor.duration", "pause duration", 0, Unresolved::kZero));
    if (pause.delay.count() < 0) fail(el, path, "a pause cannot be negative");
    if (pause.delay.count() > 0) steps.push_back(Step{pause});
  }

  // JMeter's HTTP Cookie Manager: each virtual user keeps its own cookies for the samplers in
  // the manager's scope. User-defined cookies are every user's starting set.
  void read_cookie_manager(pugi::xml_node el, const std::string& path, bool plan_level,
                           Scoped& scoped) {
    std::string policy = lower(trim(prop(el, "CookieManager.policy", "standard")));
    if (policy == "ignorecookies") {
      scoped.cookies = false;
      return;
    }
    scoped.cookies = true;
    auto& settings = plan_level ? plan_cookies_ : group_cookies_;
    if (!settings) settings.emplace();
    if (bool_prop(el, "CookieManager.controlledByThreadGroup", false)) {
      (plan_level ? plan_cookies_follow_group_ : group_cookies_follow_group_) = true;
    } else if (bool_prop(el, "CookieManager.clearEachIteration", false)) {
      settings->clear_each_iteration = true;
    }
    for (auto c : prop_node(el, "CookieManager.cookies").children()) {
      if (c.type() != pugi::node_element) continue;
      UserCookie cookie;
      cookie.name = trim(c.attribute("name").value());
      if (cookie.name.empty()) cookie.name = trim(c.attribute("testname").value());
      if (cookie.name.empty()) fail(c, path, "a user-defined cookie has no name");
      cookie.value = compile_used(c, path, "cookie " + cookie.name, prop(c, "Cookie.value"));
      cookie.domain = lower(trim(prop(c, "Cookie.domain")));
      for (std::string_view scheme : {"http://", "https://"}) {
        if (cookie.domain.starts_with(scheme)) cookie.domain.erase(0, scheme.size());
      }
      if (cookie.domain.starts_with('.')) cookie.domain.erase(0, 1);
      cookie.domain = cookie.domain.substr(0, cookie.domain.find_first_of(":/"));
      cookie.path = trim(prop(c, "Cookie.path", "/"));
      if (cookie.path.empty()) cookie.path = "/";
      cookie.secure = bool_prop(c, "Cookie.secure", false);
      // A later cookie of the same name replaces an earlier one, as in JMeter's table.
      auto& list = settings->cookies;
      std::erase_if(list, [&](const UserCookie& u) { return u.name == cookie.name; });
      list.push_back(std::move(cookie));
    }
  }

  // ${__urlencode(value)} with the value's top-level commas and backslashes escaped; a literal
  // value is encoded now.
  static std::string url_encode_template(const std::string& value) {
    if (value.find("${") == std::string::npos) {
      std::string out;
      append_url_encoded(value, out);
      return out;
    }
    std::string escaped;
    int depth = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
      char c = value[i];
      if (c == '$' && i + 1 < value.size() && value[i + 1] == '{') ++depth;
      if (c == '}' && depth > 0) --depth;
      if (depth == 0 && (c == ',' || c == '\\')) escaped += '\\';
      escaped += c;
    }
    return "${__urlencode(" + escaped + ")}";
  }

  // Requests to OpenAI-style operations get token metrics (TTFT, ITL, usage).
  static void classify_response(HttpSampler& s, const std::string& url, const std::string& body) {
    std::string u = lower(url);
    bool openai = u.find("/chat/completions") != std::string::npos ||
                  u.find("/completions") != std::string::npos ||
                  u.find("/embeddings") != std::string::npos ||
                  u.find("/responses") != std::string::npos;
    if (!openai) return;
    s.response = ResponseKind::kOpenAi;
    s.model = literal_after(body, "\"model\"", true);
    if (s.model.empty()) s.model = literal_after(url, "/deployments/", false);
    if (s.model.empty()) s.model = "gpt-4o";
  }

  // The literal text after `key` in `text`: a JSON string value ("model": "x") or a path segment;
  // empty when absent or templated.
  static std::string literal_after(std::string_view text, std::string_view key, bool json) {
    auto pos = text.find(key);
    if (pos == std::string_view::npos) return {};
    text.remove_prefix(pos + key.size());
    if (json) {
      auto colon = text.find_first_not_of(" \t\r\n");
      if (colon == std::string_view::npos || text[colon] != ':') return {};
      auto quote = text.find_first_not_of(" \t\r\n", colon + 1);
      if (quote == std::string_view::npos || text[quote] != '"') return {};
      text.remove_prefix(quote + 1);
    }
    auto end = text.find_first_of(json ? "\"" : "/?");
    if (end == std::string_view::npos) return {};
    std::string value(text.substr(0, end));
    return value.find('$') == std::string::npos ? value : std::string();
  }

  void check_variables() {
    for (const auto& [k, v] : plan_.variables) defined_.insert(k);
    for (const auto& [k, v] : plan_.secrets) defined_.insert(k);
    for (const auto& use : uses_) {
      for (const auto& name : use.names) {
        if (defined_.contains(name)) continue;
        defined_.insert(name);  // one report per name: its first use
        problems_.add(ConfigError(
            location(use.at), use.path,
            use.what + " uses ${" + name +
                "}, which nothing defines (not a user-defined variable, CSV column, extractor "
                "variable, env entry or secret); JMeter would send the text ${" +
                name + "} as is. Define it, or use ${__P(" + name + ")} / ${__env(" + name +
                ")} for a value from the test's env:"));
      }
    }
  }

  std::string source_;
  const PlanContext& ctx_;
  fs::path plan_dir_;
  std::string_view text_;
  CompileScope scope_;
  Plan plan_;
  std::vector<VariableUse> uses_;
  std::set<std::string> defined_;
  bool all_groups_timed_ = true;
  core::ConfigProblems problems_;
  // Cookie managers at the plan level, and those of the group being read (plan's included).
  std::optional<CookieSettings> plan_cookies_, group_cookies_;
  bool plan_cookies_follow_group_ = false, group_cookies_follow_group_ = false;
  int next_pacing_id_ = 0;
};

}  // namespace

Plan compile_jmx_text(std::string_view xml, const std::string& source, const PlanContext& ctx) {
  Reader reader(source, ctx);
  return reader.read(xml);
}

Plan compile_jmx_plan(const PlanContext& ctx) {
  std::ifstream in(ctx.plan_path, std::ios::binary);
  if (!in) throw ConfigError({ctx.plan_path.string(), 0, 0}, "", "cannot open the JMeter plan");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  return compile_jmx_text(text, ctx.plan_path.string(), ctx);
}

}  // namespace sluice::loadgen::jmx
