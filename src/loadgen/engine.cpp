#include "sluice/loadgen/engine.hpp"

#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "http/event_stream.hpp"
#include "http/first_field.hpp"
#include "jtl_line.hpp"
#include "openai_response.hpp"
#include "prometheus_scraper.hpp"
#include "sluice/core/thread_name.hpp"
#include "sluice/http/sse_parser.hpp"
#include "sluice/loadgen/cookie_jar.hpp"
#include "sluice/loadgen/extractor.hpp"
#include "sluice/telemetry/trace_context.hpp"

namespace sluice::loadgen {
namespace {

namespace asio = http::asio;
using http::Task;
using SteadyTime = std::chrono::steady_clock::time_point;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::steady_clock;

std::int64_t us_between(SteadyTime a, SteadyTime b) {
  return duration_cast<microseconds>(b - a).count();
}

enum class Flow { kContinue, kNextLoop, kStopThread };

struct Worker;
struct Shared;

// Per data set: how rows are handed out.
struct DataBinding {
  std::shared_ptr<const DataSet> data;
  ShareMode share = ShareMode::kAllThreads;
  std::unique_ptr<DataCursor> all;                    // kAllThreads
  std::vector<std::unique_ptr<DataCursor>> by_group;  // kGroup
};

struct Shared {
  const Plan& plan;
  const EngineOptions& options;
  std::vector<DataBinding> data;
  std::unordered_map<std::string, std::string> variables, properties, secrets;
  struct LiteralUrl {
    http::Url url;
    std::string text;                // origin + path, as written to the JTL
    const http::ProxyEndpoint* via;  // chosen once: the URL does not change
  };
  std::unordered_map<const HttpSampler*, LiteralUrl> literal_urls;
  std::atomic<bool> stop_iterations{false};
  std::atomic<bool> aborted{false};
  std::atomic<std::uint64_t> active_vus{0};
  std::vector<std::atomic<std::uint64_t>> group_active;
  std::mutex reason_mu;
  std::string stop_reason;
  bool stopped_by_test = false;
  SteadyTime start;
  std::int64_t start_epoch_ms = 0;
  std::FILE* jtl = nullptr;
  std::mutex jtl_mu;
  // Constant Throughput Timers shared by users: (pacing_id, 0 or group + 1) → last start.
  std::mutex pacing_mu;
  std::map<std::pair<int, std::size_t>, std::optional<SteadyTime>> paced_starts;
  std::optional<telemetry::SpanId> trace_prefix;  // the first half of every request's trace id

  Shared(const Plan& p, const EngineOptions& o)
      : plan(p), options(o), group_active(p.groups.size()) {}

  std::int64_t epoch_ms(SteadyTime t) const {
    return start_epoch_ms + duration_cast<std::chrono::milliseconds>(t - start).count();
  }
  void stop_test(std::string reason, bool now) {
    {
      std::lock_guard lock(reason_mu);
      if (stop_reason.empty()) stop_reason = std::move(reason);
      stopped_by_test = true;
    }
    stop_iterations = true;
    if (now) aborted = true;
  }
};

struct Worker {
  int index = 0;
  asio::io_context ioc{1};
  std::unique_ptr<http::ClientPool> pool;
  std::mutex mu;
  Results results;  // guarded by mu
  std::string jtl_buffer;
  std::thread thread;
  std::atomic<bool> finished{false};
  std::vector<std::unique_ptr<struct Vu>> vus;
  // The VUs and arrival loops spawned on this worker and not yet ended (see worker_task()).
  int running_tasks = 0;

  void flush_jtl(Shared& shared, bool force) {
    if (!shared.jtl || jtl_buffer.empty()) return;
    if (!force && jtl_buffer.size() < (256u << 10)) return;
    std::lock_guard lock(shared.jtl_mu);
    std::fwrite(jtl_buffer.data(), 1, jtl_buffer.size(), shared.jtl);
    jtl_buffer.clear();
  }
};

struct Vu final : VarScope {
  Shared& shared;
  Worker& worker;
  const ThreadGroup& group;
  std::size_t group_index;
  int number;  // 1-based within the group (across engines)
  std::vector<std::pair<std::string, std::string>> vars;
  std::vector<const std::vector<std::string>*> rows;
  std::vector<std::size_t> private_cursors;
  std::vector<std::pair<const OnceOnly*, SteadyTime>> once_done;
  std::mt19937_64 rng_;
  std::string thread_name;
  std::vector<const std::vector<Header>*> header_scope;
  Millis connect_backoff{0};  // the pause after the next connection failure (0: first one)
  std::unordered_map<int, std::optional<SteadyTime>> paced_starts;  // this user's, by pacing_id
  CookieJar cookies;
  bool cookies_started = false;
  static inline const std::string kEof = "<EOF>";

  Vu(Shared& s, Worker& w, const ThreadGroup& g, std::size_t gi, int n)
      : shared(s),
        worker(w),
        group(g),
        group_index(gi),
        number(n),
        rng_(0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(n) + gi) {
    rows.assign(s.data.size(), nullptr);
    private_cursors.assign(s.data.size(), 0);
    thread_name = g.name + " " + std::to_string(gi + 1) + "-" + std::to_string(n);
  }

