#pragma once
// An http::Exchange with no connection behind it, for running policies on a request in tests and
// benchmarks: the request is given, responses are dropped, the executor is the caller's.
#include <string>

#include "sluice/http/server.hpp"

namespace sluice::gateway::identity::testing {

class FakeExchange final : public http::Exchange {
 public:
  FakeExchange(http::asio::io_context& io, http::Request request)
      : io_(io), request_(std::move(request)) {}
  http::Request& request() override { return request_; }
  const std::string& client_address() const override { return address_; }
  std::chrono::steady_clock::time_point received_at() const override { return {}; }
  http::Executor executor() const override { return io_.get_executor(); }
  int worker() const override { return 0; }
  using http::Exchange::send;
  http::Task<bool> send(http::Response, http::ExtraFields) override { co_return true; }
  http::Task<bool> start_stream(http::ResponseHeader) override { co_return true; }
  http::Task<bool> write(std::string_view) override { co_return true; }
  http::Task<bool> finish_stream() override { co_return true; }
  bool responded() const override { return false; }
  bool client_gone() const override { return false; }
  http::asio::cancellation_slot client_gone_slot() override { return signal_.slot(); }
  void close_after_response() override {}

 private:
  http::asio::io_context& io_;
  http::Request request_;
  std::string address_ = "192.0.2.7";
  http::asio::cancellation_signal signal_;
};

}  // namespace sluice::gateway::identity::testing
