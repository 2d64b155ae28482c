#include "gateway/policies/usage/usage_policy.hpp"

#include <chrono>
#include <cmath>

namespace sluice::gateway {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// Everything a journal shares across reloads: the log and its metric contributions.
struct SharedJournal {
  std::shared_ptr<usage::UsageLog> log;
  std::vector<std::shared_ptr<void>> contributions;
};

void contribute_metrics(SharedJournal& shared, usage::MetricRegistry& registry) {
  auto* log = shared.log.get();
  std::string label = "{journal=\"";
  usage::append_label_value(label, log->journal().directory().string());
  label += "\"} ";
  auto add = [&](const char* name, const char* help, const char* type, auto value) {
    shared.contributions.push_back(registry.contribute(
        name, help, type, [name = std::string(name), label, value](std::string& out) {
          out += name + label + std::to_string(value()) + "\n";
        }));
  };
  add("sluice_usage_records_total", "Usage records appended to the journal.", "counter",
      [log] { return log->journal().stats().appended.load(); });
  add("sluice_usage_journal_writes_total",
      "Journal write() calls that wrote records: the records of responses completed in the same "
      "event-loop turn share one.",
      "counter", [log] { return log->journal().stats().writes.load(); });
  add("sluice_usage_record_failures_total",
      "Usage records that could not be appended to the journal (disk full, I/O error).", "counter",
      [log] { return log->journal().stats().append_failures.load(); });
  add("sluice_usage_unjournaled_records_total",
      "Usage records the journal could not take, kept in memory and shipped from there.", "counter",
      [log] { return log->pending().unjournaled(); });
  add("sluice_usage_records_lost_total",
      "Usage records kept nowhere: the journal failed and the in-memory list was full.", "counter",
      [log] { return log->pending().lost(); });
  add("sluice_usage_shipped_total", "Usage records inserted into the usage store.", "counter",
      [log] { return log->shipper().stats().shipped.load(); });
  add("sluice_usage_replayed_total",
      "Usage records shipped again after a restart that the store already had.", "counter",
      [log] { return log->shipper().stats().duplicates.load(); });
  add("sluice_usage_corrupt_lines_total",
      "Journal lines that were not records (torn by a crash) and were skipped.", "counter",
      [log] { return log->shipper().stats().corrupt_lines.load(); });
  add("sluice_usage_store_errors_total", "Failed attempts to reach or write the usage store.",
      "counter", [log] { return log->shipper().stats().store_errors.load(); });
  add("sluice_usage_store_up", "1 when the last shipping attempt reached the usage store.", "gauge",
      [log] { return log->shipper().stats().store_up.load() ? 1 : 0; });
  add("sluice_usage_journal_backlog_bytes", "Journal bytes written but not yet in the usage store.",
      "gauge", [log] { return log->shipper().stats().backlog_bytes.load(); });
}

}  // namespace

void fill_usage_record(const RequestContext& c, usage::UsageRecord& r) {
  auto now = Clock::now();
  auto received = c.received_at == Clock::time_point{} ? now : c.received_at;
  r.request_id = c.request_id;
  r.started_at_us =
      std::chrono::duration_cast<std::chrono::microseconds>(c.started_at.time_since_epoch())
          .count();
  r.duration_us = micros(now - received);
  r.completed_at_us = r.started_at_us + r.duration_us;
  r.app_id = c.identity().app_id;
  r.key_id = c.identity().key_id;
  r.client_ip = c.client_ip;
  if (c.route) r.route = c.route->name;
  r.deployment = c.deployment;
  r.model = c.response_model;
  r.backend = c.backend;
  r.operation = to_string(c.target.operation);
  r.streamed = c.streamed;
  r.status = static_cast<int>(c.status);
  r.error_code = c.error_code;
  r.prompt_tokens = c.usage.prompt_tokens;
  r.completion_tokens = c.usage.completion_tokens;
  r.total_tokens = c.usage.total_tokens;
  r.cached_tokens = c.usage.cached_tokens;
  r.reasoning_tokens = c.usage.reasoning_tokens;
  r.usage_source = to_string(c.usage.source);
  r.ttft_us = c.first_token_at == Clock::time_point{} ? -1 : micros(c.first_token_at - received);
  r.attempts = static_cast<int>(c.attempts.size());
  r.client_disconnected = c.client_disconnected;
  r.cache = c.cache.kind;
  r.tokens_saved = c.cache.tokens_saved;
  r.similarity_ppm = static_cast<std::int64_t>(std::lround(c.cache.similarity * 1e6));
  r.purpose = c.purpose;
}

