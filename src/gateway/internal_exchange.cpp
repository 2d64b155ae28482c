#include "gateway/internal_exchange.hpp"

namespace sluice::gateway {

InternalExchange::InternalExchange(http::Exchange& parent, http::Request request)
    : request_(std::move(request)),
      client_address_(parent.client_address()),
      received_at_(std::chrono::steady_clock::now()),
      executor_(parent.executor()),
      worker_(parent.worker()) {}

http::Task<bool> InternalExchange::send(http::Response response, http::ExtraFields extra) {
  responded_ = true;
  if (gone_->left) co_return false;
  response_ = std::move(response);
  extra.insert_into(response_);
  complete_ = true;
  gone_->finished = true;
  co_return true;
}

http::Task<bool> InternalExchange::start_stream(http::ResponseHeader header) {
  responded_ = true;
  if (gone_->left) co_return false;
  response_.base() = std::move(header);
  co_return true;
}

http::Task<bool> InternalExchange::write(std::string_view data) {
  if (gone_->left) co_return false;
  response_.body().append(data);
  co_return true;
}

http::Task<bool> InternalExchange::finish_stream() {
  if (gone_->left) co_return false;
  complete_ = true;
  gone_->finished = true;
  co_return true;
}

void InternalExchange::leave_after(std::chrono::milliseconds timeout) {
  timer_ = std::make_unique<http::SteadyTimer>(executor_, timeout);
  timer_->async_wait([gone = gone_](http::error_code ec) {
    if (ec || gone->finished || gone->left) return;
    gone->left = true;
    gone->signal.emit(http::asio::cancellation_type::terminal);
  });
}

std::optional<http::Response> InternalExchange::take_response() {
  gone_->finished = true;
  if (timer_) timer_->cancel();
  if (!complete_) return std::nullopt;
  return std::move(response_);
}

}  // namespace sluice::gateway
