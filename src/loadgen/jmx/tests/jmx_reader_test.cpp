#include "loadgen/jmx/jmx_reader.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "loadgen/jmx/jmx_functions.hpp"
#include "sluice/core/config_error.hpp"
#include "sluice/core/config_problems.hpp"
#include "sluice/loadgen/test_definition.hpp"

namespace sluice::loadgen::jmx {
namespace {
namespace fs = std::filesystem;

// A plan around `body` (the children of one thread group); `plan_level` goes beside the group.
std::string plan_xml(const std::string& body, const std::string& group_props = "",
                     const std::string& plan_level = "") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2"><hashTree>
<TestPlan testname="Test Plan"/><hashTree>
)" + plan_level +
         R"(<ThreadGroup testname="Users">)" +
         (group_props.empty() ? R"(<stringProp name="ThreadGroup.num_threads">2</stringProp>)"
                              : group_props) +
         R"(</ThreadGroup><hashTree>
)" + body +
         R"(
</hashTree></hashTree></hashTree></jmeterTestPlan>)";
}

std::string sampler(const std::string& name, const std::string& path,
                    const std::string& children = "") {
  return R"(<HTTPSamplerProxy testname=")" + name +
         R"("><stringProp name="HTTPSampler.domain">127.0.0.1</stringProp><stringProp name="HTTPSampler.port">9</stringProp><stringProp name="HTTPSampler.path">)" +
         path + R"(</stringProp></HTTPSamplerProxy><hashTree>)" + children + "</hashTree>";
}

std::string header_manager(const std::string& name, const std::string& value) {
  return R"(<HeaderManager testname="HM"><collectionProp name="HeaderManager.headers"><elementProp name="" elementType="Header"><stringProp name="Header.name">)" +
         name + R"(</stringProp><stringProp name="Header.value">)" + value +
         R"(</stringProp></elementProp></collectionProp></HeaderManager><hashTree/>)";
}

class JmxReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice-jmx-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    ctx_.base_dir = dir_;
    ctx_.plan_path = dir_ / "plan.jmx";
    ctx_.overrides.getenv = [](const std::string&) { return std::optional<std::string>(); };
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  Plan compile(const std::string& xml) { return compile_jmx_text(xml, "plan.jmx", ctx_); }
  std::string error_of(const std::string& xml) {
    try {
      compile(xml);
    } catch (const core::ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  }
  fs::path dir_;
  PlanContext ctx_;
};

TEST_F(JmxReaderTest, BlogExampleCompilesWithEnvAndSecrets) {
  std::ifstream in(fs::path(SLUICE_SOURCE_DIR) / "examples/jmeter/genai_gateway_test.jmx");
  std::stringstream ss;
  ss << in.rdbuf();
  ctx_.base_dir = fs::path(SLUICE_SOURCE_DIR) / "examples/jmeter";
  ctx_.plan_path = ctx_.base_dir / "genai_gateway_test.jmx";
  ctx_.configuration_files = {"./config/chat_completions.csv"};
  ctx_.env = {{"VIRTUAL_USERS", "4"},
              {"RAMP_UP", "2"},
              {"LOOP_COUNT", "3"},
              {"RESOURCE", "res"},
              {"OPENAI_ENDPOINT", "gw.test"},
              {"OPENAI_DEPLOYMENT_NAME", "gpt-4o"},
              {"OPENAI_API_VERSION", "2024-10-21"}};
  ctx_.overrides.secrets_file = {
      {"TENANT_ID", "tenant"}, {"CLIENT_ID", "cid"}, {"CLIENT_SECRET", "s3cret"}};
  Plan plan = compile_jmx_text(ss.str(), ctx_.plan_path.string(), ctx_);
  ASSERT_EQ(plan.groups.size(), 1u);
  const auto& g = plan.groups[0];
  EXPECT_EQ(g.name, "Chat Users");
  const auto& load = std::get<ClosedLoad>(g.load);
  EXPECT_EQ(load.vus, 4);
  EXPECT_EQ(load.loops, 3);
  EXPECT_EQ(load.ramp_up, Millis(2000));
  ASSERT_EQ(g.steps.size(), 2u);
  const auto& once = std::get<OnceOnly>(g.steps[0].node);
  const auto& token = std::get<HttpSampler>(once.steps.at(0).node);
  EXPECT_EQ(token.label, "Get Entra ID Token");
  EXPECT_EQ(token.form.size(), 4u);
  ASSERT_EQ(token.extractors.size(), 1u);
  EXPECT_EQ(token.extractors[0].variable, "access_token");
  const auto& chat = std::get<HttpSampler>(g.steps[1].node);
  EXPECT_EQ(chat.response, ResponseKind::kOpenAi);
  EXPECT_EQ(chat.model, "gpt-4o");
  EXPECT_EQ(chat.idle_timeout, Millis(120000));
  ASSERT_EQ(chat.headers.size(), 2u);
  EXPECT_EQ(chat.headers[1].name, "Authorization");
  ASSERT_EQ(plan.data_sets.size(), 1u);
  EXPECT_EQ(plan.data_sets[0].variables,
            (std::vector<std::string>{"system_prompt", "user_prompt", "max_tokens"}));
  EXPECT_EQ(plan.secrets.size(), 3u);
}

