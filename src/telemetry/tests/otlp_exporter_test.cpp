#include "sluice/telemetry/otlp_exporter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/tests/eventually.hpp"
#include "sluice/http/server.hpp"
#include "telemetry/tests/protobuf_reader.hpp"

namespace sluice::telemetry {
namespace {

using core::testing::eventually;
using namespace std::chrono_literals;

// A loopback OTLP receiver that counts the spans of every export it is sent; `hold` keeps each
// answer back (a slow collector) until release().
class Receiver {
 public:
  explicit Receiver(unsigned status = 200)
      : server_(http::ServerSettings{},
                [this, status](http::Exchange& exchange) -> http::Task<void> {
                  requests_.fetch_add(1);
                  const auto& request = exchange.request();
                  if (request.target() == "/v1/traces" &&
                      request[http::Field::content_type] == "application/x-protobuf") {
                    spans_.fetch_add(testing::spans_of(request.body()).size());
                  }
                  http::SteadyTimer timer(exchange.executor());
                  while (hold_.load()) {
                    timer.expires_after(5ms);
                    co_await timer.async_wait(http::kUseTuple);
                  }
                  http::Response response{static_cast<http::Status>(status), 11};
                  response.set(http::Field::content_type, "application/x-protobuf");
                  response.prepare_payload();
                  co_await exchange.send(std::move(response));
                }) {
    server_.start();
  }
  ~Receiver() {
    hold_ = false;
    server_.shutdown(5s);
    server_.join();
  }
  http::Url url() const {
    return *http::parse_url("http://127.0.0.1:" + std::to_string(server_.port()) + "/v1/traces");
  }
  void hold() { hold_ = true; }
  void release() { hold_ = false; }
  std::uint64_t spans() const { return spans_.load(); }
  std::uint64_t requests() const { return requests_.load(); }

 private:
  std::atomic<std::uint64_t> spans_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<bool> hold_{false};
  http::Server server_;
};

Span some_span() {
  Span span;
  span.trace_id = random_trace_id();
  span.span_id = random_span_id();
  span.name = "chat";
  span.kind = SpanKind::kServer;
  return span;
}

OtlpExporterSettings settings_for(const http::Url& url) {
  OtlpExporterSettings settings;
  settings.endpoint = url;
  settings.batch_size = 10;
  settings.queue_size = 100;
  settings.interval = 20ms;
  settings.timeout = 2s;
  return settings;
}

TEST(OtlpExporter, DeliversEverySpanInBatches) {
  Receiver receiver;
  OtlpExporter exporter(settings_for(receiver.url()));
  for (int i = 0; i < 35; ++i) ASSERT_TRUE(exporter.submit(some_span()));
  ASSERT_TRUE(eventually([&] { return exporter.stats().exported.load() == 35; }));
  EXPECT_EQ(receiver.spans(), 35u);
  EXPECT_GE(receiver.requests(), 4u);  // batches of at most 10
  EXPECT_EQ(exporter.stats().export_failures.load(), 0u);
  EXPECT_EQ(exporter.queue().dropped(), 0u);
}

TEST(OtlpExporter, FlushesWhatIsQueuedWhenDestroyed) {
  Receiver receiver;
  {
    auto settings = settings_for(receiver.url());
    settings.interval = std::chrono::hours(1);  // only the shutdown flush can send them
    settings.batch_size = 1000;
    OtlpExporter exporter(settings);
    for (int i = 0; i < 7; ++i) exporter.submit(some_span());
  }
  EXPECT_EQ(receiver.spans(), 7u);
}

// Spans written into a request thread's block (stage()) wait there for no more than an interval,
// and the exporter's shutdown sends what is still staged, from every thread.
TEST(OtlpExporter, SendsStagedSpansWithinAnIntervalAndAtShutdown) {
  Receiver receiver;
  auto stage_one = [](OtlpExporter& exporter) {
    auto write = exporter.stage();
    write_span(write.encoder(), some_span());
    write.commit();
  };
  {
    OtlpExporter exporter(settings_for(receiver.url()));  // batches of 10, every 20 ms
    for (int i = 0; i < 3; ++i) stage_one(exporter);      // far from a full block or batch
    ASSERT_TRUE(eventually([&] { return exporter.stats().exported.load() == 3; }));
  }
  EXPECT_EQ(receiver.spans(), 3u);
  {
    auto settings = settings_for(receiver.url());
    settings.interval = std::chrono::hours(1);  // only the shutdown flush can send them
    settings.batch_size = 1000;
    OtlpExporter exporter(settings);
    for (int i = 0; i < 5; ++i) stage_one(exporter);
    std::thread([&] {
      for (int i = 0; i < 4; ++i) stage_one(exporter);
    }).join();
    EXPECT_EQ(exporter.queue().pushed(), 9u);
  }
  EXPECT_EQ(receiver.spans(), 12u);
}

TEST(OtlpExporter, CountsFailedExportsAndTheirSpansWhenTheCollectorIsDown) {
  std::uint16_t dead_port;
  {
    Receiver gone;  // a port that just stopped listening
    dead_port = gone.url().port;
  }
  auto settings = settings_for(
      *http::parse_url("http://127.0.0.1:" + std::to_string(dead_port) + "/v1/traces"));
  OtlpExporter exporter(settings);
  for (int i = 0; i < 25; ++i) exporter.submit(some_span());
  ASSERT_TRUE(eventually([&] { return exporter.stats().dropped_on_failure.load() == 25; }));
  EXPECT_GE(exporter.stats().export_failures.load(), 3u);
  EXPECT_EQ(exporter.stats().exported.load(), 0u);
}

TEST(OtlpExporter, CountsRefusedExports) {
  Receiver receiver(503);
  OtlpExporter exporter(settings_for(receiver.url()));
  for (int i = 0; i < 5; ++i) exporter.submit(some_span());
  ASSERT_TRUE(eventually([&] { return exporter.stats().dropped_on_failure.load() == 5; }));
  EXPECT_GE(exporter.stats().export_failures.load(), 1u);
}

TEST(OtlpExporter, ASlowCollectorCostsDroppedSpansNotWaiting) {
  Receiver receiver;
  receiver.hold();
  auto settings = settings_for(receiver.url());
  settings.queue_size = 20;
  settings.timeout = std::chrono::seconds(30);
  settings.interval = std::chrono::hours(1);  // batches go out full only: the counts are exact
  OtlpExporter exporter(settings);
  // The first batch goes out and hangs at the collector; the queue then fills and overflows.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(exporter.submit(some_span()));
  ASSERT_TRUE(eventually([&] { return receiver.requests() == 1; }));
  int accepted = 0;
  for (int i = 0; i < 50; ++i) accepted += exporter.submit(some_span()) ? 1 : 0;
  EXPECT_EQ(accepted, 20);
  EXPECT_EQ(exporter.queue().dropped(), 30u);
  receiver.release();
  ASSERT_TRUE(eventually([&] { return exporter.stats().exported.load() == 30; }));
  EXPECT_EQ(receiver.spans(), 30u);
}

}  // namespace
}  // namespace sluice::telemetry
