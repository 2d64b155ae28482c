// `sluice demo`: the whole product on one machine with nothing to configure. Starts the simulator
// (three regions, an Entra tenant with three apps) and the gateway (JWT auth, PTU-first pool with
// circuit breakers, per-app token limits, usage records in SQLite, /metrics) as child processes of
// this binary, runs one load test per app through the gateway, and ends with the load summary, a
// chargeback table, what failed over and why, and the reconciliation of the gateway's usage store
// with the simulator's own token count. docs/demo.md.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "cli/command.hpp"
#include "cli/demo/child_process.hpp"
#include "cli/demo/demo_report.hpp"
#include "cli/demo/demo_scenario.hpp"
#include "cli/demo/local_http.hpp"
#include "cli/signals.hpp"
#include "sluice/core/duration.hpp"
#include "sluice/loadgen/run_report.hpp"

namespace sluice::cli {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using demo::ChildProcess;
using demo::DemoScenario;

constexpr int kExitOk = 0;
constexpr int kExitMismatch = 1;
constexpr int kExitFailed = 2;
constexpr int kExitInterrupted = 130;

struct DemoOptions {
  std::string duration = "60s";
  double rate = 5;
  std::optional<int> vus;
  bool keep_running = false;
  std::string out = "sluice-demo-out";
};

// Signals are blocked (block_shutdown_signals); this takes a pending SIGINT/SIGTERM without
// waiting.
bool interrupted() {
  static bool seen = false;
  if (seen) return true;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec zero{0, 0};
  if (sigtimedwait(&set, nullptr, &zero) > 0) seen = true;
  return seen;
}

struct Interrupted {};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path.string());
}

std::string human(double v) {
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.0fk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  }
  return buf;
}

struct AppProgress {
  double elapsed_s = 0, total_s = 0, req_per_s = 0, tokens_per_min = 0;
  std::uint64_t requests = 0, errors = 0, throttled = 0;
};

std::uint64_t as_u64(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64()) return static_cast<std::uint64_t>(v->as_int64());
  if (v->is_double()) return static_cast<std::uint64_t>(v->as_double());
  return 0;
}
double as_double(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  return 0;
}

// One line from all apps' latest progress (each load engine prints its own once a second).
std::string progress_line(const std::vector<std::string>& names,
                          const std::map<std::string, AppProgress>& progress) {
  double elapsed = 0, total = 0, rps = 0, tpm = 0;
  std::string apps;
  for (const auto& name : names) {
    auto it = progress.find(name);
    if (it == progress.end()) continue;
    const auto& p = it->second;
    elapsed = std::max(elapsed, p.elapsed_s);
    total = std::max(total, p.total_s);
    rps += p.req_per_s;
    tpm += p.tokens_per_min;
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %s %llu req", name.c_str(),
                  static_cast<unsigned long long>(p.requests));
    apps += buf;
    if (p.throttled) apps += " (" + std::to_string(p.throttled) + " 429)";
    if (p.errors > p.throttled) apps += " (" + std::to_string(p.errors - p.throttled) + " err)";
  }
  char head[96];
  std::snprintf(head, sizeof head, "[%4.0fs/%.0fs] %5.1f req/s %6s tok/min |", elapsed, total, rps,
                human(tpm).c_str());
  return head + apps;
}

// Values of the un-labelled-or-labelled samples of one metric, summed.
double metric_sum(const std::string& text, const std::string& name) {
  double sum = 0;
  std::size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    bool line_start = pos == 0 || text[pos - 1] == '\n';
    std::size_t after = pos + name.size();
    std::size_t eol = text.find('\n', pos);
    if (line_start && after < text.size() && (text[after] == '{' || text[after] == ' ')) {
      std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
      auto space = line.rfind(' ');
      if (space != std::string::npos) sum += std::strtod(line.c_str() + space + 1, nullptr);
    }
    pos = eol == std::string::npos ? text.size() : eol;
  }
  return sum;
}

class Demo {
 public:
  Demo(DemoOptions options, DemoScenario scenario)
      : options_(std::move(options)),
        scenario_(std::move(scenario)),
        out_(fs::absolute(options_.out)) {}

  int run();

