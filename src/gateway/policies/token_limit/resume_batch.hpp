#pragma once
// The resumptions of reserving coroutines that a pool thread gathers while it delivers one batch
// of Redis replies, posted to each worker's executor once for the whole batch. A post from another
// thread can cost the worker a wake-up of its event loop; this way a worker is woken once for all
// the replies of a pipelined batch instead of once per reply.
#include <functional>
#include <utility>
#include <vector>

#include "sluice/http/asio.hpp"

namespace sluice::gateway::token_limit {

class ResumeBatch {
 public:
  using Executor = http::asio::any_io_executor;

  // The calling thread's batch.
  static ResumeBatch& of_this_thread();

  void add(Executor executor, std::function<void()> resume);
  // Posts what was added: one handler per executor, running its resumptions in the order added.
  void flush();

 private:
  std::vector<std::pair<Executor, std::vector<std::function<void()>>>> pending_;
};

}  // namespace sluice::gateway::token_limit
