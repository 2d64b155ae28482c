// `sluice load run|merge|compare`: runs a load test, merges engine results, compares two runs.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cli/command.hpp"
#include "sluice/core/config_error.hpp"
#include "sluice/core/duration.hpp"
#include "sluice/loadgen/engine.hpp"
#include "sluice/loadgen/run_report.hpp"
#include "sluice/loadgen/test_definition.hpp"
#include "sluice/telemetry/trace_ids.hpp"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;
using namespace sluice::loadgen;

constexpr int kExitPassed = 0;
constexpr int kExitFailed = 1;
constexpr int kExitCouldNotRun = 2;

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

struct RunOptions {
  std::string test;
  std::vector<std::string> env;
  std::string secrets_file;
  std::string duration;
  std::optional<int> vus;
  std::optional<int> engine_index;
  std::optional<int> engine_count;
  std::optional<int> engine_instances;
  std::string out = "load-results";
  bool quiet = false;
  bool jsonl = false;
  int threads = 0;
  std::vector<std::string> resolve;
  std::vector<std::string> connect_to;
  std::optional<std::string> proxy;  // "": no proxy, whatever the environment says
  std::optional<std::string> noproxy;
  std::string ca_file;
  bool insecure = false;
  std::string bind_address;
  bool no_jtl = false;
  std::string connect_backoff;
  std::string trace_prefix;  // "": a random one per run
  bool no_traceparent = false;
  std::vector<std::string> passthrough;  // for child engines
};

int fail(const std::string& message) {
  std::fprintf(stderr, "sluice load: %s\n", message.c_str());
  return kExitCouldNotRun;
}

std::string progress_line(const Progress& p) {
  char buf[320];
  char total[32] = "";
  if (p.total_s > 0) std::snprintf(total, sizeof total, "/%.0fs", p.total_s);
  char ttft[32] = "-";
  if (p.p95_ttft_ms >= 0) std::snprintf(ttft, sizeof ttft, "%.0fms", p.p95_ttft_ms);
  double err_pct =
      p.requests ? 100.0 * static_cast<double>(p.errors) / static_cast<double>(p.requests) : 0;
  std::snprintf(buf, sizeof buf,
                "[%5.0fs%s] vus %llu/%llu  req/s %.1f  tok/min %.0f  requests %llu  errors %llu "
                "(%.1f%%)  throttled %llu  p95 ttft %s",
                p.elapsed_s, total, static_cast<unsigned long long>(p.active_vus),
                static_cast<unsigned long long>(p.max_vus), p.requests_per_sec, p.tokens_per_min,
                static_cast<unsigned long long>(p.requests),
                static_cast<unsigned long long>(p.errors), err_pct,
                static_cast<unsigned long long>(p.throttled), ttft);
  return buf;
}

std::string progress_json(const Progress& p) {
  boost::json::object o;
  o["type"] = "progress";
  o["elapsed_s"] = p.elapsed_s;
  o["total_s"] = p.total_s;
  o["active_vus"] = p.active_vus;
  o["requests"] = p.requests;
  o["errors"] = p.errors;
  o["throttled"] = p.throttled;
  o["requests_per_sec"] = p.requests_per_sec;
  o["tokens_per_min"] = p.tokens_per_min;
  if (p.p95_ttft_ms >= 0) o["p95_ttft_ms"] = p.p95_ttft_ms;
  if (p.p95_e2e_ms >= 0) o["p95_response_ms"] = p.p95_e2e_ms;
  return boost::json::serialize(o);
}

core::Result<http::ClientSettings> client_settings(const RunOptions& o) {
  http::ClientSettings s;
  for (const auto& r : o.resolve) {
    // host:port:addr (curl); addr may be an IPv6 literal in brackets.
    auto first = r.find(':');
    auto second = first == std::string::npos ? first : r.find(':', first + 1);
    if (second == std::string::npos) {
      return core::Error{core::ErrorCode::kInvalidArgument,
                         "--resolve " + r + ": expected HOST:PORT:ADDRESS"};
    }
    std::string addr = r.substr(second + 1);
    if (addr.size() > 2 && addr.front() == '[' && addr.back() == ']')
      addr = addr.substr(1, addr.size() - 2);
    s.resolve_overrides[r.substr(0, second)] = addr + ":" + r.substr(first + 1, second - first - 1);
  }
  for (const auto& c : o.connect_to) {
    // HOST1:PORT1:HOST2:PORT2 (curl --connect-to)
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= c.size(); ++i) {
      if (i == c.size() || c[i] == ':') {
        parts.push_back(c.substr(start, i - start));
        start = i + 1;
      }
    }
    if (parts.size() != 4 || parts[0].empty() || parts[2].empty()) {
      return core::Error{core::ErrorCode::kInvalidArgument,
                         "--connect-to " + c + ": expected HOST1:PORT1:HOST2:PORT2"};
    }
    s.resolve_overrides[parts[0] + ":" + parts[1]] =
        parts[2] + (parts[3].empty() ? "" : ":" + parts[3]);
  }
  s.tls.ca_file = o.ca_file;
  s.tls.verify_peer = !o.insecure;
  s.bind_address = o.bind_address;
  return s;
}