TEST_F(JmxReaderTest, HeadersAndTimersFollowJMeterScope) {
  std::string body = header_manager("X-Level", "group") + R"(
<ConstantTimer testname="think"><stringProp name="ConstantTimer.delay">250</stringProp></ConstantTimer><hashTree/>
<LoopController testname="Twice"><stringProp name="LoopController.loops">2</stringProp></LoopController><hashTree>)" +
                     header_manager("X-Level", "loop") +
                     sampler("inner", "/a", header_manager("X-Own", "1")) + "</hashTree>" +
                     sampler("outer", "/b");
  Plan plan = compile(plan_xml(body, "", header_manager("X-Plan", "p")));
  const auto& g = plan.groups.at(0);
  ASSERT_EQ(g.headers.size(), 2u);  // plan level first, then the group's own
  EXPECT_EQ(g.headers[0].name, "X-Plan");
  EXPECT_EQ(g.headers[1].value.source(), "group");
  ASSERT_EQ(g.steps.size(), 3u);  // loop, timer, outer
  const auto& loop = std::get<Loop>(g.steps[0].node);
  EXPECT_EQ(loop.count, 2);
  ASSERT_EQ(loop.headers.size(), 1u);
  EXPECT_EQ(loop.headers[0].value.source(), "loop");
  ASSERT_EQ(loop.steps.size(), 2u);  // the group's timer applies inside the loop too
  EXPECT_EQ(std::get<Timer>(loop.steps[0].node).delay, Millis(250));
  EXPECT_EQ(std::get<HttpSampler>(loop.steps[1].node).headers.at(0).name, "X-Own");
  EXPECT_EQ(std::get<Timer>(g.steps[1].node).delay, Millis(250));
  EXPECT_EQ(std::get<HttpSampler>(g.steps[2].node).label, "outer");
}

TEST_F(JmxReaderTest, DisabledElementsAreSkippedWithTheirSubtree) {
  std::string body = R"(<IfController testname="never" enabled="false"/><hashTree>)" +
                     sampler("hidden", "/h") + "</hashTree>" + sampler("shown", "/s");
  Plan plan = compile(plan_xml(body));
  ASSERT_EQ(plan.groups.at(0).steps.size(), 1u);
  EXPECT_EQ(std::get<HttpSampler>(plan.groups[0].steps[0].node).label, "shown");
}

