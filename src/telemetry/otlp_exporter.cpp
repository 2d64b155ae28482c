#include "sluice/telemetry/otlp_exporter.hpp"

#include <iterator>
#include <optional>

#include "sluice/core/logging.hpp"
#include "sluice/core/thread_name.hpp"
#include "sluice/http/client.hpp"

namespace sluice::telemetry {

namespace {

namespace asio = http::asio;

constexpr std::chrono::milliseconds kAbortCheck{20};
constexpr std::chrono::milliseconds kShutdownFlushMax{5'000};

std::size_t span_count(const std::vector<EncodedSpans>& batches) {
  std::size_t n = 0;
  for (const auto& batch : batches) n += batch.count;
  return n;
}

bool same_proxy(const std::optional<http::ProxyEndpoint>& a,
                const std::optional<http::ProxyEndpoint>& b) {
  if (!a || !b) return !a && !b;
  return a->url.origin() == b->url.origin() && a->username == b->username &&
         a->password == b->password;
}

}  // namespace

bool OtlpExporterSettings::operator==(const OtlpExporterSettings& other) const {
  return endpoint.origin() == other.endpoint.origin() && endpoint.path == other.endpoint.path &&
         headers == other.headers && same_proxy(proxy, other.proxy) &&
         batch_size == other.batch_size && queue_size == other.queue_size &&
         interval == other.interval && timeout == other.timeout &&
         resource.scope_name == other.resource.scope_name &&
         resource.scope_version == other.resource.scope_version &&
         resource.attributes == other.resource.attributes;
}

// The exporter thread's own event loop and keep-alive connection to the collector.
struct OtlpExporter::Transport {
  asio::io_context io{1};
  std::unique_ptr<http::ClientPool> pool;
};

OtlpExporter::OtlpExporter(OtlpExporterSettings settings)
    : settings_(std::move(settings)),
      queue_(settings_.queue_size),
      staging_(queue_, settings_.batch_size),
      transport_(std::make_unique<Transport>()) {
  http::ClientSettings client;
  client.connect_timeout = settings_.timeout;
  client.max_response_body = 1 << 20;
  transport_->pool = std::make_unique<http::ClientPool>(transport_->io.get_executor(), client);
  if (settings_.proxy) {
    core::get_logger("tracing")->info("tracing: exporting to {}{} via proxy {} (from {})",
                                      settings_.endpoint.origin(), settings_.endpoint.path,
                                      settings_.proxy->display(), settings_.proxy->source);
  }
  thread_ = std::thread([this] {
    core::name_this_thread("otlp-export");
    run();
  });
}

OtlpExporter::~OtlpExporter() {
  // Everything from here on, the export in progress included, ends within min(timeout, 5 s), so
  // a sick collector cannot hold up a restart.
  auto bound = std::min(settings_.timeout, kShutdownFlushMax);
  shutdown_deadline_ns_.store(
      (std::chrono::steady_clock::now() + bound).time_since_epoch().count());
  // Staged spans into the queue first: after this, what a request thread writes is dropped and
  // counted, so nothing is pushed behind the final flush's back.
  staging_.collect(/*close=*/true);
  queue_.close();
  if (thread_.joinable()) thread_.join();
  transport_->pool.reset();  // before its event loop goes
}

bool OtlpExporter::submit(const Span& span) {
  SpanEncoder encoder;
  write_span(encoder, span);
  return submit(encoder.take());
}

std::chrono::steady_clock::time_point OtlpExporter::shutdown_deadline() const {
  auto ns = shutdown_deadline_ns_.load();
  return ns == 0 ? std::chrono::steady_clock::time_point::max()
                 : std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns));
}

