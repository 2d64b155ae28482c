#include "gateway/policies/prompt_log/prompt_log_policy.hpp"

#include <chrono>

namespace sluice::gateway {

namespace {

// A writer and its metric contributions, shared by every policy naming the same file or store.
struct SharedWriter {
  std::shared_ptr<PromptLogWriter> writer;
  std::vector<std::shared_ptr<void>> contributions;
};

void contribute_metrics(SharedWriter& shared, usage::MetricRegistry& registry) {
  auto* writer = shared.writer.get();
  std::string log = "log=\"";
  usage::append_label_value(log, writer->describe());
  log += "\"";
  auto add = [&](const char* name, const char* help, const char* type, std::string labels,
                 auto value) {
    shared.contributions.push_back(registry.contribute(
        name, help, type,
        [name = std::string(name), labels = "{" + labels + "} ", value](std::string& out) {
          out += name + labels + std::to_string(value()) + "\n";
        }));
  };
  add("sluice_prompt_log_entries_total", "Sampled prompt log entries accepted by the queue.",
      "counter", log, [writer] { return writer->queue().pushed(); });
  const char* dropped_help = "Prompt log entries lost: queue full, file write or store errors.";
  add("sluice_prompt_log_dropped_total", dropped_help, "counter", log + ",reason=\"queue_full\"",
      [writer] { return writer->queue().dropped(); });
  add("sluice_prompt_log_dropped_total", dropped_help, "counter", log + ",reason=\"file_error\"",
      [writer] { return writer->stats().file_dropped.load(); });
  add("sluice_prompt_log_dropped_total", dropped_help, "counter", log + ",reason=\"store_error\"",
      [writer] { return writer->stats().store_dropped.load(); });
  const char* written_help = "Prompt log entries written, by sink.";
  add("sluice_prompt_log_written_total", written_help, "counter", log + ",sink=\"file\"",
      [writer] { return writer->stats().file_written.load(); });
  add("sluice_prompt_log_written_total", written_help, "counter", log + ",sink=\"store\"",
      [writer] { return writer->stats().store_written.load(); });
  add("sluice_prompt_log_redactions_total", "Replacements made by prompt log redaction rules.",
      "counter", log, [writer] { return writer->stats().redactions.load(); });
  add("sluice_prompt_log_queue_entries", "Prompt log entries waiting for the writer thread.",
      "gauge", log, [writer] { return writer->queue().size(); });
}

}  // namespace

PromptLogPolicy::PromptLogPolicy(double sample_rate, std::shared_ptr<const PromptLogRules> rules,
                                 std::shared_ptr<PromptLogWriter> writer,
                                 std::shared_ptr<void> keep_alive)
    : sampler_(sample_rate),
      rules_(std::move(rules)),
      writer_(std::move(writer)),
      keep_alive_(std::move(keep_alive)) {}

void PromptLogPolicy::on_response_end(RequestContext& context, std::string_view body) {
  capture(context, context.streamed ? std::string_view(context.completion_text) : body);
}

void PromptLogPolicy::on_complete(RequestContext& context) {
  // The client left (or the request failed) before the response end: log what it got.
  if (!context.response_end_observed) {
    capture(context, context.streamed ? std::string_view(context.completion_text) : "");
  }
}

void PromptLogPolicy::capture(const RequestContext& context, std::string_view response) {
  if (!sampler_(context.request_id)) return;
  const auto& prompt = context.exchange.request().body();
  // Checked before copying, so a full queue does not cost a copy of a large body.
  if (!writer_->has_room(prompt.size() + response.size() + context.request_id.size() + 256)) {
    writer_->count_drop();
    return;
  }
  PromptLogCapture c;
  c.rules = rules_;
  c.response_is_body = !context.streamed;
  if (context.route) c.route = context.route->name;
  auto& e = c.entry;
  e.request_id = context.request_id;
  e.started_at_us =
      std::chrono::duration_cast<std::chrono::microseconds>(context.started_at.time_since_epoch())
          .count();
  e.app_id = context.identity().app_id;
  e.deployment = context.deployment;
  e.model = context.response_model;
  e.backend = context.backend;
  e.operation = to_string(context.target.operation);
  e.status = static_cast<int>(context.status);
  e.streamed = context.streamed;
  e.prompt = prompt;
  e.response = response;
  writer_->submit(std::move(c));
}

PolicyPtr make_prompt_log_policy(const core::ConfigNode& section, PolicyServices& services) {
  auto settings = PromptLogSettings::from_config(section);
  std::shared_ptr<const PromptLogRules> rules;
  try {
    rules = std::make_shared<const PromptLogRules>(settings.redact, settings.max_text_bytes);
  } catch (const std::exception& e) {
    section.fail_at("redact", e.what());
  }
  // One writer per file (or store, without a file) per process, kept across reloads; its sinks
  // and queue bounds are fixed while it runs.
  const auto& sinks = settings.sinks;
  auto key = "prompt_log:" + (sinks.file.empty() ? sinks.store_url : sinks.file.string());
  std::shared_ptr<SharedWriter> shared;
  if (auto existing = services.shared[key].lock()) {
    shared = std::static_pointer_cast<SharedWriter>(existing);
    if (shared->writer->settings() != sinks) {
      section.fail(shared->writer->describe() +
                   " is already in use by a prompt log with other file, store, rotation or queue "
                   "settings; the same file or store takes the same settings (changing them "
                   "takes a restart)");
    }
  } else {
    shared = std::make_shared<SharedWriter>();
    shared->writer = std::make_shared<PromptLogWriter>(sinks);
    contribute_metrics(*shared, *services.metrics);
    services.shared[key] = shared;
  }
  return std::make_shared<PromptLogPolicy>(settings.sample_rate, std::move(rules), shared->writer,
                                           shared);
}

}  // namespace sluice::gateway
