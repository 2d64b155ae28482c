#include "sim/fault_book.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace sluice::sim {

FaultBook::FaultBook(std::vector<FaultSettings> initial) {
  for (auto& f : initial) set(std::move(f));
}

void FaultBook::set(FaultSettings fault) {
  std::lock_guard lock(mu_);
  std::erase_if(faults_, [&](const FaultSettings& f) { return f.deployment == fault.deployment; });
  faults_.push_back(std::move(fault));
}

void FaultBook::clear(const std::optional<std::string>& deployment) {
  std::lock_guard lock(mu_);
  if (!deployment) {
    faults_.clear();
    return;
  }
  std::erase_if(faults_, [&](const FaultSettings& f) { return f.deployment == *deployment; });
}

std::optional<FaultSettings> FaultBook::find(const std::string& deployment) const {
  std::lock_guard lock(mu_);
  if (faults_.empty()) return std::nullopt;
  const FaultSettings* any = nullptr;
  for (const auto& f : faults_) {
    if (f.deployment == deployment) return f;
    if (f.deployment.empty()) any = &f;
  }
  if (any) return *any;
  return std::nullopt;
}

std::string FaultBook::to_json() const {
  std::lock_guard lock(mu_);
  boost::json::array out;
  for (const auto& f : faults_) {
    boost::json::object o;
    o["deployment"] = f.deployment;
    o["error_rate"] = f.error_rate;
    boost::json::array codes;
    for (int c : f.status_codes) codes.push_back(c);
    o["status_codes"] = std::move(codes);
    o["throttle"] = f.throttle;
    o["latency_spike_ms"] = f.latency_spike.count();
    o["spike_rate"] = f.spike_rate;
    o["drop_stream_rate"] = f.drop_stream_rate;
    o["drop_after_tokens"] = f.drop_after_tokens;
    out.push_back(std::move(o));
  }
  boost::json::object root;
  root["faults"] = std::move(out);
  return boost::json::serialize(root);
}

}  // namespace sluice::sim
