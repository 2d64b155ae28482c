#include "sluice/loadgen/test_definition.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <mutex>
#include <sstream>

#include <boost/json.hpp>

#include "jmx/jmx_reader.hpp"
#include "openai_response.hpp"
#include "sluice/core/config.hpp"
#include "sluice/core/config_problems.hpp"
#include "sluice/core/duration.hpp"
#include "sluice/core/logging.hpp"
#include "sluice/loadgen/extractor.hpp"

namespace sluice::loadgen {
namespace fs = std::filesystem;
using core::ConfigError;
using core::ConfigNode;

namespace {

struct CompilerEntry {
  std::string test_type;
  std::string extension;
  PlanCompiler compiler;
};
std::mutex& registry_mu() {
  static std::mutex mu;
  return mu;
}
std::vector<CompilerEntry>& registry() {
  // JMeter plans are read by the built-in JMX reader (jmx/); other formats register at startup.
  static std::vector<CompilerEntry> entries{{"JMX", ".jmx", jmx::compile_jmx_plan}};
  return entries;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const CompilerEntry* find_compiler(const std::string& test_type, const std::string& extension) {
  std::lock_guard lock(registry_mu());
  for (const auto& e : registry()) {
    if ((!test_type.empty() && lower(e.test_type) == lower(test_type)) ||
        (!extension.empty() && lower(e.extension) == lower(extension))) {
      return &e;
    }
  }
  return nullptr;
}

// Test-variable placeholders (${name}, ${__fn(..)}) are resolved later, per virtual user; the
// config loader would reject them as unknown substitutions, so they are escaped as "$${" first.
// ${env:..} and ${file:..} stay load-time substitutions.
std::string escape_test_placeholders(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{' &&
        (i == 0 || text[i - 1] != '$')) {
      auto rest = text.substr(i + 2);
      if (!rest.starts_with("env:") && !rest.starts_with("file:")) out += '$';
    }
    out += text[i];
  }
  return out;
}

// Resolves ${name} in load-time values (counts, durations, URLs) from env entries and secrets.
class TestScope final : public VarScope {
 public:
  std::map<std::string, std::string, std::less<>> values;
  std::map<std::string, std::string, std::less<>> secrets;
  const std::string* find(std::string_view name) const override {
    if (auto it = values.find(name); it != values.end()) return &it->second;
    if (auto it = secrets.find(name); it != secrets.end()) return &it->second;
    return nullptr;
  }
  std::mt19937_64& rng() override { return rng_; }
  const std::string* secret(std::string_view name) const override {
    auto it = secrets.find(name);
    return it == secrets.end() ? nullptr : &it->second;
  }

 private:
  std::mt19937_64 rng_{1};
};

std::string resolved_text(const ConfigNode& node, TestScope& scope) {
  if (!node.is_scalar()) node.fail("expected a single value, got " + node.describe());
  auto t = Template::compile(node.scalar());
  if (!t) node.fail(t.error().message);
  auto r = t->render(scope);
  if (!r) node.fail(r.error().message + " (define it under env: or secrets:, or pass --env)");
  return *r;
}

long long read_int(const ConfigNode& node, TestScope& scope, long long min, long long max) {
  std::string text = resolved_text(node, scope);
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end) node.fail("expected an integer, got \"" + text + "\"");
  if (v < min || v > max) {
    node.fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
              text);
  }
  return v;
}

double read_double(const ConfigNode& node, TestScope& scope) {
  std::string text = resolved_text(node, scope);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end) node.fail("expected a number, got \"" + text + "\"");
  return v;
}

Millis read_duration(const ConfigNode& node, TestScope& scope) {
  std::string text = resolved_text(node, scope);
  auto d = core::parse_duration(text);
  if (!d) node.fail("\"" + text + "\" is not a duration: " + d.error().message);
  return std::chrono::duration_cast<Millis>(*d);
}

bool read_bool(const ConfigNode& node, TestScope& scope) {
  std::string text = lower(resolved_text(node, scope));
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  node.fail("expected true or false, got \"" + text + "\"");
}

Template read_template(const ConfigNode& node, Escape escape = Escape::kNone) {
  if (!node.is_scalar()) node.fail("expected a text value, got " + node.describe());
  auto t = Template::compile(node.scalar(), escape);
  if (!t) node.fail(t.error().message);
  return std::move(*t);
}

std::string location(const ConfigNode& node) {
  return node.location().to_string();
}

