#pragma once
// Sends finished spans to an OpenTelemetry collector over OTLP/HTTP (protobuf), from its own
// thread and event loop: request threads only encode into their own block (span_staging.hpp),
// which goes into a bounded queue (span_queue.hpp) when full. Spans are sent in batches of
// `batch_size`, or whatever is queued and staged once `interval` has passed. An export that
// fails (collector down, non-2xx answer, no answer within `timeout`) loses its batch, counted; the
// exporter does not retry, so a sick collector never builds a backlog.
//
// Threads: submit() and the counters from any thread; construction and destruction from one.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sluice/http/proxy_endpoint.hpp"
#include "sluice/http/url.hpp"
#include "sluice/telemetry/otlp_encoding.hpp"
#include "sluice/telemetry/span_queue.hpp"
#include "sluice/telemetry/span_staging.hpp"

namespace sluice::telemetry {

struct OtlpExporterSettings {
  http::Url endpoint;  // the traces URL itself (…/v1/traces)
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. an API key for the collector
  std::optional<http::ProxyEndpoint> proxy;  // the HTTP proxy exports go through; nullopt: direct
  // 1,024 spans (~600 KB of a gateway's spans, under nginx's default 1 MiB request body): an
  // export's fixed cost (the HTTP exchange and ~8 system calls, the wake-ups of both threads) was
  // ~0.3 µs a request at 512 spans on the 2-core machine, and is half that here
  // (docs/performance.md, 2026-12-06). The queue holds eight batches, as it did at 512.
  std::size_t batch_size = 1024;
  std::size_t queue_size = 8192;
  std::chrono::milliseconds interval{1'000};
  std::chrono::milliseconds timeout{5'000};  // per export request; also bounds the final flush
  ResourceInfo resource;

  bool operator==(const OtlpExporterSettings& other) const;
};

struct OtlpExporterStats {
  std::atomic<std::uint64_t> exported{0};            // spans the collector accepted
  std::atomic<std::uint64_t> dropped_on_failure{0};  // spans of batches that failed
  std::atomic<std::uint64_t> export_failures{0};     // failed export requests
  std::atomic<std::uint64_t> export_requests{0};     // export requests made
};

class OtlpExporter {
 public:
  explicit OtlpExporter(OtlpExporterSettings settings);
  // Stops taking spans and sends what is queued; everything, an export in progress included, ends
  // within `timeout` (at most 5 s) in all.
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Queues finished spans, already encoded, or drops them (queue full, counted). Never waits for
  // the exporter.
  bool submit(EncodedSpans&& spans) { return queue_.push(std::move(spans)); }
  // The calling thread's block, for one request's spans: write them with the Write's encoder(),
  // then commit() (span_staging.hpp). The cheapest way in for a request thread.
  SpanStaging::Write stage() { return staging_.begin(); }
  // The same for one Span object (encoded here, on the caller's thread).
  bool submit(const Span& span);

  const OtlpExporterSettings& settings() const noexcept { return settings_; }
  const SpanQueue& queue() const noexcept { return queue_; }
  const OtlpExporterStats& stats() const noexcept { return stats_; }

 private:
  struct Transport;
  void run();
  // One POST of `spans`, bounded by `timeout` and by the shutdown deadline once there is one;
  // true when the collector answered 2xx.
  bool send(const std::vector<EncodedSpans>& batches, std::chrono::milliseconds timeout);
  std::chrono::steady_clock::time_point shutdown_deadline() const;

  const OtlpExporterSettings settings_;
  SpanQueue queue_;
  SpanStaging staging_;
  OtlpExporterStats stats_;
  std::unique_ptr<Transport> transport_;
  std::atomic<std::int64_t> shutdown_deadline_ns_{0};  // steady clock; 0 while running
  std::thread thread_;
};

}  // namespace sluice::telemetry