 private:
  void prepare_out_dir();
  void start_sim();
  void start_gateway();
  int run_load();
  std::optional<loadgen::RunReport> merge_load_results();
  bool wait_for_shipping();
  int report(bool load_ok);
  void print_explore();
  void stop_all();
  void check_interrupt() {
    if (interrupted()) throw Interrupted{};
  }

  DemoOptions options_;
  DemoScenario scenario_;
  fs::path out_;
  std::string self_;
  ChildProcess sim_, gateway_;
  std::vector<ChildProcess> loads_;
  std::string sim_url_, gateway_url_, admin_url_;
};

void Demo::prepare_out_dir() {
  fs::create_directories(out_);
  // A previous run's records would break the reconciliation: start from empty outputs.
  for (const char* stale :
       {"usage.db", "usage.db-wal", "usage.db-shm", "usage-journal", "load", "logs"}) {
    fs::remove_all(out_ / stale);
  }
  fs::create_directories(out_ / "logs");
  fs::create_directories(out_ / "load");
  self_ = fs::read_symlink("/proc/self/exe").string();
}

void Demo::start_sim() {
  write_file(out_ / "sim.yaml", scenario_.sim_yaml());
  sim_ = ChildProcess::spawn(self_, {"sim", "--config", (out_ / "sim.yaml").string()},
                             out_ / "logs" / "sim.log");
  sim_url_ = sim_.wait_for_log("listening on ", 20s);
}

void Demo::start_gateway() {
  write_file(out_ / "gateway.yaml", scenario_.gateway_yaml(sim_url_, out_));
  gateway_ = ChildProcess::spawn(self_, {"gateway", "--config", (out_ / "gateway.yaml").string()},
                                 out_ / "logs" / "gateway.log");
  gateway_url_ = gateway_.wait_for_log("listening on ", 20s);
  admin_url_ = gateway_.wait_for_log("admin on ", 5s);
}

int Demo::run_load() {
  write_file(out_ / "prompts.csv", DemoScenario::prompts_csv());
  std::vector<std::string> names;
  for (std::size_t i = 0; i < scenario_.apps.size(); ++i) {
    const auto& app = scenario_.apps[i];
    names.push_back(app.name);
    fs::path test = out_ / ("load-" + app.name + ".yaml");
    write_file(test, scenario_.load_yaml(app, gateway_url_, sim_url_,
                                         i == 0 ? admin_url_ + "/metrics" : std::string()));
    loads_.push_back(
        ChildProcess::spawn(self_,
                            {"load", "run", test.string(), "--out",
                             (out_ / "load" / app.name).string(), "--jsonl", "--threads", "1"},
                            out_ / "logs" / ("load-" + app.name + ".log"), /*pipe_stdout=*/true));
  }
  std::map<std::string, AppProgress> progress;
  std::vector<std::string> partial(loads_.size());
  std::vector<bool> open(loads_.size(), true);
  bool tty = isatty(fileno(stdout));
  auto next_print = std::chrono::steady_clock::now() + 1s;
  int printed = 0;
  for (;;) {
    check_interrupt();
    std::vector<pollfd> fds;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < loads_.size(); ++i) {
      if (!open[i]) continue;
      fds.push_back({loads_[i].stdout_fd(), POLLIN, 0});
      index.push_back(i);
    }
    if (fds.empty()) break;
    ::poll(fds.data(), fds.size(), 200);
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      std::size_t i = index[k];
      char buf[4096];
      ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        open[i] = false;
        continue;
      }
      partial[i].append(buf, static_cast<std::size_t>(n));
      std::size_t eol;
      while ((eol = partial[i].find('\n')) != std::string::npos) {
        std::string line = partial[i].substr(0, eol);
        partial[i].erase(0, eol + 1);
        boost::system::error_code ec;
        auto v = boost::json::parse(line, ec);
        if (ec || !v.is_object()) continue;
        const auto& o = v.as_object();
        auto* type = o.if_contains("type");
        if (!type || !type->is_string() || type->as_string() != "progress") continue;
        auto& p = progress[names[i]];
        p.elapsed_s = as_double(o, "elapsed_s");
        p.total_s = as_double(o, "total_s");
        p.req_per_s = as_double(o, "requests_per_sec");
        p.tokens_per_min = as_double(o, "tokens_per_min");
        p.requests = as_u64(o, "requests");
        p.errors = as_u64(o, "errors");
        p.throttled = as_u64(o, "throttled");
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= next_print && !progress.empty()) {
      next_print = now + 1s;
      // On a terminal the line is redrawn each second; in a log, every fifth second.
      if (tty) {
        std::printf("\r%s\033[K", progress_line(names, progress).c_str());
      } else if (printed++ % 5 == 0) {
        std::printf("%s\n", progress_line(names, progress).c_str());
      }
      std::fflush(stdout);
    }
  }
  if (tty) std::printf("\r%s\033[K\n", progress_line(names, progress).c_str());
  int worst = 0;
  for (auto& load : loads_) {
    int code = load.wait_for(60s).value_or(load.stop());
    // 0 passed, 1 a criterion failed (none are set): both are a completed run.
    if (code > 1) {
      std::fprintf(stderr, "sluice demo: the load test could not run (exit %d); %s:\n%s", code,
                   load.log().c_str(), demo::tail_of(load.log()).c_str());
      worst = kExitFailed;
    }
  }
  return worst;
}