// A YAML subtree as JSON; scalars that look like numbers, booleans or null become those.
boost::json::value to_json(const ConfigNode& node) {
  if (node.is_mapping()) {
    boost::json::object o;
    for (const auto& [k, v] : node.entries()) o[k] = to_json(v);
    return o;
  }
  if (node.is_sequence()) {
    boost::json::array a;
    for (const auto& item : node.items()) a.push_back(to_json(item));
    return a;
  }
  if (node.is_null()) return nullptr;
  const std::string& s = node.scalar();
  if (s == "true") return true;
  if (s == "false") return false;
  if (s == "null") return nullptr;
  if (!s.empty()) {
    char* end = nullptr;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (*end == 0 && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-')) return i;
    double d = std::strtod(s.c_str(), &end);
    if (*end == 0 && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-')) return d;
  }
  return boost::json::string(s);
}

std::string join_url(std::string base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + std::string(path);
}

std::vector<std::pair<std::string, std::string>> read_name_values(const ConfigNode& list,
                                                                  const char* what) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : list.items()) {
    if (!item.is_mapping()) item.fail(std::string(what) + " entries are {name: ..., value: ...}");
    std::string name = item.required<std::string>("name");
    std::string value;
    if (auto v = item.find("value"); v && !v->is_null()) value = v->scalar();
    item.finish();
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

void read_criteria(const ConfigNode& node, TestDefinition& def) {
  auto add = [&](const ConfigNode& at, const std::string& text) {
    auto c = parse_criterion(text);
    if (!c) at.fail(c.error().message);
    def.criteria.push_back(std::move(*c));
  };
  auto read_list = [&](const ConfigNode& list) {
    for (const auto& item : list.items()) {
      if (item.is_scalar()) {
        add(item, item.scalar());
      } else if (item.is_mapping() && item.keys().size() == 1) {
        // "GetCustomerDetails: avg(latency) > 200" parses as a one-key YAML mapping.
        auto entries = item.entries();
        if (!entries[0].second.is_scalar())
          item.fail("expected \"Request: aggregate(metric) op value\"");
        add(item, entries[0].first + ": " + entries[0].second.scalar());
      } else {
        item.fail("expected a criterion such as \"percentage(error) > 5\"");
      }
    }
  };
  if (node.is_mapping()) {
    if (auto c = node.find("clientMetrics")) read_list(*c);
    if (node.has("serverMetrics")) {
      node.fail_at("serverMetrics",
                   "server-metric criteria (Azure Monitor) are not supported; scrape the server "
                   "with serverMetrics: and use client-side criteria");
    }
    node.finish();
  } else {
    read_list(node);
  }
}

fs::path find_data_file(const ConfigNode& node, const std::string& given, const fs::path& base,
                        const std::vector<std::string>& configuration_files) {
  fs::path p(given);
  if (p.is_relative()) p = (base / p).lexically_normal();  // no "./x/./y.csv" in messages
  if (fs::exists(p)) return p;
  // Azure Load Testing drops configuration files next to the plan: a bare name finds them there.
  for (const auto& f : configuration_files) {
    fs::path candidate = (base / f).lexically_normal();
    if (candidate.filename() == fs::path(given).filename() && fs::exists(candidate))
      return candidate;
  }
  node.fail("data set file " + p.string() + " does not exist");
}

void read_dataset(const ConfigNode& node, TestDefinition& def, const fs::path& base,
                  const std::vector<std::string>& configuration_files, TestScope& scope) {
  DataSetSpec spec;
  auto path_node = node.find("path");
  if (!path_node) node.fail("a dataset needs `path`");
  std::string given = resolved_text(*path_node, scope);
  spec.path = find_data_file(*path_node, given, base, configuration_files).string();
  spec.name = fs::path(given).filename().string();
  spec.declared_at = location(*path_node);
  if (auto v = node.find("variables")) {
    if (v->is_scalar()) {
      std::stringstream ss(v->scalar());
      std::string name;
      while (std::getline(ss, name, ',')) {
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(' ') + 1);
        if (name.empty()) v->fail("empty variable name in the list");
        spec.variables.push_back(name);
      }
    } else {
      spec.variables = v->as<std::vector<std::string>>();
    }
  }
  if (auto h = node.find("header")) spec.header = read_bool(*h, scope);
  if (auto d = node.find("delimiter")) {
    std::string text = d->scalar();
    if (text == "\\t" || text == "tab") text = "\t";
    if (text.size() != 1) d->fail("the delimiter must be one character (or \\t)");
    spec.delimiter = text[0];
  }
  if (auto q = node.find("quoted")) spec.quoted = read_bool(*q, scope);
  if (auto r = node.find("recycle")) spec.recycle = read_bool(*r, scope);
  if (auto s = node.find("stopAtEnd")) spec.stop_thread_at_end = read_bool(*s, scope);
  spec.share = node.optional_choice<ShareMode>("share",
                                               {{"all", ShareMode::kAllThreads},
                                                {"group", ShareMode::kGroup},
                                                {"thread", ShareMode::kThread}},
                                               ShareMode::kAllThreads);
  spec.split_across_engines = def.split_all_csvs;
  if (auto s = node.find("split")) spec.split_across_engines = read_bool(*s, scope);
  if (spec.variables.empty() && !spec.header) {
    node.fail(
        "give the column names in `variables`, or set `header: true` to read them from the "
        "first line");
  }
  node.finish();
  // Parse now so a malformed row is reported before the run, with the file and line.
  DataSetSpec check = spec;
  check.declared_at.clear();  // the ConfigError below names the place
  auto loaded = load_data_set(check);
  if (!loaded) throw ConfigError(path_node->location(), path_node->path(), loaded.error().message);
  def.plan.data_sets.push_back(std::move(spec));
}

void compile_native(const ConfigNode& root, TestDefinition& def, const fs::path& base,
                    const std::vector<std::string>& configuration_files, TestScope& scope,
                    const LoadOverrides& overrides) {
  // --- target
  auto target = root.section("target");
  if (target.is_absent())
    root.fail("a native test needs a `target:` section (endpoint, deployment)");
  std::string endpoint = resolved_text(target.required<ConfigNode>("endpoint"), scope);
  if (!http::parse_url(endpoint)) {
    target.fail_at("endpoint", "\"" + endpoint + "\" is not an http(s) URL");
  }
  std::string deployment;
  if (auto d = target.find("deployment")) deployment = resolved_text(*d, scope);
  enum class Style { kAzure, kOpenAi };
  Style style =
      target.optional_choice<Style>("style", {{"azure", Style::kAzure}, {"openai", Style::kOpenAi}},
                                    deployment.empty() ? Style::kOpenAi : Style::kAzure);
  std::string api_version = "2024-10-21";
  if (auto v = target.find("apiVersion")) api_version = resolved_text(*v, scope);
  std::string model = deployment;
  if (auto m = target.find("model")) model = resolved_text(*m, scope);
  std::string operation = target.optional_choice<std::string>(
      "operation",
      {{"chat", "chat/completions"}, {"completions", "completions"}, {"embeddings", "embeddings"}},
      "chat/completions");
  std::string url;
  if (auto p = target.find("path")) {
    url = join_url(endpoint, resolved_text(*p, scope));
  } else if (style == Style::kAzure) {
    if (deployment.empty()) target.fail("style azure needs `deployment`");
    url = join_url(endpoint, "/openai/deployments/" + deployment + "/" + operation +
                                 "?api-version=" + api_version);
  } else {
    std::string e = endpoint;
    while (!e.empty() && e.back() == '/') e.pop_back();
    url = e.ends_with("/v1") ? e + "/" + operation : e + "/v1/" + operation;
  }
  Millis timeout = target.has("timeout")
                       ? read_duration(target.required<ConfigNode>("timeout"), scope)
                       : Millis(120'000);
  Millis idle = target.has("idleTimeout")
                    ? read_duration(target.required<ConfigNode>("idleTimeout"), scope)
                    : Millis(60'000);
  std::vector<Header> headers;
  if (auto h = target.find("headers")) {
    for (const auto& [name, value] : h->entries()) headers.push_back({name, read_template(value)});
  }
  target.finish();

  // --- request
  auto request = root.section("request");
  HttpSampler chat;
  chat.label = request.optional<std::string>("label", "chat");
  chat.method = request.optional<std::string>("method", "POST");
  chat.url = Template::literal(url);
  chat.response = request.optional_choice<ResponseKind>(
      "response", {{"openai", ResponseKind::kOpenAi}, {"plain", ResponseKind::kPlain}},
      ResponseKind::kOpenAi);
  chat.model = model.empty() ? "gpt-4o" : model;
  chat.timeout = timeout;
  chat.idle_timeout = idle;
  chat.headers = headers;
  if (auto rh = request.find("headers")) {
    for (const auto& [name, value] : rh->entries())
      chat.headers.push_back({name, read_template(value)});
  }
  if (auto r = request.find("retries")) {
    if (r->is_scalar()) {
      chat.max_retries = static_cast<int>(read_int(*r, scope, 0, 100));
    } else {
      if (auto m = r->find("max")) chat.max_retries = static_cast<int>(read_int(*m, scope, 0, 100));
      if (auto b = r->find("backoff")) chat.retry_backoff = read_duration(*b, scope);
      if (auto on = r->find("on")) chat.retry_on = on->as<std::vector<int>>();
      r->finish();
    }
  }

  // --- synthetic prompts (an in-memory data set with one column)
  if (auto syn = root.find("syntheticPrompt"); syn && !syn->is_null()) {
    int tokens =
        static_cast<int>(read_int(syn->required<ConfigNode>("tokens"), scope, 1, 1'000'000));
    int count =
        syn->has("count")
            ? static_cast<int>(read_int(syn->required<ConfigNode>("count"), scope, 1, 100'000))
            : 64;
    std::string variable = syn->optional<std::string>("variable", "prompt");
    std::string syn_model = syn->optional<std::string>("model", chat.model);
    syn->finish();
    DataSetSpec spec;
    spec.name = "syntheticPrompt";
    spec.variables = {variable};
    spec.declared_at = location(*syn);
    spec.split_across_engines = def.split_all_csvs;
    for (int i = 0; i < count; ++i) {
      spec.inline_rows.push_back(
          {synthetic_prompt(tokens, syn_model, static_cast<std::uint64_t>(i))});
    }
    def.plan.data_sets.push_back(std::move(spec));
  }
  bool has_dataset = false;
  for (const char* key : {"dataset", "data"}) {
    if (auto ds = root.find(key); ds && !ds->is_null()) {
      if (has_dataset) ds->fail("give either `dataset` or `data`, not both");
      has_dataset = true;
      if (ds->is_sequence()) {
        for (const auto& item : ds->items())
          read_dataset(item, def, base, configuration_files, scope);
      } else {
        read_dataset(*ds, def, base, configuration_files, scope);
      }
    }
  }

  if (auto raw = request.find("body")) {
    for (const char* k :
         {"messages", "prompt", "max_tokens", "stream", "stream_options", "extra"}) {
      if (request.has(k))
        request.fail_at(k, std::string("`") + k + "` cannot be combined with `body`");
    }
    chat.body = read_template(*raw, Escape::kJson);
  } else {
    boost::json::object body;
    if (auto msgs = request.find("messages")) {
      boost::json::array list;
      for (const auto& m : msgs->items()) {
        if (!m.is_mapping()) m.fail("a message is {role: ..., content: ...}");
        boost::json::object o;
        o["role"] = m.required<std::string>("role");
        auto content = m.required<ConfigNode>("content");
        if (!content.is_scalar()) content.fail("content must be text");
        if (auto t = Template::compile(content.scalar()); !t) content.fail(t.error().message);
        o["content"] = content.scalar();
        if (auto n = m.find("name")) o["name"] = n->scalar();
        m.finish();
        list.push_back(std::move(o));
      }
      body["messages"] = std::move(list);
    } else if (auto p = request.find("prompt")) {
      body["prompt"] = p->scalar();
    } else if (operation == "embeddings") {
      body["input"] = request.optional<std::string>("input", "${prompt}");
    } else {
      if (def.plan.data_sets.empty()) {
        request.fail(
            "give `messages` (or `prompt`, or `body`), or a dataset / syntheticPrompt "
            "whose `prompt` column becomes the user message");
      }
      boost::json::object user;
      user["role"] = "user";
      user["content"] = "${" + def.plan.data_sets.front().variables.front() + "}";
      body["messages"] = boost::json::array{user};
    }
    if (style == Style::kOpenAi) body["model"] = chat.model;
    if (auto mt = request.find("max_tokens"))
      body["max_tokens"] = read_int(*mt, scope, 1, 10'000'000);
    if (auto t = request.find("temperature")) body["temperature"] = read_double(*t, scope);
    bool stream = request.has("stream") && read_bool(request.required<ConfigNode>("stream"), scope);
    if (stream) body["stream"] = true;
    if (auto so = request.find("stream_options")) {
      if (!stream) so->fail("stream_options needs stream: true");
      body["stream_options"] = to_json(*so);
    }
    if (auto extra = request.find("extra")) {
      if (!extra->is_mapping()) extra->fail("extra holds more request fields as a mapping");
      for (const auto& [k, v] : extra->entries()) body[k] = to_json(v);
    }
    // Strings keep their ${...} text through serialisation; the whole body is then one template
    // whose substituted values are JSON-escaped.
    auto t = Template::compile(boost::json::serialize(body), Escape::kJson);
    if (!t) request.fail(t.error().message);
    chat.body = std::move(*t);
  }
  request.finish();

  // --- auth
  ThreadGroup group;
  group.name = def.test_id.empty() ? "Thread Group" : def.test_id;
  auto auth = root.section("auth");
  std::string type =
      auth.is_absent()
          ? "none"
          : auth.optional_choice<std::string>(
                "type", {{"entra", "entra"}, {"apiKey", "apiKey"}, {"none", "none"}}, "none");
  if (type == "apiKey") {
    std::string header =
        auth.optional<std::string>("header", style == Style::kAzure ? "api-key" : "Authorization");
    auto key = auth.required<ConfigNode>("key");
    std::string key_text = key.scalar();
    if (lower(header) == "authorization" && !key_text.starts_with("Bearer "))
      key_text = "Bearer " + key_text;
    auto t = Template::compile(key_text);
    if (!t) key.fail(t.error().message);
    chat.headers.push_back({header, std::move(*t)});
  } else if (type == "entra") {
    auto tenant = auth.required<ConfigNode>("tenantId");
    std::string tenant_text = resolved_text(tenant, scope);
    bool has_scope = auth.has("scope"), has_resource = auth.has("resource");
    if (has_scope == has_resource) {
      auth.fail(
          "give `scope` (v2 token endpoint, e.g. https://cognitiveservices.azure.com/.default) "
          "or `resource` (v1, e.g. https://cognitiveservices.azure.com), not both or neither");
    }
    std::string authority = "https://login.microsoftonline.com";
    if (auto a = auth.find("authority")) authority = resolved_text(*a, scope);
    std::string token_url = join_url(
        authority, "/" + tenant_text + (has_scope ? "/oauth2/v2.0/token" : "/oauth2/token"));
    if (auto e = auth.find("tokenEndpoint")) token_url = resolved_text(*e, scope);
    if (!http::parse_url(token_url))
      auth.fail("token endpoint \"" + token_url + "\" is not an http(s) URL");
    HttpSampler token;
    token.label = auth.optional<std::string>("label", "entra token");
    token.method = "POST";
    token.url = Template::literal(token_url);
    token.timeout = Millis(30'000);
    token.record = auth.optional<bool>("record", true);
    token.form.push_back({"grant_type", Template::literal("client_credentials")});
    token.form.push_back({"client_id", read_template(auth.required<ConfigNode>("clientId"))});
    token.form.push_back(
        {"client_secret", read_template(auth.required<ConfigNode>("clientSecret"))});
    if (has_scope) {
      token.form.push_back({"scope", read_template(auth.required<ConfigNode>("scope"))});
    } else {
      token.form.push_back({"resource", read_template(auth.required<ConfigNode>("resource"))});
    }
    token.extractors.push_back(
        {Extractor::kJsonPath, "access_token", "$.access_token", 1, 1, std::nullopt});
    token.extractors.push_back(
        {Extractor::kJsonPath, "access_token_expires_in", "$.expires_in", 1, 1, std::string("0")});
    token.assertions.push_back({Assertion::kStatusIn, {200}, ""});
    // A 200 that is not a token (a captive proxy, a wrong endpoint) must fail here, not later.
    token.assertions.push_back({Assertion::kBodyContains, {}, "\"access_token\""});
    OnceOnly once;
    once.refresh_expires_in_var = "access_token_expires_in";
    if (auto r = auth.find("refreshBefore")) {
      once.refresh_margin =
          std::chrono::duration_cast<std::chrono::seconds>(read_duration(*r, scope));
    }
    once.steps.push_back(Step{std::move(token)});
    group.steps.push_back(Step{std::move(once)});
    chat.headers.push_back({"Authorization", *Template::compile("Bearer ${access_token}")});
  }
  if (!auth.is_absent()) auth.finish();
  group.steps.push_back(Step{std::move(chat)});

  // --- load
  auto load = root.section("load");
  if (load.is_absent())
    root.fail("a native test needs a `load:` section (virtualUsers, loops or duration)");
  group.on_error = load.optional_choice<OnError>("onError",
                                                 {{"continue", OnError::kContinue},
                                                  {"startNextLoop", OnError::kStartNextLoop},
                                                  {"stopThread", OnError::kStopThread},
                                                  {"stopTest", OnError::kStopTest},
                                                  {"stopTestNow", OnError::kStopTestNow}},
                                                 OnError::kContinue);
  std::optional<Millis> duration;
  if (auto d = load.find("duration")) duration = read_duration(*d, scope);
  if (overrides.duration) duration = overrides.duration;
  Millis delay{0};
  if (auto d = load.find("startDelay")) delay = read_duration(*d, scope);
  if (auto rate = load.find("arrivalRate")) {
    OpenLoad open;
    open.rate_per_second = read_double(*rate, scope);
    if (!(open.rate_per_second > 0)) rate->fail("the arrival rate (per second) must be positive");
    open.poisson =
        load.optional_choice<bool>("arrival", {{"constant", false}, {"poisson", true}}, false);
    if (auto c = load.find("maxConcurrency"))
      open.max_concurrency = static_cast<int>(read_int(*c, scope, 1, 10'000'000));
    if (overrides.vus) open.max_concurrency = *overrides.vus;
    if (auto q = load.find("maxQueued"))
      open.max_queued = static_cast<std::size_t>(read_int(*q, scope, 0, 100'000'000));
    if (!duration) load.fail("an arrival-rate load needs a `duration`");
    for (const char* k : {"virtualUsers", "vus", "rampUp", "loops"}) {
      if (load.has(k))
        load.fail_at(k, std::string("`") + k +
                            "` is for virtual-user load; with arrivalRate use maxConcurrency");
    }
    open.duration = *duration;
    open.start_delay = delay;
    group.load = open;
  } else {
    ClosedLoad closed;
    bool has_vus = false;
    for (const char* k : {"virtualUsers", "vus"}) {
      if (auto v = load.find(k)) {
        if (has_vus) v->fail("give virtualUsers once");
        closed.vus = static_cast<int>(read_int(*v, scope, 1, 10'000'000));
        has_vus = true;
      }
    }
    if (overrides.vus) closed.vus = *overrides.vus;
    if (auto r = load.find("rampUp")) closed.ramp_up = read_duration(*r, scope);
    if (auto l = load.find("loops")) {
      closed.loops = static_cast<int>(read_int(*l, scope, -1, 1'000'000'000));
      if (closed.loops == 0)
        l->fail("loops must be positive, or -1 to repeat until the duration ends");
    } else if (duration) {
      closed.loops = -1;
    }
    if (auto t = load.find("thinkTime")) closed.think_time = read_duration(*t, scope);
    closed.duration = duration;
    closed.start_delay = delay;
    if (closed.loops == -1 && !duration) load.fail("loops: -1 needs a `duration`");
    group.load = closed;
  }
  load.finish();
  if (duration) def.plan.max_duration = delay + *duration;
  def.plan.groups.push_back(std::move(group));

  // --- server-side metrics
  if (auto sm = root.find("serverMetrics")) {
    for (const auto& item : sm->items()) {
      ScrapeTarget t;
      t.url = resolved_text(item.required<ConfigNode>("url"), scope);
      if (!http::parse_url(t.url)) item.fail_at("url", "\"" + t.url + "\" is not an http(s) URL");
      t.name = item.optional<std::string>("name", t.url);
      if (auto i = item.find("interval")) t.interval = read_duration(*i, scope);
      if (t.interval.count() < 100) item.fail_at("interval", "scrape at most 10 times a second");
      if (auto m = item.find("metrics")) t.metrics = m->as<std::vector<std::string>>();
      if (auto m = item.find("maxSeries"))
        t.max_series = static_cast<std::size_t>(read_int(*m, scope, 1, 10'000));
      item.finish();
      def.server_metrics.push_back(std::move(t));
    }
  }
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path.string(), 0, 0}, "", "cannot open the test file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void apply_overrides_to_plan(Plan& plan, const LoadOverrides& o) {
  for (auto& g : plan.groups) {
    if (auto* c = std::get_if<ClosedLoad>(&g.load)) {
      if (o.vus) c->vus = *o.vus;
      if (o.duration) {
        c->duration = *o.duration;
        if (c->loops != -1) c->loops = -1;
      }
    } else {
      auto& op = std::get<OpenLoad>(g.load);
      if (o.vus) op.max_concurrency = *o.vus;
      if (o.duration) op.duration = *o.duration;
    }
  }
  if (o.duration) plan.max_duration = *o.duration;
}

}  // namespace

void register_plan_compiler(std::string test_type, std::string extension, PlanCompiler compiler) {
  std::lock_guard lock(registry_mu());
  registry().push_back({std::move(test_type), std::move(extension), std::move(compiler)});
}

std::map<std::string, std::string> read_secrets_file(const fs::path& path) {
  std::string text = read_text_file(path);
  std::map<std::string, std::string> out;
  // KEY=VALUE lines unless it reads as a YAML mapping ("key: value").
  bool env_style = text.find('=') != std::string::npos &&
                   (text.find(':') == std::string::npos || text.find('=') < text.find(':'));
  if (env_style) {
    std::stringstream ss(text);
    std::string line;
    int n = 0;
    while (std::getline(ss, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') continue;
      auto eq = line.find('=');
      if (eq == std::string::npos) {
        throw ConfigError({path.string(), n, 1}, "", "expected KEY=VALUE");
      }
      std::string key = line.substr(first, eq - first);
      while (!key.empty() && key.back() == ' ') key.pop_back();
      if (key.starts_with("export ")) key = key.substr(7);
      std::string value = line.substr(eq + 1);
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
          value.back() == value.front()) {
        value = value.substr(1, value.size() - 2);
      }
      out[key] = value;
    }
    return out;
  }
  auto root =
      core::load_config_string(escape_test_placeholders(text), path.string(), path.parent_path());
  for (const auto& [k, v] : root.entries()) out[k] = v.scalar();
  return out;
}

std::optional<std::string> resolve_secret(const std::string& name, const std::string& declared,
                                          const LoadOverrides& o, std::string* error) {
  std::optional<std::string> env;
  if (o.getenv) {
    env = o.getenv(name);
  } else if (const char* v = std::getenv(name.c_str())) {
    env = std::string(v);
  }
  if (env) return env;
  if (auto it = o.secrets_file.find(name); it != o.secrets_file.end()) return it->second;
  if (declared.starts_with("file:")) {
    std::ifstream in(declared.substr(5), std::ios::binary);
    if (!in) {
      if (error) *error = "secret " + name + ": cannot read " + declared.substr(5);
      return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string value = ss.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
  }
  if (declared.find(".vault.azure.net") != std::string::npos || declared.starts_with("https://")) {
    if (error) {
      *error = "secret " + name + " refers to Key Vault (" + declared +
               "), which cannot be read offline: set the environment variable " + name +
               ", or put " + name + "=... in a file passed with --secrets-file";
    }
    return std::nullopt;
  }
  if (declared.empty()) {
    if (error) {
      *error = "secret " + name + " has no value: set the environment variable " + name +
               " or pass --secrets-file";
    }
    return std::nullopt;
  }
  return declared;
}

std::string synthetic_prompt(int tokens, const std::string& model, std::uint64_t seed) {
  static constexpr const char* kWords[] = {
      "the",   "quick",  "brown", "fox",    "jumps",  "over",  "lazy",   "dog",    "river",
      "stone", "market", "cloud", "signal", "garden", "paper", "light",  "window", "train",
      "music", "table",  "green", "orange", "silver", "north", "winter", "coffee", "bridge"};
  const auto& enc = detail::encoding_for_model(model);
  std::mt19937_64 rng(seed * 7919 + 17);
  std::string text;
  std::size_t count = 0;
  // Each common English word with a leading space is one token in cl100k/o200k; the final check
  // trims or pads so the count is exact even if a pair merges.
  while (static_cast<int>(count) < tokens) {
    std::string next = text + (text.empty() ? "" : " ") + kWords[rng() % std::size(kWords)];
    std::size_t n = enc.count(next);
    if (static_cast<int>(n) > tokens) break;
    text = std::move(next);
    count = n;
  }
  while (static_cast<int>(enc.count(text)) < tokens) text += ".";
  return text;
}

TestDefinition load_test_definition(const fs::path& path, const LoadOverrides& overrides) {
  TestDefinition def;
  def.source = path.string();
  fs::path base = path.parent_path();
  if (base.empty()) base = ".";

  if (const auto* compiler = find_compiler("", path.extension().string());
      compiler && lower(path.extension().string()) != ".yaml" &&
      lower(path.extension().string()) != ".yml") {
    PlanContext ctx;
    ctx.plan_path = path;
    ctx.base_dir = base;
    ctx.env = overrides.env;
    ctx.overrides = overrides;
    def.test_type = compiler->test_type;
    def.test_id = path.stem().string();
    def.display_name = def.test_id;
    def.plan = compiler->compiler(ctx);
    apply_overrides_to_plan(def.plan, overrides);
    auto valid = validate_plan(def.plan);
    if (!valid) throw ConfigError({def.source, 0, 0}, "", valid.error().message);
    return def;
  }

  std::string ext = lower(path.extension().string());
  if (ext != ".yaml" && ext != ".yml" && ext != ".json" && !ext.empty()) {
    throw ConfigError(
        {path.string(), 0, 0}, "",
        "no reader for " + ext + " files here; give a YAML test file" +
            (ext == ".jmx" ? " (JMeter plans need the JMX reader, testType: JMX)" : std::string()));
  }
  std::string text = read_text_file(path);
  core::LoadOptions options;
  options.env = overrides.getenv;
  ConfigNode root =
      core::load_config_string(escape_test_placeholders(text), path.string(), base, options);
  if (!root.is_mapping()) root.fail("a test file is a YAML mapping (testId, load, ...)");

  root.ignore("version");
  bool has_id = false;
  for (const char* key : {"testId", "test_id", "testName"}) {
    if (auto v = root.find(key)) {
      if (has_id) v->fail("give the test id once (testId or test_id)");
      def.test_id = v->scalar();
      has_id = true;
    }
  }
  if (def.test_id.empty()) def.test_id = path.stem().string();
  def.display_name = root.optional<std::string>("displayName", def.test_id);
  def.description = root.optional<std::string>("description", "");
  def.test_type = root.optional<std::string>("testType", "sluice");
  if (auto e = root.find("engineInstances")) {
    def.engine_instances = static_cast<int>(e->as<int>());
    if (def.engine_instances < 1 || def.engine_instances > 400)
      e->fail("engineInstances must be 1..400");
  }
  def.split_all_csvs = root.optional<bool>("splitAllCSVs", false);
  // Missing files and secrets, and the plan's own problems, are reported together.
  core::ConfigProblems problems;
  std::vector<std::string> configuration_files;
  if (auto c = root.find("configurationFiles")) {
    configuration_files = c->as<std::vector<std::string>>();
    auto items = c->items();
    for (std::size_t i = 0; i < configuration_files.size() && i < items.size(); ++i) {
      const auto& f = configuration_files[i];
      if (!fs::exists(base / f)) {
        problems.attempt([&] {
          items[i].fail("configuration file " + (base / f).lexically_normal().string() +
                        " does not exist");
        });
      }
    }
  }
  if (auto f = root.find("failureCriteria")) read_criteria(*f, def);
  if (auto a = root.find("autoStop"); a && !a->is_null()) {
    if (a->is_scalar()) {
      std::string v = lower(a->scalar());
      if (v == "disable" || v == "false") {
        def.auto_stop.enabled = false;
      } else {
        a->fail("autoStop is `disable` or {errorPercentage: N, timeWindow: SECONDS}");
      }
    } else {
      def.auto_stop.error_percentage = a->optional<double>("errorPercentage", 90.0);
      if (def.auto_stop.error_percentage <= 0 || def.auto_stop.error_percentage > 100) {
        a->fail_at("errorPercentage", "must be in (0, 100]");
      }
      if (auto w = a->find("timeWindow")) {
        auto d = core::parse_duration(w->scalar());
        if (!d || *d < std::chrono::seconds(1))
          w->fail("timeWindow is seconds (or a duration >= 1s)");
        def.auto_stop.time_window = std::chrono::duration_cast<std::chrono::seconds>(*d);
      }
      if (auto d = a->find("disable")) def.auto_stop.enabled = !d->as<bool>();
      a->ignore("maximumVirtualUsersPerEngine");
      a->finish();
    }
  }
  TestScope scope;
  if (auto e = root.find("env")) {
    for (auto& [k, v] : read_name_values(*e, "env")) def.plan.variables.emplace_back(k, v);
  }
  for (const auto& [k, v] : overrides.env) {
    auto it = std::find_if(def.plan.variables.begin(), def.plan.variables.end(),
                           [&k = k](const auto& p) { return p.first == k; });
    if (it != def.plan.variables.end()) {
      it->second = v;
    } else {
      def.plan.variables.emplace_back(k, v);
    }
  }
  for (const auto& [k, v] : def.plan.variables) scope.values[k] = v;
  if (auto s = root.find("secrets")) {
    auto items = s->items();
    auto list = read_name_values(*s, "secrets");
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string error;
      auto value = resolve_secret(list[i].first, list[i].second, overrides, &error);
      if (!value) {
        problems.attempt([&] { items[i].fail(error); });
        value = "";  // the plan is still read, without a second report of this secret
      }
      def.plan.secrets.emplace_back(list[i].first, *value);
      scope.secrets[list[i].first] = *value;
    }
  }
  // Azure settings that mean nothing on a local engine.
  for (const char* key : {"keyVaultReferenceIdentity", "keyVaultReferenceIdentityType", "subnetId",
                          "publicIPDisabled", "regionalLoadTestConfig", "referenceIdentities",
                          "certificates", "zipArtifacts"}) {
    if (root.has(key)) {
      core::get_logger("load")->warn("{}: `{}` applies to Azure Load Testing only; ignored",
                                     def.source, key);
    }
    root.ignore(key);
  }

  if (lower(def.test_type) == "sluice" || lower(def.test_type) == "native") {
    def.plan.name = def.display_name;
    problems.attempt(
        [&] { compile_native(root, def, base, configuration_files, scope, overrides); });
    problems.throw_if_any();
  } else {
    const auto* compiler = find_compiler(def.test_type, "");
    if (!compiler) {
      root.fail_at(
          "testType", "testType \"" + def.test_type + "\" is not supported here (use sluice" + [] {
            std::string s;
            std::lock_guard lock(registry_mu());
            for (const auto& e : registry()) s += ", " + e.test_type;
            return s;
          }() + ")");
    }
    auto plan_node = root.required<ConfigNode>("testPlan");
    PlanContext ctx;
    ctx.plan_path = (base / plan_node.scalar()).lexically_normal();
    if (!fs::exists(ctx.plan_path))
      plan_node.fail("test plan " + ctx.plan_path.string() + " does not exist");
    ctx.base_dir = base;
    ctx.env = def.plan.variables;
    ctx.secrets = def.plan.secrets;
    ctx.configuration_files = configuration_files;
    ctx.split_all_csvs = def.split_all_csvs;
    ctx.overrides = overrides;
    root.ignore("properties");
    Plan plan;
    problems.attempt([&] { plan = compiler->compiler(ctx); });
    problems.throw_if_any();
    plan.variables.insert(plan.variables.end(), def.plan.variables.begin(),
                          def.plan.variables.end());
    plan.secrets.insert(plan.secrets.end(), def.plan.secrets.begin(), def.plan.secrets.end());
    def.plan = std::move(plan);
    apply_overrides_to_plan(def.plan, overrides);
    if (auto sm = root.find("serverMetrics")) sm->accept_any();
  }
  root.finish();
  auto valid = validate_plan(def.plan);
  if (!valid) throw ConfigError({def.source, 0, 0}, "", valid.error().message);
  std::vector<std::string> columns;
  for (const auto& spec : def.plan.data_sets) {
    if (!spec.variables.empty()) {
      columns.insert(columns.end(), spec.variables.begin(), spec.variables.end());
    } else if (auto loaded = load_data_set(spec); loaded) {
      columns.insert(columns.end(), loaded->columns.begin(), loaded->columns.end());
    }
  }
  for (const auto& problem : check_variables(def.plan, columns)) {
    problems.add(ConfigError({def.source, 0, 0}, "", problem));
  }
  problems.throw_if_any();
  return def;
}

}  // namespace sluice::loadgen
