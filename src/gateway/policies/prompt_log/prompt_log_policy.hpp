#pragma once
// `prompt_log`: keeps sampled prompts and responses (streams reassembled into one text), redacted,
// in a rotated JSON Lines file and/or the SQL store (table sluice_prompt_log). Opt-in: configured
// under a route's `policies:` it logs that route only; under the top-level `policies:` every route.
// docs/policies/prompt_log.md is the user's reference.
//
//   policies:
//     prompt_log:
//       sample_rate: 1.0                 # share of requests kept, by a hash of the request id
//       file: /var/log/sluice/prompts.jsonl
//       rotate_size: 64MiB               # file → file.1 → ... → file.<keep>
//       keep: 5
//       store: sqlite:/var/lib/sluice/usage.db    # or postgresql://...
//       queue_size: 10000                # entries waiting for the writer; beyond: dropped, counted
//       queue_bytes: 64MiB               # the same bound in bytes
//       max_text_bytes: 64KiB            # prompt and response each, after redaction
//       redact:
//         patterns: ['sk-[A-Za-z0-9]{20,}', '\b\d{3}-\d{2}-\d{4}\b']   # PCRE2
//         json_fields: [messages.*.content, user]                     # request body paths
//         replacement: "[REDACTED]"
//
// Threads: one object shared by all workers. The hooks run on the request's worker and only copy
// the request body and the response (or the stream's text) into a bounded queue; response text
// extraction, redaction and writing happen on the writer's thread (prompt_log_writer.hpp).
#include <memory>

#include "gateway/policies/prompt_log/prompt_log_record.hpp"
#include "gateway/policies/prompt_log/prompt_log_settings.hpp"
#include "gateway/policies/prompt_log/prompt_log_writer.hpp"
#include "gateway/policies/prompt_log/sampler.hpp"
#include "sluice/core/config_node.hpp"
#include "sluice/gateway/policy.hpp"
#include "sluice/gateway/settings.hpp"

namespace sluice::gateway {

class PromptLogPolicy final : public Policy {
 public:
  // `writer` is shared with every prompt_log policy of the same file or store, across reloads;
  // `keep_alive` holds its metric contributions.
  PromptLogPolicy(double sample_rate, std::shared_ptr<const PromptLogRules> rules,
                  std::shared_ptr<PromptLogWriter> writer, std::shared_ptr<void> keep_alive);
  std::string_view name() const override { return "prompt_log"; }
  PhaseOrder phase_order() const override { return PhaseOrder::kObserve; }
  bool has_request_phase() const override { return false; }
  void on_response_end(RequestContext& context, std::string_view body) override;
  void on_complete(RequestContext& context) override;

  // Where entries are written (the console's prompt log view reads the file). Any thread.
  const PromptLogSinkSettings& sinks() const { return writer_->settings(); }

 private:
  // Copies what the entry needs into the writer's queue, or counts a drop. Never waits.
  void capture(const RequestContext& context, std::string_view body);

  Sampler sampler_;
  std::shared_ptr<const PromptLogRules> rules_;
  std::shared_ptr<PromptLogWriter> writer_;
  std::shared_ptr<void> keep_alive_;
};

// Factory for PolicyRegistry: reads the `prompt_log` section (throws core::ConfigError).
PolicyPtr make_prompt_log_policy(const core::ConfigNode& section, PolicyServices& services);

}  // namespace sluice::gateway