  const std::string* find(std::string_view name) const override {
    for (const auto& [k, v] : vars) {
      if (k == name) return &v;
    }
    for (std::size_t d = 0; d < shared.data.size(); ++d) {
      const auto& cols = shared.data[d].data->columns;
      for (std::size_t c = 0; c < cols.size(); ++c) {
        if (cols[c] == name) return rows[d] ? &(*rows[d])[c] : &kEof;
      }
    }
    std::string key(name);
    if (auto it = shared.variables.find(key); it != shared.variables.end()) return &it->second;
    if (auto it = shared.secrets.find(key); it != shared.secrets.end()) return &it->second;
    return nullptr;
  }
  int thread_number() const override { return number; }
  std::mt19937_64& rng() override { return rng_; }
  const std::string* property(std::string_view name) const override {
    auto it = shared.properties.find(std::string(name));
    return it == shared.properties.end() ? nullptr : &it->second;
  }
  const std::string* secret(std::string_view name) const override {
    auto it = shared.secrets.find(std::string(name));
    return it == shared.secrets.end() ? nullptr : &it->second;
  }
  void set_var(const std::string& name, std::string value) {
    for (auto& [k, v] : vars) {
      if (k == name) {
        v = std::move(value);
        return;
      }
    }
    vars.emplace_back(name, std::move(value));
  }
  // Takes this iteration's row of every data set. False when a data set ran out and says stop.
  bool advance_rows() {
    for (std::size_t d = 0; d < shared.data.size(); ++d) {
      auto& b = shared.data[d];
      const std::vector<std::string>* row = nullptr;
      if (b.share == ShareMode::kThread) {
        row = b.all->next_private(private_cursors[d]);
      } else if (b.share == ShareMode::kGroup) {
        row = b.by_group[group_index]->next();
      } else {
        row = b.all->next();
      }
      if (!row && b.data->stop_thread_at_end) return false;
      rows[d] = row;
    }
    return true;
  }
};

Task<void> sleep_until(SteadyTime when) {
  if (steady_clock::now() >= when) co_return;
  http::SteadyTimer timer(co_await asio::this_coro::executor);
  timer.expires_at(when);
  co_await timer.async_wait(http::kUseTuple);
}

std::size_t header_bytes(const http::ResponseHeader& h) {
  std::size_t n = 17 + h.reason().size();
  for (const auto& f : h) n += f.name_string().size() + f.value().size() + 4;
  return n + 2;
}

std::size_t request_bytes(const http::Request& r) {
  std::size_t n = r.method_string().size() + r.target().size() + 12;
  for (const auto& f : r) n += f.name_string().size() + f.value().size() + 4;
  return n + 2 + r.body().size();
}

std::int64_t retry_after_ms(const http::ResponseHeader& h) {
  if (auto value = http::first_field(h, "retry-after-ms")) {
    return std::atoll(std::string(*value).c_str());
  }
  if (auto value = http::first_field(h, http::Field::retry_after)) {
    std::string v(*value);
    char* end = nullptr;
    double s = std::strtod(v.c_str(), &end);
    if (end != v.c_str()) return static_cast<std::int64_t>(s * 1000.0);
  }
  return -1;
}

void write_jtl(Vu& vu, const HttpSampler& s, const Sample& sample) {
  auto& shared = vu.shared;
  if (!shared.jtl) return;
  // A sample with no HTTP status (no connection, a timeout) has text in the status column.
  std::string non_http_status;
  if (sample.status <= 0) non_http_status = "Non HTTP response code: " + sample.response_message;
  std::size_t room = JtlLine::kFixedRoom;
  for (std::string_view column :
       {std::string_view(s.label), std::string_view(non_http_status),
        std::string_view(sample.response_message), std::string_view(vu.thread_name),
        std::string_view(sample.failure_message), std::string_view(sample.url)}) {
    room += JtlLine::csv_room(column);
  }
  auto& out = vu.worker.jtl_buffer;
  const std::size_t start = out.size();
  out.resize(start + room);
  JtlLine line(out.data() + start);
  line.number(static_cast<std::int64_t>(sample.timestamp_ms));
  line.byte(',');
  line.number(static_cast<std::int64_t>((sample.e2e_us + 500) / 1000));
  line.byte(',');
  line.csv(s.label);
  line.byte(',');
  if (sample.status > 0) {
    line.number(static_cast<std::int64_t>(sample.status));
  } else {
    line.csv(non_http_status);
  }
  line.byte(',');
  line.csv(sample.response_message);
  line.byte(',');
  line.csv(vu.thread_name);
  line.text(",text,");
  line.text(sample.success ? "true" : "false");
  line.byte(',');
  line.csv(sample.failure_message);
  line.byte(',');
  line.number(static_cast<std::int64_t>(sample.bytes));
  line.byte(',');
  line.number(static_cast<std::int64_t>(sample.sent_bytes));
  line.byte(',');
  line.number(static_cast<std::int64_t>(
      shared.group_active[vu.group_index].load(std::memory_order_relaxed)));
  line.byte(',');
  line.number(static_cast<std::int64_t>(shared.active_vus.load(std::memory_order_relaxed)));
  line.byte(',');
  line.csv(sample.url);
  line.byte(',');
  line.number(static_cast<std::int64_t>(sample.ttfb_us < 0 ? 0 : (sample.ttfb_us + 500) / 1000));
  line.text(",0,");
  line.number(
      static_cast<std::int64_t>(sample.connect_us < 0 ? 0 : (sample.connect_us + 500) / 1000));
  line.byte('\n');
  out.resize(static_cast<std::size_t>(line.end() - out.data()));
  vu.worker.flush_jtl(shared, false);
}

// Replaces every secret value in `text` (failure messages, URLs) before it is written anywhere.
std::string redact(const Shared& shared, std::string text) {
  for (const auto& [name, value] : shared.secrets) {
    if (value.size() < 4) continue;
    for (auto pos = text.find(value); pos != std::string::npos; pos = text.find(value, pos)) {
      text.replace(pos, value.size(), "***");
      pos += 3;
    }
  }
  return text;
}

bool stopping(const Shared& shared);

// The pause after a sample that could not connect: EngineOptions::connect_backoff, doubling
// while the user's samples keep failing, up to connect_backoff_max.
Millis next_connect_backoff(Vu& vu) {
  const auto& o = vu.shared.options;
  if (o.connect_backoff.count() <= 0) return Millis(0);
  vu.connect_backoff =
      vu.connect_backoff.count() == 0
          ? o.connect_backoff
          : std::min(vu.connect_backoff * 2, std::max(o.connect_backoff, o.connect_backoff_max));
  return vu.connect_backoff;
}

// A request's traceparent: a new trace under the run's prefix, sampled, its span the request.
telemetry::TraceparentText next_traceparent(const telemetry::SpanId& prefix) {
  telemetry::TraceContext context;
  auto random_half = telemetry::random_span_id();
  std::copy(prefix.begin(), prefix.end(), context.trace_id.begin());
  std::copy(random_half.begin(), random_half.end(), context.trace_id.begin() + 8);
  context.span_id = telemetry::random_span_id();
  context.sampled = true;
  return telemetry::format_traceparent(context);
}

struct Attempt {
  bool retry = false;
  Millis wait{0};
};

// One HTTP exchange. Records the sample; returns whether it succeeded, and whether to retry.
Task<bool> run_sampler(Vu& vu, const HttpSampler& s, std::optional<SteadyTime>& intended) {
  auto& shared = vu.shared;
  int attempts = 0;
  while (true) {
    Sample sample;
    SteadyTime t0 = intended ? *intended : steady_clock::now();
    intended.reset();  // only the iteration's first request is measured from its intended time
    sample.timestamp_ms = shared.epoch_ms(t0);
    Attempt attempt;
    std::string error;
    bool connect_failed = false;

    // Build the request.
    http::Url rendered_url;
    const http::Url* url_ptr = &rendered_url;
    std::string body;
    http::Request req;
    bool built = true;
    bool literal = false;
    const http::ProxyEndpoint* via = nullptr;
    if (auto it = shared.literal_urls.find(&s); it != shared.literal_urls.end()) {
      url_ptr = &it->second.url;
      via = it->second.via;
      if (shared.jtl) sample.url = it->second.text;
      literal = true;
    } else {
      auto rendered = s.url.render(vu);
      std::optional<http::Url> parsed;
      std::string why;
      if (rendered) parsed = http::parse_url(*rendered, &why);
      if (!rendered) {
        error = "url: " + rendered.error().message;
      } else if (!parsed) {
        error = "url \"" + *rendered + "\": " + why;
      } else {
        rendered_url = std::move(*parsed);
        via = shared.options.proxies.for_target(rendered_url);
      }
      built = error.empty();
    }
    const http::Url& url = *url_ptr;
    if (built && !literal) sample.url = url.origin() + url.path;
    if (built) {
      req.method_string(s.method);
      req.version(11);
      req.target(url.path);
      // Outer scopes first; a later header of the same name replaces an earlier one.
      bool plan_traceparent = false;
      auto apply_headers = [&](const std::vector<Header>& headers) {
        for (const auto& h : headers) {
          std::string value;
          auto ok = h.value.render(vu, value);
          if (!ok) {
            error = "header " + h.name + ": " + ok.error().message;
            return;
          }
          req.set(h.name, value);
          plan_traceparent |= h.name.size() == 11 && http::beast::iequals(h.name, "traceparent");
        }
      };
      for (const auto* scope : vu.header_scope) {
        if (error.empty()) apply_headers(*scope);
      }
      if (error.empty()) apply_headers(s.headers);
      // The plan's own traceparent (a header manager's) wins over the run's.
      // Noted as the headers went in rather than searched for by name, and inserted without the
      // search set() makes: this runs for every sample.
      if (error.empty() && shared.trace_prefix && !plan_traceparent) {
        req.insert(http::Field::unknown, "traceparent",
                   next_traceparent(*shared.trace_prefix).view());
      }
      if (error.empty() && s.use_cookies) {
        std::string cookies = vu.cookies.header_for(url, std::chrono::system_clock::now());
        if (!cookies.empty()) {
          // A Cookie header from a header manager keeps its place; the jar's cookies follow it.
          auto given = req.find(http::Field::cookie);
          if (given != req.end()) cookies = std::string(given->value()) + "; " + cookies;
          req.set(http::Field::cookie, cookies);
        }
      }
      if (error.empty() && !s.form.empty()) {
        for (const auto& [name, value] : s.form) {
          auto rendered = value.render(vu);
          if (!rendered) {
            error = "form field " + name + ": " + rendered.error().message;
            break;
          }
          if (!body.empty()) body += '&';
          append_url_encoded(name, body);
          body += '=';
          append_url_encoded(*rendered, body);
        }
        if (req.find(http::Field::content_type) == req.end()) {
          req.set(http::Field::content_type, "application/x-www-form-urlencoded");
        }
      } else if (error.empty()) {
        auto ok = s.body.render(vu, body);
        if (!ok) error = "body: " + ok.error().message;
      }
      built = error.empty();
    }

    bool retained =
        s.response == ResponseKind::kOpenAi || !s.extractors.empty() || !s.assertions.empty();
    std::string response_body;
    detail::OpenAiTally tally;
    bool streaming = false;
    if (built) {
      if (s.response == ResponseKind::kOpenAi && !body.empty() &&
          req.find(http::Field::content_type) == req.end()) {
        req.set(http::Field::content_type, "application/json");
      }
      bool counts_prompt = s.response == ResponseKind::kOpenAi;
      std::string request_body_copy = counts_prompt ? body : std::string();
      req.body() = std::move(body);
      req.prepare_payload();
      sample.sent_bytes = request_bytes(req);
      auto opened_before = vu.worker.pool->connections_opened();
      SteadyTime sent_at = steady_clock::now();
      sample.queue_us = us_between(t0, sent_at);
      SteadyTime deadline = sent_at + s.timeout;
      auto opened = co_await vu.worker.pool->open(url, std::move(req), s.timeout, {}, via);
      SteadyTime header_at = steady_clock::now();
      if (!opened) {
        sample.response_message = http::to_string(opened.error().kind);
        error = opened.error().message;
        connect_failed = opened.error().kind == http::ClientErrorKind::kConnect;
      } else {
        auto& resp = **opened;
        if (vu.worker.pool->connections_opened() != opened_before) {
          // A new connection: its set-up is part of the time to the header; the pool does not
          // time it separately, so report the whole wait as an upper bound.
          sample.connect_us = us_between(sent_at, header_at);
        }
        sample.ttfb_us = us_between(t0, header_at);
        sample.status = static_cast<int>(resp.status());
        sample.response_message = std::string(resp.header().reason());
        sample.bytes = header_bytes(resp.header());
        sample.throttled = sample.status == 429;
        if (s.use_cookies) {
          auto now = std::chrono::system_clock::now();
          for (const auto& field : resp.header()) {
            if (field.name() == http::Field::set_cookie) vu.cookies.store(url, field.value(), now);
          }
        }
        if (sample.status == 429 || sample.status == 503) {
          sample.retry_after_ms = retry_after_ms(resp.header());
        }
        streaming = http::is_event_stream(resp.header());
        http::SseParser parser;
        std::vector<http::SseEvent> events;
        SteadyTime last_content{};
        bool any_content = false;
        while (true) {
          auto now = steady_clock::now();
          if (now >= deadline) {
            error =
                "timeout: response not complete after " + std::to_string(s.timeout.count()) + "ms";
            sample.response_message = "timeout";
            break;
          }
          auto left = duration_cast<Millis>(deadline - now) + Millis(1);
          auto chunk = co_await resp.read_some(std::min(left, s.idle_timeout));
          if (!chunk) {
            error = chunk.error().message;
            break;
          }
          if (chunk->empty() && resp.done()) break;
          sample.bytes += chunk->size();
          if (streaming && s.response == ResponseKind::kOpenAi) {
            SteadyTime at = steady_clock::now();
            events.clear();
            if (!parser.feed(*chunk, events)) {
              error = "stream: " + parser.error();
              break;
            }
            for (const auto& ev : events) {
              if (retained && (!s.extractors.empty() || !s.assertions.empty())) {
                response_body += ev.raw;
              }
              if (detail::read_stream_event(ev.data, tally)) {
                if (!any_content) {
                  sample.ttft_us = us_between(t0, at);
                  any_content = true;
                } else {
                  sample.itl_us.push_back(us_between(last_content, at));
                }
                last_content = at;
              }
            }
          } else if (retained) {
            response_body.append(chunk->data(), chunk->size());
          }
        }
        if (error.empty() && streaming && parser.pending() > 0) {
          error = "stream ended inside an event (truncated)";
        }
        if (s.response == ResponseKind::kOpenAi) {
          if (!streaming) detail::read_whole_response(response_body, tally);
          sample.prompt_tokens = tally.prompt_tokens;
          sample.completion_tokens = tally.completion_tokens;
          if (sample.status >= 200 && sample.status < 300) {
            const auto& enc = detail::encoding_for_model(s.model);
            if (sample.completion_tokens < 0) {
              sample.completion_tokens = static_cast<std::int64_t>(enc.count(tally.text));
              sample.tokens_estimated = true;
            }
            if (sample.prompt_tokens < 0) {
              sample.prompt_tokens = detail::count_prompt_tokens(request_body_copy, enc);
              sample.tokens_estimated = true;
            }
          }
        }
      }
      SteadyTime end = steady_clock::now();
      sample.e2e_us = us_between(t0, end);
      if (error.empty() && (sample.status < 200 || sample.status >= 400)) {
        bool asserted_status = false;
        for (const auto& a : s.assertions) asserted_status |= a.kind == Assertion::kStatusIn;
        if (!asserted_status) {
          error = "HTTP " + std::to_string(sample.status) +
                  (tally.error_message.empty() ? "" : ": " + tally.error_message);
        }
      }
      if (error.empty() && streaming && tally.saw_error)
        error = "stream error: " + tally.error_message;
      if (error.empty() || sample.status > 0) {
        for (const auto& a : s.assertions) {
          if (!error.empty()) break;
          switch (a.kind) {
            case Assertion::kStatusIn: {
              bool ok = false;
              for (int code : a.statuses) ok |= code == sample.status;
              if (!ok)
                error = "assertion: status " + std::to_string(sample.status) + " not expected";
              break;
            }
            case Assertion::kBodyContains:
              if (response_body.find(a.text) == std::string::npos) {
                error = "assertion: response does not contain \"" + a.text + "\"";
              }
              break;
            case Assertion::kBodyNotContains:
              if (response_body.find(a.text) != std::string::npos) {
                error = "assertion: response contains \"" + a.text + "\"";
              }
              break;
          }
        }
      }
      for (const auto& e : s.extractors) {
        auto value = extract(e, response_body, vu.rng_());
        if (value) {
          vu.set_var(e.variable, std::move(*value));
        } else if (e.default_value) {
          vu.set_var(e.variable, *e.default_value);
        }
      }
      if (attempts < s.max_retries && !shared.stop_iterations.load(std::memory_order_relaxed)) {
        bool retryable = sample.status == 0;
        for (int code : s.retry_on) retryable |= code == sample.status;
        if (retryable && !error.empty()) {
          attempt.retry = true;
          attempt.wait = sample.retry_after_ms >= 0
                             ? Millis(sample.retry_after_ms)
                             : s.retry_backoff * (1 << std::min(attempts, 6));
        }
      }
    } else {
      sample.e2e_us = us_between(t0, steady_clock::now());
      sample.response_message = "request not built";
    }
    sample.success = error.empty();
    if (!sample.success) sample.failure_message = redact(shared, std::move(error));
    if (!literal) sample.url = redact(shared, std::move(sample.url));
    if (s.record) {
      {
        std::lock_guard lock(vu.worker.mu);
        vu.worker.results.record(s.label, sample);
      }
      write_jtl(vu, s, sample);
    }
    if (connect_failed) {
      Millis pause = next_connect_backoff(vu);
      {
        std::lock_guard lock(vu.worker.mu);
        ++vu.worker.results.connect_failures;
        vu.worker.results.backoff_waits += !attempt.retry && pause.count() > 0;
      }
      if (!attempt.retry && pause.count() > 0 && !stopping(shared)) {
        co_await sleep_until(steady_clock::now() + pause);
      }
    } else if (sample.status > 0) {
      vu.connect_backoff = Millis(0);
    }
    if (!attempt.retry) co_return sample.success;
    ++attempts;
    co_await sleep_until(steady_clock::now() + attempt.wait);
  }
}

bool stopping(const Shared& shared) {
  return shared.stop_iterations.load(std::memory_order_relaxed) ||
         shared.aborted.load(std::memory_order_relaxed);
}

Task<Flow> run_steps(Vu& vu, const std::vector<Step>& steps, std::optional<SteadyTime>& intended);

Flow on_sampler_error(Vu& vu) {
  switch (vu.group.on_error) {
    case OnError::kContinue:
      return Flow::kContinue;
    case OnError::kStartNextLoop:
      return Flow::kNextLoop;
    case OnError::kStopThread:
      return Flow::kStopThread;
    case OnError::kStopTest:
      vu.shared.stop_test("a sampler failed in " + vu.group.name + " (on error: stop test)", false);
      return Flow::kStopThread;
    case OnError::kStopTestNow:
      vu.shared.stop_test("a sampler failed in " + vu.group.name + " (on error: stop test now)",
                          true);
      return Flow::kStopThread;
  }
  return Flow::kContinue;
}

// JMeter's Constant Throughput Timer: when the next sampler it covers may start. Each start is
// the previous one plus the spacing (60 s / per_minute, times the active users for the modes that
// share the rate among them), or now if that has passed; the previous start is the user's own, or
// shared by the test or the group.
SteadyTime next_paced_start(Vu& vu, const Timer& t) {
  using Pacing = Timer::Pacing;
  auto& shared = vu.shared;
  double spacing_ms = t.per_minute > 0 ? 60'000.0 / t.per_minute : 0;
  if (t.pacing == Pacing::kAllUsers) {
    spacing_ms *= static_cast<double>(std::max<std::uint64_t>(1, shared.active_vus.load()));
  } else if (t.pacing == Pacing::kGroupUsers) {
    spacing_ms *=
        static_cast<double>(std::max<std::uint64_t>(1, shared.group_active[vu.group_index].load()));
  }
  auto spacing =
      duration_cast<SteadyTime::duration>(std::chrono::duration<double, std::milli>(spacing_ms));
  auto now = steady_clock::now();
  auto schedule = [&](std::optional<SteadyTime>& previous) {
    SteadyTime start = previous ? std::max(now, *previous + spacing) : now;
    previous = start;
    return start;
  };
  if (t.pacing == Pacing::kAllUsersShared || t.pacing == Pacing::kGroupUsersShared) {
    std::size_t scope = t.pacing == Pacing::kGroupUsersShared ? vu.group_index + 1 : 0;
    std::lock_guard lock(shared.pacing_mu);
    return schedule(shared.paced_starts[{t.pacing_id, scope}]);
  }
  return schedule(vu.paced_starts[t.pacing_id]);
}

Task<Flow> run_step(Vu& vu, const Step& step, std::optional<SteadyTime>& intended) {
  if (auto* s = std::get_if<HttpSampler>(&step.node)) {
    bool ok = co_await run_sampler(vu, *s, intended);
    if (!ok) co_return on_sampler_error(vu);
    co_return Flow::kContinue;
  }
  if (auto* once = std::get_if<OnceOnly>(&step.node)) {
    auto now = steady_clock::now();
    std::pair<const OnceOnly*, SteadyTime>* done = nullptr;
    for (auto& entry : vu.once_done) {
      if (entry.first == once) done = &entry;
    }
    bool due = !done;
    if (done && !once->refresh_expires_in_var.empty()) {
      const std::string* expires = vu.find(once->refresh_expires_in_var);
      long long seconds = expires ? std::atoll(expires->c_str()) : 0;
      auto refresh_at = done->second + std::chrono::seconds(seconds) - once->refresh_margin;
      due = seconds > 0 && now >= refresh_at;
    }
    if (!due) co_return Flow::kContinue;
    if (done) {
      done->second = now;
    } else {
      vu.once_done.emplace_back(once, now);
    }
    vu.header_scope.push_back(&once->headers);
    Flow flow = co_await run_steps(vu, once->steps, intended);
    vu.header_scope.pop_back();
    co_return flow;
  }
  if (auto* loop = std::get_if<Loop>(&step.node)) {
    vu.header_scope.push_back(&loop->headers);
    Flow flow = Flow::kContinue;
    SteadyTime began = steady_clock::now();
    for (int i = 0; loop->count < 0 || i < loop->count; ++i) {
      if (stopping(vu.shared)) break;
      if (loop->run_time && steady_clock::now() - began >= *loop->run_time) break;
      flow = co_await run_steps(vu, loop->steps, intended);
      if (flow == Flow::kStopThread) break;
      flow = Flow::kContinue;  // "start next loop" restarts the inner loop's next iteration
    }
    vu.header_scope.pop_back();
    co_return flow;
  }
  if (auto* timer = std::get_if<Timer>(&step.node)) {
    if (timer->kind == Timer::kConstantThroughput) {
      co_await sleep_until(next_paced_start(vu, *timer));
      co_return Flow::kContinue;
    }
    Millis delay = timer->delay;
    if (timer->kind == Timer::kUniformRandom && timer->range.count() > 0) {
      std::uniform_int_distribution<long long> d(0, timer->range.count());
      delay += Millis(d(vu.rng_));
    }
    co_await sleep_until(steady_clock::now() + delay);
    co_return Flow::kContinue;
  }
  co_return Flow::kContinue;
}

Task<Flow> run_steps(Vu& vu, const std::vector<Step>& steps, std::optional<SteadyTime>& intended) {
  for (const auto& step : steps) {
    if (vu.shared.aborted.load(std::memory_order_relaxed)) co_return Flow::kStopThread;
    Flow flow = co_await run_step(vu, step, intended);
    if (flow != Flow::kContinue) co_return flow;
  }
  co_return Flow::kContinue;
}

// A new iteration of the group's main loop: with a cookie manager that clears each iteration,
// the VU starts over as a new user with only the user-defined cookies.
void start_cookies(Vu& vu) {
  const auto& settings = *vu.group.cookies;
  if (vu.cookies_started && !settings.clear_each_iteration) return;
  vu.cookies_started = true;
  vu.cookies.clear();
  for (const auto& c : settings.cookies) {
    auto value = c.value.render(vu);
    if (!value || value->empty()) continue;  // JMeter drops a cookie with no value
    vu.cookies.put(Cookie{c.name, std::move(*value), c.domain, false, c.path, c.secure});
  }
}

Task<Flow> run_iteration(Vu& vu, std::optional<SteadyTime> intended) {
  if (!vu.advance_rows()) co_return Flow::kStopThread;
  if (vu.group.cookies) start_cookies(vu);
  vu.header_scope.clear();
  vu.header_scope.push_back(&vu.group.headers);
  Flow flow = co_await run_steps(vu, vu.group.steps, intended);
  co_return flow;
}

Task<void> closed_vu(Vu& vu, const ClosedLoad& load, SteadyTime start_at, SteadyTime end_at) {
  auto& shared = vu.shared;
  co_await sleep_until(start_at);
  if (stopping(shared) || steady_clock::now() >= end_at) co_return;
  shared.active_vus.fetch_add(1, std::memory_order_relaxed);
  shared.group_active[vu.group_index].fetch_add(1, std::memory_order_relaxed);
  for (int i = 0; load.loops < 0 || i < load.loops; ++i) {
    if (stopping(shared) || steady_clock::now() >= end_at) break;
    Flow flow = co_await run_iteration(vu, std::nullopt);
    if (flow == Flow::kStopThread) break;
    if (load.think_time.count() > 0) co_await sleep_until(steady_clock::now() + load.think_time);
  }
  shared.active_vus.fetch_sub(1, std::memory_order_relaxed);
  shared.group_active[vu.group_index].fetch_sub(1, std::memory_order_relaxed);
}

// The completion handler of a VU or an arrival loop spawned on `worker`, counted while it runs.
// The worker's pool leaves an idle connection's read timer waiting rather than cancelling and
// restarting it around every request (ClientSettings::idle_timers_keep_waiting); those timers
// would keep the worker's event loop from returning until they expire, so when the worker's last
// task ends its pool is closed, which drops the idle connections and their timers.
auto worker_task(Worker& worker) {
  ++worker.running_tasks;
  return [&worker](std::exception_ptr) {
    if (--worker.running_tasks == 0) worker.pool->close();
  };
}

// The open model on one worker: a share of the arrival rate and of the VU pool.
struct OpenPool {
  std::vector<Vu*> idle;
  std::deque<SteadyTime> queue;
  std::size_t max_queued = 0;
  std::uint64_t dropped = 0;
  bool closed = false;  // no more arrivals
};

Task<void> open_vu_run(Vu& vu, OpenPool& pool, SteadyTime intended) {
  auto& shared = vu.shared;
  shared.active_vus.fetch_add(1, std::memory_order_relaxed);
  shared.group_active[vu.group_index].fetch_add(1, std::memory_order_relaxed);
  std::optional<SteadyTime> next = intended;
  while (next && !stopping(shared)) {
    Flow flow = co_await run_iteration(vu, *next);
    next.reset();
    if (flow == Flow::kStopThread && vu.shared.stop_iterations) break;
    if (!pool.queue.empty()) {
      next = pool.queue.front();
      pool.queue.pop_front();
    }
  }
  if (next) {
    // Taken from the queue as the run ended: it never started.
    std::lock_guard lock(vu.worker.mu);
    ++vu.worker.results.dropped_iterations;
  }
  shared.active_vus.fetch_sub(1, std::memory_order_relaxed);
  shared.group_active[vu.group_index].fetch_sub(1, std::memory_order_relaxed);
  pool.idle.push_back(&vu);
}

Task<void> open_arrivals(Worker& worker, Shared& shared, std::shared_ptr<OpenPool> pool,
                         const OpenLoad& load, double rate, double phase, SteadyTime begin,
                         SteadyTime end) {
  if (rate <= 0) co_return;
  std::mt19937_64 rng(0xabcdef12345ULL + static_cast<std::uint64_t>(worker.index));
  std::exponential_distribution<double> exp(rate);
  auto gap = [&]() -> std::chrono::nanoseconds {
    double seconds = load.poisson ? exp(rng) : 1.0 / rate;
    return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
  };
  SteadyTime next = begin + std::chrono::nanoseconds(static_cast<std::int64_t>(phase / rate * 1e9));
  auto executor = co_await asio::this_coro::executor;
  while (next < end && !stopping(shared)) {
    co_await sleep_until(next);
    if (stopping(shared)) break;
    if (!pool->idle.empty()) {
      Vu* vu = pool->idle.back();
      pool->idle.pop_back();
      asio::co_spawn(executor, open_vu_run(*vu, *pool, next), worker_task(worker));
    } else if (pool->queue.size() < pool->max_queued) {
      pool->queue.push_back(next);
    } else {
      ++pool->dropped;
    }
    next += gap();
  }
  // Arrivals that were still waiting for a VU when the run ended never started.
  pool->dropped += pool->queue.size();
  pool->queue.clear();
  std::lock_guard lock(worker.mu);
  worker.results.dropped_iterations += pool->dropped;
}

Millis planned_duration(const Plan& plan) {
  Millis longest{0};
  for (const auto& g : plan.groups) {
    if (auto* c = std::get_if<ClosedLoad>(&g.load)) {
      if (c->duration) longest = std::max(longest, c->start_delay + *c->duration);
    } else {
      const auto& o = std::get<OpenLoad>(g.load);
      longest = std::max(longest, o.start_delay + o.duration);
    }
  }
  if (plan.max_duration.count() > 0 && (longest.count() == 0 || plan.max_duration < longest)) {
    longest = plan.max_duration;
  }
  return longest;
}

}  // namespace

core::Result<std::vector<std::shared_ptr<const DataSet>>> load_data_sets(const Plan& plan,
                                                                         int engine_index,
                                                                         int engine_count) {
  std::vector<std::shared_ptr<const DataSet>> out;
  for (const auto& spec : plan.data_sets) {
    if (spec.path.empty()) {
      DataSet d;
      d.name = spec.name;
      d.columns = spec.variables;
      d.recycle = spec.recycle;
      d.stop_thread_at_end = spec.stop_thread_at_end;
      for (std::size_t i = 0; i < spec.inline_rows.size(); ++i) {
        if (spec.split_across_engines && engine_count > 1 &&
            i % static_cast<std::size_t>(engine_count) != static_cast<std::size_t>(engine_index)) {
          continue;
        }
        d.rows.push_back(spec.inline_rows[i]);
      }
      if (d.rows.empty()) {
        return core::Error{core::ErrorCode::kInvalidArgument, spec.name + ": no rows"};
      }
      out.push_back(std::make_shared<const DataSet>(std::move(d)));
      continue;
    }
    auto loaded = load_data_set(spec, engine_index, engine_count);
    if (!loaded) return loaded.error();
    out.push_back(std::make_shared<const DataSet>(std::move(*loaded)));
  }
  return out;
}

core::Result<RunOutcome> run_plan(const Plan& plan,
                                  const std::vector<std::shared_ptr<const DataSet>>& data,
                                  const EngineOptions& options, const std::atomic<bool>* stop) {
  auto valid = validate_plan(plan);
  if (!valid) return valid.error();
  Shared shared(plan, options);
  if (!options.trace_id_prefix.empty()) {
    shared.trace_prefix = telemetry::span_id_from_hex(options.trace_id_prefix);
    if (!shared.trace_prefix) {
      return core::Error{core::ErrorCode::kInvalidArgument,
                         "trace id prefix \"" + options.trace_id_prefix +
                             "\" must be 16 lower-case hex digits, not all zero"};
    }
  }
  for (const auto& [k, v] : plan.variables) shared.variables[k] = v;
  for (const auto& [k, v] : plan.properties) shared.properties[k] = v;
  for (const auto& [k, v] : plan.secrets) shared.secrets[k] = v;
  if (data.size() != plan.data_sets.size()) {
    return core::Error{core::ErrorCode::kInvalidArgument, "data sets not loaded"};
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    DataBinding b;
    b.data = data[i];
    b.share = plan.data_sets[i].share;
    b.all = std::make_unique<DataCursor>(data[i]);
    for (std::size_t g = 0; g < plan.groups.size(); ++g) {
      b.by_group.push_back(std::make_unique<DataCursor>(data[i]));
    }
    shared.data.push_back(std::move(b));
  }
  // Pre-parse literal URLs so the hot path does not parse them per request.
  std::function<void(const std::vector<Step>&)> index_urls = [&](const std::vector<Step>& steps) {
    for (const auto& step : steps) {
      if (auto* s = std::get_if<HttpSampler>(&step.node)) {
        if (s->url.is_literal()) {
          if (auto u = http::parse_url(s->url.source())) {
            std::string text = u->origin() + u->path;
            const http::ProxyEndpoint* via = options.proxies.for_target(*u);
            shared.literal_urls.emplace(s, Shared::LiteralUrl{*u, std::move(text), via});
          }
        }
      } else if (auto* o = std::get_if<OnceOnly>(&step.node)) {
        index_urls(o->steps);
      } else if (auto* l = std::get_if<Loop>(&step.node)) {
        index_urls(l->steps);
      }
    }
  };
  for (const auto& g : plan.groups) index_urls(g.steps);

  if (!options.jtl_path.empty()) {
    shared.jtl = std::fopen(options.jtl_path.c_str(), "wb");
    if (!shared.jtl) {
      return core::Error{core::ErrorCode::kInvalidArgument, "cannot write " + options.jtl_path};
    }
    std::fputs(
        "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,"
        "failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n",
        shared.jtl);
  }

  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::uint64_t total_vus = 0;
  for (const auto& g : plan.groups) {
    if (auto* c = std::get_if<ClosedLoad>(&g.load)) {
      total_vus += static_cast<std::uint64_t>(c->vus);
    } else {
      total_vus += static_cast<std::uint64_t>(std::get<OpenLoad>(g.load).max_concurrency);
    }
  }
  threads = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(threads),
                                                     std::max<std::uint64_t>(1, total_vus)));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int w = 0; w < threads; ++w) {
    auto worker = std::make_unique<Worker>();
    worker->index = w;
    http::ClientSettings settings = options.client;
    settings.idle_timers_keep_waiting = true;  // the pool is closed when the worker's tasks end
    settings.max_idle_per_origin =
        std::max<std::size_t>(settings.max_idle_per_origin, total_vus / threads + 16);
    worker->pool = std::make_unique<http::ClientPool>(worker->ioc.get_executor(), settings);
    workers.push_back(std::move(worker));
  }

  RunOutcome outcome;
  shared.start = steady_clock::now() + Millis(50);  // time to spawn everything
  shared.start_epoch_ms = duration_cast<std::chrono::milliseconds>(
                              (std::chrono::system_clock::now() + Millis(50)).time_since_epoch())
                              .count();
  outcome.started_at_ms = shared.start_epoch_ms;
  const Millis planned = planned_duration(plan);
  const SteadyTime hard_end = planned.count() > 0 ? shared.start + planned : SteadyTime::max();

  std::vector<std::shared_ptr<OpenPool>> pools;
  for (std::size_t gi = 0; gi < plan.groups.size(); ++gi) {
    const auto& g = plan.groups[gi];
    if (auto* c = std::get_if<ClosedLoad>(&g.load)) {
      int total = c->total_vus > 0 ? c->total_vus : c->vus;
      SteadyTime group_end = hard_end;
      if (c->duration)
        group_end = std::min(group_end, shared.start + c->start_delay + *c->duration);
      for (int k = 0; k < c->vus; ++k) {
        int global = c->engine_offset + k * c->engine_stride;
        auto& worker = *workers[static_cast<std::size_t>(k % threads)];
        auto vu = std::make_unique<Vu>(shared, worker, g, gi, global + 1);
        auto offset = total > 0 ? c->ramp_up * global / total : Millis(0);
        asio::co_spawn(worker.ioc,
                       closed_vu(*vu, *c, shared.start + c->start_delay + offset, group_end),
                       worker_task(worker));
        worker.vus.push_back(std::move(vu));
      }
    } else {
      const auto& o = std::get<OpenLoad>(g.load);
      SteadyTime begin = shared.start + o.start_delay;
      SteadyTime end = std::min(hard_end, begin + o.duration);
      int n = 0;
      for (int w = 0; w < threads; ++w) {
        auto& worker = *workers[static_cast<std::size_t>(w)];
        auto pool = std::make_shared<OpenPool>();
        int share = o.max_concurrency / threads + (w < o.max_concurrency % threads ? 1 : 0);
        if (share == 0) continue;
        pool->max_queued = o.max_queued / static_cast<std::size_t>(threads) + 1;
        for (int k = 0; k < share; ++k) {
          auto vu = std::make_unique<Vu>(shared, worker, g, gi, ++n);
          pool->idle.push_back(vu.get());
          worker.vus.push_back(std::move(vu));
        }
        pools.push_back(pool);
      }
      // Each worker with VUs gets an equal share of the rate, phase-shifted for even spacing.
      std::size_t first = pools.size();
      int with_vus = 0;
      for (int w = 0; w < threads; ++w) {
        int share = o.max_concurrency / threads + (w < o.max_concurrency % threads ? 1 : 0);
        if (share > 0) ++with_vus;
      }
      int idx = 0;
      for (int w = 0; w < threads; ++w) {
        int share = o.max_concurrency / threads + (w < o.max_concurrency % threads ? 1 : 0);
        if (share == 0) continue;
        auto& pool =
            pools[first - static_cast<std::size_t>(with_vus) + static_cast<std::size_t>(idx)];
        auto& worker = *workers[static_cast<std::size_t>(w)];
        asio::co_spawn(worker.ioc,
                       open_arrivals(worker, shared, pool, o, o.rate_per_second / with_vus,
                                     static_cast<double>(idx) / with_vus, begin, end),
                       worker_task(worker));
        ++idx;
      }
    }
  }

  // Server-side metrics.
  PrometheusScraper scraper(options.scrape, options.client);
  scraper.start();

  for (auto& w : workers) {
    Worker* worker = w.get();
    worker->thread = std::thread([worker] {
      core::name_this_thread("load-worker");
      worker->ioc.run();
      worker->finished = true;
    });
  }

  // Controller: progress once a second, autoStop, deadline.
  struct Tick {
    std::uint64_t requests, errors;
  };
  std::deque<Tick> window;
  Progress progress;
  progress.total_s = static_cast<double>(planned.count()) / 1000.0;
  std::uint64_t last_requests = 0, last_tokens = 0;
  SteadyTime next_tick = shared.start + std::chrono::seconds(1);
  SteadyTime abort_at = SteadyTime::max();
  while (true) {
    bool all_done = true;
    for (auto& w : workers) all_done &= w->finished.load();
    if (all_done) break;
    auto now = steady_clock::now();
    if (stop && stop->load() && !shared.stop_iterations) {
      shared.stop_test("interrupted", false);
      abort_at = std::min(abort_at, now + Millis(2'000));
    }
    if (shared.aborted && abort_at == SteadyTime::max()) abort_at = now;
    if (hard_end != SteadyTime::max() && now >= hard_end && abort_at == SteadyTime::max()) {
      shared.stop_iterations = true;
      abort_at = hard_end + options.grace;
    }
    if (shared.stop_iterations && abort_at == SteadyTime::max()) abort_at = now + options.grace;
    if (now >= abort_at) {
      shared.aborted = true;
      for (auto& w : workers) w->ioc.stop();
    }
    if (now >= next_tick) {
      next_tick += std::chrono::seconds(1);
      Stats total;
      for (auto& w : workers) {
        std::lock_guard lock(w->mu);
        total.merge(w->results.total);
        auto sec = shared.epoch_ms(now) / 1000 - 1;
        // Record the active VUs of the second that just ended.
        w->results.timeline[sec].vus = w->index == 0 ? shared.active_vus.load() : 0;
      }
      std::uint64_t tokens = total.prompt_tokens + total.completion_tokens;
      progress.elapsed_s = std::chrono::duration<double>(now - shared.start).count();
      progress.active_vus = shared.active_vus.load();
      progress.max_vus = total_vus;
      outcome.max_vus = std::max(outcome.max_vus, progress.active_vus);
      progress.requests = total.requests;
      progress.errors = total.errors;
      progress.throttled = total.throttled;
      progress.requests_per_sec = static_cast<double>(total.requests - last_requests);
      progress.tokens_per_min = static_cast<double>(tokens - last_tokens) * 60.0;
      progress.p95_ttft_ms = total.ttft.count() ? total.ttft.percentile(95) / 1000.0 : -1;
      progress.p95_e2e_ms = total.e2e.count() ? total.e2e.percentile(95) / 1000.0 : -1;
      last_requests = total.requests;
      last_tokens = tokens;
      if (options.on_progress) options.on_progress(progress);
      window.push_back({total.requests, total.errors});
      auto span = static_cast<std::size_t>(options.auto_stop.time_window.count());
      while (window.size() > span + 1) window.pop_front();
      if (options.auto_stop.enabled && window.size() > span && !shared.stop_iterations) {
        auto requests = window.back().requests - window.front().requests;
        auto errors = window.back().errors - window.front().errors;
        if (requests > 0 && 100.0 * static_cast<double>(errors) / static_cast<double>(requests) >=
                                options.auto_stop.error_percentage) {
          char buf[200];
          std::snprintf(buf, sizeof buf,
                        "autoStop: %.1f%% errors over the last %llds (limit %.1f%%)",
                        100.0 * static_cast<double>(errors) / static_cast<double>(requests),
                        static_cast<long long>(options.auto_stop.time_window.count()),
                        options.auto_stop.error_percentage);
          {
            std::lock_guard lock(shared.reason_mu);
            shared.stop_reason = buf;
          }
          outcome.auto_stopped = true;
          shared.stop_iterations = true;
          abort_at = now + Millis(2'000);
        }
      }
    }
    auto wake = std::min(next_tick, abort_at);
    auto nap = std::min<std::chrono::nanoseconds>(wake - steady_clock::now(), Millis(50));
    if (nap.count() > 0) std::this_thread::sleep_for(nap);
  }
  for (auto& w : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  scraper.stop();
  outcome.server_metrics = scraper.take_series();
  outcome.ended_at_ms =
      duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (auto& w : workers) {
    w->flush_jtl(shared, true);
    outcome.results.merge(w->results);
  }
  outcome.results.connect_backoff_ms = std::max<std::int64_t>(0, options.connect_backoff.count());
  // Drop VU-count-only seconds outside the run.
  for (auto it = outcome.results.timeline.begin(); it != outcome.results.timeline.end();) {
    if (it->first * 1000 + 999 < outcome.started_at_ms) {
      it = outcome.results.timeline.erase(it);
    } else {
      ++it;
    }
  }
  if (shared.aborted) {
    // Coroutines cut off by ioc.stop() still hold connections of their worker's pool; destroying
    // the io_context and pool in either order would touch freed memory, and the process is about
    // to end, so let them go.
    for (auto& w : workers) (void)w.release();
  }
  if (shared.jtl) std::fclose(shared.jtl);
  {
    std::lock_guard lock(shared.reason_mu);
    outcome.stop_reason = shared.stop_reason;
    outcome.stopped_by_test = shared.stopped_by_test && shared.stop_reason != "interrupted";
    if (shared.stop_reason == "interrupted") outcome.stop_reason = "interrupted";
  }
  return outcome;
}

}  // namespace sluice::loadgen