std::optional<loadgen::RunReport> Demo::merge_load_results() {
  std::vector<loadgen::RunReport> reports;
  for (const auto& app : scenario_.apps) {
    auto r = loadgen::read_results(out_ / "load" / app.name);
    if (!r) {
      std::fprintf(stderr, "sluice demo: %s\n", r.error().message.c_str());
      return std::nullopt;
    }
    reports.push_back(std::move(*r));
  }
  auto merged = loadgen::merge_reports(reports);
  merged.test_id = "sluice-demo";
  merged.display_name = "sluice demo: three apps through the gateway";
  if (auto w = loadgen::write_results(merged, out_ / "load" / "results.json"); !w) {
    std::fprintf(stderr, "sluice demo: %s\n", w.error().message.c_str());
    return std::nullopt;
  }
  write_file(out_ / "load" / "report.html", loadgen::render_html_report(merged));
  return merged;
}

// The journal ships to SQLite every 200 ms; wait until every appended record is in the store.
bool Demo::wait_for_shipping() {
  auto end = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < end) {
    check_interrupt();
    auto metrics = demo::http_call("GET", admin_url_ + "/metrics");
    if (metrics && metrics->status == 200) {
      double appended = metric_sum(metrics->body, "sluice_usage_records_total");
      double shipped = metric_sum(metrics->body, "sluice_usage_shipped_total") +
                       metric_sum(metrics->body, "sluice_usage_replayed_total");
      double backlog = metric_sum(metrics->body, "sluice_usage_journal_backlog_bytes");
      if (appended > 0 && shipped >= appended && backlog == 0) return true;
    }
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

int Demo::report(bool load_ok) {
  fs::path db = out_ / "usage.db";
  if (!wait_for_shipping()) {
    std::fprintf(stderr, "sluice demo: the usage journal did not reach the store within 20 s\n");
  }
  std::printf("\n== chargeback (usage store %s) ==\n", db.c_str());
  auto table = demo::chargeback_table(db, scenario_);
  if (!table) {
    std::fprintf(stderr, "sluice demo: %s\n", table.error().message.c_str());
    return kExitFailed;
  }
  std::printf("%s", table->c_str());
  std::printf(
      "(throttled: 429 to the client, from the app's token limit (%d tokens/min per app) or "
      "every backend busy)\n",
      scenario_.app_tokens_per_minute);

  std::printf("\n== response cache (usage store; analytics sends temperature 0) ==\n");
  auto cache = demo::cache_text(db, scenario_);
  if (!cache) {
    std::fprintf(stderr, "sluice demo: %s\n", cache.error().message.c_str());
    return kExitFailed;
  }
  std::printf("%s", cache->c_str());

  auto backends = demo::http_call("GET", admin_url_ + "/admin/backends");
  auto sim_usage = demo::http_call("GET", sim_url_ + "/sim/usage");
  if (!backends || !sim_usage) {
    std::fprintf(stderr, "sluice demo: %s\n",
                 (!backends ? backends.error() : sim_usage.error()).message.c_str());
    return kExitFailed;
  }
  std::printf("\n== failover (usage store, gateway /admin/backends, simulator /sim/usage) ==\n");
  auto failover = demo::failover_text(db, backends->body, sim_usage->body, scenario_);
  if (!failover) {
    std::fprintf(stderr, "sluice demo: %s\n", failover.error().message.c_str());
    return kExitFailed;
  }
  std::printf("%s", failover->c_str());
  std::printf(
      "(attempts: sent by the gateway; throttled/errors: refused by that simulated "
      "deployment — PTU at 100%% utilization answers 429, the flaky region 500/503 for "
      "%.0f%% of requests; the breaker opens after 3 failures in 10 s, or for Retry-After)\n",
      100 * scenario_.regions.back().error_rate);

  // Reconciliation: the store's tokens against what the simulator says it served.
  auto stored = demo::store_total_tokens(db);
  auto hits = demo::store_cache_hits(db);
  boost::system::error_code ec;
  auto sim_doc = boost::json::parse(sim_usage->body, ec);
  if (!stored || !hits || ec) {
    std::fprintf(stderr, "sluice demo: cannot read totals for the reconciliation\n");
    return kExitFailed;
  }
  std::int64_t served = 0;
  if (auto* total = sim_doc.as_object().if_contains("total"); total && total->is_object()) {
    if (auto* t = total->as_object().if_contains("total_tokens")) {
      served = t->is_int64() ? t->as_int64() : static_cast<std::int64_t>(t->to_number<double>());
    }
  }
  bool equal = *stored == served;
  std::printf("\nreconciliation: usage store %lld tokens %s simulator %lld tokens %s\n",
              static_cast<long long>(*stored), equal ? "=" : "!=", static_cast<long long>(served),
              equal ? "\u2713" : "\u2717 MISMATCH");
  std::printf(
      "(plus %lld requests answered from the response cache, recorded with no backend "
      "tokens)\n",
      static_cast<long long>(*hits));

  std::printf("\n== outputs ==\n");
  std::printf("HTML report:    %s\n", (out_ / "load" / "report.html").c_str());
  std::printf("load results:   %s\n", (out_ / "load" / "results.json").c_str());
  std::printf("usage database: %s   (sluice usage report --store %s --by app,deployment,backend)\n",
              db.c_str(), db.c_str());
  std::printf("metrics:        %s/metrics%s\n", admin_url_.c_str(),
              options_.keep_running ? "" : "   (stopped with the demo; --keep-running keeps it)");
  std::printf("configs, logs:  %s/{sim,gateway,load-*}.yaml, %s/logs/\n", out_.c_str(),
              out_.c_str());
  std::fflush(stdout);
  if (!equal) return kExitMismatch;
  return load_ok ? kExitOk : kExitFailed;
}

void Demo::print_explore() {
  const auto& app = scenario_.apps.front();
  std::string token_url = sim_url_ + "/" + scenario_.tenant_id + "/oauth2/v2.0/token";
  std::printf(
      "\n== still running (--keep-running); Ctrl-C stops everything ==\n"
      "simulator: %s   gateway: %s   admin: %s\n\n"
      "console:   %s/   admin key: %s\n"
      "           (or open %s/#key=%s)\n\n"
      "# a token for %s (Entra client credentials against the simulated tenant)\n"
      "export TOKEN=$(curl -s %s -d grant_type=client_credentials -d client_id=%s \\\n"
      "  -d client_secret=%s -d scope=%s/.default | sed "
      "'s/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n\n"
      "# a chat completion through the gateway\n"
      "curl -si \"%s/openai/deployments/%s/chat/completions?api-version=2024-10-21\" \\\n"
      "  -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' \\\n"
      "  -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":20}'\n\n"
      "# the same from the openai Python client\n"
      "python3 -c \"from openai import AzureOpenAI; import os; c = "
      "AzureOpenAI(azure_endpoint='%s', "
      "api_version='2024-10-21', azure_ad_token=os.environ['TOKEN']); "
      "print(c.chat.completions.create(model='%s', "
      "messages=[{'role':'user','content':'Hi'}]).choices[0].message.content)\"\n\n"
      "curl -s %s/admin/backends; curl -s %s/metrics | grep sluice_tokens_total; curl -s "
      "%s/sim/usage\n"
      "sluice usage report --store %s --by app,backend\n",
      sim_url_.c_str(), gateway_url_.c_str(), admin_url_.c_str(), admin_url_.c_str(),
      scenario_.console_key.c_str(), admin_url_.c_str(), scenario_.console_key.c_str(),
      app.name.c_str(), token_url.c_str(), app.client_id.c_str(), app.client_secret.c_str(),
      scenario_.audience.c_str(), gateway_url_.c_str(), scenario_.deployment.c_str(),
      gateway_url_.c_str(), scenario_.deployment.c_str(), admin_url_.c_str(), admin_url_.c_str(),
      sim_url_.c_str(), (out_ / "usage.db").c_str());
  std::fflush(stdout);
}