UsagePolicy::UsagePolicy(std::shared_ptr<usage::UsageLog> log, std::shared_ptr<void> keep_alive,
                         std::shared_ptr<console::TrafficRing> traffic)
    : log_(std::move(log)), keep_alive_(std::move(keep_alive)), traffic_(std::move(traffic)) {}

void UsagePolicy::append(const RequestContext& context) {
  usage::UsageRecord record;
  fill(context, record);
  log_->append(std::move(record));  // moved, not copied: ~400 instructions of string copies
}

void UsagePolicy::fill(const RequestContext& context, usage::UsageRecord& record) {
  fill_usage_record(context, record);
  if (traffic_) {
    // The console's per-minute counts, from the same record, so its charts agree with the store.
    console::TrafficSample sample{.epoch_minute = record.completed_at_us / 60'000'000,
                                  .app = record.app_id,
                                  .deployment = record.deployment,
                                  .status = record.status,
                                  .prompt_tokens = record.prompt_tokens,
                                  .completion_tokens = record.completion_tokens,
                                  .total_tokens = record.total_tokens,
                                  .attempts = {}};
    sample.attempts.reserve(context.attempts.size());
    for (const auto& attempt : context.attempts) {
      sample.attempts.push_back({attempt.backend, attempt.status});
    }
    traffic_->record(sample);
  }
}

void UsagePolicy::on_response_end(RequestContext& context, std::string_view) {
  if (!context.response_end_may_batch || context.response_end_write) {
    append(context);
    return;
  }
  // Written with the records of the other responses of this event-loop turn, by one write()
  // posted behind the handlers ready now (whose responses join the batch); the pipeline sends the
  // response once it is written.
  auto batch = log_->batch_of_this_thread();
  const auto [ticket, opened] =
      batch->add([&](usage::UsageRecord& record) { fill(context, record); });
  if (opened) http::asio::post(context.exchange.executor(), [batch] { batch->flush(); });
  context.response_end_ticket = ticket;
  context.response_end_write = std::move(batch);
}

void UsagePolicy::on_complete(RequestContext& context) {
  if (!context.response_end_observed) append(context);
}

PolicyPtr make_usage_policy(const core::ConfigNode& section, PolicyServices& services) {
  usage::UsageLogSettings settings;
  auto journal = section.required<std::string>("journal");
  if (journal.empty()) section.fail_at("journal", "must name a directory");
  settings.journal.directory = std::filesystem::absolute(journal).lexically_normal();
  settings.shipper.store_url =
      section.optional<std::string>("store", (settings.journal.directory / "usage.db").string());
  if (auto kind = usage::store_kind(settings.shipper.store_url); !kind) {
    section.fail_at("store", kind.error().message);
  }
  settings.journal.sync_interval =
      section.optional<std::chrono::milliseconds>("sync_interval", settings.journal.sync_interval);
  settings.journal.segment_bytes =
      section.optional<core::ByteSize>("segment_size", {settings.journal.segment_bytes}).bytes;
  if (settings.journal.segment_bytes < 4096)
    section.fail_at("segment_size", "must be at least 4KiB");
  settings.shipper.interval =
      section.optional<std::chrono::milliseconds>("ship_interval", settings.shipper.interval);
  settings.shipper.batch_records =
      section.optional<std::size_t>("ship_batch", settings.shipper.batch_records);
  if (settings.shipper.batch_records == 0) section.fail_at("ship_batch", "must be at least 1");
  section.finish();

  // One journal per directory per process, shared by every route and kept across reloads.
  auto key = "usage_journal:" + settings.journal.directory.string();
  std::shared_ptr<SharedJournal> shared;
  if (auto existing = services.shared[key].lock()) {
    shared = std::static_pointer_cast<SharedJournal>(existing);
    if (shared->log->settings().shipper.store_url != settings.shipper.store_url) {
      section.fail_at("store",
                      "journal " + settings.journal.directory.string() + " already ships to " +
                          usage::redact_store_url(shared->log->settings().shipper.store_url) +
                          "; a different store for it takes a restart");
    }
  } else {
    shared = std::make_shared<SharedJournal>();
    try {
      shared->log = std::make_shared<usage::UsageLog>(settings);
    } catch (const std::exception& e) {
      section.fail_at("journal", e.what());
    }
    contribute_metrics(*shared, *services.metrics);
    services.shared[key] = shared;
  }
  return std::make_shared<UsagePolicy>(shared->log, shared, services.traffic);
}

}  // namespace sluice::gateway
