#pragma once
// The exchange of a request the gateway sends through its own pipeline (InternalRequests): it
// has no socket; the response is kept in memory for the policy that asked, and the "client"
// leaves when the caller's timeout fires (the pipeline then stops as for a client that left).
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "sluice/http/server.hpp"

namespace sluice::gateway {

class InternalExchange final : public http::Exchange {
 public:
  // Lives on `parent`'s worker, with its executor, worker index and client address.
  InternalExchange(http::Exchange& parent, http::Request request);

  http::Request& request() override { return request_; }
  const std::string& client_address() const override { return client_address_; }
  std::chrono::steady_clock::time_point received_at() const override { return received_at_; }
  http::Executor executor() const override { return executor_; }
  int worker() const override { return worker_; }

  using http::Exchange::send;
  // `extra` goes into the kept response's fields: whoever takes it reads them there.
  http::Task<bool> send(http::Response response, http::ExtraFields extra) override;
  http::Task<bool> start_stream(http::ResponseHeader header) override;
  http::Task<bool> write(std::string_view data) override;
  http::Task<bool> finish_stream() override;

  bool responded() const override { return responded_; }
  bool client_gone() const override { return gone_->left; }
  http::asio::cancellation_slot client_gone_slot() override { return gone_->signal.slot(); }
  void close_after_response() override {}

  // Abandons the request after `timeout` (as a client leaving would); call once, before running
  // it. The timer holds only shared state, so it may fire after the exchange is gone.
  void leave_after(std::chrono::milliseconds timeout);
  // The whole response; nullopt when none was completed (timeout, stream cut short).
  std::optional<http::Response> take_response();

 private:
  struct Departure {
    http::asio::cancellation_signal signal;
    bool left = false;
    bool finished = false;
  };

  http::Request request_;
  std::string client_address_;
  std::chrono::steady_clock::time_point received_at_;
  http::Executor executor_;
  int worker_;
  std::shared_ptr<Departure> gone_ = std::make_shared<Departure>();
  std::unique_ptr<http::SteadyTimer> timer_;
  bool responded_ = false;
  bool complete_ = false;
  http::Response response_;
};

}  // namespace sluice::gateway