void Demo::stop_all() {
  for (auto& load : loads_) load.stop(3s);
  // The gateway first, so its journal is flushed and no request is left without a backend.
  gateway_.stop(8s);
  sim_.stop(5s);
}

int Demo::run() {
  int code = kExitFailed;
  try {
    prepare_out_dir();
    std::printf(
        "sluice demo: %s of load from 3 apps through the gateway into 3 simulated regions\n",
        core::format_duration(scenario_.duration).c_str());
    start_sim();
    std::printf("simulator  %s  deployments:", sim_url_.c_str());
    for (const auto& r : scenario_.regions) {
      std::printf(
          " %s (%s, %s%s)", r.deployment.c_str(), r.region.c_str(), r.provisioned ? "PTU " : "PAYG",
          r.provisioned ? (std::to_string(scenario_.ptu_tokens_per_minute) + " tok/min").c_str()
          : r.error_rate > 0
              ? (", " + std::to_string(static_cast<int>(r.error_rate * 100)) + "% 500/503").c_str()
              : "");
    }
    std::printf("\n");
    start_gateway();
    std::printf(
        "gateway    %s  admin %s  (JWT auth, pool PTU -> PAYG with breakers, %d tokens/min "
        "per app)\n",
        gateway_url_.c_str(), admin_url_.c_str(), scenario_.app_tokens_per_minute);
    std::printf("load       ");
    for (const auto& a : scenario_.apps) {
      if (scenario_.vus) {
        std::printf("%s: %ld VUs  ", a.name.c_str(),
                    std::max(1L, std::lround(*scenario_.vus * a.share)));
      } else {
        std::printf("%s: %.1f req/s max_tokens %d  ", a.name.c_str(), scenario_.rate * a.share,
                    a.max_tokens);
      }
    }
    std::printf(
        "\n          (Entra client credentials per app, prompts.csv mixes streamed and plain)\n\n");
    std::fflush(stdout);
    check_interrupt();
    int load = run_load();
    if (load == kExitFailed) {
      stop_all();
      return kExitFailed;
    }
    auto merged = merge_load_results();
    if (merged) {
      std::printf("\n== load test summary (per app) ==\n%s",
                  loadgen::summary_text(*merged).c_str());
    }
    code = report(merged.has_value());
    if (options_.keep_running) {
      print_explore();
      wait_for_shutdown();
    }
  } catch (const Interrupted&) {
    std::fprintf(stderr, "\nsluice demo: interrupted, stopping\n");
    code = kExitInterrupted;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice demo: %s\n", e.what());
    code = kExitFailed;
  }
  stop_all();
  return code;
}

}  // namespace