TEST_F(JmxReaderTest, FormArgumentsAndQueryStrings) {
  std::string args =
      R"(<elementProp name="HTTPsampler.Arguments" elementType="Arguments"><collectionProp name="Arguments.arguments">
<elementProp name="q" elementType="HTTPArgument"><boolProp name="HTTPArgument.always_encode">true</boolProp><stringProp name="Argument.name">q</stringProp><stringProp name="Argument.value">a b,c</stringProp></elementProp>
</collectionProp></elementProp>)";
  std::string get =
      R"(<HTTPSamplerProxy testname="get">)" + args +
      R"(<stringProp name="HTTPSampler.domain">h</stringProp><stringProp name="HTTPSampler.path">/p</stringProp><stringProp name="HTTPSampler.method">GET</stringProp></HTTPSamplerProxy><hashTree/>)";
  std::string post =
      R"(<HTTPSamplerProxy testname="post">)" + args +
      R"(<stringProp name="HTTPSampler.domain">h</stringProp><stringProp name="HTTPSampler.protocol">https</stringProp><stringProp name="HTTPSampler.path">/p</stringProp><stringProp name="HTTPSampler.method">POST</stringProp></HTTPSamplerProxy><hashTree/>)";
  Plan plan = compile(plan_xml(get + post));
  const auto& g = std::get<HttpSampler>(plan.groups[0].steps[0].node);
  EXPECT_EQ(g.url.source(), "http://h/p?q=a%20b%2Cc");
  const auto& p = std::get<HttpSampler>(plan.groups[0].steps[1].node);
  EXPECT_EQ(p.url.source(), "https://h/p");
  ASSERT_EQ(p.form.size(), 1u);
  EXPECT_EQ(p.form[0].first, "q");
}