// --proxy and --noproxy, else the environment's proxy variables, as curl reads them.
core::Result<http::ProxySelection> proxy_selection(const RunOptions& o) {
  http::ProxyOptions options;
  options.proxy = o.proxy;
  options.no_proxy = o.noproxy;
  std::string why;
  auto selection =
      http::ProxySelection::make(options, http::ProxyEnvironment::from_process(), &why);
  if (!selection) return core::Error{core::ErrorCode::kInvalidArgument, why};
  return std::move(*selection);
}

LoadOverrides overrides_from(const RunOptions& o) {
  LoadOverrides ov;
  for (const auto& kv : o.env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::runtime_error("--env " + kv + ": expected NAME=VALUE");
    ov.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (!o.secrets_file.empty()) ov.secrets_file = read_secrets_file(o.secrets_file);
  if (!o.duration.empty()) {
    auto d = core::parse_duration(o.duration);
    if (!d) throw std::runtime_error("--duration " + o.duration + ": " + d.error().message);
    ov.duration = std::chrono::duration_cast<Millis>(*d);
  }
  ov.vus = o.vus;
  return ov;
}

void write_outputs(const RunReport& report, const fs::path& out, bool quiet, bool jsonl) {
  auto written = write_results(report, out / "results.json");
  if (!written) throw std::runtime_error(written.error().message);
  std::ofstream html(out / "report.html", std::ios::binary);
  html << render_html_report(report);
  if (jsonl) {
    boost::json::object o;
    o["type"] = "summary";
    o["verdict"] = report.passed() ? "passed" : "failed";
    o["results"] = (out / "results.json").string();
    o["report"] = (out / "report.html").string();
    auto full = to_json(report);
    o["summary"] = full.as_object()["summary"];
    o["criteria"] = full.as_object()["criteria"];
    std::printf("%s\n", boost::json::serialize(o).c_str());
  } else if (!quiet) {
    std::printf("\n%s", summary_text(report).c_str());
    std::printf("results: %s\nreport:  %s\n", (out / "results.json").c_str(),
                (out / "report.html").c_str());
  } else {
    std::printf("verdict: %s\n", report.passed() ? "PASSED" : "FAILED");
  }
  std::fflush(stdout);
}

// Concatenates the JTL files of `dirs` into `out` (header once). Missing files are skipped.
void concat_jtl(const std::vector<fs::path>& dirs, const fs::path& out) {
  std::ofstream jtl;
  bool header_written = false;
  for (const auto& dir : dirs) {
    fs::path part_path =
        fs::is_directory(dir) ? dir / "results.jtl" : dir.parent_path() / "results.jtl";
    std::ifstream part(part_path, std::ios::binary);
    if (!part) continue;
    if (!jtl.is_open()) jtl.open(out, std::ios::binary);
    std::string line;
    bool first = true;
    while (std::getline(part, line)) {
      if (first) {
        first = false;
        if (header_written) continue;
        header_written = true;
      }
      jtl << line << '\n';
    }
  }
}

// engineInstances > 1: this process becomes the coordinator of N local engine processes.
int run_local_engines(const RunOptions& o, const TestDefinition& def, int n) {
  fs::path out(o.out);
  std::vector<pid_t> children;
  std::string self = fs::read_symlink("/proc/self/exe").string();
  if (!o.quiet && !o.jsonl) std::fprintf(stderr, "starting %d engine processes\n", n);
  for (int i = 0; i < n; ++i) {
    fs::path dir = out / ("engine-" + std::to_string(i));
    fs::create_directories(dir);
    std::vector<std::string> args = {self,
                                     "load",
                                     "run",
                                     o.test,
                                     "--engine-index",
                                     std::to_string(i),
                                     "--engine-count",
                                     std::to_string(n),
                                     "--out",
                                     dir.string(),
                                     "--quiet"};
    args.insert(args.end(), o.passthrough.begin(), o.passthrough.end());
    // Every engine of the run puts the same prefix in its trace ids.
    if (o.no_traceparent) {
      args.push_back("--no-traceparent");
    } else {
      args.insert(args.end(), {"--trace-prefix", o.trace_prefix});
    }
    pid_t pid = fork();
    if (pid < 0) return fail("fork failed");
    if (pid == 0) {
      std::string log = (dir / "engine.log").string();
      std::FILE* f = std::freopen(log.c_str(), "w", stdout);
      (void)f;
      dup2(fileno(stdout), 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(self.c_str(), argv.data());
      _exit(127);
    }
    children.push_back(pid);
  }
  int worst = 0;
  for (std::size_t i = 0; i < children.size(); ++i) {
    int status = 0;
    while (waitpid(children[i], &status, 0) < 0 && errno == EINTR) {
      if (g_interrupted) {
        for (auto pid : children) kill(pid, SIGINT);
      }
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : kExitCouldNotRun;
    if (code == kExitCouldNotRun || code > kExitCouldNotRun) {
      worst = kExitCouldNotRun;
      std::fprintf(stderr, "engine %zu could not run (exit %d); see %s\n", i, code,
                   (out / ("engine-" + std::to_string(i)) / "engine.log").c_str());
    }
  }
  if (worst == kExitCouldNotRun) return kExitCouldNotRun;
  std::vector<RunReport> reports;
  std::vector<fs::path> dirs;
  for (int i = 0; i < n; ++i) {
    fs::path dir = out / ("engine-" + std::to_string(i));
    auto r = read_results(dir);
    if (!r) return fail(r.error().message);
    reports.push_back(std::move(*r));
    dirs.push_back(dir);
  }
  if (!o.no_jtl) concat_jtl(dirs, out / "results.jtl");
  RunReport merged = merge_reports(reports);
  merged.display_name = def.display_name;
  write_outputs(merged, out, o.quiet, o.jsonl);
  return merged.passed() ? kExitPassed : kExitFailed;
}

int run_test(RunOptions o) {
  LoadOverrides overrides;
  TestDefinition def;
  try {
    overrides = overrides_from(o);
    def = load_test_definition(o.test, overrides);
  } catch (const core::ConfigError& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  int engine_count = o.engine_count.value_or(1);
  int engine_index = o.engine_index.value_or(0);
  if (o.engine_index.has_value() != o.engine_count.has_value()) {
    return fail("--engine-index and --engine-count go together");
  }
  if (engine_count < 1 || engine_index < 0 || engine_index >= engine_count) {
    return fail("--engine-index must be in [0, --engine-count)");
  }
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) return fail("cannot create " + o.out + ": " + ec.message());
  // Checked before engines start, so a bad proxy URL is one message, not one per engine.
  auto proxies = proxy_selection(o);
  if (!proxies) return fail(proxies.error().message);
  bool first_engine = !o.engine_index || *o.engine_index == 0;
  if (proxies->any() && !o.quiet && first_engine) {
    std::fprintf(stderr, "sluice load: %s\n", proxies->describe().c_str());
  }
  if (!o.no_traceparent) {
    if (o.trace_prefix.empty()) o.trace_prefix = telemetry::to_hex(telemetry::random_span_id());
    if (!telemetry::span_id_from_hex(o.trace_prefix)) {
      return fail("--trace-prefix " + o.trace_prefix +
                  ": expected 16 lower-case hex digits, not all zero (e.g. 5eed0000000000a1)");
    }
    if (!o.quiet && !o.jsonl && first_engine) {
      std::fprintf(stderr,
                   "sluice load: every request carries a W3C traceparent; this run's trace ids "
                   "start with %s\n",
                   o.trace_prefix.c_str());
    }
  }
  int instances = o.engine_instances.value_or(def.engine_instances);
  if (!o.engine_index && instances > 1) return run_local_engines(o, def, instances);

  slice_plan_for_engine(def.plan, engine_index, engine_count);
  auto data = load_data_sets(def.plan, engine_index, engine_count);
  if (!data) return fail(data.error().message);
  auto client = client_settings(o);
  if (!client) return fail(client.error().message);

  EngineOptions options;
  options.threads = o.threads;
  options.engine_index = engine_index;
  options.engine_count = engine_count;
  options.client = *client;
  options.proxies = std::move(*proxies);
  if (!o.no_traceparent) options.trace_id_prefix = o.trace_prefix;
  if (!o.connect_backoff.empty()) {
    auto d = core::parse_duration(o.connect_backoff == "0" ? "0s" : o.connect_backoff);
    if (!d) return fail("--connect-backoff " + o.connect_backoff + ": " + d.error().message);
    options.connect_backoff = std::chrono::duration_cast<Millis>(*d);
  }
  options.auto_stop = def.auto_stop;
  options.scrape = def.server_metrics;
  if (!o.no_jtl) options.jtl_path = (fs::path(o.out) / "results.jtl").string();
  bool tty = isatty(fileno(stderr));
  if (o.jsonl) {
    options.on_progress = [](const Progress& p) {
      std::printf("%s\n", progress_json(p).c_str());
      std::fflush(stdout);
    };
  } else if (!o.quiet) {
    options.on_progress = [tty](const Progress& p) {
      std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", progress_line(p).c_str());
    };
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  auto outcome = run_plan(def.plan, *data, options, &g_interrupted);
  if (!o.quiet && !o.jsonl && tty) std::fprintf(stderr, "\n");
  if (!outcome) return fail(outcome.error().message);

  RunReport report;
  report.test_id = def.test_id;
  report.display_name = def.display_name;
  report.description = def.description;
  report.engine_index = engine_index;
  report.engine_count = engine_count;
  report.started_at_ms = outcome->started_at_ms;
  report.ended_at_ms = outcome->ended_at_ms;
  report.max_vus = outcome->max_vus;
  for (const auto& c : def.criteria) report.criteria.push_back(c.text);
  report.auto_stop = def.auto_stop;
  report.auto_stopped = outcome->auto_stopped;
  report.stopped_by_test = outcome->stopped_by_test;
  report.stop_reason = outcome->stop_reason;
  report.results = std::move(outcome->results);
  report.server_metrics = std::move(outcome->server_metrics);
  report.evaluate();
  try {
    write_outputs(report, o.out, o.quiet, o.jsonl);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (g_interrupted && report.stop_reason == "interrupted") return kExitCouldNotRun;
  return report.passed() ? kExitPassed : kExitFailed;
}

int merge(const std::vector<std::string>& dirs, const std::string& out, bool quiet) {
  std::vector<RunReport> reports;
  for (const auto& d : dirs) {
    auto r = read_results(d);
    if (!r) return fail(r.error().message);
    reports.push_back(std::move(*r));
  }
  RunReport merged = merge_reports(reports);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return fail("cannot create " + out + ": " + ec.message());
  concat_jtl(std::vector<fs::path>(dirs.begin(), dirs.end()), fs::path(out) / "results.jtl");
  try {
    write_outputs(merged, out, quiet, false);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return merged.passed() ? kExitPassed : kExitFailed;
}

}  // namespace

Command add_load_command(CLI::App& root) {
  auto* load =
      root.add_subcommand("load", "LLM-aware load tester: run tests, merge engines, compare runs");
  load->require_subcommand(1);

  auto run_opts = std::make_shared<RunOptions>();
  auto* run = load->add_subcommand("run", "run a test file (sluice YAML, Azure Load Testing YAML)");
  run->add_option("test", run_opts->test, "test file")->required();
  auto pass = [&](CLI::Option* opt) { return opt; };
  pass(run->add_option("--env", run_opts->env, "test variable NAME=VALUE (repeatable)"));
  run->add_option("--secrets-file", run_opts->secrets_file, "KEY=VALUE or YAML file of secrets");
  run->add_option("--duration", run_opts->duration, "run for this long (e.g. 60s, 5m)");
  run->add_option("--vus", run_opts->vus, "virtual users (arrival rate: concurrency cap)");
  run->add_option("--engine-index", run_opts->engine_index, "this engine's index (0-based)");
  run->add_option("--engine-count", run_opts->engine_count, "number of engines");
  run->add_option("--engine-instances", run_opts->engine_instances,
                  "run N local engine processes and merge");
  run->add_option("--out", run_opts->out, "output directory")->capture_default_str();
  run->add_flag("--quiet", run_opts->quiet, "no progress; verdict only");
  run->add_flag("--jsonl", run_opts->jsonl, "progress and summary as JSON lines on stdout");
  run->add_option("--threads", run_opts->threads, "worker threads (default: one per core)");
  run->add_option("--resolve", run_opts->resolve, "HOST:PORT:ADDRESS, skip DNS (repeatable)");
  run->add_option("--connect-to", run_opts->connect_to, "HOST1:PORT1:HOST2:PORT2 (repeatable)");
  run->add_option("--proxy", run_opts->proxy,
                  "http://[user:pass@]host:port proxy for all targets (https via CONNECT), "
                  "\"\" for none; default: https_proxy, http_proxy, all_proxy as curl reads them");
  run->add_option("--noproxy", run_opts->noproxy,
                  "hosts to reach directly: comma list of names, domains, addresses, CIDR, "
                  "host:port, or * (replaces NO_PROXY)");
  run->add_option("--ca-file", run_opts->ca_file, "extra trusted CA certificates (PEM)");
  run->add_flag("--insecure", run_opts->insecure, "do not verify TLS certificates");
  run->add_option("--bind-address", run_opts->bind_address, "local address for connections");
  run->add_flag("--no-jtl", run_opts->no_jtl, "do not write results.jtl");
  run->add_option("--trace-prefix", run_opts->trace_prefix,
                  "first 16 hex digits of every request's trace id (default: random per run)");
  run->add_flag("--no-traceparent", run_opts->no_traceparent,
                "send no W3C traceparent header with the requests");
  run->add_option("--connect-backoff", run_opts->connect_backoff,
                  "pause of a virtual user after a sample that could not connect, doubling while "
                  "they fail, up to 2s (default 100ms; 0 = go on at once, as JMeter)");

  auto merge_dirs = std::make_shared<std::vector<std::string>>();
  auto merge_out = std::make_shared<std::string>("merged-results");
  auto merge_quiet = std::make_shared<bool>(false);
  auto* merge_cmd = load->add_subcommand("merge", "merge engine results exactly");
  merge_cmd->add_option("dirs", *merge_dirs, "result directories or results.json files")
      ->required();
  merge_cmd->add_option("--out", *merge_out, "output directory")->capture_default_str();
  merge_cmd->add_flag("--quiet", *merge_quiet, "verdict only");

  auto compare_runs = std::make_shared<std::vector<std::string>>();
  auto* compare_cmd = load->add_subcommand("compare", "side-by-side table of two runs");
  compare_cmd->add_option("runs", *compare_runs, "RUN_A RUN_B")->required()->expected(2);

  Command command;
  command.app = load;
  command.run = [run, merge_cmd, compare_cmd, run_opts, merge_dirs, merge_out, merge_quiet,
                 compare_runs]() -> int {
    if (run->parsed()) {
      // Options a coordinator hands on to its engine processes unchanged.
      RunOptions& o = *run_opts;
      for (const auto& e : o.env) o.passthrough.insert(o.passthrough.end(), {"--env", e});
      if (!o.secrets_file.empty())
        o.passthrough.insert(o.passthrough.end(), {"--secrets-file", o.secrets_file});
      if (!o.duration.empty())
        o.passthrough.insert(o.passthrough.end(), {"--duration", o.duration});
      if (o.vus) o.passthrough.insert(o.passthrough.end(), {"--vus", std::to_string(*o.vus)});
      if (o.threads)
        o.passthrough.insert(o.passthrough.end(), {"--threads", std::to_string(o.threads)});
      for (const auto& r : o.resolve) o.passthrough.insert(o.passthrough.end(), {"--resolve", r});
      for (const auto& c : o.connect_to)
        o.passthrough.insert(o.passthrough.end(), {"--connect-to", c});
      if (o.proxy) o.passthrough.insert(o.passthrough.end(), {"--proxy", *o.proxy});
      if (o.noproxy) o.passthrough.insert(o.passthrough.end(), {"--noproxy", *o.noproxy});
      if (!o.ca_file.empty()) o.passthrough.insert(o.passthrough.end(), {"--ca-file", o.ca_file});
      if (o.insecure) o.passthrough.push_back("--insecure");
      if (!o.bind_address.empty())
        o.passthrough.insert(o.passthrough.end(), {"--bind-address", o.bind_address});
      if (o.no_jtl) o.passthrough.push_back("--no-jtl");
      if (!o.connect_backoff.empty())
        o.passthrough.insert(o.passthrough.end(), {"--connect-backoff", o.connect_backoff});
      return run_test(o);
    }
    if (merge_cmd->parsed()) return merge(*merge_dirs, *merge_out, *merge_quiet);
    if (compare_cmd->parsed()) {
      auto a = read_results((*compare_runs)[0]);
      if (!a) return fail(a.error().message);
      auto b = read_results((*compare_runs)[1]);
      if (!b) return fail(b.error().message);
      std::printf("%s", compare_text(*a, *b).c_str());
      return kExitPassed;
    }
    return kExitCouldNotRun;
  };
  return command;
}

}  // namespace sluice::cli
