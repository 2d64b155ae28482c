#include "gateway/policies/token_limit/resume_batch.hpp"

namespace sluice::gateway::token_limit {

ResumeBatch& ResumeBatch::of_this_thread() {
  thread_local ResumeBatch batch;
  return batch;
}

void ResumeBatch::add(Executor executor, std::function<void()> resume) {
  for (auto& [target, resumes] : pending_) {
    if (target == executor) {
      resumes.push_back(std::move(resume));
      return;
    }
  }
  pending_.emplace_back(std::move(executor), std::vector<std::function<void()>>{});
  pending_.back().second.push_back(std::move(resume));
}

void ResumeBatch::flush() {
  auto pending = std::exchange(pending_, {});
  for (auto& [executor, resumes] : pending) {
    http::asio::post(executor, [resumes = std::move(resumes)]() mutable {
      for (auto& resume : resumes) resume();
    });
  }
}

}  // namespace sluice::gateway::token_limit