TEST_F(JmxReaderTest, RefusesUnsupportedElementsWithTheirPath) {
  std::string e = error_of(plan_xml(R"(<IfController testname="Only sometimes"/><hashTree/>)"));
  EXPECT_NE(e.find("plan.jmx:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("Test Plan/Users/Only sometimes"), std::string::npos) << e;
  EXPECT_NE(e.find("unsupported element IfController"), std::string::npos) << e;
  EXPECT_NE(e.find("enabled=\"false\""), std::string::npos) << e;
}

TEST_F(JmxReaderTest, RefusesFunctionsAndScriptsItCannotRun) {
  std::string e = error_of(plan_xml(sampler("s", "/${__counter(TRUE,n)}")));
  EXPECT_NE(e.find("unsupported function __counter()"), std::string::npos) << e;
  EXPECT_NE(e.find("Test Plan/Users/s"), std::string::npos) << e;
  e = error_of(plan_xml(sampler("s", "/${__BeanShell(vars.get(\"x\"))}")));
  EXPECT_NE(e.find("sluice runs no BeanShell"), std::string::npos) << e;
}

TEST_F(JmxReaderTest, RefusesMalformedXmlWithItsLine) {
  std::string e = error_of("<jmeterTestPlan>\n<hashTree>\n<TestPlan>\n</hashTree>");
  EXPECT_NE(e.find("plan.jmx:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("malformed XML"), std::string::npos) << e;
  e = error_of("<testPlan/>");
  EXPECT_NE(e.find("expected <jmeterTestPlan>"), std::string::npos) << e;
}

TEST_F(JmxReaderTest, MissingCsvAndUnresolvedValues) {
  std::string csv =
      R"(<CSVDataSet testname="Prompts"><stringProp name="filename">prompts.csv</stringProp><stringProp name="variableNames">prompt</stringProp></CSVDataSet><hashTree/>)";
  std::string e = error_of(plan_xml(csv + sampler("s", "/${prompt}")));
  EXPECT_NE(e.find("Test Plan/Users/Prompts: CSV file prompts.csv not found"), std::string::npos)
      << e;
  write("prompts.csv", "one\ntwo\n");
  Plan plan = compile(plan_xml(csv + sampler("s", "/${prompt}")));
  EXPECT_EQ(plan.data_sets.at(0).path, (dir_ / "prompts.csv").string());

  e = error_of(plan_xml(sampler("s", "/${nobody}")));
  EXPECT_NE(e.find("URL uses ${nobody}, which nothing defines"), std::string::npos) << e;

  std::string threads =
      R"(<stringProp name="ThreadGroup.num_threads">${__env(USERS)}</stringProp>)";
  e = error_of(plan_xml(sampler("s", "/"), threads));
  EXPECT_NE(e.find("Test Plan/Users: thread count"), std::string::npos) << e;
  EXPECT_NE(e.find("USERS is not set"), std::string::npos) << e;
  ctx_.env = {{"USERS", "3"}};
  EXPECT_EQ(std::get<ClosedLoad>(compile(plan_xml(sampler("s", "/"), threads)).groups[0].load).vus,
            3);

  // An unresolved ramp time reads as 0, as in JMeter (a warning, not an error).
  std::string ramp =
      R"(<stringProp name="ThreadGroup.num_threads">1</stringProp><stringProp name="ThreadGroup.ramp_time">${RAMP}</stringProp>)";
  EXPECT_EQ(std::get<ClosedLoad>(compile(plan_xml(sampler("s", "/"), ramp)).groups[0].load).ramp_up,
            Millis(0));
}

TEST_F(JmxReaderTest, ThreadGroupSchedulerErrorActionAndPropertyFunctions) {
  auto group = [&](const std::string& threads, const std::string& extra) {
    Plan plan =
        compile(plan_xml(sampler("s", "/"), R"(<stringProp name="ThreadGroup.num_threads">)" +
                                                threads + "</stringProp>" + extra));
    return plan.groups.at(0);
  };
  ctx_.env = {{"USERS", "7"}};
  EXPECT_EQ(std::get<ClosedLoad>(group("${__P(USERS,2)}", "").load).vus, 7);
  EXPECT_EQ(std::get<ClosedLoad>(group("${__P(NOPE,2)}", "").load).vus, 2);
  EXPECT_EQ(std::get<ClosedLoad>(group("${__property(NOPE,,5)}", "").load).vus, 5);
  EXPECT_EQ(std::get<ClosedLoad>(group("${__env(USERS)}", "").load).vus, 7);
  EXPECT_EQ(std::get<ClosedLoad>(group("${__BeanShell(System.getenv(\"USERS\"))}", "").load).vus,
            7);

  auto g = group("1", R"(<stringProp name="ThreadGroup.on_sample_error">startnextloop</stringProp>
<elementProp name="ThreadGroup.main_controller" elementType="LoopController"><intProp name="LoopController.loops">-1</intProp></elementProp>
<boolProp name="ThreadGroup.scheduler">true</boolProp><stringProp name="ThreadGroup.duration">30</stringProp><stringProp name="ThreadGroup.delay">2</stringProp>)");
  const auto& load = std::get<ClosedLoad>(g.load);
  EXPECT_EQ(load.loops, -1);
  EXPECT_EQ(load.duration, std::optional<Millis>(Millis(30000)));
  EXPECT_EQ(load.start_delay, Millis(2000));
  EXPECT_EQ(g.on_error, OnError::kStartNextLoop);

  // Infinite loops without a duration cannot end.
  std::string e = error_of(plan_xml(
      sampler("s", "/"),
      R"(<stringProp name="ThreadGroup.num_threads">1</stringProp><elementProp name="ThreadGroup.main_controller" elementType="LoopController"><stringProp name="LoopController.loops">-1</stringProp></elementProp>)"));
  EXPECT_NE(e.find("infinite loops (-1) need a duration"), std::string::npos) << e;
}

TEST_F(JmxReaderTest, CsvHeaderLineTabsAndLatin1) {
  write("tabs.csv", "name\tcity\nJos\xe9\tM\xe1laga\n");
  std::string csv =
      R"(<CSVDataSet testname="People"><stringProp name="filename">tabs.csv</stringProp><stringProp name="delimiter">\t</stringProp><stringProp name="fileEncoding">ISO-8859-1</stringProp><stringProp name="shareMode">shareMode.thread</stringProp><boolProp name="recycle">false</boolProp><boolProp name="stopThread">true</boolProp></CSVDataSet><hashTree/>)";
  Plan plan = compile(plan_xml(csv + sampler("s", "/${name}/${city}")));
  const auto& spec = plan.data_sets.at(0);
  EXPECT_EQ(spec.variables, (std::vector<std::string>{"name", "city"}));  // from the header line
  ASSERT_EQ(spec.inline_rows.size(), 1u);
  EXPECT_EQ(spec.inline_rows[0][0], "Jos\xc3\xa9");  // converted to UTF-8
  EXPECT_EQ(spec.share, ShareMode::kThread);
  EXPECT_FALSE(spec.recycle);
  EXPECT_TRUE(spec.stop_thread_at_end);
  std::string e = error_of(plan_xml(
      R"(<CSVDataSet testname="People"><stringProp name="filename">tabs.csv</stringProp><stringProp name="fileEncoding">UTF-16</stringProp></CSVDataSet><hashTree/>)" +
      sampler("s", "/")));
  EXPECT_NE(e.find("file encoding utf-16 is not supported"), std::string::npos) << e;
}

// The tool's own advice for an infinite plan ("or pass --duration") must work, for a plan given
// directly and for one named by a test YAML.
TEST_F(JmxReaderTest, DurationFromTheCommandLineRunsAnInfinitePlan) {
  std::string xml = plan_xml(
      sampler("s", "/"),
      R"(<stringProp name="ThreadGroup.num_threads">1</stringProp><elementProp name="ThreadGroup.main_controller" elementType="LoopController"><stringProp name="LoopController.loops">-1</stringProp></elementProp>)");
  write("plan.jmx", xml);
  write("test.yaml", "testId: t\ntestType: JMX\ntestPlan: plan.jmx\n");
  LoadOverrides overrides;
  overrides.getenv = ctx_.overrides.getenv;
  for (const char* file : {"plan.jmx", "test.yaml"}) {
    EXPECT_THROW(load_test_definition(dir_ / file, overrides), core::ConfigError) << file;
    overrides.duration = Millis(5000);
    auto def = load_test_definition(dir_ / file, overrides);
    const auto& load = std::get<ClosedLoad>(def.plan.groups.at(0).load);
    EXPECT_EQ(load.loops, -1) << file;
    EXPECT_EQ(load.duration, std::optional<Millis>(Millis(5000))) << file;
    EXPECT_EQ(def.plan.max_duration, Millis(5000)) << file;
    overrides.duration.reset();
  }
}

// A user should meet every problem of a test in one run: here three missing secrets in the YAML,
// and in the plan a missing secret, an unsupported element, a bad thread count, a missing CSV
// file and an undefined variable. Each is reported with its file:line and element path.
TEST_F(JmxReaderTest, EveryProblemOfATestIsReportedInOneRun) {
  std::string body =
      R"(<IfController testname="Only sometimes"/><hashTree/>
<CSVDataSet testname="Prompts"><stringProp name="filename">missing.csv</stringProp><stringProp name="variableNames">prompt</stringProp></CSVDataSet><hashTree/>
)" + sampler("chat", "/${prompt}/${nowhere}",
             header_manager("api-key", "${__GetSecret(KEY_FOUR)}"));
  write("plan.jmx",
        plan_xml(body, R"(<stringProp name="ThreadGroup.num_threads">many</stringProp>)"));
  write("test.yaml",
        "testId: t\ntestType: JMX\ntestPlan: plan.jmx\nsecrets:\n"
        "  - name: KEY_ONE\n    value: https://kv.vault.azure.net/secrets/one\n"
        "  - name: KEY_TWO\n    value: https://kv.vault.azure.net/secrets/two\n"
        "  - name: KEY_THREE\n    value: https://kv.vault.azure.net/secrets/three\n");
  LoadOverrides overrides;
  overrides.getenv = ctx_.overrides.getenv;
  std::string what;
  std::size_t count = 0;
  try {
    load_test_definition(dir_ / "test.yaml", overrides);
  } catch (const core::ConfigErrorList& e) {
    what = e.what();
    count = e.problems().size();
  }
  EXPECT_EQ(count, 8u) << what;
  EXPECT_LT(what.find("KEY_THREE"), what.find("thread count")) << "in file order";
  EXPECT_LT(what.find("plan.jmx:4:"), what.find("plan.jmx:7:")) << "in line order";
  for (const char* expected :
       {"test.yaml:5:", "KEY_ONE", "test.yaml:7:", "KEY_TWO", "test.yaml:9:", "KEY_THREE",
        "KEY_FOUR", "unsupported element IfController", "Test Plan/Users/Only sometimes",
        "thread count \"many\"", "CSV file missing.csv not found", "${nowhere}",
        "8 problems; fix them all, then run again"}) {
    EXPECT_NE(what.find(expected), std::string::npos) << expected << " in\n" << what;
  }
  // The CSV's declared column is not reported as undefined as well.
  EXPECT_EQ(what.find("${prompt}"), std::string::npos) << what;
  EXPECT_NE(what.find("plan.jmx:"), std::string::npos) << what;
}

// HTTP Request Defaults fill, field by field, what a sampler leaves empty; the innermost wins.
TEST_F(JmxReaderTest, HttpRequestDefaultsFillEmptyFieldsInnermostFirst) {
  auto defaults = [](const std::string& props) {
    return R"(<ConfigTestElement guiclass="HttpDefaultsGui" testclass="ConfigTestElement" testname="HTTP Request Defaults">)" +
           props + "</ConfigTestElement><hashTree/>";
  };
  std::string bare =
      R"(<HTTPSamplerProxy testname="bare"><stringProp name="HTTPSampler.path">/chat</stringProp><stringProp name="HTTPSampler.domain"></stringProp></HTTPSamplerProxy><hashTree/>)";
  std::string own_port =
      R"(<HTTPSamplerProxy testname="own"><stringProp name="HTTPSampler.port">9000</stringProp></HTTPSamplerProxy><hashTree/>)";
  std::string plan_level = defaults(
      R"(<stringProp name="HTTPSampler.domain">api.test</stringProp><stringProp name="HTTPSampler.protocol">https</stringProp><stringProp name="HTTPSampler.port">8443</stringProp><stringProp name="HTTPSampler.path">/health</stringProp><stringProp name="HTTPSampler.response_timeout">5000</stringProp><elementProp name="HTTPsampler.Arguments" elementType="Arguments"><collectionProp name="Arguments.arguments"><elementProp name="api-version" elementType="HTTPArgument"><boolProp name="HTTPArgument.always_encode">false</boolProp><stringProp name="Argument.name">api-version</stringProp><stringProp name="Argument.value">2024-10-21</stringProp></elementProp></collectionProp></elementProp>)");
  std::string loop_level =
      defaults(R"(<stringProp name="HTTPSampler.domain">inner.test</stringProp>)");
  std::string body =
      bare + own_port +
      R"(<LoopController testname="L"><stringProp name="LoopController.loops">1</stringProp></LoopController><hashTree>)" +
      loop_level + bare + "</hashTree>";
  Plan plan = compile(plan_xml(body, "", plan_level));
  const auto& steps = plan.groups.at(0).steps;
  ASSERT_EQ(steps.size(), 3u);
  const auto& first = std::get<HttpSampler>(steps[0].node);
  EXPECT_EQ(first.url.source(), "https://api.test:8443/chat?api-version=2024-10-21");
  EXPECT_EQ(first.idle_timeout, Millis(5000));
  EXPECT_EQ(std::get<HttpSampler>(steps[1].node).url.source(),
            "https://api.test:9000/health?api-version=2024-10-21");
  const auto& inner = std::get<HttpSampler>(std::get<Loop>(steps[2].node).steps.at(0).node);
  EXPECT_EQ(inner.url.source(), "https://inner.test:8443/chat?api-version=2024-10-21");

  // Embedded resources ticked in the defaults are refused where they are ticked.
  std::string e = error_of(plan_xml(
      bare, "",
      defaults(
          R"(<stringProp name="HTTPSampler.domain">a</stringProp><boolProp name="HTTPSampler.image_parser">true</boolProp>)")));
  EXPECT_NE(e.find("Test Plan/HTTP Request Defaults: HTTPSampler.image_parser"), std::string::npos)
      << e;
  // Other config elements are still refused.
  e = error_of(
      plan_xml(R"(<ConfigTestElement guiclass="LoginConfigGui" testname="Login"/><hashTree/>)" +
               sampler("s", "/")));
  EXPECT_NE(e.find("unsupported element ConfigTestElement"), std::string::npos) << e;
}

TEST_F(JmxReaderTest, CookieManagerCoversItsScopeWithUserCookiesAndClearing) {
  std::string manager =
      R"(<CookieManager testname="Cookies"><collectionProp name="CookieManager.cookies"><elementProp name="tenant" elementType="Cookie"><stringProp name="Cookie.value">${team}</stringProp><stringProp name="Cookie.domain">http://App.Test:8080</stringProp><stringProp name="Cookie.path">/</stringProp><boolProp name="Cookie.secure">true</boolProp></elementProp></collectionProp><boolProp name="CookieManager.clearEachIteration">true</boolProp></CookieManager><hashTree/>)";
  std::string body =
      R"(<Arguments testname="vars"><collectionProp name="Arguments.arguments"><elementProp name="team" elementType="Argument"><stringProp name="Argument.name">team</stringProp><stringProp name="Argument.value">blue</stringProp></elementProp></collectionProp></Arguments><hashTree/>)" +
      sampler("outside", "/") + R"(<GenericController testname="G"/><hashTree>)" + manager +
      sampler("inside", "/") + "</hashTree>";
  Plan plan = compile(plan_xml(body));
  const auto& g = plan.groups.at(0);
  ASSERT_TRUE(g.cookies.has_value());
  EXPECT_TRUE(g.cookies->clear_each_iteration);
  ASSERT_EQ(g.cookies->cookies.size(), 1u);
  const auto& c = g.cookies->cookies[0];
  EXPECT_EQ(c.name, "tenant");
  EXPECT_EQ(c.value.source(), "${team}");
  EXPECT_EQ(c.domain, "app.test");
  EXPECT_TRUE(c.secure);
  EXPECT_FALSE(std::get<HttpSampler>(g.steps.at(0).node).use_cookies);
  const auto& inside = std::get<HttpSampler>(std::get<Loop>(g.steps.at(1).node).steps.at(0).node);
  EXPECT_TRUE(inside.use_cookies);

  // Controlled by the thread group: "Same user on each iteration" off clears them.
  std::string follow =
      R"(<CookieManager testname="C"><boolProp name="CookieManager.controlledByThreadGroup">true</boolProp></CookieManager><hashTree/>)";
  plan = compile(plan_xml(
      sampler("s", "/"),
      R"(<stringProp name="ThreadGroup.num_threads">1</stringProp><boolProp name="ThreadGroup.same_user_on_next_iteration">false</boolProp>)",
      follow));
  ASSERT_TRUE(plan.groups.at(0).cookies.has_value());
  EXPECT_TRUE(plan.groups.at(0).cookies->clear_each_iteration);
  EXPECT_TRUE(std::get<HttpSampler>(plan.groups.at(0).steps.at(0).node).use_cookies);
  plan = compile(plan_xml(sampler("s", "/")));
  EXPECT_FALSE(plan.groups.at(0).cookies.has_value());
}

// Flow Control Action, as real plans use it: a think-time pause with a random timer under it.
TEST_F(JmxReaderTest, FlowControlActionPausesAfterItsTimers) {
  std::string think =
      R"(<TestAction testname="Think Time"><intProp name="ActionProcessor.action">1</intProp><intProp name="ActionProcessor.target">0</intProp><stringProp name="ActionProcessor.duration">100</stringProp></TestAction><hashTree><UniformRandomTimer testname="Pause"><stringProp name="ConstantTimer.delay">1000</stringProp><stringProp name="RandomTimer.range">500</stringProp></UniformRandomTimer><hashTree/></hashTree>)";
  Plan plan = compile(plan_xml(sampler("s", "/") + think));
  const auto& steps = plan.groups.at(0).steps;
  ASSERT_EQ(steps.size(), 3u);
  const auto& random = std::get<Timer>(steps[1].node);
  EXPECT_EQ(random.kind, Timer::kUniformRandom);
  EXPECT_EQ(random.delay, Millis(1000));
  EXPECT_EQ(random.range, Millis(500));
  EXPECT_EQ(std::get<Timer>(steps[2].node).delay, Millis(100));
  std::string stop =
      R"(<TestAction testname="Stop"><intProp name="ActionProcessor.action">0</intProp></TestAction><hashTree/>)";
  std::string e = error_of(plan_xml(sampler("s", "/") + stop));
  EXPECT_NE(e.find("Test Plan/Users/Stop: only the Pause action"), std::string::npos) << e;
}

// The Runtime Controller and the Constant Throughput Timer, as
// microsoft/azure-openai-service-proxy's plan has them (a timer of 4 samples a minute in a 300 s
// runtime controller).
TEST_F(JmxReaderTest, RuntimeControllerAndConstantThroughputTimer) {
  std::string timer =
      R"(<ConstantThroughputTimer guiclass="TestBeanGUI" testclass="ConstantThroughputTimer" testname="4 a minute"><intProp name="calcMode">1</intProp><doubleProp><name>throughput</name><value>4.0</value><savedValue>0.0</savedValue></doubleProp></ConstantThroughputTimer><hashTree/>)";
  std::string body =
      R"(<RunTime guiclass="RunTimeGui" testclass="RunTime" testname="Runtime Controller"><boolProp name="LoopController.continue_forever">true</boolProp><stringProp name="RunTime.seconds">300</stringProp></RunTime><hashTree>)" +
      timer + sampler("a", "/a") + sampler("b", "/b") + "</hashTree>";
  Plan plan = compile(plan_xml(body));
  const auto& loop = std::get<Loop>(plan.groups.at(0).steps.at(0).node);
  EXPECT_EQ(loop.count, -1);
  EXPECT_EQ(loop.run_time, std::optional<Millis>(Millis(300'000)));
  ASSERT_EQ(loop.steps.size(), 4u);  // timer, a, timer, b
  const auto& first = std::get<Timer>(loop.steps[0].node);
  const auto& second = std::get<Timer>(loop.steps[2].node);
  EXPECT_EQ(first.kind, Timer::kConstantThroughput);
  EXPECT_EQ(first.per_minute, 4.0);
  EXPECT_EQ(first.pacing, Timer::Pacing::kAllUsers);
  EXPECT_EQ(first.pacing_id, second.pacing_id) << "one timer, one schedule for its samplers";

  std::string variable =
      R"(<ConstantThroughputTimer testname="T"><stringProp name="throughput">${__P(rate,120)}</stringProp></ConstantThroughputTimer><hashTree/>)";
  plan = compile(plan_xml(variable + sampler("s", "/")));
  EXPECT_EQ(std::get<Timer>(plan.groups.at(0).steps.at(0).node).per_minute, 120.0);
  std::string e = error_of(plan_xml(
      R"(<ConstantThroughputTimer testname="T"><stringProp name="throughput">0</stringProp><intProp name="calcMode">7</intProp></ConstantThroughputTimer><hashTree/>)" +
      sampler("s", "/")));
  EXPECT_NE(e.find("Test Plan/Users/T: target throughput \"0\" is not a positive number"),
            std::string::npos)
      << e;
}

TEST(JmxFunctions, SimpleDateFormatAndScripts) {
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  EXPECT_EQ(*format_simple_date("yyyy-MM-dd'T'HH:mm:ss.SSS", t), "2023-11-14T22:13:20.123");
  EXPECT_FALSE(format_simple_date("yyyy-ww", t));
  EXPECT_TRUE(check_scripts("${__BeanShell( System.getenv(\"A\") )} ${__groovy(props.get('B'))}"));
  EXPECT_FALSE(check_scripts("${__BeanShell(return 1+1;)}"));
}

}  // namespace
}  // namespace sluice::loadgen::jmx
