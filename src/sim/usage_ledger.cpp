#include "sim/usage_ledger.hpp"

#include <boost/json.hpp>

namespace sluice::sim {

namespace {
void add(UsageCounters& c, Outcome outcome, std::uint64_t prompt, std::uint64_t completion,
         bool cut) {
  switch (outcome) {
    case Outcome::kServed:
      c.requests += 1;
      c.prompt_tokens += prompt;
      c.completion_tokens += completion;
      if (cut) c.streams_cut += 1;
      break;
    case Outcome::kThrottled:
      c.throttled += 1;
      break;
    case Outcome::kError:
      c.errors += 1;
      break;
  }
}

boost::json::object to_object(const UsageCounters& c) {
  boost::json::object o;
  o["requests"] = c.requests;
  o["prompt_tokens"] = c.prompt_tokens;
  o["completion_tokens"] = c.completion_tokens;
  o["total_tokens"] = c.prompt_tokens + c.completion_tokens;
  o["throttled"] = c.throttled;
  o["errors"] = c.errors;
  o["streams_cut"] = c.streams_cut;
  return o;
}
}  // namespace

void UsageLedger::record(const std::string& deployment, const std::string& client, Outcome outcome,
                         std::uint64_t prompt_tokens, std::uint64_t completion_tokens,
                         bool stream_cut) {
  std::lock_guard lock(mu_);
  add(total_, outcome, prompt_tokens, completion_tokens, stream_cut);
  if (!deployment.empty()) {
    add(deployments_[deployment], outcome, prompt_tokens, completion_tokens, stream_cut);
  }
  if (!client.empty()) add(clients_[client], outcome, prompt_tokens, completion_tokens, stream_cut);
}

std::string UsageLedger::to_json() const {
  std::lock_guard lock(mu_);
  boost::json::object root;
  root["total"] = to_object(total_);
  boost::json::object deployments;
  for (const auto& [name, c] : deployments_) deployments[name] = to_object(c);
  root["deployments"] = std::move(deployments);
  boost::json::object clients;
  for (const auto& [name, c] : clients_) clients[name] = to_object(c);
  root["clients"] = std::move(clients);
  return boost::json::serialize(root);
}

UsageCounters UsageLedger::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

void UsageLedger::reset() {
  std::lock_guard lock(mu_);
  total_ = {};
  deployments_.clear();
  clients_.clear();
}

}  // namespace sluice::sim
