#pragma once
// The executable test plan. Every test format compiles into it: the native YAML scenario
// (sluice/loadgen/test_definition.hpp) and JMeter .jmx plans (issue 9). The engine
// (sluice/loadgen/engine.hpp) runs a Plan and knows nothing of the format it came from.
//
// Shape (JMeter's, simplified):
//
//   Plan
//   ├── variables, properties, secrets     test-level values, read-only during the run
//   ├── data_sets[]                        CSV rows, one row per virtual-user iteration
//   └── groups[]                           run in parallel
//       ├── load: ClosedLoad | OpenLoad    who starts iterations, and when
//       ├── headers[]                      apply to every sampler of the group (scoped headers)
//       └── steps[]                        the per-VU step tree, run once per iteration:
//           HttpSampler | OnceOnly{steps} | Loop{steps} | Timer
//
// Virtual users (VUs): a closed-model group starts `vus` VUs (ramped over `ramp_up`); each runs the
// step tree `loops` times or until `duration` ends. An open-model group starts iterations at an
// arrival rate (constant or Poisson) on a pool of at most `max_concurrency` VUs; when every VU is
// busy the iteration waits, and its first sample's latencies are measured from the *intended*
// start, so a stalled server cannot hide its stall (coordinated omission).
//
// Variables: a template's ${name} resolves, in order, from the VU's own variables (current data set
// row, extractor results), the plan's `variables`, then `secrets`. Functions (${__UUID()}, ...)
// come from the FunctionRegistry the templates were compiled with (template.hpp); a format adds its
// own functions to a registry before compiling.
//
// Headers: a sampler sends the group's headers, then those of each enclosing controller, then its
// own; a later header with the same name (case-insensitive) replaces an earlier one (JMeter's
// header-manager scoping). A format that scopes differently resolves it while compiling.
//
// Auth: Entra client credentials compile into a OnceOnly controller holding the token request with
// a JSON extractor (access_token, expires_in) and `refresh_expires_in_var` set, so the token is
// fetched once per VU and again `refresh_margin` before it expires; the data samplers carry
// "Authorization: Bearer ${access_token}".
//
// Threads: a Plan is built and validated on one thread before the run, then shared read-only by
// all worker threads.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sluice/loadgen/template.hpp"