void OtlpExporter::run() {
  auto log = core::get_logger("tracing");
  // Batches while running; once the queue is closed, what is left goes out in the flush below.
  auto collected_at = std::chrono::steady_clock::now();
  while (!queue_.closed()) {
    auto batch = queue_.take(settings_.batch_size, settings_.interval);
    const auto now = std::chrono::steady_clock::now();
    if (const auto n = span_count(batch); n < settings_.batch_size) {
      // The interval passed without a full batch: blocks request threads have not filled go too.
      staging_.collect();
      collected_at = now;
      auto more =
          queue_.take(settings_.batch_size - n, std::chrono::milliseconds(0), batch.empty());
      batch.insert(batch.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
    } else if (now - collected_at >= settings_.interval) {
      // Full batches keep coming, but a quiet thread's block must not wait for them to stop.
      staging_.collect();
      collected_at = now;
    }
    if (batch.empty()) continue;
    if (send(batch, settings_.timeout)) {
      stats_.exported.fetch_add(span_count(batch), std::memory_order_relaxed);
    } else {
      stats_.dropped_on_failure.fetch_add(span_count(batch), std::memory_order_relaxed);
    }
    queue_.recycle(std::move(batch));
  }
  while (true) {
    auto batch = queue_.take(settings_.batch_size, std::chrono::milliseconds(0));
    if (batch.empty()) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        shutdown_deadline() - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !send(batch, std::min(left, settings_.timeout))) {
      auto lost = span_count(batch) + queue_.size();
      stats_.dropped_on_failure.fetch_add(lost, std::memory_order_relaxed);
      log->warn("tracing: {} spans not sent at shutdown (the collector at {} did not take them)",
                lost, settings_.endpoint.origin());
      break;
    }
    stats_.exported.fetch_add(span_count(batch), std::memory_order_relaxed);
  }
}

bool OtlpExporter::send(const std::vector<EncodedSpans>& batches,
                        std::chrono::milliseconds timeout) {
  stats_.export_requests.fetch_add(1, std::memory_order_relaxed);
  http::Request request{http::bhttp::verb::post, settings_.endpoint.path, 11};
  request.set(http::Field::host, settings_.endpoint.host_header());
  request.set(http::Field::content_type, "application/x-protobuf");
  for (const auto& [name, value] : settings_.headers) request.set(name, value);
  request.body() = encode_export_request(settings_.resource, batches);
  request.prepare_payload();

  const http::ProxyEndpoint* via = settings_.proxy ? &*settings_.proxy : nullptr;
  std::optional<http::ClientResult<http::Response>> result;
  asio::cancellation_signal cancel;
  bool finished = false;
  asio::co_spawn(
      transport_->io,
      [&]() -> http::Task<void> {
        result = co_await transport_->pool->fetch(settings_.endpoint, std::move(request), timeout,
                                                  cancel.slot(), via);
        finished = true;
      },
      asio::detached);
  transport_->io.restart();
  // Runs the export in short slices so shutdown can cut a stalled one short; a cancelled
  // fetch still completes (with an error) before this returns, so nothing refers to this frame.
  bool cancelled = false;
  while (!finished) {
    transport_->io.run_for(kAbortCheck);
    if (transport_->io.stopped()) transport_->io.restart();
    if (!finished && !cancelled && std::chrono::steady_clock::now() >= shutdown_deadline()) {
      cancel.emit(asio::cancellation_type::terminal);
      cancelled = true;
    }
  }

  std::string problem;
  if (!result || !*result) {
    problem = result ? (*result).error().message : "the export did not complete";
  } else if (auto status = (*result)->result_int(); status < 200 || status > 299) {
    problem = "HTTP " + std::to_string(status);
  }
  if (problem.empty()) return true;
  auto failures = stats_.export_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  // The first failure and then every hundredth: a dead collector must not flood the log.
  if (failures == 1 || failures % 100 == 0) {
    core::get_logger("tracing")->warn(
        "tracing: exporting {} spans to {}{} failed: {} ({} failed exports so far; spans of "
        "failed exports are dropped and counted in sluice_tracing_spans_dropped_total)",
        span_count(batches), settings_.endpoint.origin(), settings_.endpoint.path, problem,
        failures);
  }
  return false;
}

}  // namespace sluice::telemetry