Command add_demo_command(CLI::App& root) {
  auto options = std::make_shared<DemoOptions>();
  auto* app = root.add_subcommand(
      "demo", "Run simulator + gateway + a load test from three apps, then report and reconcile");
  app->add_option("--duration", options->duration, "load duration (e.g. 60s, 2m)")
      ->capture_default_str();
  app->add_option("--rate", options->rate, "requests per second, all apps together")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_option("--vus", options->vus, "virtual users (closed model) instead of --rate")
      ->check(CLI::PositiveNumber);
  app->add_flag("--keep-running", options->keep_running,
                "leave the simulator and gateway up afterwards, until Ctrl-C");
  app->add_option("--out", options->out, "work directory")->capture_default_str();
  return {app, [options]() -> int {
            auto d = core::parse_duration(options->duration);
            if (!d || *d < std::chrono::seconds(1)) {
              std::fprintf(stderr,
                           "sluice demo: --duration %s: expected a duration of 1s or more\n",
                           options->duration.c_str());
              return kExitFailed;
            }
            block_shutdown_signals();
            auto scenario = DemoScenario::make(
                options->rate, options->vus, std::chrono::duration_cast<std::chrono::seconds>(*d));
            Demo demo(*options, std::move(scenario));
            return demo.run();
          }};
}

}  // namespace sluice::cli