namespace sluice::loadgen {

using Millis = std::chrono::milliseconds;

struct Header {
  std::string name;
  Template value;
};

// --- Data sets ----------------------------------------------------------------------------

enum class ShareMode { kAllThreads, kGroup, kThread };  // JMeter shareMode

struct DataSetSpec {
  std::string name;                    // for messages ("prompts.csv")
  std::string path;                    // resolved file path
  std::vector<std::string> variables;  // column names; empty = taken from the header line
  bool header = false;                 // first line is a header (names come from it when
                                       // `variables` is empty, and it is skipped either way)
  char delimiter = ',';
  bool quoted = true;               // RFC 4180 quotes ("a ""b""", embedded delimiters/newlines)
  bool recycle = true;              // start over at the end
  bool stop_thread_at_end = false;  // recycle off: a VU that finds no row stops (else <EOF>)
  ShareMode share = ShareMode::kAllThreads;
  bool split_across_engines = false;  // engine i of n keeps rows i, i+n, i+2n, ...
  // Rows given in memory instead of a file (synthetic prompts); used when `path` is empty.
  std::vector<std::vector<std::string>> inline_rows;
  // Where the spec came from, for errors about the file ("test.yaml:12:5").
  std::string declared_at;
};

// --- Samplers and what runs after them ----------------------------------------------------

struct Extractor {
  enum Kind { kJsonPath, kRegex } kind = kJsonPath;
  std::string variable;    // VU variable to set
  std::string expression;  // JSON path subset ($.a.b[0].c, $['a'].b) or ECMAScript regex
  int match_number = 1;    // 1-based; 0 = random match (JMeter); regex uses capture `group`
  int group = 1;           // regex capture group
  std::optional<std::string> default_value;  // set when nothing matches; nullopt = leave unset
};

struct Assertion {
  enum Kind { kStatusIn, kBodyContains, kBodyNotContains } kind = kStatusIn;
  std::vector<int> statuses;  // kStatusIn
  std::string text;           // kBodyContains / kBodyNotContains
};

// What kind of response the sampler expects; drives token metrics.
enum class ResponseKind {
  kPlain,   // any HTTP; only TTFB/E2E/status
  kOpenAi,  // OpenAI/Azure OpenAI JSON or SSE: TTFT, ITL, usage or tokenizer counts
};

struct HttpSampler {
  std::string label;  // name in results, JTL and failure criteria
  std::string method = "GET";
  Template url;  // absolute http(s) URL after rendering
  std::vector<Header> headers;
  Template body;  // empty = no body
  // Form fields, sent as application/x-www-form-urlencoded when non-empty (instead of `body`);
  // names are sent as given, rendered values are percent-encoded.
  std::vector<std::pair<std::string, Template>> form;
  ResponseKind response = ResponseKind::kPlain;
  std::string model;        // tokenizer model for prompt/completion counts when no usage
  Millis timeout{120'000};  // whole request; streaming reads also use `idle_timeout`
  Millis idle_timeout{60'000};
  std::vector<Extractor> extractors;
  std::vector<Assertion> assertions;
  bool record = true;  // false: not counted in results (e.g. a health probe)
  // Retries (off by default: throttling is a result). A retried attempt is recorded as its own
  // sample; a 429/503 waits for Retry-After / retry-after-ms when present, else the backoff.
  int max_retries = 0;
  Millis retry_backoff{1'000};
  std::vector<int> retry_on = {429, 500, 502, 503, 504};
  // In the scope of a cookie manager: sends the VU's cookies and stores those the server sets.
  bool use_cookies = false;
};

struct Timer {
  enum Kind { kConstant, kUniformRandom, kConstantThroughput } kind = kConstant;
  Millis delay{0};
  Millis range{0};  // uniform: delay + U[0, range]
  // JMeter's Constant Throughput Timer: the samplers it covers start at most `per_minute` times a
  // minute, spaced evenly. Copies of one timer (one per sampler in its scope) share `pacing_id`,
  // and so their schedule.
  enum class Pacing {
    kThisUser,          // each user on its own
    kAllUsers,          // each user paces at per_minute / (active users of the test)
    kGroupUsers,        // ... / (active users of its group)
    kAllUsersShared,    // one schedule for the whole test
    kGroupUsersShared,  // one schedule per group
  } pacing = Pacing::kThisUser;
  double per_minute = 0;
  int pacing_id = 0;
};

struct Step;

// Runs its steps in the first iteration of each VU only; with `refresh_expires_in_var` set, runs
// them again once the VU variable of that name (seconds, as OAuth2 expires_in) minus
// `refresh_margin` has elapsed since they last ran.
struct OnceOnly {
  std::vector<Step> steps;
  std::vector<Header> headers;
  std::string refresh_expires_in_var;
  std::chrono::seconds refresh_margin{300};
};

struct Loop {
  int count = 1;  // -1 = until the group ends
  // JMeter's Runtime Controller: the steps run again and again until this long has passed since
  // the loop began (checked before each pass).
  std::optional<Millis> run_time;
  std::vector<Step> steps;
  std::vector<Header> headers;
};

struct Step {
  std::variant<HttpSampler, OnceOnly, Loop, Timer> node;
};

// --- Groups -------------------------------------------------------------------------------

// JMeter's "action to be taken after a sampler error".
enum class OnError { kContinue, kStartNextLoop, kStopThread, kStopTest, kStopTestNow };

struct ClosedLoad {
  int vus = 1;
  Millis ramp_up{0};
  int loops = 1;                   // -1 = infinite (then `duration` must be set)
  std::optional<Millis> duration;  // stop starting new iterations after this (scheduler)
  Millis start_delay{0};           // scheduler delay
  // Set by slice_plan_for_engine: this engine's VU k is VU (engine_offset + k * engine_stride) of
  // `total_vus` in the whole test, and starts at that VU's point in the ramp-up.
  int engine_offset = 0;
  int engine_stride = 1;
  int total_vus = 0;     // 0 = vus
  Millis think_time{0};  // pause after each iteration
};

struct OpenLoad {
  double rate_per_second = 1.0;  // iterations started per second (whole group)
  bool poisson = false;          // exponential gaps instead of even ones
  int max_concurrency = 100;     // VU pool size
  Millis duration{60'000};
  Millis start_delay{0};
  // Iterations waiting for a VU beyond this many are dropped (and counted).
  std::size_t max_queued = 100'000;
};

// JMeter's HTTP Cookie Manager: each VU keeps its own cookies (cookie_jar.hpp).
struct UserCookie {
  std::string name;
  Template value;
  std::string domain;  // host name; empty = any host
  std::string path = "/";
  bool secure = false;
};

struct CookieSettings {
  // Server-set cookies are forgotten at each iteration of the group's main loop (a new user).
  bool clear_each_iteration = false;
  std::vector<UserCookie> cookies;  // every VU starts with these, and gets them back on a clear
};

struct ThreadGroup {
  std::string name = "Thread Group";
  std::optional<CookieSettings> cookies;  // set when a cookie manager covers a sampler
  std::variant<ClosedLoad, OpenLoad> load;
  OnError on_error = OnError::kContinue;
  std::vector<Header> headers;
  std::vector<Step> steps;
};

// --- Plan ---------------------------------------------------------------------------------

struct Plan {
  std::string name;
  std::vector<std::pair<std::string, std::string>> variables;   // test variables and env entries
  std::vector<std::pair<std::string, std::string>> properties;  // JMeter properties (__P)
  std::vector<std::pair<std::string, std::string>> secrets;     // redacted from every output
  std::vector<DataSetSpec> data_sets;
  std::vector<ThreadGroup> groups;
  Millis max_duration{0};  // hard stop for the whole run (0 = none): --duration overrides
};

// Checks what can be checked before a run: at least one group with steps, positive counts, every
// sampler URL a template, loops -1 only with a duration, labels non-empty. Returns a message for
// the first problem, naming the group and label.
core::Result<void> validate_plan(const Plan& plan);

// Checks that every ${name} used by a template is defined somewhere: plan variables, secrets,
// `columns` (all data set column names, known once the data sets are loaded), or the variable of
// an extractor anywhere in the plan. Returns one problem per undefined name (empty when all are
// defined), naming the variable and the first sampler/header using it.
std::vector<std::string> check_variables(const Plan& plan, const std::vector<std::string>& columns);

// Scales a plan to this engine's slice: VUs and arrival rates divided as evenly as possible across
// `engine_count` engines (engine `engine_index` gets the remainder first), ramp-up kept so that the
// union of engines ramps like one engine would.
void slice_plan_for_engine(Plan& plan, int engine_index, int engine_count);

}  // namespace sluice::loadgen
