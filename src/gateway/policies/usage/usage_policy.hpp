#pragma once
// `usage`: one usage record per request (usage_record.hpp), appended to the local journal before
// the client can hold a complete response, and shipped to SQLite or PostgreSQL in the background.
// docs/policies/usage.md is the user's reference.
//
//   policies:
//     usage:
//       journal: /var/lib/sluice/usage     # directory of the append-only log (required)
//       store: /var/lib/sluice/usage.db    # SQLite file (default: <journal>/usage.db),
//                                          # or postgresql://user@host:5432/db
//       sync_interval: 100ms               # batched fdatasync of the journal
//       segment_size: 64MiB                # journal segments roll at this size
//       ship_interval: 200ms               # how often the shipper drains the journal
//       ship_batch: 2000                   # records per store transaction
//
// The record is written in on_response_end (before a plain response is sent, before a stream's
// [DONE]), so a crash can never leave a client with a complete response and no record; requests
// that never reached that point (client gone) are recorded in on_complete. Either way exactly once.
//
// Threads: one object shared by all workers; both hooks run on the request's worker, no database.
// on_complete does one write() to the journal. on_response_end, in the gateway's pipeline, adds
// the record to the worker's batch instead (sluice/usage/append_batch.hpp): the responses one
// event-loop turn completes share one write(), and each waits for it before it is sent.
#include <memory>

#include "gateway/console/traffic_ring.hpp"
#include "sluice/core/config_node.hpp"
#include "sluice/gateway/policy.hpp"
#include "sluice/gateway/settings.hpp"
#include "sluice/usage/usage_log.hpp"

namespace sluice::gateway {

// Writes the record of `context` as it stands (completed_at = now) into `record`, a new one (its
// fields are assigned, not cleared first). Any thread.
void fill_usage_record(const RequestContext& context, usage::UsageRecord& record);

class UsagePolicy final : public Policy {
 public:
  // `log` is shared with every usage policy of the same journal, across reloads.
  // `traffic` (may be null) is the console's per-minute ring, fed from each record.
  UsagePolicy(std::shared_ptr<usage::UsageLog> log, std::shared_ptr<void> keep_alive,
              std::shared_ptr<console::TrafficRing> traffic = nullptr);
  std::string_view name() const override { return "usage"; }
  PhaseOrder phase_order() const override { return PhaseOrder::kObserve; }
  bool has_request_phase() const override { return false; }
  void on_response_end(RequestContext& context, std::string_view body) override;
  void on_complete(RequestContext& context) override;

  // Where the records end up (the console's chargeback reads it). Any thread.
  const std::string& store_url() const { return log_->settings().shipper.store_url; }

 private:
  void append(const RequestContext& context);
  // The record of `context` written into `record`, and counted in the console's traffic ring.
  void fill(const RequestContext& context, usage::UsageRecord& record);

  std::shared_ptr<usage::UsageLog> log_;
  std::shared_ptr<void> keep_alive_;  // the journal's metric contributions
  std::shared_ptr<console::TrafficRing> traffic_;
};

// Factory for PolicyRegistry: reads the `usage` section (throws core::ConfigError).
PolicyPtr make_usage_policy(const core::ConfigNode& section, PolicyServices& services);

}  // namespace sluice::gateway
